/**
 * While local mode runs, says when a queue crosses what would page once deployed, and when it recovers: its
 * dead-letter queue went from empty to holding messages (or back), its oldest message grew older than its
 * `oldestMessageAgeAlarm` (or is under it again), its oldest dead letter grew older than the age at which the
 * stack's `DeadLettersExpiring` alarm fires (or none is, again). One line per crossing, never one per read.
 *
 * It reads what `hookline status --local` reads, and only when something may have changed: shortly after the
 * pipeline reports an event, at the moment a waiting message will pass its alarm age, and every few seconds
 * while a queue holds messages or is in alarm (a purge or a message SQS moves after its visibility timeout
 * reports no event). A local mode whose queues are empty reads nothing.
 */
import { Duration } from 'aws-cdk-lib/core';
import { deadLettersExpiringText } from '../alarm-conditions';
import { type CommandHints, nextCommand } from '../cli/output';
import { pastOldestMessageAlarm } from '../cli/render';
import type { LocalQueueStatus } from '../cli/status';
import { saveDeadLettersArgs } from '../console/ui/dead-letter-expiry';
import { humanAge } from '../console/ui/human-age';
import { localModeHints } from './command-hints';

/**
 * The deployed alarms local mode reports: the three of a queue it watches here, a consumer's circuit breaker, which
 * local mode's emulated event source mapping evaluates itself, and the consumers' failed deletes
 * (`delete-failures.ts`).
 */
export type WatchedAlarm =
  | 'dead-letters'
  | 'oldest-message'
  | 'dead-letters-expiring'
  | 'circuit-breaker'
  | 'delete-failed';

/** One crossing of one alarm, as `npm start` prints it. */
export interface AlarmChange {
  /** The queue whose alarm crossed; for `delete-failed`, which watches every consumer at once, the first of `queues`. */
  readonly queue: string;
  /** `delete-failed`: the queues whose consumers failed deletes in the periods that crossed. */
  readonly queues?: readonly string[];
  readonly alarm: WatchedAlarm;
  /** As CloudWatch names the states the deployed alarm would move to. */
  readonly state: 'ALARM' | 'OK';
  readonly message: string;
  /**
   * A circuit breaker with `halfOpenAfter`: where its circuit went. Its alarm reads OK while the probe runs
   * (`half-open`), as the deployed one does, and stays OK when the circuit `closed`.
   */
  readonly circuit?: 'open' | 'half-open' | 'closed';
}

interface QueueAlarmState {
  readonly deadLetters: boolean;
  readonly oldestMessage: boolean;
  readonly deadLettersExpiring: boolean;
}

/** A queue as the watch reads it: what `hookline status --local` shows, and the age of its oldest dead letter. */
export interface WatchedQueue extends LocalQueueStatus {
  /**
   * Its dead-letter queue's oldest letter, as the stack's `DeadLettersExpiring` alarm reads SQS's
   * `ApproximateAgeOfOldestMessage` of it; absent where it is not read.
   */
  readonly deadLetterExpiry?: DeadLetterExpiry;
}

/** A dead-letter queue's oldest letter against the age at which its expiry alarm fires. */
export interface DeadLetterExpiry {
  /** Whole seconds since the oldest letter SQS's metric counts entered the DLQ; null when none is counted. */
  readonly ageSeconds: number | null;
  /** How long a letter stays there at least (`deadLetterLifetime`). */
  readonly lifetimeSeconds: number;
  /** The age above which the alarm fires (`deadLetterExpiryAlarmAge` of the lifetime). */
  readonly alarmAgeSeconds: number;
}

/** Whether a dead-letter queue's oldest letter is past the age its expiry alarm fires at. */
const pastExpiryAlarm = (expiry: DeadLetterExpiry | undefined): boolean =>
  expiry !== undefined && expiry.ageSeconds !== null && expiry.ageSeconds > expiry.alarmAgeSeconds;

/** Per queue, whether each watched alarm would be in alarm: what the next read is compared with. */
export type AlarmStates = ReadonlyMap<string, QueueAlarmState>;

/** While a queue holds messages or is in alarm, the longest a change goes unread when no event reports it. */
export const RECHECK_WHILE_HELD_MS = 10_000;

/** How soon after a reported event the queues are read: events arrive in bursts, and one read serves a burst. */
export const AFTER_EVENT_MS = 2_000;

/**
 * While a read is due, the longest the watch goes without looking at its clock: a clock moved forward (a test's)
 * brings the read on within this, as the ages it reads have moved with it.
 */
export const CLOCK_LOOK_MS = 1_000;

/** The states a read shows. Pure. */
export function alarmStatesOf(rows: readonly WatchedQueue[]): AlarmStates {
  return new Map(
    rows.map((q) => [
      q.queue,
      {
        deadLetters: q.deadLettered > 0,
        oldestMessage: pastOldestMessageAlarm(q) !== undefined,
        deadLettersExpiring: pastExpiryAlarm(q.deadLetterExpiry),
      },
    ]),
  );
}

