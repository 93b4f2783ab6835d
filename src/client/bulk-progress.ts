import type { ImportProgress } from './bulk-client.js';

export interface ProgressPrinter {
  update(p: ImportProgress): void;
  /** Clear the bar (TTY) so the report starts on a clean line. */
  end(): void;
}

const n = (x: number) => x.toLocaleString('en-US');
const WIDTH = 24;

/**
 * Progress on stderr: on a terminal a bar redrawn in place (at most 10 times a second); otherwise
 * a plain line at each 10% and at most every 5 s, which reads well in CI logs and files.
 */
export function progressPrinter(out: { write(s: string): unknown; isTTY?: boolean | undefined }): ProgressPrinter {
  const tty = out.isTTY === true;
  let lastDraw = 0;
  let lastStep = -1;
  let drawn = false;
  let lastText = '';
  const started = Date.now();
  const line = (p: ImportProgress) => {
    const pct = p.total ? Math.floor((p.settled * 100) / p.total) : 100;
    const counts = `created ${n(p.created)}, updated ${n(p.updated)}, failed ${n(p.failed)}`;
    const stage = p.stage === 'checking' ? ' checking existing externalIds…' : '';
    return { pct, text: `${String(pct).padStart(3)}%  ${n(p.settled)}/${n(p.total)}  ${counts}  (${n(p.requests)} requests${p.retries ? `, ${n(p.retries)} retried` : ''}, ${p.inFlight} in flight)${stage}` };
  };
  return {
    update(p) {
      const now = Date.now();
      const { pct, text } = line(p);
      if (tty) {
        if (now - lastDraw < 100 && p.stage !== 'finished') return;
        lastDraw = now;
        const fill = Math.round((pct / 100) * WIDTH);
        out.write(`\r\x1b[K[${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${text}`);
        drawn = true;
        return;
      }
      const step = Math.floor(pct / 10);
      if (text === lastText || (step === lastStep && now - lastDraw < 5000 && p.stage !== 'finished')) return;
      lastText = text;
      lastStep = step;
      lastDraw = now;
      out.write(`progress: ${text}, ${((now - started) / 1000).toFixed(1)} s\n`);
    },
    end() {
      if (tty && drawn) out.write('\r\x1b[K');
    },
  };
}
