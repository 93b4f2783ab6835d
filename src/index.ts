/**
 * scimcast as a library (the package entry): the client side of the service, typed; docs/cli.md
 * shows it in use.
 * The server itself is started with the `scimcast` command.
 */

// Receiving SETs (RFC 8935 push, RFC 8936 poll), verified against the transmitter's JWKS.
export { SetReceiver, type ReceivedSet, type ReceiveOutcome, type ReceiverStats, type SetErrorCode, type SetReceiverOptions } from './client/set-receiver.js';
export { PollRequestError, type PollOptions, type PollSummary } from './client/poll-loop.js';
export type { ListenOptions, PushListener } from './client/push-listener.js';
export { ndjsonFile, ndjsonStream, type SetOutput } from './client/ndjson-output.js';
export { JwksUnavailableError, type Jwks } from './client/jwks-source.js';
export { StreamExpectationsError, expectationsOf, fetchStreamExpectations, type SetExpectations } from './client/stream-expectations.js';
export { StreamsApiError, StreamsClient, serverOrigin, type RequeueSelector, type StatusDocument, type StreamConfig, type StreamInput, type StreamStatus } from './client/streams-client.js';

// Importing users and groups into any RFC 7644 server: Bulk within its limits, references ordered
// across requests, retries, a resumable journal (docs/cli.md, "scimcast bulk import").
export { BulkClient, type BulkClientOptions, type ImportProgress, type ServerCapabilities } from './client/bulk-client.js';
export { readImportFile, detectFormat, type ImportFormat } from './client/bulk-input.js';
export { parseCsvImport, CSV_COLUMNS } from './client/bulk/csv-items.js';
export { parseNdjsonImport } from './client/bulk/ndjson-items.js';
export type { ImportItem, ItemError, MemberRef, ParsedImport } from './client/bulk/items.js';
export type { ImportFailure, ImportReport, TypeCounts } from './client/bulk/report.js';
