/**
 * Local stand-in for EventBridge Scheduler: fires each configured schedule with croner and sends an envelope to
 * its target queue, as the Scheduler's SQS target does in AWS; and holds the producer's one-time job schedules
 * (`startOneTimeScheduler`), saved in the data directory.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Cron } from 'croner';
import type { WebhookEnvelope } from '../../lambda/shared/envelope';
import { jsonErrorWithoutInput } from '../../lambda/shared/json-text';
import type { ResolvedSchedule } from '../config';
import { DEFAULTS } from '../config/defaults';
import { gateToLoopbackCallers } from '../loopback-gate';
import { scheduleEnvelope } from '../schedule-envelope';
import { cronJob, type NeverFires, neverFires, toLocalSchedule } from '../schedule-runs';
import { writeFileAtomically } from './atomic-write';
import { LocalStartProblem } from './start-problem';

/**
 * One firing: sends the same envelope the deployed Scheduler target sends (lib/pipeline-schedules.ts), with the
 * firing's scheduled time written as Scheduler writes `<aws.scheduler.scheduled-time>` (to the second, no
 * milliseconds: `2026-11-25T09:00:00Z`, so the id is the deployed one) and a fresh execution id, and no message
 * attributes.
 */
export async function sendScheduledEnvelope(
  sqs: SQSClient,
  queueUrl: string,
  schedule: ResolvedSchedule,
  scheduledAt: Date = new Date(),
): Promise<WebhookEnvelope> {
  const envelope = firingEnvelope(schedule, scheduledAt);
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(envelope) }));
  return envelope;
}

/** The envelope of one firing, made once so every try of its delivery carries the same id. */
function firingEnvelope(schedule: ResolvedSchedule, scheduledAt: Date): WebhookEnvelope {
  const scheduledTime = `${scheduledAt.toISOString().slice(0, 19)}Z`;
  return scheduleEnvelope(schedule, { scheduledTime, executionId: randomUUID() });
}

/**
 * The wait before a failed firing's next try: 1 s, doubling to at most a minute, so a queue that stays unreachable
 * for hours is not sent every firing of a frequent schedule every second.
 */
const resendWaitMs = (failures: number) => Math.min(1000 * 2 ** (failures - 1), 60_000);

/** What local mode says of a firing it could not send: that it tries again, or why it gave the firing up. */
export function scheduleSendNotice(
  schedule: ResolvedSchedule,
  error: unknown,
  firing: { readonly id: string; readonly given?: 'up' | 'stopped' },
): string {
  const reason = (error as Error)?.message ?? String(error);
  const head = `schedule ${schedule.name}: could not send ${firing.id} to queue ${schedule.queue} (${reason})`;
  if (firing.given === 'stopped') return `${head}; local mode stopped before it could, so it is lost`;
  if (firing.given === 'up')
    return `${head} within ${DEFAULTS.scheduleMaxEventAge.toHumanString()}, so it is given up (deployed, Scheduler puts it in the schedule's dead-letter queue then)`;
  return `${head}; trying again (after 1 s, then backing off to once a minute), as Scheduler retries a delivery for up to ${DEFAULTS.scheduleMaxEventAge.toHumanString()}`;
}

/** Node runs a timer longer than 2^31 - 1 ms after 1 ms instead; a longer wait is made of several timers. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `fire` with each slot of a rate schedule: the first one interval after the start, then every interval
 * (`rate(30 days)` too). Slots count from the start, not from the last firing, so a late timer shifts no later
 * slot; after a pause past several slots (a sleeping laptop) only the latest fires.
 */
function startRateTimer(intervalMs: number, fire: (slot: Date) => void): () => void {
  let next = Date.now() + intervalMs;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(tick, Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS));
    timer.unref();
  };
  const tick = () => {
    const now = Date.now();
    if (now >= next) {
      while (next + intervalMs <= now) next += intervalMs;
      const slot = next;
      next += intervalMs;
      fire(new Date(slot));
    }
    arm();
  };
  arm();
  return () => clearTimeout(timer);
}

/** How far clocks go back at the end of daylight saving time (Lord Howe Island: 30 minutes; elsewhere 1 hour). */
const FALL_BACK_MS = [1_800_000, 3_600_000];

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock date and time (to the minute) of an instant in a time zone. */
function wallClock(at: number, timezone: string): string {
  let format = wallClocks.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    wallClocks.set(timezone, format);
  }
  return format.format(at);
}

