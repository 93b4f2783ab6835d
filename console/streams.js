// Streams: per stream where its SETs stand (GET /ssf/streams, …/stats), and the open stream's
// dead letters with redrive, pause, resume and replay (…/dead, …/redrive, …/replay, /ssf/status).
// Every action asks first in the confirmation dialog. Scope: feeds:admin.
import { api } from './api.js';
import { confirmAction } from './dialog.js';
import { age, facts, h, render, sparkline, when } from './dom.js';

const METHODS = { 'urn:ietf:rfc:8935': 'push', 'urn:ietf:rfc:8936': 'poll' };
const id$ = (id) => document.getElementById(id);
const path = (id, rest = '') => `/ssf/streams/${encodeURIComponent(id)}${rest}`;

export function streamsPanel() {
  const list = document.querySelector('[data-panel="streams"]');
  const detail = id$('stream-detail');
  const summary = document.querySelector('[data-panel="stream-detail"]');
  const dead = document.querySelector('[data-panel="dead-letters"]');
  const result = id$('action-result');
  /** The open stream's id; kept across refreshes so the detail stays open. */
  let open = null;
  let lastStats = new Map();
  /** Each stream's description, from the last list, to title the open stream by. */
  let descriptions = new Map();
  let deadJtis = [];

  const errorText = (e) => (e?.last_error ? `${e.last_error.err ?? e.last_error.state}: ${e.last_error.description}` : 'none');

  function card(s, c) {
    const method = METHODS[s.delivery?.method] ?? s.delivery?.method;
    return h(
      'article.card.stream',
      { 'data-stream': s.stream_id, 'aria-labelledby': `stream-${s.stream_id}` },
      h('div.card-head', {}, h('h3', { id: `stream-${s.stream_id}` }, s.description || s.stream_id), h(`span.badge.state-${c.status}`, {}, c.status)),
      facts([
        ['Stream', h('code', {}, s.stream_id)],
        ['Delivery', method],
        ['Profile', c.profile],
        ['Backlog', h('span.backlog', {}, String(c.backlog))],
        ['Oldest pending', age(c.oldest_pending_age_seconds)],
        ['Dead letters', h('span.dead-count', {}, String(c.counts.dead ?? 0))],
        ['Delivered', String((c.counts.delivered ?? 0) + (c.counts.acked ?? 0))],
        ['Per minute', sparkline(c.delivered_per_minute, 'Delivered per minute')],
        ['Last error', h('span.last-error', {}, errorText(c))],
      ]),
      h('button', { type: 'button', key: `open-${s.stream_id}`, onclick: () => openStream(s.stream_id) }, 'Open'),
    );
  }

  async function refresh() {
    const { data: streams } = await api('/ssf/streams');
    const stats = await Promise.all(streams.map((s) => api(path(s.stream_id, '/stats')).then((r) => r.data)));
    lastStats = new Map(stats.map((c) => [c.stream_id, c]));
    descriptions = new Map(streams.map((s) => [s.stream_id, s.description]));
    const rows = streams.map((s, i) => ({ s, c: stats[i] }));
    render(list, rows, () => (rows.length === 0 ? h('p.notice', {}, 'No streams yet.') : h('div.cards', {}, rows.map(({ s, c }) => card(s, c)))));
    if (open) await refreshDetail();
  }

  async function refreshDetail() {
    const id = open;
    const c = lastStats.get(id) ?? (await api(path(id, '/stats'))).data;
    const { data } = await api(path(id, '/dead?limit=1000'));
    if (open !== id) return;
    const described = descriptions.get(id);
    id$('stream-detail-title').textContent = described ? `${described} (${id})` : `Stream ${id}`;
    id$('pause-stream').hidden = c.status !== 'enabled';
    id$('resume-stream').hidden = c.status === 'enabled';
    render(summary, c, () =>
      facts([
        ['State', c.reason ? `${c.status} (${c.reason})` : c.status],
        ['Backlog', h('span.backlog', {}, String(c.backlog))],
        ['Dead letters', h('span.dead-count', {}, String(c.counts.dead ?? 0))],
        ['Last error', errorText(c)],
      ]),
    );
    deadJtis = data.sets.map((x) => x.jti);
    fillSelect(id$('redrive-from'), deadJtis, 0);
    fillSelect(id$('redrive-to'), deadJtis, deadJtis.length - 1);
    for (const b of ['redrive-all', 'redrive-range']) id$(b).disabled = deadJtis.length === 0;
    render(dead, data.sets, (sets) =>
      sets.length === 0
        ? h('p.notice', {}, 'No dead letters.')
        : h(
            'ul.dead-list',
            {},
            sets.map((x) =>
              h(
                'li.card.dead-letter',
                {},
                facts([
                  ['jti', h('code', {}, x.jti)],
                  ['Event', x.event],
                  ['Subject', x.subject],
                  ['Error', h('span.err', {}, `${x.err ?? ''}${x.err ? ': ' : ''}${x.description ?? ''}`)],
                  ['Attempts', String(x.attempts)],
                  ['Failed', when(x.failed_at)],
                ]),
                h('button', { type: 'button', key: `redrive-${x.jti}`, onclick: () => act(`Redrive ${x.jti}?`, 'Send this dead-lettered SET again, same bytes and jti.', 'Redrive', '/redrive', { jti: x.jti }) }, 'Redrive'),
              ),
            ),
          ),
    );
  }

  /** Options from the list, keeping the user's choice across refreshes. */
  function fillSelect(sel, values, defaultIndex) {
    const keep = sel.value;
    if (JSON.stringify([...sel.options].map((o) => o.value)) !== JSON.stringify(values)) sel.replaceChildren(...values.map((v) => h('option', { value: v }, v)));
    sel.value = values.includes(keep) ? keep : (values[defaultIndex] ?? '');
  }

  async function act(title, text, okLabel, rest, body) {
    if (!(await confirmAction(title, text, okLabel))) return;
    const id = open;
    try {
      const { data } = await api(rest === '/status' ? '/ssf/status' : path(id, rest), { method: 'POST', body: rest === '/status' ? { stream_id: id, ...body } : body });
      result.className = 'result ok';
      result.textContent =
        data?.redriven !== undefined ? `Redriven: ${data.redriven}` : data?.replayed !== undefined ? `Replayed: ${data.replayed}` : `Stream is now ${data?.status ?? 'updated'}`;
    } catch (e) {
      result.className = 'result error';
      result.textContent = e.status === 403 ? `Refused: this needs scope ${e.scope ?? 'feeds:admin'}.` : `Failed: ${e.message}`;
    }
    await refresh().catch(() => {});
  }

  async function openStream(id) {
    open = id;
    result.textContent = '';
    summary.dataset.sig = '';
    dead.dataset.sig = '';
    detail.hidden = false;
    await refreshDetail().catch((e) => (result.textContent = `Failed: ${e.message}`));
    id$('stream-detail-close').focus();
  }

  function close() {
    const was = open;
    open = null;
    detail.hidden = true;
    document.querySelector(`[data-key="open-${CSS.escape(was ?? '')}"]`)?.focus();
  }

  id$('stream-detail-close').addEventListener('click', close);
  id$('pause-stream').addEventListener('click', () => act('Pause this stream?', 'Delivery stops; new SETs are kept until it resumes.', 'Pause', '/status', { status: 'paused' }));
  id$('resume-stream').addEventListener('click', () => act('Resume this stream?', 'Delivery starts again with the SETs kept meanwhile.', 'Resume', '/status', { status: 'enabled' }));
  id$('redrive-all').addEventListener('click', () => act('Redrive all dead letters?', `Send all ${deadJtis.length} dead-lettered SETs of this stream again.`, 'Redrive all', '/redrive', { all: true }));
  id$('redrive-range').addEventListener('click', () => {
    const from = id$('redrive-from').value;
    const to = id$('redrive-to').value;
    return act('Redrive this range?', `Send the dead letters from ${from} to ${to} again.`, 'Redrive range', '/redrive', { from_jti: from, to_jti: to });
  });
  id$('replay').addEventListener('click', () => {
    const v = id$('replay-since').value;
    if (!v) {
      result.className = 'result error';
      result.textContent = 'Choose the time to replay from.';
      return id$('replay-since').focus();
    }
    const since = new Date(v).toISOString();
    return act('Replay delivered SETs?', `Send every delivered or acknowledged SET created since ${new Date(v).toLocaleString()} again.`, 'Replay', '/replay', { since });
  });

  return {
    scope: 'feeds:admin',
    body: list,
    refresh,
    reset() {
      open = null;
      detail.hidden = true;
    },
  };
}
