/** The one check of a `--since` in the future, as `tail`, `trace` and `replay` make it. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/cli/errors';
import { refuseFutureSince } from '../../lib/cli/since-flag';
import { checkSince } from '../../lib/cli/tail';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');

describe('a --since in the future', () => {
  it('is a usage error naming both times and what to give instead', () => {
    const error = (() => {
      try {
        refuseFutureSince(new Date(NOW + 1), NOW, 'give a time in the past');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      '--since 2026-11-30T12:00:00.001Z is in the future (it is 2026-11-30T12:00:00.000Z): give a time in the past',
    );
  });

  it('is taken when it is now or earlier', () => {
    expect(() => refuseFutureSince(new Date(NOW), NOW, 'x')).not.toThrow();
    expect(() => refuseFutureSince(new Date(NOW - 60_000), NOW, 'x')).not.toThrow();
  });

  it('is refused by tail in its own words: leaving it out starts now', () => {
    expect(() => checkSince(new Date(NOW + 60_000), NOW)).toThrow(
      '--since 2026-11-30T12:01:00.000Z is in the future (it is 2026-11-30T12:00:00.000Z): give a time in the past or a duration ago (10m), or leave it out to start now',
    );
  });
});
