/**
 * The environment of a scimcast process that this one starts (`scimcast start`'s worker process):
 * this process's own, so both read the same settings, with the keys the parent decides set over it.
 * Read here because process.env is read only in config/.
 */
export function childEnvironment(set: Readonly<Record<string, string>>): Record<string, string | undefined> {
  return { ...process.env, ...set };
}
