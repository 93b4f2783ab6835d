/**
 * The jtis a receiver has already written, bounded: RFC 8417 §2.2 lets a receiver de-duplicate by
 * `jti`, and RFC 8935 §2 / RFC 8936 §2.4 mean repeats do arrive (push is at least once:
 * docs/decisions/0007-at-least-once-push.md).
 * The least recently seen jti drops out first, so memory stays flat on a feed that never ends.
 */
export class RecentJtis {
  private readonly seen = new Set<string>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.seen.size;
  }

  /** True when the jti was seen; a hit counts as a fresh sighting. */
  has(jti: string): boolean {
    if (!this.seen.has(jti)) return false;
    this.touch(jti);
    return true;
  }

  add(jti: string): void {
    this.touch(jti);
    while (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
  }

  private touch(jti: string): void {
    // A Set iterates in insertion order: delete + add moves the jti to the young end.
    this.seen.delete(jti);
    this.seen.add(jti);
  }
}