/**
 * Whether EventBridge Scheduler invokes a cron schedule at a slot croner fired. Around daylight saving time
 * the two differ: a time the clocks skip (spring forward), croner runs when the clocks have jumped and Scheduler
 * skips; a time that occurs twice (fall back), croner runs on both passes for an every-n-minutes pattern and
 * Scheduler runs once, on the first.
 */
export function schedulerRunsAt(job: Cron, slot: Date, timezone: string): boolean {
  if (!job.match(slot)) return false;
  const time = slot.getTime();
  const wall = wallClock(time, timezone);
  return !FALL_BACK_MS.some((back) => wallClock(time - back, timezone) === wall);
}

/** Options of {@link startScheduler}. */
export interface SchedulerOptions {
  readonly schedules: readonly ResolvedSchedule[];
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly sqs: SQSClient;
  readonly onFire?: (schedule: ResolvedSchedule, envelope: WebhookEnvelope) => void;
  /**
   * A firing's send failed: called when its sends start failing and when their reason changes, not at every try.
   * `given` is set once it is given up on (it could not be sent within the schedule's maximum event age, or local
   * mode stopped meanwhile).
   */
  readonly onError?: (
    schedule: ResolvedSchedule,
    error: unknown,
    firing: { readonly id: string; readonly given?: 'up' | 'stopped' },
  ) => void;
  /**
   * A schedule that will not fire from start on, and why (`neverFires` in lib/schedule-runs.ts, the rule `cdk synth`
   * warns by): a one-time `at()` whose time has passed, or a cron that matches no time to come (its years have
   * passed, or none of those left has its day, such as February 29 of years that are not leap years). It is not
   * started, so it never fires here, as the warning says.
   */
  readonly onNeverFires?: (schedule: ResolvedSchedule, why: NeverFires) => void;
  /** The clock the start judges by whether a schedule can fire again (tests set it). Default: Date.now. */
  readonly now?: () => number;
}

/**
 * Starts every schedule; the returned function stops them and resolves once the sends already under way have
 * ended, so a firing at Ctrl-C reaches its queue before the emulators stop rather than failing against them.
 */
export function startScheduler(options: SchedulerOptions): () => Promise<void> {
  const stops: (() => void)[] = [];
  const sending = new Set<Promise<void>>();
  const resends = new Resends();
  for (const schedule of options.schedules) {
    const queueUrl = options.queueUrls[schedule.queue];
    if (!queueUrl) throw new Error(`schedule ${schedule.name} targets unknown queue ${schedule.queue}`);
    const whyNever = neverFires(schedule.expression, schedule.timezone, (options.now ?? Date.now)());
    if (whyNever) {
      options.onNeverFires?.(schedule, whyNever);
      continue;
    }
    const fire = (scheduledAt: Date) => {
      const send = deliverFiring(options, schedule, queueUrl, scheduledAt, resends);
      sending.add(send);
      void send.finally(() => sending.delete(send));
    };
    const local = toLocalSchedule(schedule.expression);
    if (local.kind === 'rate') {
      stops.push(startRateTimer(local.intervalMs, fire));
    } else if (local.kind === 'at') {
      // A one-time schedule: croner reads a local ISO date-time in the schedule's time zone.
      const job: Cron = new Cron(local.dateTime, { timezone: schedule.timezone }, () =>
        fire(job.getOnce() ?? new Date()),
      );
      stops.push(() => job.stop());
    } else {
      const job: Cron = cronJob(local.pattern, schedule.timezone, () => {
        // The slot croner fired for, not the clock: a late timer keeps the slot's envelope id.
        const slot = job.previousRuns(1, new Date(Date.now() + 1))[0] ?? new Date();
        if (schedulerRunsAt(job, slot, schedule.timezone)) fire(slot);
      });
      stops.push(() => job.stop());
    }
  }
  return async () => {
    for (const stop of stops) stop();
    resends.stop();
    await Promise.allSettled([...sending]);
  };
}

/** The waits between a failed firing's tries; a stop ends them at once, so each gets one last try. */
class Resends {
  stopped = false;
  readonly #wakers = new Set<() => void>();