/** No alarm: what a queue not read before is compared with. */
const QUIET: QueueAlarmState = { deadLetters: false, oldestMessage: false, deadLettersExpiring: false };

/**
 * What changed since `previous`: one change per alarm that crossed, in the order of the rows, each naming the
 * command to run with local mode's flags (`hints`). Pure.
 */
export function alarmChanges(
  previous: AlarmStates,
  rows: readonly WatchedQueue[],
  hints: CommandHints = localModeHints(),
): AlarmChange[] {
  const now = alarmStatesOf(rows);
  return rows.flatMap((q) => {
    const before = previous.get(q.queue) ?? QUIET;
    const after = now.get(q.queue) ?? before;
    const changes: AlarmChange[] = [];
    if (after.deadLetters !== before.deadLetters)
      changes.push(deadLettersChange(q, after.deadLetters, hints));
    if (after.oldestMessage !== before.oldestMessage)
      changes.push(oldestMessageChange(q, after.oldestMessage, hints));
    if (after.deadLettersExpiring !== before.deadLettersExpiring && q.deadLetterExpiry)
      changes.push(expiringChange(q, q.deadLetterExpiry, after.deadLettersExpiring, hints));
    return changes;
  });
}

function deadLettersChange(q: LocalQueueStatus, alarm: boolean, hints: CommandHints): AlarmChange {
  return {
    queue: q.queue,
    alarm: 'dead-letters',
    state: alarm ? 'ALARM' : 'OK',
    message: alarm
      ? `${q.queue}: ${q.deadLettered} dead-lettered, which a deployed stack's dead-letter alarm pages for; read why with ${nextCommand(hints, `failed list ${q.queue}`)}`
      : `${q.queue}: its dead-letter queue is empty again (a deployed stack's dead-letter alarm would return to OK)`,
  };
}

function oldestMessageChange(q: LocalQueueStatus, alarm: boolean, hints: CommandHints): AlarmChange {
  const threshold = humanAge(q.oldestMessageAgeAlarmSeconds ?? null);
  return {
    queue: q.queue,
    alarm: 'oldest-message',
    state: alarm ? 'ALARM' : 'OK',
    message: alarm
      ? `${q.queue}: its oldest message has waited ${humanAge(q.oldestMessageAgeSeconds)}, longer than the ${threshold} threshold of a deployed stack's oldest-message alarm: ${q.consumer === null ? 'no consumer of this pipeline reads it, so whatever does is stopped, failing or too slow' : 'its consumer is failing, paused or too slow'}; see ${nextCommand(hints, `status ${q.queue}`)}`
      : `${q.queue}: its oldest message has waited less than ${threshold} again (a deployed stack's oldest-message alarm would return to OK)`,
  };
}

/**
 * The expiry alarms a first read finds crossed (a data directory's old dead letters): the other alarms' start says
 * in its own lines (`alarmingAtStartNotices`). Pure.
 */
export function expiringAtStart(
  rows: readonly WatchedQueue[],
  hints: CommandHints = localModeHints(),
): AlarmChange[] {
  return alarmChanges(new Map(), rows, hints).filter((c) => c.alarm === 'dead-letters-expiring');
}

/**
 * A queue's oldest dead letter passed the age at which the deployed `DeadLettersExpiring` alarm fires, in the alarm's
 * own words with local mode's commands, or none is that old any more.
 */
function expiringChange(
  q: LocalQueueStatus,
  expiry: DeadLetterExpiry,
  alarm: boolean,
  hints: CommandHints,
): AlarmChange {
  const lifetime = Duration.seconds(expiry.lifetimeSeconds);
  const cli = (command: string) => nextCommand(hints, command);
  const { said } = deadLettersExpiringText([{ cliName: q.queue, lifetime, redrivable: true }], cli);
  return {
    queue: q.queue,
    alarm: 'dead-letters-expiring',
    state: alarm ? 'ALARM' : 'OK',
    message: alarm
      ? `${q.queue}: ${said}${cli(saveDeadLettersArgs(q.queue))} (what a deployed stack's DeadLettersExpiring alarm pages for)`
      : `${q.queue}: no dead letter is older than ${humanAge(expiry.alarmAgeSeconds)} any more (a deployed stack's DeadLettersExpiring alarm would return to OK)`,
  };
}

/**
 * When to read the queues again without an event: at the latest {@link RECHECK_WHILE_HELD_MS} while a queue holds
 * messages or is in alarm, sooner when a waiting message will pass its alarm age before then; undefined when every
 * queue is empty and none is in alarm (nothing can cross without an event). Pure.
 */
