/**
 * Remembers every (mailbox, nonce, nonce_count) that authenticated, so that a token works only once.
 * A token older than the acceptance window fails the time check anyway, so entries past it can be forgotten;
 * sweeping whenever the set has doubled keeps it bounded at amortised constant cost.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private sweepAtSize: number;

  constructor(
    private readonly windowMs: number,
    private readonly minSweepSize = 1024,
  ) {
    this.sweepAtSize = minSweepSize;
  }

  /** Records the token; false when it was already used. */
  remember(key: string, tokenTimeMs: number, nowMs: number): boolean {
    if (this.seen.has(key)) return false;
    this.seen.set(key, tokenTimeMs);
    if (this.seen.size >= this.sweepAtSize) this.sweep(nowMs);
    return true;
  }

  sweep(nowMs: number): void {
    const oldest = nowMs - this.windowMs;
    for (const [key, time] of this.seen) if (time < oldest) this.seen.delete(key);
    this.sweepAtSize = Math.max(this.minSweepSize, this.seen.size * 2);
  }

  get size(): number {
    return this.seen.size;
  }
}
