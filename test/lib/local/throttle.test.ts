import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../lib/config';
import { acceptedOfBurst, createTokenBucket } from '../../../lib/local/throttle';

describe('token bucket (API Gateway stage throttling)', () => {
  it('takes burstLimit requests at once from a full bucket, then refuses', () => {
    const bucket = createTokenBucket({ rateLimit: 10, burstLimit: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('refills at rateLimit tokens per second, never above burstLimit', () => {
    const bucket = createTokenBucket({ rateLimit: 10, burstLimit: 3 }, 0);
    for (let i = 0; i < 3; i += 1) bucket.take(0);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(bucket.take(100)).toBe(false);
    // A long pause fills the bucket to its size only.
    const after = Array.from({ length: 5 }, () => bucket.take(60_000));
    expect(after).toEqual([true, true, true, false, false]);
  });

  it('accepts a steady stream at the rate even with a small bucket', () => {
    expect(acceptedOfBurst({ rateLimit: 100, burstLimit: 1 }, 100, 990)).toBe(100);
  });
});

describe('throttle defaults against the burst hookline is built for', () => {
  const defaults = { rateLimit: DEFAULTS.ingestRateLimit, burstLimit: DEFAULTS.ingestBurstLimit };

  it('accept 1,000 simultaneous webhooks', () => {
    expect(acceptedOfBurst(defaults, 1_000)).toBe(1_000);
  });

  it('would have refused most of them with the former 100/s, burst 200', () => {
    expect(acceptedOfBurst({ rateLimit: 100, burstLimit: 200 }, 1_000)).toBe(200);
    expect(acceptedOfBurst({ rateLimit: 100, burstLimit: 200 }, 1_000, 2_000)).toBeLessThan(500);
  });
});