  wait(ms: number): Promise<void> {
    return new Promise((done) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        done();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.#wakers.add(wake);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const wake of [...this.#wakers]) wake();
  }
}

/**
 * Sends one firing. Scheduler retries a delivery its target refused for up to the maximum event age, then puts it
 * in the schedule's dead-letter queue; local mode keeps none, so it sends the same envelope (the same id) again
 * (backing off to once a minute) until it is sent, the age has passed or local mode stops.
 */
async function deliverFiring(
  options: SchedulerOptions,
  schedule: ResolvedSchedule,
  queueUrl: string,
  scheduledAt: Date,
  resends: Resends,
): Promise<void> {
  const envelope = firingEnvelope(schedule, scheduledAt);
  const body = JSON.stringify(envelope);
  const maxEventAgeMs = DEFAULTS.scheduleMaxEventAge.toMilliseconds();
  let reported: string | undefined;
  for (let failures = 1; ; failures++) {
    try {
      await options.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      options.onFire?.(schedule, envelope);
      return;
    } catch (error) {
      const aged = Date.now() - scheduledAt.getTime() >= maxEventAgeMs;
      const given = resends.stopped ? 'stopped' : aged ? 'up' : undefined;
      const reason = String((error as Error)?.message ?? error);
      if (given) return options.onError?.(schedule, error, { id: envelope.id, given });
      if (reason !== reported) options.onError?.(schedule, error, { id: envelope.id });
      reported = reason;
    }
    await resends.wait(resendWaitMs(failures));
  }
}

/**
 * One-time schedules (the producer's delays beyond 15 minutes): a stand-in for EventBridge Scheduler's
 * CreateSchedule/GetSchedule/DeleteSchedule API, served on loopback so the producer's own SDK calls work locally.
 * Each schedule sends its input to its target queue when due, then deletes itself (ActionAfterCompletion
 * DELETE). With a data directory the schedules are saved there, so they survive a restart; one that came due
 * while local mode was stopped fires at the next start.
 */
export interface OneTimeScheduleRecord {
  readonly name: string;
  readonly groupName: string;
  readonly expression: string;
  /** Epoch milliseconds. */
  readonly dueAt: number;
  readonly targetArn: string;
  readonly input: string;
  readonly messageGroupId?: string;
}

/** Options of {@link startOneTimeScheduler}. */
export interface OneTimeSchedulerOptions {
  readonly sqs: SQSClient;
  /** Queue URL by queue ARN: the targets a schedule may name. */
  readonly queueUrlsByArn: Readonly<Record<string, string>>;
  /** Where schedules are saved (`<dataDir>/schedules.json`); in memory when absent. */
  readonly dataDir?: string;
  readonly region: string;
  /** The clock schedules are due by (tests move it forward). Default: Date.now. */
  readonly now?: () => number;
  /** How often due schedules are looked for. Default 200 ms. */
  readonly tickMs?: number;
  readonly onFire?: (schedule: OneTimeScheduleRecord) => void;
  readonly onError?: (schedule: OneTimeScheduleRecord, error: unknown) => void;
}

/** A running stand-in: its endpoint (`AWS_ENDPOINT_URL_SCHEDULER`) and the schedules it holds. */
export interface OneTimeScheduler {
  readonly url: string;
  list(): OneTimeScheduleRecord[];
  stop(): Promise<void>;
}

/** The saved schedules' file inside a data directory. */
export const SCHEDULES_FILE = 'schedules.json';

/** An `at(yyyy-mm-ddThh:mm:ss)` expression in UTC as epoch milliseconds; undefined when it is not one. */
export function atExpressionTime(expression: string, timezone = 'UTC'): number | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression.trim());
  if (!match || timezone !== 'UTC') return undefined;
  const time = Date.parse(`${match[1]}Z`);
  return Number.isFinite(time) ? time : undefined;
}

