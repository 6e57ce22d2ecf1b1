import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  type SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkEnvelope, parseEnvelope } from '../../../lambda/shared/envelope';
import { localSqsClient } from '../../../lib/local/clients';
import { startEmulators } from '../../../lib/local/emulators';
import {
  schedulerRunsAt,
  scheduleSendNotice,
  sendScheduledEnvelope,
  startScheduler,
} from '../../../lib/local/scheduler';
import { parseScheduleExpression } from '../../../lib/schedule-expression';
import { cronJob, toLocalSchedule } from '../../../lib/schedule-runs';

const nextRuns = (expression: string, from: Date, count: number, timezone = 'UTC') => {
  const local = toLocalSchedule(expression);
  if (local.kind !== 'cron') throw new Error('not a cron');
  const job = cronJob(local.pattern, timezone);
  const runs = job.nextRuns(count, from).map((d) => d.toISOString());
  job.stop();
  return runs;
};

describe('parseScheduleExpression: a day of the month past the end of every month it names', () => {
  it.each([
    'cron(0 9 31 2 ? *)',
    'cron(0 9 30,31 FEB ? *)',
    'cron(0 9 31 4,6,9,11 ? *)',
    'cron(0 9 30W 2 ? *)',
    'cron(0 9 30-31 2 ? *)',
  ])('refuses %s, which would never fire', (expression) => {
    const parsed = parseScheduleExpression(expression);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.problems[0]?.message).toMatch(
      /^day-of-month ".+" is past the end of every month the expression names \(.+\), so the schedule would never fire; for a month's last day write L$/,
    );
  });

  it.each([
    'cron(0 9 29 2 ? *)',
    'cron(0 9 31 4-8 ? *)',
    'cron(0 9 31 2/2 ? *)',
    'cron(0 9 31 JAN/3 ? *)',
    'cron(0 9 L 2 ? *)',
    'cron(0 9 31 * ? *)',
  ])('accepts %s, which fires in some month', (expression) => {
    expect(parseScheduleExpression(expression).ok).toBe(true);
    expect(nextRuns(expression, new Date('2026-01-01T00:00:00Z'), 1)).toHaveLength(1);
  });
});

describe('toLocalSchedule', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(2 hours)', 7_200_000],
    ['rate(1 day)', 86_400_000],
  ])('converts %s to an interval', (expression, intervalMs) => {
    expect(toLocalSchedule(expression)).toEqual({ kind: 'rate', intervalMs });
  });

  it('converts an EventBridge cron to croner: seconds prepended, ? to *, year kept', () => {
    expect(toLocalSchedule('cron(0 9 ? * MON-FRI *)')).toEqual({
      kind: 'cron',
      pattern: '0 0 9 * * MON-FRI *',
    });
    expect(toLocalSchedule('cron(15 10 1 * ? 2027)')).toEqual({
      kind: 'cron',
      pattern: '0 15 10 1 * * 2027',
    });
  });

  it('keeps a one-time at() expression for a one-shot timer', () => {
    expect(toLocalSchedule('at(2030-01-31T09:00:00)')).toEqual({
      kind: 'at',
      dateTime: '2030-01-31T09:00:00',
    });
  });

  it.each(['cron(0 9 * *)', 'every day', 'rate(0 minutes)', 'cron(99 3 * * ? *)', 'at(2030-02-30T09:00:00)'])(
    'rejects %s with the same rule as the configuration',
    (expression) => {
      expect(() => toLocalSchedule(expression)).toThrow(/invalid schedule/);
    },
  );
});

