/**
 * API Gateway's stage throttling as a token bucket, the algorithm AWS documents for HTTP APIs: the bucket holds
 * at most `burstLimit` tokens, refills at `rateLimit` tokens per second, and each request takes one token or is
 * answered `429 {"message":"Too Many Requests"}`. Local mode applies it so a burst the deployed API would refuse
 * is refused locally too.
 */

/** The throttle settings of the `$default` stage (`ingest.rateLimit`, `ingest.burstLimit`). */
export interface ThrottleSettings {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Bucket size: requests accepted at once from a full bucket. */
  readonly burstLimit: number;
}

/** A token bucket; `now` in milliseconds (any monotonic clock). */
export interface TokenBucket {
  /** Takes one token when one is available; false means the request is throttled. */
  take(now: number): boolean;
}

/** A full bucket for `settings`, created at `now`. */
export function createTokenBucket(settings: ThrottleSettings, now: number): TokenBucket {
  let tokens = settings.burstLimit;
  let last = now;
  return {
    take(at) {
      tokens = Math.min(settings.burstLimit, tokens + (Math.max(0, at - last) * settings.rateLimit) / 1000);
      last = Math.max(last, at);
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

/**
 * How many of `requests` arriving evenly over `spreadMs` (0: all at the same instant) a full bucket accepts.
 * The capacity model behind the defaults: a burst is accepted whole when this equals `requests`.
 */
export function acceptedOfBurst(settings: ThrottleSettings, requests: number, spreadMs = 0): number {
  const bucket = createTokenBucket(settings, 0);
  let accepted = 0;
  for (let i = 0; i < requests; i += 1) {
    const at = requests > 1 ? (spreadMs * i) / (requests - 1) : 0;
    if (bucket.take(at)) accepted += 1;
  }
  return accepted;
}
