/**
 * One table row per scimcast figure: the figure, the peer's figure and the
 * machine's ceiling from the same run, the ratios, and the target it is held to.
 */
export interface Figure {
  /** Requests (or SETs, or operations) per second. */
  perSec?: number | undefined;
  p50?: number | undefined;
  p99?: number | undefined;
  ops?: number | undefined;
  errors?: number | undefined;
  /** Peak RSS of the server process during the scenario (VmHWM), MiB. */
  rssMb?: number | undefined;
}

export interface Row {
  id: string;
  scenario: string;
  unit: string;
  scimcast: Figure;
  peer?: (Figure & { name: string }) | undefined;
  ceiling?: (Figure & { name: string }) | undefined;
  target?: { text: string; met: boolean | undefined } | undefined;
  note?: string | undefined;
}

export interface ScalingRow {
  id: string;
  scenario: string;
  /** size → figure */
  bySize: Record<string, Figure>;
  target?: { text: string; met: boolean | undefined } | undefined;
  note?: string | undefined;
}

const n0 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b || Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×`);
const met = (m: boolean | undefined) => (m === undefined ? '—' : m ? 'yes' : '**no**');

export function markdownTable(rows: readonly Row[]): string {
  const out = [
    '| scenario | scimcast /s | p50 ms | p99 ms | server RSS MiB | peer (SCIMMY) /s | × peer | ceiling /s | × ceiling | target | met |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const errs = r.scimcast.errors ? ` (${r.scimcast.errors} errors)` : '';
    out.push(
      `| ${r.scenario}${errs} | ${n0(r.scimcast.perSec)} ${r.unit} | ${ms(r.scimcast.p50)} | ${ms(r.scimcast.p99)} | ${n0(r.scimcast.rssMb)} | ${r.peer ? n0(r.peer.perSec) : '—'} | ${ratio(r.scimcast.perSec, r.peer?.perSec)} | ${r.ceiling ? `${n0(r.ceiling.perSec)} (${r.ceiling.name})` : '—'} | ${ratio(r.scimcast.perSec, r.ceiling?.perSec)} | ${r.target?.text ?? '—'} | ${met(r.target?.met)} |`,
    );
  }
  return out.join('\n');
}

export function scalingTable(rows: readonly ScalingRow[], sizes: readonly string[]): string {
  const out = [
    `| scenario | ${sizes.map((s) => `${s}: /s, p50, p99 ms`).join(' | ')} | p50 ${sizes[sizes.length - 1]} ÷ ${sizes[0]} | target | met |`,
    `|---|${sizes.map(() => '---:').join('|')}|---:|---|---|`,
  ];
  for (const r of rows) {
    const first = r.bySize[sizes[0]!];
    const last = r.bySize[sizes[sizes.length - 1]!];
    out.push(
      `| ${r.scenario} | ${sizes.map((s) => (r.bySize[s] ? `${n0(r.bySize[s].perSec)}, ${ms(r.bySize[s].p50)}, ${ms(r.bySize[s].p99)}` : '—')).join(' | ')} | ${ratio(last?.p50, first?.p50)} | ${r.target?.text ?? '—'} | ${met(r.target?.met)} |`,
    );
  }
  return out.join('\n');
}

export function peerTable(rows: readonly Row[]): string {
  const withPeer = rows.filter((r) => r.peer);
  if (withPeer.length === 0) return '';
  const out = ['| scenario | SCIMMY /s | p50 ms | p99 ms | SCIMMY RSS MiB |', '|---|---:|---:|---:|---:|'];
  for (const r of withPeer) out.push(`| ${r.scenario} | ${n0(r.peer!.perSec)} | ${ms(r.peer!.p50)} | ${ms(r.peer!.p99)} | ${n0(r.peer!.rssMb)} |`);
  return out.join('\n');
}