describe('every expression the shared parser accepts runs locally', () => {
  const from = new Date('2026-11-25T12:00:00Z'); // a Wednesday

  it.each([
    'cron(0 0 ? * L *)',
    'cron(0 8 ? * 2,L *)',
    'cron(0 0 ? * 1L *)',
    'cron(0 0 ? * MON#2 *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 1,L * ? *)',
    'cron(0/59 0/23 1/31 1/12 ? 1970/229)',
    'cron(*/59 */23 */31 */12 ? */229)',
    'cron(0 0 1 1 ? */3)',
  ])('%s starts and has a next run', (expression) => {
    expect(parseScheduleExpression(expression).ok).toBe(true);
    expect(nextRuns(expression, from, 1)).toHaveLength(1);
  });

  it('runs each of 3,000 generated crons the parser accepts (no croner error at npm start), each run named by its slot', () => {
    // A fixed-seed generator (mulberry32), so a failure names the same expression on every run.
    let seed = 20_261_125;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
    const int = (min: number, max: number) => String(min + Math.floor(random() * (max - min + 1)));
    const field = (
      min: number,
      max: number,
      names: readonly string[] = [],
      special: readonly string[] = [],
    ) => {
      const value = () => (names.length > 0 && random() < 0.3 ? pick(names) : int(min, max));
      const item = () =>
        pick([
          () => '*',
          value,
          () => `${value()}-${value()}`,
          () => `*/${int(1, max)}`,
          () => `${value()}/${int(1, max)}`,
          () => `${value()}-${value()}/${int(1, max)}`,
          () => pick(special.length > 0 ? special : ['*']),
        ])();
      return random() < 0.5 ? item() : `${item()},${item()}`;
    };
    const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
    const weekdays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
    const refusedLocally: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const byDayOfMonth = random() < 0.5;
      const dayOfMonth = byDayOfMonth ? field(1, 31, [], ['L', 'LW', `${int(1, 31)}W`]) : '?';
      const dayOfWeek = byDayOfMonth
        ? '?'
        : field(1, 7, weekdays, ['L', `${int(1, 7)}L`, `${pick(weekdays)}L`, `${int(1, 7)}#${int(1, 5)}`]);
      const year = random() < 0.7 ? '*' : field(1970, 2199);
      const expression = `cron(${field(0, 59)} ${field(0, 23)} ${dayOfMonth} ${field(1, 12, months)} ${dayOfWeek} ${year})`;
      if (!parseScheduleExpression(expression).ok) continue;
      accepted++;
      try {
        const local = toLocalSchedule(expression);
        if (local.kind !== 'cron') throw new Error('not a cron');
        const job = cronJob(local.pattern, 'Europe/Paris');
        // Each run fires (no daylight saving time here) and is named by itself, as its firing looks it up.
        for (const run of job.nextRuns(2, from)) {
          const named = job.previousRuns(1, new Date(run.getTime() + 1))[0];
          if (!schedulerRunsAt(job, run, 'Europe/Paris') || named?.getTime() !== run.getTime()) {
            refusedLocally.push(
              `${expression}: ${run.toISOString()} is skipped or named ${named?.toISOString()}`,
            );
          }
        }
        job.stop();
      } catch (error) {
        refusedLocally.push(`${expression}: ${(error as Error).message}`);
      }
    }
    expect(accepted).toBeGreaterThan(500);
    expect(refusedLocally).toEqual([]);
  });

  it('reads a lone L in day-of-week as the last day of the week, Saturday', () => {
    expect(nextRuns('cron(0 0 ? * L *)', from, 2)).toEqual([
      '2026-11-28T00:00:00.000Z',
      '2026-12-05T00:00:00.000Z',
    ]);
    expect(nextRuns('cron(0 8 ? * 2,L *)', from, 2)).toEqual([
      '2026-11-28T08:00:00.000Z',
      '2026-11-30T08:00:00.000Z',
    ]);
  });

  it('counts a year increment from 1970, the first year of the field', () => {
    expect(nextRuns('cron(0 0 1 1 ? */3)', from, 2)).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.000Z',
    ]);
    // An increment of two digits too: 1970 + 4 x 15 = 2030.
    expect(nextRuns('cron(0 0 1 1 ? */15)', from, 1)).toEqual(['2030-01-01T00:00:00.000Z']);
  });
});

