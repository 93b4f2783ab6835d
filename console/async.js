// Async requests: the signed-in principal's recent requests with their progress
// (GET /scim/v2/AsyncRequests), and the open one's per-operation results with the SET kept for
// each (Accept: application/secevent+jwt), decoded here for reading. Any valid token.
import { api } from './api.js';
import { facts, h, jwsPayload, render, when } from './dom.js';

const id$ = (id) => document.getElementById(id);
const BASE = '/scim/v2/AsyncRequests';
const finished = (s) => s === 'completed' || s === 'failed';

function progress(r) {
  const c = r.operationsCount ?? { total: 0, success: 0, failed: 0, pending: 0 };
  const done = c.success + c.failed;
  return h(
    'div.progress',
    {},
    h('progress', { max: 100, value: r.percentComplete, 'aria-label': `Progress of ${r.id}` }),
    h('span.progress-text', {}, `${r.percentComplete}% · ${done} of ${c.total}${c.failed ? ` · ${c.failed} failed` : ''}`),
  );
}

export function asyncPanel() {
  const list = document.querySelector('[data-panel="async"]');
  const detail = id$('async-detail');
  const body = document.querySelector('[data-panel="async-detail"]');
  let open = null;

  async function refresh() {
    const { data } = await api(`${BASE}?count=20`);
    const rows = data.Resources ?? [];
    render(list, rows, () =>
      rows.length === 0
        ? h('p.notice', {}, 'No asynchronous requests yet.')
        : h(
            'ul.async-list',
            {},
            rows.map((r) =>
              h(
                'li.card.async-request',
                { 'data-txn': r.id },
                h('div.card-head', {}, h('h3', {}, `${r.method} ${r.path}`), h(`span.badge.state-${r.status}`, {}, r.status)),
                facts([
                  ['Request', h('code', {}, r.id)],
                  ['Created', when(r.created)],
                ]),
                progress(r),
                h('button', { type: 'button', key: `open-async-${r.id}`, onclick: () => openRequest(r.id) }, 'Open'),
              ),
            ),
          ),
    );
    if (open) await refreshDetail();
  }

  async function refreshDetail() {
    const id = open;
    const { data: doc } = await api(`${BASE}/${encodeURIComponent(id)}`);
    let sets = {};
    if (finished(doc.status)) {
      const { status, data } = await api(`${BASE}/${encodeURIComponent(id)}`, { accept: 'application/secevent+jwt' });
      if (status === 200 && typeof data === 'string') sets = { [doc.operations?.[0]?.jti]: data };
      else if (status === 200 && data?.sets) sets = data.sets;
    }
    if (open !== id) return;
    id$('async-detail-title').textContent = `Async request ${id}`;
    render(body, { doc, sets }, () => [
      progress(doc),
      h(
        'ol.op-list',
        {},
        (doc.operations ?? []).map((op) => {
          const jws = sets[op.jti];
          let decoded = null;
          try {
            decoded = jws ? JSON.stringify(jwsPayload(jws), null, 2) : null;
          } catch {
            decoded = '(not a readable JWS)';
          }
          return h(
            'li.card.operation',
            { 'data-index': op.index },
            facts([
              ['Operation', `#${op.index} ${op.method ?? ''}${op.bulkId ? ` (bulkId ${op.bulkId})` : ''}`],
              ['Status', h('span.op-status', {}, op.status)],
              op.location && ['Location', h('code', {}, op.location)],
              op.response?.detail && ['Detail', op.response.detail],
              op.jti && ['SET jti', h('code', {}, op.jti)],
              op.sets && Object.keys(op.sets).length > 0 && ['Sent to streams', Object.entries(op.sets).map(([stream, jti]) => h('div', {}, h('code', {}, stream), ' → ', h('code', {}, jti)))],
            ]),
            decoded && h('details', {}, h('summary', {}, 'SET payload'), h('pre.set', { tabindex: 0 }, decoded)),
          );
        }),
      ),
    ]);
  }

  async function openRequest(id) {
    open = id;
    body.dataset.sig = '';
    detail.hidden = false;
    await refreshDetail().catch((e) => body.replaceChildren(h('p.notice.error', {}, `Could not load: ${e.message}`)));
    id$('async-detail-close').focus();
  }

  id$('async-detail-close').addEventListener('click', () => {
    const was = open;
    open = null;
    detail.hidden = true;
    document.querySelector(`[data-key="open-async-${CSS.escape(was ?? '')}"]`)?.focus();
  });

  return {
    scope: undefined,
    body: list,
    refresh,
    reset() {
      open = null;
      detail.hidden = true;
    },
  };
}