export function nextReadMs(rows: readonly WatchedQueue[]): number | undefined {
  let next: number | undefined;
  for (const q of rows) {
    const held = q.visible + q.inFlight + q.delayed + q.deadLettered > 0;
    if (!held && q.oldestMessageAgeSeconds === null) continue;
    next = Math.min(
      next ?? RECHECK_WHILE_HELD_MS,
      untilPassedMs(q.oldestMessageAgeSeconds, q.oldestMessageAgeAlarmSeconds),
      untilPassedMs(q.deadLetterExpiry?.ageSeconds ?? null, q.deadLetterExpiry?.alarmAgeSeconds),
    );
  }
  return next;
}

/** How long until `age` passes `alarmAge` ({@link RECHECK_WHILE_HELD_MS} at most, and when there is none to pass). */
function untilPassedMs(age: number | null, alarmAge: number | undefined): number {
  if (alarmAge === undefined || age === null || age > alarmAge) return RECHECK_WHILE_HELD_MS;
  // The alarm age is passed once the age, in whole seconds, is above it.
  return Math.min(RECHECK_WHILE_HELD_MS, (alarmAge + 1 - age) * 1000);
}

/** Options of {@link AlarmWatch}. */
export interface AlarmWatchOptions {
  /** What `hookline status --local` shows, with the age of each queue's oldest dead letter where it is read. */
  read(): Promise<WatchedQueue[]>;
  /** The first read, which the later ones are compared with (start names what it holds). */
  onFirst(rows: readonly WatchedQueue[]): void;
  onChange(change: AlarmChange): void;
  /** A read failed (said once until a read succeeds again). */
  onError(error: unknown): void;
  /** The flags the commands a change names carry. Default: `--local` alone. */
  readonly hints?: CommandHints;
  /** Epoch milliseconds, the clock the ages `read` answers are judged by: reads come due by it. @default Date.now */
  readonly now?: () => number;
}

/** Reads the queues when something may have changed, and reports each crossing once. */
export class AlarmWatch {
  private states: AlarmStates | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  /** Of the due read's wait, what timers have not yet waited. */
  private waitLeftMs = Number.POSITIVE_INFINITY;
  private reading: Promise<void> | undefined;
  private pokedWhileReading = false;
  private failing = false;
  private stopped = false;

  constructor(private readonly options: AlarmWatchOptions) {}

  /** Reads the queues once now: the start's view. */
  start(): void {
    this.readNow();
  }

  /** Something was reported: read soon (one read per burst of events). */
  poke(): void {
    if (this.stopped) return;
    if (this.reading) this.pokedWhileReading = true;
    else this.schedule(AFTER_EVENT_MS);
  }

  /** Stops reading; resolves once a read under way has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.reading;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Reads `ms` from now on the watch's clock, unless a read is due sooner. */
  private schedule(ms: number): void {
    const at = this.now() + ms;
    if (this.timer && this.dueAt <= at) return;
    this.dueAt = at;
    this.waitLeftMs = ms;
    this.wakeBeforeDue();
  }

  /**
   * Waits for the due read, looking at the clock at least every {@link CLOCK_LOOK_MS} on the way. The read also
   * comes once `ms` have passed in timers, whatever the clock says: a clock set back (the system's, by an hour)
   * must not hold the alarms back until it has caught up.
   */
  private wakeBeforeDue(): void {
    clearTimeout(this.timer);
    const left = Math.max(0, Math.min(this.dueAt - this.now(), this.waitLeftMs));
    const wait = Math.min(left, CLOCK_LOOK_MS);
    this.timer = setTimeout(() => this.readIfDue(wait), wait);
    // A notice never keeps the process alive.
    this.timer.unref();
  }

  private readIfDue(waited: number): void {
    this.waitLeftMs -= waited;
    if (this.now() >= this.dueAt || this.waitLeftMs <= 0) this.readNow();
    else this.wakeBeforeDue();
  }

  private readNow(): void {
    if (this.stopped || this.reading) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = Number.POSITIVE_INFINITY;
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.pokedWhileReading) {
        this.pokedWhileReading = false;
        this.poke();
      }
    });
  }

  private async read(): Promise<void> {
    let rows: WatchedQueue[];
    try {
      rows = await this.options.read();
    } catch (error) {
      if (this.stopped) return;
      if (!this.failing) this.options.onError(error);
      this.failing = true;
      this.schedule(RECHECK_WHILE_HELD_MS);
      return;
    }
    this.failing = false;
    if (this.stopped) return;
    if (this.states === undefined) this.options.onFirst(rows);
    else
      for (const change of alarmChanges(this.states, rows, this.options.hints)) this.options.onChange(change);
    this.states = alarmStatesOf(rows);
    const next = nextReadMs(rows);
    if (next !== undefined) this.schedule(next);
  }
}