describe('cron semantics match EventBridge', () => {
  const from = new Date('2026-11-25T12:00:00Z'); // a Wednesday

  it('runs weekdays at 09:00 for MON-FRI', () => {
    expect(nextRuns('cron(0 9 ? * MON-FRI *)', from, 3)).toEqual([
      '2026-11-26T09:00:00.000Z',
      '2026-11-27T09:00:00.000Z',
      '2026-11-30T09:00:00.000Z',
    ]);
  });

  it('numbers weekdays 1 = Sunday ... 7 = Saturday', () => {
    expect(nextRuns('cron(0 8 ? * 1 *)', from, 1)).toEqual(['2026-11-29T08:00:00.000Z']);
    expect(nextRuns('cron(0 8 ? * 2 *)', from, 1)).toEqual(['2026-11-30T08:00:00.000Z']);
    expect(nextRuns('cron(0 8 ? * 7 *)', from, 1)).toEqual(['2026-11-28T08:00:00.000Z']);
  });

  it('reads a/n as "from a, every n", as Scheduler does (cron(0/15 * * * ? *) is its own example)', () => {
    expect(nextRuns('cron(0/15 * * * ? *)', from, 4)).toEqual([
      '2026-11-25T12:15:00.000Z',
      '2026-11-25T12:30:00.000Z',
      '2026-11-25T12:45:00.000Z',
      '2026-11-25T13:00:00.000Z',
    ]);
    expect(nextRuns('cron(5/20 8 * * ? *)', from, 3)).toEqual([
      '2026-11-26T08:05:00.000Z',
      '2026-11-26T08:25:00.000Z',
      '2026-11-26T08:45:00.000Z',
    ]);
    expect(nextRuns('cron(0 1/6 * * ? *)', from, 3)).toEqual([
      '2026-11-25T13:00:00.000Z',
      '2026-11-25T19:00:00.000Z',
      '2026-11-26T01:00:00.000Z',
    ]);
    expect(nextRuns('cron(0 0 1 JAN/3,2/12 ? 2027/2)', from, 4)).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2027-02-01T00:00:00.000Z',
      '2027-04-01T00:00:00.000Z',
      '2027-07-01T00:00:00.000Z',
    ]);
  });

  it('honours the year field, day-of-month with ?, L, and the time zone', () => {
    expect(nextRuns('cron(30 6 1 1 ? 2028)', from, 2)).toEqual(['2028-01-01T06:30:00.000Z']);
    expect(nextRuns('cron(0 0 L * ? *)', from, 2)).toEqual([
      '2026-11-30T00:00:00.000Z',
      '2026-12-31T00:00:00.000Z',
    ]);
    expect(nextRuns('cron(0 9 * * ? *)', from, 1, 'Europe/Paris')).toEqual(['2026-11-26T08:00:00.000Z']);
  });
});

/** A schedule of the test's queue, with the type and payload these tests do not look at. */
const scheduleOf = (name: string, expression: string, timezone = 'UTC', queue = 'events') => ({
  name,
  expression,
  timezone,
  queue,
  type: 't',
  payload: {},
});
const queueUrls = { events: 'http://127.0.0.1:1/000000000000/events' };

/** An SQS client that records the id of each envelope it is sent. */
function recordingSqs() {
  const ids: string[] = [];
  const sqs = {
    send: async (command: SendMessageCommand) => {
      ids.push(parseEnvelope(command.input.MessageBody ?? '').id);
      return {};
    },
  } as unknown as SQSClient;
  return { ids, sqs };
}

/** Runs `test` against a client of freshly started emulators, stopping both after it. */
async function withEmulatedSqs(test: (sqs: SQSClient) => Promise<void>) {
  const emulators = await startEmulators();
  const sqs = localSqsClient(emulators);
  try {
    await test(sqs);
  } finally {
    sqs.destroy();
    await emulators.stop();
  }
}

describe('scheduler', () => {
  it('fires the same envelope as the deployed Scheduler target: id = schedule name + scheduled second, written as Scheduler writes it', async () => {
    await withEmulatedSqs(async (sqs) => {
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'scheduled-same' }))).QueueUrl ?? '';
      const schedule = {
        name: 'n',
        expression: 'rate(1 hour)',
        timezone: 'UTC',
        queue: 'events',
        type: 'schedule.tick',
        payload: { a: 1 },
      };
      const envelope = await sendScheduledEnvelope(sqs, url, schedule, new Date('2026-01-01T00:00:00.400Z'));
      expect(checkEnvelope(envelope)).toEqual({
        v: 1,
        id: 'n:2026-01-01T00:00:00Z',
        source: 'schedule',
        type: 'schedule.tick',
        receivedAt: '2026-01-01T00:00:00Z',
        headers: { 'x-hookline-schedule': 'n', 'x-hookline-schedule-execution-id': expect.any(String) },
        contentType: 'application/json',
        body: '{"a":1}',
        bodyEncoding: 'utf8',
      });
    });
  });

  it('sends a parsable envelope to the target queue on each firing', async () => {
    await withEmulatedSqs(async (sqs) => {
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'scheduled' }))).QueueUrl ?? '';
      const schedule = {
        name: 'tick',
        expression: 'rate(1 minute)',
        timezone: 'UTC',
        queue: 'events',
        type: 'tick',
        payload: { n: 1 },
      };
      const first = await sendScheduledEnvelope(sqs, url, schedule, new Date('2026-01-01T00:00:00Z'));
      const second = await sendScheduledEnvelope(sqs, url, schedule, new Date('2026-01-01T00:01:00Z'));
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
      );
      const received = Messages.map((m) => parseEnvelope(m.Body ?? ''));
      expect(received.map((e) => e.id).sort()).toEqual([first.id, second.id].sort());
      expect(
        received.every((e) => e.source === 'schedule' && e.type === 'tick' && e.body === '{"n":1}'),
      ).toBe(true);
    });
  });

  it('refuses a schedule whose queue does not exist', () => {
    expect(() =>
      startScheduler({
        schedules: [scheduleOf('x', 'rate(1 hour)', 'UTC', 'missing')],
        queueUrls: {},
        sqs: {} as never,
      }),
    ).toThrow(/unknown queue missing/);
  });
});

