import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffCeilingSeconds,
  backoffDelaySeconds,
  MAX_VISIBILITY_SECONDS,
} from '../../../lambda/consumer/backoff';

const policy = { baseSeconds: 10, factor: 2, maxSeconds: 900 };

describe('backoff', () => {
  it('grows exponentially with the attempt and stops at maxSeconds', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffCeilingSeconds(policy, a))).toStrictEqual([
      10, 20, 40, 80, 160, 320, 640, 900,
    ]);
  });

  it('never exceeds what SQS grants a record held 20 minutes since its receive, even with a huge factor', () => {
    // SQS refuses a visibility past 12 hours from the receive: a batching window and an invocation may have passed.
    expect(backoffCeilingSeconds({ baseSeconds: 10, factor: 1000, maxSeconds: 1e9 }, 50)).toBe(
      MAX_VISIBILITY_SECONDS - 1_200,
    );
  });

  it('is 0 with a zero base (immediate retry)', () => {
    expect(backoffDelaySeconds({ baseSeconds: 0, factor: 2, maxSeconds: 60 }, 3, () => 0.7)).toBe(0);
  });

  it('stays 0 with a zero base on an attempt so late that factor^(attempt-1) overflows', () => {
    // 10^309 is Infinity in a double, and 0 × Infinity is NaN.
    expect(backoffCeilingSeconds({ baseSeconds: 0, factor: 10, maxSeconds: 900 }, 400)).toBe(0);
    expect(backoffDelaySeconds({ baseSeconds: 0, factor: 10, maxSeconds: 900 }, 400, () => 0.5)).toBe(0);
  });

  it('jitters within [ceiling/2, ceiling] in whole seconds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 43_200 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (baseSeconds, factor, maxSeconds, attempt, r) => {
          const p = { baseSeconds, factor, maxSeconds };
          const ceiling = backoffCeilingSeconds(p, attempt);
          const delay = backoffDelaySeconds(p, attempt, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.min(ceiling, MAX_VISIBILITY_SECONDS));
        },
      ),
    );
  });
});
