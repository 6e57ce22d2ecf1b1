/**
 * The consumer's rate limit: at most `limit` records start per `interval`, across every concurrent invocation of
 * the consumer, counted in fixed windows of a shared store (one DynamoDB item per consumer and window).
 *
 * A record without a slot waits inside the invocation for the next window instead of going back to the queue:
 * every receive raises a message's ApproximateReceiveCount, and no API lowers it, so a record handed back for
 * the rate limit would spend its attempts, and in the end be dead-lettered, without ever failing. Only when no
 * slot can come before the invocation's deadline margin does the record give up its wait (the runtime defers it).
 */

/** The shared count of starts per window. */
export interface RateLimitWindowStore {
  /**
   * Counts one start in the window `key` unless it already holds `limit`: true when counted, false when full.
   * `expiresAtSeconds` (epoch seconds) lets the store drop the window once it is over.
   */
  take(key: string, limit: number, expiresAtSeconds: number): Promise<boolean>;
}

/** What the limiter needs besides its store. */
export interface RateLimiterOptions {
  /** Most records started per window. */
  readonly limit: number;
  /** The window's length, in milliseconds. */
  readonly intervalMs: number;
  /** The window's key in the store, from its index (milliseconds since the epoch / interval). */
  readonly keyOf: (window: number) => string;
  readonly store: RateLimitWindowStore;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Resolves `ms` from now. */
  readonly sleep: (ms: number) => Promise<void>;
}

/** A window's item outlives it by this much, so a late clock never finds its count gone (TTL does the rest). */
const WINDOW_KEPT_SECONDS = 3_600;

/** Hands out start slots; one per consumer runtime, shared by the records of every batch it runs. */
export class RateLimiter {
  /** The latest window the store said is full: records of this runtime wait for the next without asking again. */
  #fullWindow = Number.NaN;

  constructor(private readonly options: RateLimiterOptions) {}

  /**
   * Resolves true once the caller may start a record (its start is counted), or false when no slot comes
   * before `untilMs` (milliseconds since the epoch): the caller must not start it then.
   */
  async acquire(untilMs: number): Promise<boolean> {
    const { limit, intervalMs, keyOf, store, now, sleep } = this.options;
    for (;;) {
      const window = Math.floor(now() / intervalMs);
      if (window !== this.#fullWindow) {
        const expiresAtSeconds = Math.ceil(((window + 1) * intervalMs) / 1000) + WINDOW_KEPT_SECONDS;
        if (await store.take(keyOf(window), limit, expiresAtSeconds)) return true;
        this.#fullWindow = window;
      }
      const next = (window + 1) * intervalMs;
      if (next > untilMs) return false;
      await sleep(Math.max(0, next - now()));
    }
  }
}
