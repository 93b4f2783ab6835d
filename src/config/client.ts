import { z } from 'zod';
import { AppError } from '../core/errors.js';

/**
 * Settings of the client commands (bulk import, receive, streams over HTTP): the SCIM base and
 * bearer token from flags, else SCIMCAST_URL / SCIMCAST_TOKEN (docs/cli.md).
 * Read here because process.env is read only in config/.
 */
export interface ClientSettings {
  /** SCIM base, e.g. http://127.0.0.1:8080/scim/v2, without a trailing slash. */
  readonly url: string | undefined;
  readonly token: string | undefined;
}

const schema = z.object({
  url: z.url({ protocol: /^https?$/ }).optional(),
  token: z.string().min(1).optional(),
});

export function clientSettings(
  flags: { url?: string | undefined; token?: string | undefined },
  env: Record<string, string | undefined> = process.env,
): ClientSettings {
  const raw = { url: flags.url ?? env.SCIMCAST_URL ?? undefined, token: flags.token ?? env.SCIMCAST_TOKEN ?? undefined };
  const parsed = schema.safeParse({ url: raw.url || undefined, token: raw.token || undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0] === 'url' ? '--url / SCIMCAST_URL' : '--token / SCIMCAST_TOKEN';
    throw new AppError('ERR_CONFIG_INVALID', `${key}: ${issue.message}`);
  }
  return Object.freeze({ url: parsed.data.url?.replace(/\/+$/, ''), token: parsed.data.token });
}
