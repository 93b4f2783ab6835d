/**
 * Whether npm launched this process (`npm start`, `npx scimcast …`): npm sets these variables in
 * the environment of what it runs. npm does not pass SIGTERM on, so such a process watches it
 * (cli/launcher-watch.ts).
 */
export function launchedByNpm(env: Record<string, string | undefined> = process.env): boolean {
  return env.npm_lifecycle_event !== undefined || env.npm_command !== undefined;
}