describe('scheduler firing times (fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts one schedule against an SQS client that records what it is sent; returns the sent envelopes' ids. */
  function runSchedule(expression: string, timezone = 'UTC') {
    const { ids, sqs } = recordingSqs();
    const stop = startScheduler({ schedules: [scheduleOf('job', expression, timezone)], queueUrls, sqs });
    return { ids, stop };
  }

  const DAY = 86_400_000;

  it('fires rate(25 days) once every 25 days, not every millisecond (longer than one Node timer)', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const { ids, stop } = runSchedule('rate(25 days)');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ids).toEqual([]);
    // The first Node timer ends before the slot (at most ~24.8 days): nothing fires early.
    await vi.advanceTimersByTimeAsync(25 * DAY - 120_000);
    expect(ids).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ids).toEqual(['job:2026-01-26T00:00:00Z']);
    await vi.advanceTimersByTimeAsync(25 * DAY);
    expect(ids).toEqual(['job:2026-01-26T00:00:00Z', 'job:2026-02-20T00:00:00Z']);
    stop();
  });

  it('fires only the latest of the rate slots the clock jumped past (a sleeping laptop), once', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const { ids, stop } = runSchedule('rate(1 hour)');
    vi.setSystemTime(new Date('2026-01-01T03:30:00Z'));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(ids).toEqual(['job:2026-01-01T04:00:00Z']);
    stop();
  });

  it('fires a slot the clock lands on exactly once, and none of the slots it jumped past', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const { ids, stop } = runSchedule('rate(1 hour)');
    vi.setSystemTime(new Date('2026-01-01T03:00:00Z'));
    // The first timer ends one interval later, at 04:00:00 exactly: a slot.
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(ids).toEqual(['job:2026-01-01T04:00:00Z']);
    stop();
  });

  it('fires nothing more once stopped, whatever the kind of schedule', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const { ids, sqs } = recordingSqs();
    const stop = startScheduler({
      schedules: ['rate(1 hour)', 'cron(0 * * * ? *)', 'at(2026-01-01T05:00:00)'].map((expression, i) =>
        scheduleOf(`job${i}`, expression),
      ),
      queueUrls,
      sqs,
    });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(ids.sort()).toEqual(['job0:2026-01-01T01:00:00Z', 'job1:2026-01-01T01:00:00Z']);
    await stop();
    await vi.advanceTimersByTimeAsync(DAY);
    expect(ids).toHaveLength(2);
  });

  /** One rate(1 hour) schedule against an SQS client that fails while `failing` says so; what it reports. */
  function runFailingSchedule(failing: (call: number) => string | undefined) {
    let calls = 0;
    const sent: string[] = [];
    const sqs = {
      send: async (command: SendMessageCommand) => {
        calls += 1;
        const why = failing(calls);
        if (why) throw new Error(why);
        sent.push(parseEnvelope(command.input.MessageBody ?? '').id);
        return {};
      },
    } as unknown as SQSClient;
    const fired: string[] = [];
    const failed: string[] = [];
    const stop = startScheduler({
      schedules: [scheduleOf('job', 'rate(1 hour)')],
      queueUrls,
      sqs,
      onFire: (schedule, envelope) => fired.push(`${schedule.name} ${envelope.id}`),
      onError: (_schedule, error, firing) =>
        failed.push(
          `${firing.id} ${(error as Error).message}${firing.given ? ` given ${firing.given}` : ''}`,
        ),
    });
    return { sent, fired, failed, stop, calls: () => calls };
  }

  it('sends a firing its queue refused again, with the same id, until it is sent, as Scheduler retries a delivery', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const run = runFailingSchedule((call) => (call <= 3 ? 'emulator stopped' : undefined));
    await vi.advanceTimersByTimeAsync(3_600_000 + 10_000);
    expect(run.sent).toEqual(['job:2026-01-01T01:00:00Z']);
    expect(run.fired).toEqual(['job job:2026-01-01T01:00:00Z']);
    // Reported when its sends start failing, not at every try.
    expect(run.failed).toEqual(['job:2026-01-01T01:00:00Z emulator stopped']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(run.sent).toEqual(['job:2026-01-01T01:00:00Z', 'job:2026-01-01T02:00:00Z']);
    await run.stop();
  });

  it('backs off between tries to once a minute, so a queue down for long is not sent every second', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const run = runFailingSchedule(() => 'queue does not exist');
    await vi.advanceTimersByTimeAsync(3_600_000);
    // Tries at 0, 1, 3, 7, 15, 31 and 63 s, then every 60 s: 15 within the first 10 minutes.
    await vi.advanceTimersByTimeAsync(600_000 - 1);
    expect(run.calls()).toBe(15);
    expect(run.failed).toEqual(['job:2026-01-01T01:00:00Z queue does not exist']);
    await run.stop();
  });

  it('reports a failing firing again when the reason changes, and as lost when local mode stops before it is sent', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const run = runFailingSchedule((call) => (call <= 2 ? 'emulator stopped' : 'queue does not exist'));
    await vi.advanceTimersByTimeAsync(3_600_000 + 5_000);
    const tries = run.calls();
    await run.stop();
    expect(run.calls()).toBe(tries + 1);
    expect(run.sent).toEqual([]);
    expect(run.failed).toEqual([
      'job:2026-01-01T01:00:00Z emulator stopped',
      'job:2026-01-01T01:00:00Z queue does not exist',
      'job:2026-01-01T01:00:00Z queue does not exist given stopped',
    ]);
  });

  it("gives a firing up once it could not be sent within Scheduler's maximum event age (24 hours)", async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const run = runFailingSchedule((call) => (call === 1 || call > 25 ? undefined : 'queue does not exist'));
    // The first slot's send succeeds; the clock then jumps a day, so the next slot's tries outlive the age.
    await vi.advanceTimersByTimeAsync(3_600_000 + 500);
    expect(run.sent).toEqual(['job:2026-01-01T01:00:00Z']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    vi.setSystemTime(new Date('2026-01-02T02:00:01Z'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run.failed).toEqual([
      'job:2026-01-01T02:00:00Z queue does not exist',
      'job:2026-01-01T02:00:00Z queue does not exist given up',
    ]);
    await run.stop();
  });

  it('says what happens to a firing it could not send: tried again, lost at stop, or given up after 24 hours', () => {
    const schedule = scheduleOf('tick', 'rate(1 hour)', 'UTC', 'sink');
    const error = new Error('The specified queue does not exist.');
    const id = 'tick:2026-12-02T08:28:00Z';
    expect(scheduleSendNotice(schedule, error, { id })).toBe(
      'schedule tick: could not send tick:2026-12-02T08:28:00Z to queue sink (The specified queue does not exist.); trying again (after 1 s, then backing off to once a minute), as Scheduler retries a delivery for up to 1 day',
    );
    expect(scheduleSendNotice(schedule, error, { id, given: 'stopped' })).toBe(
      'schedule tick: could not send tick:2026-12-02T08:28:00Z to queue sink (The specified queue does not exist.); local mode stopped before it could, so it is lost',
    );
    expect(scheduleSendNotice(schedule, error, { id, given: 'up' })).toBe(
      "schedule tick: could not send tick:2026-12-02T08:28:00Z to queue sink (The specified queue does not exist.) within 1 day, so it is given up (deployed, Scheduler puts it in the schedule's dead-letter queue then)",
    );
  });

  it("names a late cron firing by its slot, so a delayed tick keeps the slot's envelope id", async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:30Z') });
    const { ids, stop } = runSchedule('cron(* * * * ? *)');
    // The clock jumps 40 s ahead of the timers: the 00:01 tick runs 40 s late.
    vi.setSystemTime(new Date('2026-01-01T00:01:10Z'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ids).toEqual(['job:2026-01-01T00:01:00Z']);
    stop();
  });

  it("names a one-time at() firing by its time in the schedule's time zone, even when its tick runs late", async () => {
    vi.useFakeTimers({ now: new Date('2030-01-31T07:59:00Z') });
    const { ids, stop } = runSchedule('at(2030-01-31T09:00:00)', 'Europe/Paris');
    vi.setSystemTime(new Date('2030-01-31T07:59:45Z'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ids).toEqual(['job:2030-01-31T08:00:00Z']);
    stop();
  });

  it('says at start that a one-time at() schedule whose time has passed will not fire, and never fires it', async () => {
    vi.useFakeTimers({ now: new Date('2030-02-01T00:00:00Z') });
    const never: string[] = [];
    const { ids, sqs } = recordingSqs();
    const stop = startScheduler({
      schedules: [
        scheduleOf('past', 'at(2030-01-31T09:00:00)', 'Europe/Paris'),
        scheduleOf('future', 'at(2030-02-01T09:00:00)', 'Europe/Paris'),
      ],
      queueUrls,
      sqs,
      onNeverFires: (s, why) => never.push(`${s.name} ${why}`),
    });
    expect(never).toEqual(['past passed']);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(ids).toEqual(['future:2030-02-01T08:00:00Z']);
    await stop();
  });

  it('judges at start by the clock it is given, not by today: which schedules will never fire, and why', () => {
    const never: string[] = [];
    const stop = startScheduler({
      schedules: [
        scheduleOf('past', 'at(2030-01-31T09:00:00)', 'Europe/Paris'),
        scheduleOf('future', 'at(2030-02-01T09:00:00)', 'Europe/Paris'),
        scheduleOf('leap-day-of-past-years', 'cron(0 9 29 2 ? 2020-2030)'),
        scheduleOf('years-gone', 'cron(0 9 * * ? 2020-2029)'),
        scheduleOf('leap-day', 'cron(0 9 29 2 ? *)'),
        scheduleOf('last-year', 'cron(59 23 31 12 ? 2199)'),
        scheduleOf('hourly', 'rate(1 hour)'),
      ],
      queueUrls,
      sqs: { send: async () => ({}) } as unknown as SQSClient,
      now: () => Date.parse('2030-02-01T00:00:00Z'),
      onNeverFires: (s, why) => never.push(`${s.name} ${why}`),
    });
    expect(never).toEqual(['past passed', 'leap-day-of-past-years noTimeToCome', 'years-gone noTimeToCome']);
    return stop();
  });

  it('does not start a schedule it said will never fire, so the warning and the firings agree', async () => {
    // The timers run two hours before the schedule's time; the clock the start judges by is a day after it.
    vi.useFakeTimers({ now: new Date('2030-01-31T07:00:00Z') });
    const { ids, sqs } = recordingSqs();
    const stop = startScheduler({
      schedules: [scheduleOf('past', 'at(2030-01-31T09:00:00)', 'Europe/Paris')],
      queueUrls,
      sqs,
      now: () => Date.parse('2030-02-01T00:00:00Z'),
    });
    await vi.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(ids).toEqual([]);
    await stop();
  });

  it("stopping waits for a firing's send under way, so it reaches the queue before the emulators stop", async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:59.990Z') });
    const sent: string[] = [];
    const slowSqs = {
      send: (command: SendMessageCommand) =>
        new Promise((resolve) =>
          setTimeout(() => {
            sent.push(parseEnvelope(command.input.MessageBody ?? '').id);
            resolve({});
          }, 500),
        ),
    } as unknown as SQSClient;
    const stop = startScheduler({
      schedules: [scheduleOf('job', 'cron(* * * * ? *)')],
      queueUrls,
      sqs: slowSqs,
    });
    await vi.advanceTimersByTimeAsync(20);
    let stopped = false;
    void stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(stopped).toBe(true);
    expect(sent).toEqual(['job:2026-01-01T00:01:00Z']);
  });

  it('skips a time the clocks jump over in spring, as Scheduler does (no run at 03:00 for 02:30)', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-07T12:00:00Z') });
    const { ids, stop } = runSchedule('cron(30 2 * * ? *)', 'America/New_York');
    await vi.advanceTimersByTimeAsync(2 * DAY);
    // 2026-03-08 02:30 does not exist in New York; the next 02:30 is 06:30 UTC on the 9th.
    expect(ids).toEqual(['job:2026-03-09T06:30:00Z']);
    stop();
  });

  it('runs a time that occurs twice in autumn once, on its first pass, as Scheduler does', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-01T04:00:00Z') });
    const { ids, stop } = runSchedule('cron(0/30 1 * * ? *)', 'America/New_York');
    await vi.advanceTimersByTimeAsync(4 * 3_600_000);
    // 01:00 and 01:30 EDT (05:00, 05:30 UTC); the repeated 01:00 and 01:30 EST (06:00, 06:30 UTC) do not run.
    expect(ids).toEqual(['job:2026-11-01T05:00:00Z', 'job:2026-11-01T05:30:00Z']);
    stop();
  });
});
