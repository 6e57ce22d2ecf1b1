import { describe, expect, it } from 'vitest';
import { quietTenants, type TenantBacklog } from '../../../lib/local/quiet-tenants';

const NOW = 1_000_000;
const backlog = (ready: number, inflight: number, agoSeconds: number | null): TenantBacklog => ({
  ready,
  inflight,
  sentAt: agoSeconds === null ? null : NOW - agoSeconds * 1000,
});

describe("quietTenants: SQS fair queues' concurrency-share rule for a noisy tenant", () => {
  it('counts every tenant quiet while nothing is being processed, however large its backlog', () => {
    const result = quietTenants({ noisy: backlog(50, 0, 90), q1: backlog(1, 0, 5) }, new Map(), NOW);
    expect(result).toEqual({ visible: 51, oldestAgeSeconds: 90 });
  });

  it('leaves out a tenant with over 10% of the messages being processed and at least 30 of them', () => {
    const result = quietTenants(
      { noisy: backlog(100, 30, 90), q1: backlog(2, 1, 5), q2: backlog(1, 0, 7) },
      new Map(),
      NOW,
    );
    expect(result).toEqual({ visible: 3, oldestAgeSeconds: 7 });
  });

  it('keeps a tenant with 29 being processed quiet: SQS needs at least 30 of its own in flight', () => {
    const result = quietTenants({ busy: backlog(10, 29, 60), q1: backlog(1, 0, 5) }, new Map(), NOW);
    expect(result).toEqual({ visible: 11, oldestAgeSeconds: 60 });
  });

  it('keeps a tenant with 30 being processed quiet when that is at most 10% of all being processed', () => {
    const others = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, backlog(0, 30, 1)]));
    const result = quietTenants({ ...others, big: backlog(5, 30, 60) }, new Map(), NOW);
    expect(result.visible).toBe(5);
  });

  it('counts messages waiting in the tenant lanes visible, not processed, as SQS would', () => {
    const held = new Map([['noisy', 40]]);
    const result = quietTenants({ noisy: backlog(10, 40, 90), q1: backlog(1, 0, 5) }, held, NOW);
    expect(result).toEqual({ visible: 51, oldestAgeSeconds: 90 });
  });

  it('has no age when no quiet tenant holds a message the age counts', () => {
    expect(quietTenants({}, new Map(), NOW)).toEqual({ visible: 0, oldestAgeSeconds: undefined });
    expect(quietTenants({ q1: backlog(0, 1, null) }, new Map(), NOW).oldestAgeSeconds).toBeUndefined();
  });
});
