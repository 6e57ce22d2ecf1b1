import { describe, expect, it } from 'vitest';
import { untilRateAllows } from '../../lib/cli/rate-pacing';
import { fakeClock } from './helpers';

describe('--rate pacing', () => {
  it('waits until the messages sent are due at the rate since the start', async () => {
    const clock = fakeClock(0);
    await untilRateAllows(clock, 0, 0, 5);
    await untilRateAllows(clock, 0, 5, 5);
    await untilRateAllows(clock, 0, 10, 4);
    expect(clock.sleeps).toEqual([1000, 1500]);
    expect(clock.now()).toBe(2500);
  });

  it('ends the wait when the signal aborts, not when the messages are due', async () => {
    const stop = new AbortController();
    const clock = {
      now: () => 0,
      // Ends only when aborted: a wait that ignored the signal would never end.
      sleep: (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
    };
    const waiting = untilRateAllows(clock, 0, 1, 0.1, stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('lets a run that fell behind catch up without waiting', async () => {
    const clock = fakeClock(10_000);
    // 20 messages at 5 a second are due 4 s after a start 10 s ago: long past.
    await untilRateAllows(clock, 0, 20, 5);
    expect(clock.sleeps).toEqual([]);
  });
});
