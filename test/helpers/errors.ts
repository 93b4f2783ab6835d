import { ScimError } from '../../src/core/errors.js';

/** The ScimError `fn` throws; fails the test if it throws nothing or something else. */
export function errorOf(fn: () => unknown): ScimError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ScimError) return e;
    throw e;
  }
  throw new Error('expected a ScimError');
}
