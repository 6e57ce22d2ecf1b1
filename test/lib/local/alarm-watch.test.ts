import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalQueueStatus } from '../../../lib/cli/status';
import {
  AFTER_EVENT_MS,
  AlarmWatch,
  alarmChanges,
  alarmStatesOf,
  CLOCK_LOOK_MS,
  nextReadMs,
  RECHECK_WHILE_HELD_MS,
  type WatchedQueue,
} from '../../../lib/local/alarm-watch';
import { localModeHints } from '../../../lib/local/command-hints';

/** A queue as `hookline status --local` reads it, alarming on an oldest message above 60 s. */
const row = (
  deadLettered: number,
  oldest: number | null,
  visible = oldest === null ? 0 : 1,
): LocalQueueStatus => ({
  queue: 'events',
  fifo: false,
  visible,
  inFlight: 0,
  delayed: 0,
  deadLettered,
  oldestMessageAgeSeconds: oldest,
  oldestMessageAgeAlarmSeconds: 60,
  consumer: 'Enabled',
});

const changesBetween = (before: LocalQueueStatus, after: LocalQueueStatus) =>
  alarmChanges(alarmStatesOf([before]), [after]).map(({ alarm, state }) => `${alarm} ${state}`);

describe('the crossings npm start reports while it runs', () => {
  it('names a dead-letter queue that went from empty to holding messages, with the command that reads why', () => {
    expect(alarmChanges(alarmStatesOf([row(0, null)]), [row(2, null)])).toStrictEqual([
      {
        queue: 'events',
        alarm: 'dead-letters',
        state: 'ALARM',
        message:
          "events: 2 dead-lettered, which a deployed stack's dead-letter alarm pages for; read why with hookline failed list events --local",
      },
    ]);
  });

  it('names its commands with the configuration local mode was started with', () => {
    const hints = localModeHints('configs/staging.config.ts');
    expect(
      [
        ...alarmChanges(alarmStatesOf([row(0, null)]), [row(2, null)], hints),
        ...alarmChanges(alarmStatesOf([row(0, 60)]), [row(0, 61)], hints),
      ].map((change) => change.message.replace(/^.*; /, '')),
    ).toStrictEqual([
      'read why with hookline failed list events --local --config configs/staging.config.ts',
      'see hookline status events --local --config configs/staging.config.ts',
    ]);
  });

  it('says nothing while a dead-letter queue keeps holding messages, and once when it is empty again', () => {
    expect(changesBetween(row(2, null), row(5, null))).toStrictEqual([]);
    expect(changesBetween(row(5, null), row(0, null))).toStrictEqual(['dead-letters OK']);
  });

  it('names a queue whose oldest message passed its alarm age once, and once when it is under it again', () => {
    expect(alarmChanges(alarmStatesOf([row(0, 60)]), [row(0, 61)])).toStrictEqual([
      {
        queue: 'events',
        alarm: 'oldest-message',
        state: 'ALARM',
        message:
          "events: its oldest message has waited 1m 1s, longer than the 1m 0s threshold of a deployed stack's oldest-message alarm: its consumer is failing, paused or too slow; see hookline status events --local",
      },
    ]);
    expect(changesBetween(row(0, 61), row(0, 300))).toStrictEqual([]);
    const unread = { ...row(0, 61), consumer: null };
    expect(alarmChanges(alarmStatesOf([row(0, 60)]), [unread])[0]?.message).toMatch(
      /: no consumer of this pipeline reads it, so whatever does is stopped, failing or too slow;/,
    );
    expect(changesBetween(row(0, 300), row(0, null))).toStrictEqual(['oldest-message OK']);
    expect(changesBetween(row(0, 300), row(0, 12))).toStrictEqual(['oldest-message OK']);
  });
});

