// Signing keys (GET /admin/keys): kid, algorithm, state and age. Scope: admin.
import { api } from './api.js';
import { age, h, render, when } from './dom.js';

export function keysPanel() {
  const body = document.querySelector('[data-panel="keys"]');
  async function refresh() {
    const { data } = await api('/admin/keys');
    render(body, data.keys, (keys) =>
      h(
        'ul.key-list',
        {},
        keys.map((k) =>
          h(
            'li.card.key',
            { 'data-kid': k.kid },
            h('div.card-head', {}, h('h3', {}, h('code', {}, k.kid)), h(`span.badge.state-${k.state}`, {}, k.state)),
            h('p', {}, `${k.alg} · created ${when(k.created_at)} · age ${age(k.age_seconds)}`, k.retired_at ? ` · retired ${when(k.retired_at)}` : '', k.revoked_at ? ` · revoked ${when(k.revoked_at)}` : ''),
          ),
        ),
      ),
    );
  }
  return { scope: 'admin', body, refresh, reset() {} };
}
