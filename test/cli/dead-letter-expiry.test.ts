import { describe, expect, it } from 'vitest';
import {
  deletedBySqsAt,
  expiresSoon,
  expiryWarning,
  soonestDeletion,
  timeLeft,
} from '../../lib/console/ui/dead-letter-expiry';

describe('when SQS deletes a dead letter', () => {
  it("is its send time plus the DLQ's retention", () => {
    expect(deletedBySqsAt('2026-11-25T02:00:00.000Z', 14 * 86_400)).toBe('2026-12-09T02:00:00.000Z');
    expect(deletedBySqsAt('2026-11-25T02:00:00.000Z', 60)).toBe('2026-11-25T02:01:00.000Z');
  });

  it('is unknown without a send time or a retention, or with a send time that is no time', () => {
    expect(deletedBySqsAt(null, 60)).toBeNull();
    expect(deletedBySqsAt(undefined, 60)).toBeNull();
    expect(deletedBySqsAt('2026-11-25T02:00:00.000Z', undefined)).toBeNull();
    expect(deletedBySqsAt('soon', 60)).toBeNull();
  });

  it('is soon under two days from now, not at two days or with no time', () => {
    const now = Date.parse('2026-11-25T00:00:00.000Z');
    expect(expiresSoon('2026-11-26T23:59:59.000Z', now)).toBe(true);
    expect(expiresSoon('2026-11-24T00:00:00.000Z', now)).toBe(true);
    expect(expiresSoon('2026-11-27T00:00:00.000Z', now)).toBe(false);
    expect(expiresSoon(null, now)).toBe(false);
  });

  it('reads as the time left, in days and hours from two days on, and as any moment once past', () => {
    const now = Date.parse('2026-11-25T00:00:00.000Z');
    expect(timeLeft('2026-11-27T03:00:00.000Z', now)).toBe('in 2d 3h');
    expect(timeLeft('2026-11-25T05:12:00.000Z', now)).toBe('in 5h 12m');
    expect(timeLeft('2026-11-24T23:00:00.000Z', now)).toBe('any moment now');
  });
});

describe('the warning of a dead letter SQS deletes soon, as failed and the console both say it', () => {
  const now = Date.parse('2026-11-25T00:00:00.000Z');

  it('says which letter, the time left, the time itself and the two days it is under', () => {
    expect(expiryWarning('failure 0a78ca1c: its oldest', '2026-11-26T02:00:00.000Z', now)).toBe(
      'failure 0a78ca1c: its oldest dead letter is deleted by SQS in 26h 0m (at 2026-11-26T02:00:00.000Z, under 2 days): act on it before then',
    );
  });

  it('is of the soonest time known among the letters, none when none is known', () => {
    expect(soonestDeletion(['2026-11-27T00:00:00.000Z', null, '2026-11-26T00:00:00.000Z', undefined])).toBe(
      '2026-11-26T00:00:00.000Z',
    );
    expect(soonestDeletion([null, undefined])).toBeNull();
    expect(soonestDeletion([])).toBeNull();
  });
});
