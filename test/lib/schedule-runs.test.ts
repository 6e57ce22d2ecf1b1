import { describe, expect, it } from 'vitest';
import { neverFires, neverFiresWarning } from '../../lib/schedule-runs';

const now = Date.parse('2030-02-01T00:00:00Z');

describe('neverFires', () => {
  it('finds a one-time schedule whose time has passed, read in its time zone', () => {
    expect(neverFires('at(2030-01-31T09:00:00)', 'UTC', now)).toBe('passed');
    // 00:30 in Paris on February 1 is 23:30 UTC on January 31: passed at midnight UTC, though its date is not.
    expect(neverFires('at(2030-02-01T00:30:00)', 'Europe/Paris', now)).toBe('passed');
    expect(neverFires('at(2030-02-01T00:30:00)', 'America/New_York', now)).toBeUndefined();
    expect(neverFires('at(2030-02-01T00:00:00)', 'UTC', now)).toBeUndefined();
  });

  it('finds a cron whose years have passed, or whose years left lack its day', () => {
    expect(neverFires('cron(0 9 * * ? 2020-2029)', 'UTC', now)).toBe('noTimeToCome');
    expect(neverFires('cron(0 9 29 2 ? 2030-2031)', 'UTC', now)).toBe('noTimeToCome');
    expect(neverFires('cron(0 9 * * ? 2020-2030)', 'UTC', now)).toBeUndefined();
    expect(neverFires('cron(0 9 * * ? *)', 'Europe/Paris', now)).toBeUndefined();
  });

  it('leaves a rate and an invalid expression (a configuration error said elsewhere) alone', () => {
    expect(neverFires('rate(1 hour)', 'UTC', now)).toBeUndefined();
    expect(neverFires('at(2020-02-30T09:00:00)', 'UTC', now)).toBeUndefined();
  });
});

describe('neverFiresWarning', () => {
  it('names the schedule, its field, its time (in UTC too) and what it means, and says to remove it', () => {
    const paris = { name: 'launch', expression: 'at(2030-01-31T09:00:00)', timezone: 'Europe/Paris' };
    expect(neverFiresWarning(paris, 1, 'passed')).toBe(
      'schedule launch (schedules.1.expression): the time of the one-time schedule at(2030-01-31T09:00:00) in Europe/Paris (2030-01-31T08:00:00Z) has passed, so it will not fire again: deployed before that time, it has fired already; never deployed, EventBridge Scheduler may refuse to create it, or it never fires; local mode does not fire it. Remove the schedule from the configuration',
    );
  });

  it('says a cron with no time to come will never fire, and what to change', () => {
    const old = { name: 'yearly', expression: 'cron(0 9 * * ? 2020-2025)', timezone: 'UTC' };
    expect(neverFiresWarning(old, 0, 'noTimeToCome')).toBe(
      'schedule yearly (schedules.0.expression): cron(0 9 * * ? 2020-2025) matches no time from now on (its years have passed, or none of those left has its day, such as February 29 of years that are not leap years), so it will never fire, deployed or in local mode. Fix schedules.0.expression, or remove the schedule from the configuration',
    );
  });
});