describe("the dead letters' expiry npm start reports while it runs", () => {
  /** A queue whose one dead letter is `age` old, living 120 s and alarmed on above 60 s. */
  const expiring = (age: number | null): WatchedQueue => ({
    ...row(age === null ? 0 : 1, null),
    deadLetterExpiry: { ageSeconds: age, lifetimeSeconds: 120, alarmAgeSeconds: 60 },
  });

  it("names a dead letter past the age the DeadLettersExpiring alarm fires at in the alarm's words, once, and once when none is", () => {
    const crossed = alarmChanges(alarmStatesOf([expiring(60)]), [expiring(61)]);
    expect(crossed.map(({ alarm, state }) => `${alarm} ${state}`)).toStrictEqual([
      'dead-letters-expiring ALARM',
    ]);
    expect(crossed[0]?.message).toBe(
      'events: Dead letters in the DLQ of "events" are older than 1 minute: SQS may delete them within 1 minute (ones the consumer dead-lettered itself live longer), and the DLQ alarm then returns to OK, the events lost. Letters read 3+ times (hookline failed) leave SQS\'s age metric: do not wait for this alarm. For "events" (others alike): hookline failed summary events --local, fix the cause, hookline redrive events --local; or first save them: hookline failed save events --out dead-letters-events.jsonl --local (what a deployed stack\'s DeadLettersExpiring alarm pages for)',
    );
    expect(alarmChanges(alarmStatesOf([expiring(61)]), [expiring(300)])).toStrictEqual([]);
    const gone = alarmChanges(alarmStatesOf([expiring(300)]), [expiring(null)]);
    expect(gone.map(({ alarm, state }) => `${alarm} ${state}`)).toStrictEqual([
      'dead-letters OK',
      'dead-letters-expiring OK',
    ]);
  });

  it('reads again when the oldest dead letter will pass that age, if that comes before the periodic read', () => {
    expect(nextReadMs([expiring(58)])).toBe(3_000);
    expect(nextReadMs([expiring(10)])).toBe(RECHECK_WHILE_HELD_MS);
  });
});

describe('when the queues are read again without an event', () => {
  it('never, while every queue is empty', () => {
    expect(nextReadMs([row(0, null)])).toBeUndefined();
  });

  it('when a waiting message will pass its alarm age, if that comes before the periodic read', () => {
    expect(nextReadMs([row(0, 55)])).toBe(6_000);
    expect(nextReadMs([row(0, 10)])).toBe(RECHECK_WHILE_HELD_MS);
  });

  it('periodically while a dead-letter queue holds messages or a message is past its alarm age', () => {
    expect(nextReadMs([row(1, null)])).toBe(RECHECK_WHILE_HELD_MS);
    expect(nextReadMs([row(0, 600)])).toBe(RECHECK_WHILE_HELD_MS);
  });
});

describe('AlarmWatch', () => {
  afterEach(() => vi.useRealTimers());

  function watching(reads: LocalQueueStatus[][], now?: () => number) {
    vi.useFakeTimers();
    const seen: string[] = [];
    let count = 0;
    const watch = new AlarmWatch({
      read: async () => {
        const rows = reads[Math.min(count, reads.length - 1)] ?? [];
        count += 1;
        return rows;
      },
      onFirst: (rows) => seen.push(`first ${rows[0]?.deadLettered}`),
      onChange: (change) => seen.push(`${change.alarm} ${change.state}`),
      onError: () => seen.push('error'),
      ...(now ? { now } : {}),
    });
    return { watch, seen, reads: () => count };
  }

  it('reports each crossing once over repeated reads, and reads nothing more once the queues are empty', async () => {
    const { watch, seen, reads } = watching([[row(0, null)], [row(1, null)], [row(1, null)], [row(0, null)]]);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    watch.poke();
    await vi.advanceTimersByTimeAsync(AFTER_EVENT_MS);
    await vi.advanceTimersByTimeAsync(RECHECK_WHILE_HELD_MS * 2);
    expect(seen).toStrictEqual(['first 0', 'dead-letters ALARM', 'dead-letters OK']);
    const settled = reads();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(reads()).toBe(settled);
    await watch.stop();
  });

  it('reads when its own clock, moved forward, says the next read is due, without waiting for the timer', async () => {
    let movedMs = 0;
    const { watch, reads } = watching([[row(1, null)]], () => Date.now() + movedMs);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reads()).toBe(1);
    // A dead letter is held: the next read is due in RECHECK_WHILE_HELD_MS on the watch's clock.
    await vi.advanceTimersByTimeAsync(CLOCK_LOOK_MS);
    expect(reads()).toBe(1);
    movedMs = RECHECK_WHILE_HELD_MS;
    await vi.advanceTimersByTimeAsync(CLOCK_LOOK_MS);
    expect(reads()).toBe(2);
    await watch.stop();
  });

  it('reads when its wait has passed though its clock was set back meanwhile', async () => {
    let movedMs = 0;
    const { watch, reads } = watching([[row(1, null)]], () => Date.now() + movedMs);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reads()).toBe(1);
    // A dead letter is held: the next read is due in RECHECK_WHILE_HELD_MS; then the clock goes back an hour.
    movedMs = -3_600_000;
    await vi.advanceTimersByTimeAsync(RECHECK_WHILE_HELD_MS + CLOCK_LOOK_MS);
    expect(reads()).toBe(2);
    await watch.stop();
  });

  it('reads once for a burst of events', async () => {
    const { watch, reads } = watching([[row(0, null)]]);
    watch.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 100; i++) watch.poke();
    await vi.advanceTimersByTimeAsync(AFTER_EVENT_MS);
    expect(reads()).toBe(2);
    await watch.stop();
  });
});
