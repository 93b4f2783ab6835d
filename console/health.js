// Health (GET /admin/health): readiness, the database, the workers' heartbeats and backlog totals.
// Scope: metrics:read.
import { api } from './api.js';
import { age, facts, h, render, when } from './dom.js';

export function healthPanel() {
  const body = document.querySelector('[data-panel="health"]');
  async function refresh() {
    const { data } = await api('/admin/health');
    const b = data.backlog;
    render(body, data, () => [
      facts([
        ['Readiness', h(`span.badge.state-${data.status === 'ready' ? 'enabled' : 'disabled'}.readiness`, {}, data.status)],
        ['Database', data.database],
        ['Worker', data.worker],
        ['Pending SETs', b ? h('span.total-pending', {}, String(b.pending)) : '—'],
        ['Dead letters', b ? String(b.dead) : '—'],
        ['Streams behind', b ? `${b.streams_behind} of ${b.streams}` : '—'],
        ['Oldest pending', b ? age(b.oldest_pending_age_seconds) : '—'],
      ]),
      h('h3', {}, 'Workers'),
      !data.workers || data.workers.length === 0
        ? h('p.notice', {}, 'No worker heartbeat.')
        : h(
            'ul.worker-list',
            {},
            data.workers.map((w) => h('li', {}, h('code', {}, w.id), ` · ${w.alive ? 'alive' : 'silent'} · last heartbeat ${when(w.last_heartbeat)} (${age(w.age_seconds)} ago)`)),
          ),
    ]);
  }
  return { scope: 'metrics:read', body, refresh, reset() {} };
}
