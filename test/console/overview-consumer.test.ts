import { describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../lib/cli/status';
import { overviewQueueRow } from '../../lib/console/operations';
import { consumerText } from '../../lib/console/ui/consumer-text';

const row: QueueStatus = {
  queue: 'events',
  fifo: false,
  visible: 28,
  inFlight: 0,
  delayed: 0,
  deadLettered: 0,
  oldestMessageAgeSeconds: 30,
  consumer: 'Disabled',
};
const trip = { trippedAt: '2026-12-02T14:00:00.000Z', failed: 19, ended: 20, windowMinutes: 5 };

describe("the console overview's consumer cell", () => {
  it('tells a breaker pause from an operator pause, in the words hookline status uses', () => {
    const byBreaker = overviewQueueRow({ ...row, circuitBreaker: trip }, null);
    expect(consumerText(byBreaker)).toBe(
      'Disabled (paused by circuit breaker at 2026-12-02T14:00:00.000Z: 19 of 20 records failed in 5 minutes)',
    );
    expect(consumerText(overviewQueueRow(row, null))).toBe('Disabled (paused)');
  });

  it('shows a running or absent consumer as it is, a resumed one without the old trip', () => {
    expect(consumerText(overviewQueueRow({ ...row, consumer: 'Enabled', circuitBreaker: trip }, null))).toBe(
      'Enabled',
    );
    expect(consumerText(overviewQueueRow({ ...row, consumer: null }, null))).toBe('none');
  });

  it('shows a consumer whose state may not be read as unknown, not as none or paused', () => {
    const { consumer: _unread, ...unreadable } = row;
    expect(consumerText(overviewQueueRow(unreadable, null))).toBe('unknown');
  });

  it('says when the breaker probes next, and that a running consumer is half-open while a probe runs it', () => {
    const open = {
      ...trip,
      circuit: {
        state: 'open' as const,
        since: trip.trippedAt,
        opens: 1,
        probeAt: '2026-12-02T14:10:00.000Z',
      },
    };
    expect(consumerText(overviewQueueRow({ ...row, circuitBreaker: open }, null))).toBe(
      'Disabled (paused by circuit breaker at 2026-12-02T14:00:00.000Z: 19 of 20 records failed in 5 minutes; next probe at 2026-12-02T14:10:00.000Z)',
    );
    const halfOpen = {
      ...trip,
      circuit: {
        state: 'half-open' as const,
        since: '2026-12-02T14:10:00.000Z',
        opens: 1,
        closesAt: '2026-12-02T14:15:00.000Z',
        probeConcurrency: 1,
      },
    };
    expect(
      consumerText(overviewQueueRow({ ...row, consumer: 'Enabled', circuitBreaker: halfOpen }, null)),
    ).toBe(
      'Enabled (half-open since 2026-12-02T14:10:00.000Z (probe concurrency 1; closes at ~2026-12-02T14:15:00.000Z if nothing fails))',
    );
  });
});
