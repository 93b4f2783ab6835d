import { AppError } from '../core/errors.js';
import type { Deps } from '../deps.js';
import { deadLetters, redrive, replay, streamStats, type RequeueSelector } from '../feeds/operator.js';

/**
 * `scimcast streams …`: the operator commands of issue 7 §4, run against the database directly
 * (works while the server runs, on any owner's stream). Output is JSON, one document per command.
 */
export const STREAMS_USAGE = `  scimcast streams list
  scimcast streams stats ID                           counts by state, oldest pending age, last error
  scimcast streams dead ID [--limit N]                dead-lettered SETs with their errors
  scimcast streams redrive ID (--jti J[,J…] | --from-jti J [--to-jti J] | --since T | --all)
  scimcast streams replay ID (--from-jti J | --since T | --all)   re-send delivered/acknowledged SETs`;

export interface StreamsArgs {
  sub: string | undefined;
  id: string | undefined;
  jti?: string | undefined;
  fromJti?: string | undefined;
  toJti?: string | undefined;
  since?: string | undefined;
  all?: boolean | undefined;
  limit?: string | undefined;
}

export function selectorOf(a: StreamsArgs): RequeueSelector {
  const sel: RequeueSelector = {};
  if (a.jti) sel.jti = a.jti.split(',').map((j) => j.trim()).filter(Boolean);
  if (a.fromJti) sel.from_jti = a.fromJti;
  if (a.toJti) sel.to_jti = a.toJti;
  if (a.since) sel.since = a.since;
  if (a.all) sel.all = true;
  return sel;
}

export async function streamsCommand(d: Deps, a: StreamsArgs): Promise<unknown> {
  const ctx = d.streams;
  if (a.sub === 'list') {
    const rows = await d.storage.feeds.all();
    return rows.map((f) => ({ stream_id: f.id, owner: f.owner, status: f.status, delivery_method: f.deliveryMethod, endpoint_url: f.endpointUrl ?? undefined, description: f.description ?? undefined }));
  }
  if (!a.id) throw new AppError('ERR_CONFIG_INVALID', `a stream id is required:\n${STREAMS_USAGE}`);
  switch (a.sub) {
    case 'stats':
      return streamStats(ctx, undefined, a.id);
    case 'dead':
      return deadLetters(ctx, undefined, a.id, Number(a.limit ?? 100) || 100);
    case 'redrive':
      return redrive(ctx, undefined, a.id, selectorOf(a));
    case 'replay':
      return replay(ctx, undefined, a.id, selectorOf(a));
    default:
      throw new AppError('ERR_CONFIG_INVALID', STREAMS_USAGE);
  }
}
