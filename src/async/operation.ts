/**
 * One operation's request and result now live in provisioning/operation.ts, below both bulk/ and
 * async/. This re-export keeps older import paths working until every caller imports from there.
 */
export * from '../provisioning/operation.js';
