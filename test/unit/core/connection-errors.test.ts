import { describe, expect, it } from 'vitest';
import { CONNECTION_FAILURE, isCodelessLostConnection, isDatabaseUnavailable, isLostConnection, LOST_CONNECTION_CODES } from '../../../src/core/connection-errors.js';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('lost-connection errors: one vocabulary for the API and the worker', () => {
  it('socket errors, SQLSTATE class 08 and a server shutting down under the session are a lost connection', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '08000', '08001', '08003', '08004', '08006', '08P01']) {
      expect(isLostConnection(coded(code)), code).toBe(true);
      expect(isDatabaseUnavailable(coded(code)), code).toBe(true);
    }
    expect(LOST_CONNECTION_CODES).toContain(CONNECTION_FAILURE);
  });

  it("node-postgres's code-less errors are recognised by their message", () => {
    for (const message of ['Connection terminated unexpectedly', 'Client has encountered a connection error and is not queryable', 'Client was closed and is not queryable', 'timeout exceeded when trying to connect']) {
      expect(isLostConnection(new Error(message)), message).toBe(true);
      expect(isCodelessLostConnection(new Error(message)), message).toBe(true);
    }
    // Tagged already: not tagged again.
    expect(isCodelessLostConnection(coded('08006', 'Connection terminated'))).toBe(false);
  });

  it('a busy server (starting up, too many connections) is unavailable but no lost connection', () => {
    for (const code of ['57P03', '53300']) {
      expect(isDatabaseUnavailable(coded(code)), code).toBe(true);
      expect(isLostConnection(coded(code)), code).toBe(false);
    }
  });

  it('a driver wrapping the error keeps it recognisable (the cause chain is walked)', () => {
    const wrapped = new Error('Failed query: select 1', { cause: coded('ECONNREFUSED') });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('other database errors are not', () => {
    for (const e of [coded('23505'), coded('57014'), coded('42P01'), new Error('boom'), 'ECONNRESET', undefined]) {
      expect(isDatabaseUnavailable(e)).toBe(false);
    }
  });
});
