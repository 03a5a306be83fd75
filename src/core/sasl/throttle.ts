// Brute-force brake for authentication, keyed by whatever the caller chooses (remote IP, account JID).
// Fixed windows: after maxFailures failures within windowMs of the first, the key is blocked until that window
// ends. Memory is bounded: expired entries are dropped as they are met, and past maxEntries the oldest go first.

interface Entry {
  failures: number;
  resetAt: number;
}

export class AuthThrottle {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Insertion order is window-start order (entries are re-inserted when a new window opens), so the oldest come first. */
  readonly #entries = new Map<string, Entry>();

  constructor(opts: { maxFailures?: number; windowMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#maxFailures = opts.maxFailures ?? 5;
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** true when this key is currently blocked */
  isBlocked(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    if (this.#now() >= entry.resetAt) {
      this.#entries.delete(key);
      return false;
    }
    return entry.failures >= this.#maxFailures;
  }

  recordFailure(key: string): void {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry !== undefined && now < entry.resetAt) {
      entry.failures++;
      return;
    }
    this.#entries.delete(key);
    this.#sweep(now);
    this.#entries.set(key, { failures: 1, resetAt: now + this.#windowMs });
  }

  recordSuccess(key: string): void {
    this.#entries.delete(key);
  }

  /** Number of keys tracked (for metrics and tests). */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now < entry.resetAt && this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
