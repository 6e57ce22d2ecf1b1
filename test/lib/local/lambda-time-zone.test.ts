import { describe, expect, it } from 'vitest';
import { ownTimeZoneNotices } from '../../../lib/local/lambda-time-zone';

describe('ownTimeZoneNotices (a consumer zone local mode cannot honour)', () => {
  it('names each consumer that sets a TZ other than UTC, with the zone it would run in deployed', () => {
    const notices = ownTimeZoneNotices([
      { name: 'events', consumer: { environment: { TZ: 'Europe/Paris' } } },
      { name: 'orders', consumer: { environment: { OTHER: '1' } } },
      { name: 'audit' },
    ]);
    expect(notices).toEqual([expect.stringContaining('consumer events sets TZ=Europe/Paris')]);
    expect(notices[0]).toContain('local mode runs every sandbox in UTC');
  });

  it('says nothing of a consumer that sets UTC, as Lambda does', () => {
    expect(
      ownTimeZoneNotices([
        { name: 'a', consumer: { environment: { TZ: 'UTC' } } },
        { name: 'b', consumer: { environment: { TZ: ':UTC' } } },
      ]),
    ).toEqual([]);
  });
});
