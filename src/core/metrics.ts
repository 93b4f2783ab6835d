/**
 * A tiny metrics registry rendered as Prometheus text exposition format 0.0.4 (docs/metrics.md).
 * Pure: it only counts in memory; the HTTP edges decide who may read `render()`.
 * Hand-written instead of prom-client to keep the dependency list short; only what we use is here.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}
export interface Gauge {
  set(labels: Labels, value: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

export interface Registry {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram;
  render(): string;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly lines: () => string[];
}

/** HELP text escapes backslash and newline; label values also escape the double quote. */
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/** One map entry per label combination; a wrong label set is a programming error, so it throws. */
function seriesMap<T>(name: string, labelNames: readonly string[], init: () => T) {
  const series = new Map<string, { values: string[]; data: T }>();
  return {
    series,
    get(labels: Labels = {}): T {
      const keys = Object.keys(labels);
      if (keys.length !== labelNames.length || !labelNames.every((n) => typeof labels[n] === 'string')) {
        throw new Error(`metric ${name}: labels must be exactly {${labelNames.join(', ')}}, got {${keys.join(', ')}}`);
      }
      const values = labelNames.map((n) => labels[n]!);
      const key = JSON.stringify(values);
      let s = series.get(key);
      if (!s) series.set(key, (s = { values, data: init() }));
      return s.data;
    },
  };
}

export function makeRegistry(): Registry {
  const families = new Map<string, Family>();
  const add = (f: Family, labelNames: readonly string[]) => {
    if (!METRIC_NAME.test(f.name)) throw new Error(`invalid metric name ${f.name}`);
    if (families.has(f.name)) throw new Error(`metric ${f.name} is already registered`);
    for (const l of labelNames) if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`metric ${f.name}: invalid label name ${l}`);
    families.set(f.name, f);
  };

  const scalar = (type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[]) => {
    const m = seriesMap(name, labelNames, () => ({ v: 0 }));
    // A metric without labels shows 0 from the start, so a rate() has a baseline.
    if (labelNames.length === 0) m.get();
    add({ name, help, type, lines: () => [...m.series.values()].map((s) => `${name}${labelText(labelNames, s.values)} ${formatValue(s.data.v)}`) }, labelNames);
    return m;
  };

  return {
    counter(name, help, labelNames = []) {
      const m = scalar('counter', name, help, labelNames);
      return {
        inc(labels, by = 1) {
          if (!(by >= 0)) throw new Error(`counter ${name} can only go up (got ${by})`);
          m.get(labels).v += by;
        },
      };
    },
    gauge(name, help, labelNames = []) {
      const m = scalar('gauge', name, help, labelNames);
      return { set: (labels, value) => void (m.get(labels).v = value) };
    },
    histogram(name, help, labelNames, buckets) {
      if (labelNames.includes('le')) throw new Error(`histogram ${name}: "le" is reserved`);
      const bounds = [...new Set(buckets)].filter((b) => b !== Infinity).sort((a, b) => a - b);
      // Per series: a non-cumulative count per bucket; render() makes them cumulative.
      const m = seriesMap(name, labelNames, () => ({ counts: bounds.map(() => 0), sum: 0, count: 0 }));
      const lines = () =>
        [...m.series.values()].flatMap(({ values, data }) => {
          let cumulative = 0;
          const out = bounds.map((b, i) => {
            cumulative += data.counts[i]!;
            return `${name}_bucket${labelText(labelNames, values, ['le', formatValue(b)])} ${cumulative}`;
          });
          out.push(`${name}_bucket${labelText(labelNames, values, ['le', '+Inf'])} ${data.count}`);
          out.push(`${name}_sum${labelText(labelNames, values)} ${formatValue(data.sum)}`);
          out.push(`${name}_count${labelText(labelNames, values)} ${data.count}`);
          return out;
        });
      add({ name, help, type: 'histogram', lines }, labelNames);
      return {
        observe(labels, value) {
          const s = m.get(labels);
          const i = bounds.findIndex((b) => value <= b);
          if (i >= 0) s.counts[i]!++;
          s.sum += value;
          s.count++;
        },
      };
    },
    render() {
      const out: string[] = [];
      for (const f of families.values()) {
        out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
        // One line per series (per stream for the gauges): a loop, since a spread of that many
        // arguments can overflow the call stack.
        for (const line of f.lines()) out.push(line);
      }
      return out.length > 0 ? `${out.join('\n')}\n` : '';
    },
  };
}

const parseValue = (v: string): number => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));

/**
 * Several processes' renders as one exposition, for a process that answers scrapes for another
 * (`scimcast start` and its worker process). A family keeps the first HELP and TYPE seen; samples
 * with the same name and labels are added up, which is what sum() across the processes would give
 * for counters and histogram buckets, sums and counts. Per-process gauges must not be passed here
 * (the database-derived stream gauges are rendered once, by the answering process).
 */
export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, { head: string[]; samples: Map<string, number> }>();
  for (const text of texts) {
    let family: { head: string[]; samples: Map<string, number> } | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        const name = meta[2]!;
        family = families.get(name);
        if (!family) families.set(name, (family = { head: [], samples: new Map() }));
        if (!family.head.some((h) => h.startsWith(`# ${meta[1]} `))) family.head.push(line);
        continue;
      }
      if (line.startsWith('#') || !family) continue;
      // The value follows the last space: label values may hold spaces, our renders no timestamps.
      const at = line.lastIndexOf(' ');
      const key = line.slice(0, at);
      family.samples.set(key, (family.samples.get(key) ?? 0) + parseValue(line.slice(at + 1)));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    for (const h of f.head) out.push(h);
    for (const [key, v] of f.samples) out.push(`${key} ${formatValue(v)}`);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
