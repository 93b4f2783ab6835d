// Small DOM helpers. Text from the API (receiver errors, user names) only ever goes in as text
// nodes, never as markup.

const SVG = 'http://www.w3.org/2000/svg';

/** h('p.cls', { attrs }, ...children): an element; strings become text nodes; null/false are skipped. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'key') el.dataset.key = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A term/description list from [label, value] pairs. */
export function facts(pairs) {
  return h('dl.facts', {}, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));
}

/** "42 s", "5 min", "3 h 10 min", "2 d": an age a person reads at a glance. */
export function age(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d`;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/**
 * Bars of the last hour, one per minute, oldest on the left, drawn as SVG elements (no inline
 * style, which the page's CSP forbids). The label states the numbers for screen readers.
 */
export function sparkline(counts, label) {
  const w = 180;
  const hgt = 32;
  const max = Math.max(1, ...counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${label}: ${total} in the last hour, at most ${Math.max(...counts)} a minute`);
  const base = document.createElementNS(SVG, 'line');
  for (const [k, v] of Object.entries({ x1: 0, x2: w, y1: hgt - 0.5, y2: hgt - 0.5, class: 'spark-base' })) base.setAttribute(k, String(v));
  svg.append(base);
  counts.forEach((n, i) => {
    if (n === 0) return;
    const bh = Math.max(1, Math.round((n / max) * (hgt - 2)));
    const r = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({ x: i * 3, y: hgt - bh, width: 2.4, height: bh, class: 'spark-bar' })) r.setAttribute(k, String(v));
    const t = document.createElementNS(SVG, 'title');
    t.textContent = `${60 - i} min ago: ${n}`;
    r.append(t);
    svg.append(r);
  });
  return svg;
}

/**
 * Replace a container's content, keeping the user's place: nothing is touched when the rendered
 * data did not change; otherwise the element that had focus (by its data-key) gets it back, and
 * the page does not jump (scroll position is kept by the browser as the content keeps its size).
 */
export function render(container, data, build) {
  const sig = JSON.stringify(data);
  if (container.dataset.sig === sig) return;
  container.dataset.sig = sig;
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  const x = window.scrollX;
  const y = window.scrollY;
  container.replaceChildren(...[build(data)].flat().filter(Boolean));
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
  if (window.scrollX !== x || window.scrollY !== y) window.scrollTo(x, y);
}

/** A panel's message in place of its content: a missing scope, an error, or nothing yet. */
export function notice(container, text, kind = 'info') {
  render(container, { notice: text, kind }, () => h(`p.notice.${kind}`, {}, text));
}

/** Decode a compact JWS's payload for display (base64url JSON); no verification is implied. */
export function jwsPayload(jws) {
  const part = String(jws).split('.')[1] ?? '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}
