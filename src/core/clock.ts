/** Time and identifiers come in as dependencies so pure code stays testable. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
