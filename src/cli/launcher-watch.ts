import { launchedByNpm } from '../config/launcher.js';

/**
 * npm does not pass SIGTERM on: `npm start` or `npx scimcast start` sent SIGTERM (by a process
 * manager, a container runtime, `kill`) exits npm and leaves scimcast running, orphaned, its drain
 * never started. A process that npm launched therefore treats its launcher's exit as the stop
 * signal it did not get. Only under npm: a scimcast started by a shell with `nohup … &` must
 * outlive that shell.
 */

// The parent at start: reparenting (to init or a subreaper) means it exited.
const launcherPid = process.ppid;

/** Calls `onExit` once, soon after npm (this process's parent) exits; never when not launched by npm. */
export function onLauncherExit(onExit: () => void, opts: { env?: Record<string, string | undefined>; everyMs?: number } = {}): void {
  if (!launchedByNpm(opts.env)) return;
  const check = () => {
    if (process.ppid === launcherPid) return;
    clearInterval(timer);
    onExit();
  };
  const timer = setInterval(check, opts.everyMs ?? 250);
  timer.unref();
  check();
}