/** Starts the stand-in on 127.0.0.1 (a free port). */
export async function startOneTimeScheduler(options: OneTimeSchedulerOptions): Promise<OneTimeScheduler> {
  const store = new ScheduleStore(options);
  const server = createServer((req, res) => {
    readBody(req)
      .then(
        (body) => answer(res, store.handle(req.method ?? 'GET', req.url ?? '/', body)),
        () => answer(res, schedulerError(400, 'ValidationException', 'unreadable request')),
      )
      // A fault of the stand-in (the schedules file cannot be written) answers this request, rather than
      // ending local mode with an unhandled rejection.
      .catch((error: unknown) => {
        if (!res.headersSent) answer(res, schedulerError(500, 'InternalServerException', String(error)));
      });
  });
  // A page in the developer's browser must not create schedules (each would send its input to a local queue).
  gateToLoopbackCallers(server, 'the scheduler stand-in');
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address() as AddressInfo;
  const timer = setInterval(() => store.fireDue(), options.tickMs ?? 200);
  timer.unref();
  store.fireDue();
  return {
    url: `http://127.0.0.1:${address.port}`,
    list: () => store.list(),
    async stop() {
      clearInterval(timer);
      await store.idle();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

interface SchedulerAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly errorType?: string;
}

const schedulerError = (status: number, errorType: string, message: string): SchedulerAnswer => ({
  status,
  errorType,
  body: { Message: message },
});

function answer(res: ServerResponse, result: SchedulerAnswer): void {
  res.writeHead(result.status, {
    'content-type': 'application/json',
    ...(result.errorType ? { 'x-amzn-errortype': result.errorType } : {}),
  });
  res.end(JSON.stringify(result.body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

const SCHEDULE_PATH = /^\/schedules\/([^/?]+)(?:\?(.*))?$/;

/** The schedules, their file and their firing. */
class ScheduleStore {
  readonly #schedules = new Map<string, OneTimeScheduleRecord>();
  readonly #firing = new Set<Promise<void>>();
  /** Schedules whose message is being sent: still saved, not sent twice. */
  readonly #sending = new Set<OneTimeScheduleRecord>();
  /** The reason last reported for each schedule whose sends are failing (WeakMap: a deleted one is forgotten). */
  readonly #failing = new WeakMap<OneTimeScheduleRecord, string>();
  readonly #file: string | undefined;

  constructor(private readonly options: OneTimeSchedulerOptions) {
    this.#file = options.dataDir ? join(options.dataDir, SCHEDULES_FILE) : undefined;
    if (this.#file && existsSync(this.#file)) {
      for (const s of readSavedSchedules(this.#file))
        this.#schedules.set(scheduleKey(s.groupName, s.name), s);
    }
  }

  list(): OneTimeScheduleRecord[] {
    return [...this.#schedules.values()];
  }

  handle(method: string, url: string, body: string): SchedulerAnswer {
    const match = SCHEDULE_PATH.exec(url);
    if (!match) return schedulerError(404, 'ResourceNotFoundException', `no route ${method} ${url}`);
    let name: string;
    try {
      name = decodeURIComponent(match[1] ?? '');
    } catch {
      return schedulerError(400, 'ValidationException', `malformed schedule name ${match[1]}`);
    }
    const query = new URLSearchParams(match[2] ?? '');
    if (method === 'POST') return this.create(name, body);
    const key = scheduleKey(query.get('groupName') ?? 'default', name);
    const existing = this.#schedules.get(key);
    if (!existing)
      return schedulerError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    if (method === 'GET') return { status: 200, body: this.describe(existing) };
    if (method === 'DELETE') {
      this.#schedules.delete(key);
      this.save();
      return { status: 200, body: {} };
    }
    return schedulerError(405, 'ValidationException', `${method} is not supported locally`);
  }

  private create(name: string, body: string): SchedulerAnswer {
    let request: {
      GroupName?: string;
      ScheduleExpression?: string;
      ScheduleExpressionTimezone?: string;
      Target?: { Arn?: string; Input?: string; SqsParameters?: { MessageGroupId?: string } };
    };
    try {
      request = JSON.parse(body);
    } catch {
      return schedulerError(400, 'ValidationException', 'body is not JSON');
    }
    const groupName = request.GroupName ?? 'default';
    const dueAt = atExpressionTime(
      request.ScheduleExpression ?? '',
      request.ScheduleExpressionTimezone ?? 'UTC',
    );
    if (dueAt === undefined) {
      return schedulerError(
        400,
        'ValidationException',
        'local mode runs one-time at(...) schedules in UTC only',
      );
    }
    const targetArn = request.Target?.Arn ?? '';
    if (!this.options.queueUrlsByArn[targetArn]) {
      return schedulerError(400, 'ValidationException', `target ${targetArn} is not a local queue`);
    }
    const key = scheduleKey(groupName, name);
    if (this.#schedules.has(key))
      return schedulerError(409, 'ConflictException', `Schedule ${name} already exists.`);
    const groupId = request.Target?.SqsParameters?.MessageGroupId;
    this.#schedules.set(key, {
      name,
      groupName,
      expression: request.ScheduleExpression ?? '',
      dueAt,
      targetArn,
      input: request.Target?.Input ?? '',
      ...(groupId ? { messageGroupId: groupId } : {}),
    });
    this.save();
    return { status: 200, body: { ScheduleArn: this.arnOf(groupName, name) } };
  }

  private describe(s: OneTimeScheduleRecord) {
    return {
      Name: s.name,
      GroupName: s.groupName,
      Arn: this.arnOf(s.groupName, s.name),
      ScheduleExpression: s.expression,
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: s.targetArn, Input: s.input, RoleArn: 'arn:aws:iam::000000000000:role/local' },
    };
  }

  private arnOf(group: string, name: string): string {
    return `arn:aws:scheduler:${this.options.region}:000000000000:schedule/${group}/${name}`;
  }

  /**
   * Sends every due schedule's input, then deletes the schedule; a failed send is tried again next tick. A
   * schedule stays saved until its message is sent, so a crash meanwhile fires it again at the next start
   * rather than never.
   */
  fireDue(): void {
    const now = (this.options.now ?? Date.now)();
    for (const [key, schedule] of this.#schedules) {
      if (schedule.dueAt > now || this.#sending.has(schedule)) continue;
      this.#sending.add(schedule);
      const firing = this.fire(schedule)
        .then(
          () => {
            this.#sending.delete(schedule);
            this.#failing.delete(schedule);
            // Deleted or replaced meanwhile: that change stands.
            if (this.#schedules.get(key) === schedule) this.#schedules.delete(key);
            this.save();
            this.options.onFire?.(schedule);
          },
          (error: unknown) => {
            this.#sending.delete(schedule);
            this.reportFailedSend(schedule, error);
          },
        )
        // Sent, but the file still holds it (sent again at the next start): reported, never an unhandled rejection.
        .catch((error: unknown) => this.options.onError?.(schedule, error));
      this.#firing.add(firing);
      void firing.finally(() => this.#firing.delete(firing));
    }
  }

  /**
   * Reports a failed send when the schedule starts failing, or fails for another reason: a send is tried again
   * every tick, and a queue that stays unreachable must not print the same line several times a second.
   */
  private reportFailedSend(schedule: OneTimeScheduleRecord, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (this.#failing.get(schedule) === reason) return;
    this.#failing.set(schedule, reason);
    this.options.onError?.(schedule, error);
  }

  private async fire(schedule: OneTimeScheduleRecord): Promise<void> {
    const queueUrl = this.options.queueUrlsByArn[schedule.targetArn];
    if (!queueUrl) throw new Error(`target ${schedule.targetArn} is no longer a local queue`);
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: schedule.input,
        ...(schedule.messageGroupId
          ? { MessageGroupId: schedule.messageGroupId, MessageDeduplicationId: randomUUID() }
          : {}),
      }),
    );
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.#firing]);
  }

  private save(): void {
    if (!this.#file) return;
    writeFileAtomically(this.#file, `${JSON.stringify(this.list(), null, 2)}\n`);
  }
}

/** The schedules saved in `file`; one that cannot be read stops the start, naming the file and the fix. */
function readSavedSchedules(file: string): OneTimeScheduleRecord[] {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw unreadableSchedules(file, jsonErrorWithoutInput(error));
  }
  if (!Array.isArray(saved)) throw unreadableSchedules(file, 'expected a list of schedules');
  saved.forEach((entry: Partial<Record<keyof OneTimeScheduleRecord, unknown>>, index) => {
    const wrong = (['name', 'groupName', 'expression', 'targetArn', 'input'] as const).find(
      (field) => typeof entry?.[field] !== 'string',
    );
    if (wrong || typeof entry?.dueAt !== 'number') {
      throw unreadableSchedules(file, `schedule ${index + 1} has no valid ${wrong ?? 'dueAt'}`);
    }
  });
  return saved as OneTimeScheduleRecord[];
}

function unreadableSchedules(file: string, reason: string): LocalStartProblem {
  return new LocalStartProblem(
    `${file} is unreadable (${reason}): it holds the delayed jobs' one-time schedules local mode saved. ` +
      'Repair it, or move it aside to start without them (their jobs will then never be sent)',
  );
}

function scheduleKey(group: string, name: string): string {
  return `${group}/${name}`;
}
