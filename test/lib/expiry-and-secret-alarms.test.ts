/**
 * Two failures that used to leave every alarm quiet, walked through the synthesized stack: dead letters SQS is
 * about to delete (after which the dead-letter alarm returns to OK as if they had been dealt with), and a source
 * whose sender rotated its signing secret (every delivery answered 401, never retried by GitHub). Each alarm is
 * followed to the metric it reads, the topic it notifies, the policy that lets CloudWatch publish there and the
 * dashboard's alarm grid.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { DEAD_LETTER_EXPIRY_MARGIN, deadLetterExpiryAlarmAge } from '../../lib/alarm-conditions';
import { DEFAULTS, type HooklineConfig, resolveConfig } from '../../lib/config';
import { deletedBySqsAt, expiresSoon } from '../../lib/console/ui/dead-letter-expiry';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { METRICS_PER_MATH_ALARM, ROTATED_SECRET_MIN_MISMATCHES } from '../../lib/pipeline-alarms';
import { BREAKER_SCHEDULES, JOB_SCHEDULES } from '../../lib/stack-outputs';
import { type Json, type Resources, walkAlarmsToPublishGrants } from '../helpers/alarms';
import { exampleResolved, pipelineTemplate, renderIntrinsics, testApp } from '../helpers/cdk';

const standardQueues = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`q${i}`, {}]));
const config = resolveConfig({
  stackName: 'Expiry',
  sources: {
    github: { type: 'github' },
    stripe: { type: 'stripe' },
    open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
  },
  queues: {
    ...standardQueues,
    orders: { fifo: true },
    brief: { retentionPeriod: Duration.hours(1), deadLetterRetentionPeriod: Duration.hours(3) },
  },
  defaultRoute: { queues: ['q0'] },
  schedules: [{ name: 'tick', expression: 'rate(1 hour)', queue: 'q1', type: 'tick' }],
});
const { stack, template } = pipelineTemplate(config);
const resources = template.toJSON().Resources as Resources;

interface MetricQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: {
    readonly Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: Json }[] };
    readonly Period: number;
    readonly Stat: string;
  };
}

/** The alarms whose id starts with `prefix`, with their metric queries. */
function alarmsNamed(
  prefix: string,
  from: Resources = resources,
): { id: string; properties: Json; queries: MetricQuery[] }[] {
  return Object.entries(from)
    .filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes(prefix))
    .map(([id, r]) => ({
      id,
      properties: r.Properties ?? {},
      queries: (r.Properties?.Metrics ?? []) as MetricQuery[],
    }));
}

/** The logical id of the queue a `QueueName` dimension names (`Fn::GetAtt [id, QueueName]`). */
const queueOf = (value: Json | undefined): string =>
  (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** The dashboard's alarm grid: the alarms it shows, as rendered. */
function alarmsOnDashboard(): string[] {
  const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  const body = JSON.parse(renderIntrinsics(dashboard?.Properties?.DashboardBody)) as {
    widgets: { type: string; properties: { alarms?: string[] } }[];
  };
  return body.widgets.filter((w) => w.type === 'alarm').flatMap((w) => w.properties.alarms ?? []);
}

const DAY = 86_400;

describe('dead letters about to expire', () => {
  const alarms = alarmsNamed('DeadLettersExpiring');
  const deadLetterQueues = Object.entries(resources)
    .filter(([id, r]) => r.Type === 'AWS::SQS::Queue' && /DeadLetterQueue/.test(id))
    .map(([id]) => id);

  it("watch every dead-letter queue's oldest message (AWS/SQS, its QueueName) once, at most 10 queues to an alarm", () => {
    // 14 queues and the schedule's: 15 dead-letter queues
    expect(deadLetterQueues).toHaveLength(15);
    const watched = alarms.flatMap((a) => a.queries.flatMap((q) => (q.MetricStat ? [q.MetricStat] : [])));
    for (const stat of watched) {
      expect(stat.Metric).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
      });
      expect(stat.Metric.Dimensions.map((d) => d.Name)).toStrictEqual(['QueueName']);
      expect(stat.Stat).toBe('Maximum');
    }
    const queues = watched.map((stat) => queueOf(stat.Metric.Dimensions[0]?.Value));
    expect(queues.toSorted()).toStrictEqual(deadLetterQueues.toSorted());
    for (const alarm of alarms)
      expect(alarm.queries.filter((q) => q.MetricStat).length).toBeLessThanOrEqual(METRICS_PER_MATH_ALARM);
    // 12 standard queues alike (10 + 2), the FIFO queue and the schedule's (both 14 days whole), the brief one
    expect(alarms).toHaveLength(4);
  });

  it('fire before SQS deletes the oldest dead letter: 2 days before, or halfway through a shorter life', () => {
    const thresholdOf = (queue: string) =>
      alarms.find((a) =>
        a.queries.some(
          (q) => q.MetricStat && queueOf(q.MetricStat.Metric.Dimensions[0]?.Value).startsWith(queue),
        ),
      )?.properties.Threshold;
    // A standard queue's dead letter keeps its first send time: 14 days of DLQ retention less the queue's 4.
    expect(thresholdOf('QueueQ0')).toBe((14 - 4 - 2) * DAY);
    // A FIFO move resets it; Scheduler sends its dead letters afresh.
    expect(thresholdOf('QueueOrders')).toBe((14 - 2) * DAY);
    expect(thresholdOf('Schedulestick')).toBe((14 - 2) * DAY);
    // 3 hours of DLQ retention, 1 of the queue's: 2 hours left, alarmed on after 1.
    expect(thresholdOf('QueueBrief')).toBe(3_600);
    expect(deadLetterExpiryAlarmAge(Duration.days(10)).toSeconds()).toBe(8 * DAY);
    expect(deadLetterExpiryAlarmAge(Duration.days(3)).toSeconds()).toBe(1.5 * DAY);
    expect(deadLetterExpiryAlarmAge(Duration.minutes(1)).toSeconds()).toBe(30);
    expect(DEAD_LETTER_EXPIRY_MARGIN.toDays()).toBe(2);
  });

  it('fire when `hookline failed` starts warning about the same letter: one margin for both', () => {
    // A schedule's dead letter lives its DLQ's whole retention: what the alarm counts and what the CLI computes
    // from its SentTimestamp are then one clock.
    const retention = DEFAULTS.scheduleDeadLetterRetentionPeriod.toSeconds();
    const threshold = alarms.find((a) =>
      a.queries.some(
        (q) => q.MetricStat && queueOf(q.MetricStat.Metric.Dimensions[0]?.Value).startsWith('Schedulestick'),
      ),
    )?.properties.Threshold as number;
    const sent = Date.parse('2026-11-25T00:00:00.000Z');
    const deletedAt = deletedBySqsAt(new Date(sent).toISOString(), retention);
    const firesAt = sent + threshold * 1000;
    expect(expiresSoon(deletedAt, firesAt - 1000)).toBe(false);
    expect(expiresSoon(deletedAt, firesAt + 1000)).toBe(true);
  });

  it('compare the highest age of their queues, over 1-minute maxima, missing data not breaching', () => {
    expect(alarms).toHaveLength(4);
    for (const { properties, queries } of alarms) {
      const inputs = queries.filter((q) => q.MetricStat).map((q) => q.Id);
      const watched = queries.filter((q) => q.ReturnData !== false);
      expect(watched).toHaveLength(1);
      expect(watched[0]?.Expression).toBe(inputs.length === 1 ? inputs[0] : `MAX([${inputs.join(', ')}])`);
      for (const q of queries.filter((q) => q.MetricStat)) expect(q.MetricStat?.Period).toBe(60);
      expect(properties).toMatchObject({
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('name the queues they watch and the commands that read, redrive or save their dead letters', () => {
    for (const { id, properties } of alarms) {
      const description = String(renderIntrinsics(properties.AlarmDescription));
      expect(description.length, id).toBeLessThanOrEqual(1024);
      expect(description).toContain('SQS may delete them within');
      expect(description).toContain('Letters read 3+ times (hookline failed) leave SQS');
      expect(description).toMatch(/`hookline failed summary \S+ --stack Expiry --region /);
      expect(description).toMatch(/`hookline redrive \S+ --stack Expiry --region /);
      // The save command that `failed restore` puts back, not `failed list`, which holds no bodies.
      expect(description).toMatch(
        /`hookline failed save (\S+) --out dead-letters-\S+\.jsonl --stack Expiry --region /,
      );
    }
    const named = alarms.map((a) => String(renderIntrinsics(a.properties.AlarmDescription))).join('\n');
    for (const name of [...Object.keys(standardQueues), 'orders', 'brief', 'schedule:tick'])
      expect(named).toContain(`"${name}"`);
  });

  it("fit CloudWatch's 1,024 characters with the longest stack and queue names, in more alarms of fewer queues", () => {
    const longQueues = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`q${i}-${'x'.repeat(36 - String(i).length)}`, {}]),
    );
    const longest = resolveConfig({
      stackName: `S${'x'.repeat(127)}`,
      sources: { github: { type: 'github' } },
      queues: longQueues,
      defaultRoute: { queues: ['q0-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'] },
    });
    const expiring = Object.entries(
      pipelineTemplate(longest).template.toJSON().Resources as Resources,
    ).filter(([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes('DeadLettersExpiring'));
    expect(expiring).toHaveLength(12);
    for (const [id, r] of expiring) {
      const description = renderIntrinsics(r.Properties?.AlarmDescription);
      expect(description.length, id).toBeLessThanOrEqual(1024);
      // The commands to read and redrive stay ready to paste; the third is described when it cannot fit.
      expect(description).toMatch(/`hookline failed summary \S+ --stack Sx+ --region /);
      expect(description).toMatch(/`hookline redrive \S+ --stack Sx+ --region /);
      expect(description).toMatch(/hookline failed save q\S+ --out (dead-letters-q\S+\.jsonl|<file>)/);
    }
  });

  it('notify the alarm topic, which lets CloudWatch publish, and show on the dashboard', () => {
    const only = Object.fromEntries(
      Object.entries(resources).filter(
        ([id, r]) => r.Type !== 'AWS::CloudWatch::Alarm' || id.includes('DeadLettersExpiring'),
      ),
    );
    expect(walkAlarmsToPublishGrants(only)).toBe(4);
    const shown = alarmsOnDashboard();
    for (const { id } of alarms) expect(shown).toContain(`resolved-${id}.Arn`);
  });
});

describe('a source whose signing secret no longer matches the sender', () => {
  const alarms = alarmsNamed('SigningSecret');

  it('has one alarm per source with a signing secret, none for an unverified source', () => {
    expect(alarms.map((a) => a.id.match(/SigningSecret(\w+?)[0-9A-F]{8}$/)?.[1]).toSorted()).toStrictEqual([
      'github',
      'stripe',
    ]);
  });

  it("reads the ingest's SignatureMismatch of that source over 15 minutes: none verified, at least 3 signed", () => {
    expect(alarms).toHaveLength(2);
    for (const { id, properties, queries } of alarms) {
      const source = id.includes('github') ? 'github' : 'stripe';
      const stats = queries.flatMap((q) => (q.MetricStat ? [q.MetricStat] : []));
      expect(stats.map((s) => s.Stat).toSorted()).toStrictEqual(['Minimum', 'SampleCount']);
      for (const stat of stats) {
        expect(stat.Period).toBe(900);
        expect(stat.Metric.Namespace).toBe(`Hookline/${stack.stackName}`);
        expect(stat.Metric.MetricName).toBe('SignatureMismatch');
        expect(stat.Metric.Dimensions).toStrictEqual([
          { Name: 'service', Value: 'ingest' },
          { Name: 'source', Value: source },
        ]);
      }
      const lowest = queries.find((q) => q.MetricStat?.Stat === 'Minimum')?.Id;
      const signed = queries.find((q) => q.MetricStat?.Stat === 'SampleCount')?.Id;
      expect(queries.find((q) => q.ReturnData !== false)?.Expression).toBe(`${lowest} * ${signed}`);
      expect(properties).toMatchObject({
        // more than 2: at least 3
        Threshold: ROTATED_SECRET_MIN_MISMATCHES - 1,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('fires on 3 signed requests in 15 minutes with none verified, not on 2 forged ones, not when one verified', () => {
    // The alarm's rule over one window of SignatureMismatch values (1 mismatched, 0 verified), as CloudWatch
    // computes the expression's inputs: Minimum and SampleCount.
    const rule = alarms[0]?.properties as { Threshold: number };
    const fires = (values: number[]) =>
      values.length > 0 && Math.min(...values) * values.length > rule.Threshold;
    expect(fires([1, 1, 1])).toBe(true);
    expect(fires([1, 1])).toBe(false);
    expect(fires([1, 1, 1, 1, 0])).toBe(false);
    expect(fires([])).toBe(false);
  });

  it('says which source, the likely causes and the fix, within 1,024 characters', () => {
    expect(alarms).toHaveLength(2);
    for (const { properties } of alarms) {
      const description = String(renderIntrinsics(properties.AlarmDescription));
      const source = description.match(/^Source "(\w+)"/)?.[1];
      expect(['github', 'stripe']).toContain(source);
      expect(description.length).toBeLessThanOrEqual(1024);
      expect(description).toContain('secret was rotated');
      expect(description).toContain('wrong secret was stored');
      expect(description).toContain(`\`hookline secrets set ${source} --stack Expiry --region `);
      expect(description).toContain(`{ $.source = "${source}" && $.reason = "bad_signature" }`);
    }
  });

  it('notifies the alarm topic, which lets CloudWatch publish, and shows on the dashboard', () => {
    const only = Object.fromEntries(
      Object.entries(resources).filter(
        ([id, r]) => r.Type !== 'AWS::CloudWatch::Alarm' || id.includes('SigningSecret'),
      ),
    );
    expect(walkAlarmsToPublishGrants(only)).toBe(2);
    const shown = alarmsOnDashboard();
    for (const { id } of alarms) expect(shown).toContain(`resolved-${id}.Arn`);
  });
});

/** The example `events` queue, its consumer's breaker probing after 10 minutes. */
const probingEvents = {
  consumer: {
    entry: 'lambda/consumers/events.ts',
    circuitBreaker: {
      failureRatio: 0.8,
      minimumRecords: 30,
      window: Duration.minutes(3),
      halfOpenAfter: Duration.minutes(10),
    },
  },
};

/** The example pipeline with {@link probingEvents}, and `extra` on top. */
function probingBreakerConfig(extra: Partial<HooklineConfig> = {}) {
  return exampleResolved({ queues: { ...exampleConfig.queues, events: probingEvents }, ...extra });
}

/**
 * The pipeline of `config` in a stack, and a producer granted delayed jobs once the pipeline is built (as an app's
 * own producer is): the one-time job schedules' dead-letter queue is made then, after the alarms.
 */
function withLateDelayedJobs(config: ReturnType<typeof probingBreakerConfig>) {
  const stack = new Stack(testApp(), 'Late');
  const pipeline = new HooklinePipeline(stack, 'P', { config });
  const producer = new lambda.Function(stack, 'Producer', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
  pipeline.grantSend(producer, 'events', { delays: true });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const idOf = (queue: unknown) =>
    stack.getLogicalId((queue as { node: { defaultChild: never } }).node.defaultChild);
  return {
    resources,
    jobSchedules: idOf(pipeline.jobProducers?.schedulerDeadLetterQueue),
    breakerSchedules: idOf(pipeline.circuitBreakers?.scheduleDeadLetterQueue),
  };
}

/** The expiry alarms watching the queue of logical id `queueId`, each with the query that reads it. */
function expiryAlarmsOf(from: Resources, queueId: string) {
  return alarmsNamed('DeadLettersExpiring', from).flatMap((alarm) =>
    alarm.queries
      .filter((q) => q.MetricStat && queueOf(q.MetricStat.Metric.Dimensions[0]?.Value) === queueId)
      .map((query) => ({ ...alarm, query })),
  );
}

describe("dead letters about to expire in the one-time job schedules' and the breaker probes' dead-letter queues", () => {
  const built = withLateDelayedJobs(probingBreakerConfig());

  it.each([
    [JOB_SCHEDULES, built.jobSchedules],
    [BREAKER_SCHEDULES, built.breakerSchedules],
  ])(
    '%s: one alarm reads its oldest message (AWS/SQS, its QueueName) 2 days before its 14 days end',
    (name, queueId) => {
      const watching = expiryAlarmsOf(built.resources, queueId);
      expect(watching).toHaveLength(1);
      const [{ properties, queries, query }] = watching as [(typeof watching)[number]];
      expect(built.resources[queueId]?.Type).toBe('AWS::SQS::Queue');
      expect(built.resources[queueId]?.Properties?.MessageRetentionPeriod).toBe(14 * DAY);
      expect(query.MetricStat).toMatchObject({
        Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage' },
        Period: 60,
        Stat: 'Maximum',
      });
      expect(query.MetricStat?.Metric.Dimensions).toStrictEqual([
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } },
      ]);
      expect(query.ReturnData).toBe(false);
      // The one series returned is the highest age of the alarm's queues, this one's among them.
      const returned = queries.filter((q) => q.ReturnData !== false);
      expect(returned).toHaveLength(1);
      expect(returned[0]?.Expression).toContain(query.Id);
      expect(properties.Threshold).toBe((14 - 2) * DAY);
      const description = renderIntrinsics(properties.AlarmDescription);
      expect(description).toContain(`"${name}"`);
      expect(description).toContain('cannot be redriven: failed summary says what to do instead');
      expect(description.length).toBeLessThanOrEqual(1024);
    },
  );

  it('join the alarm of the queues of their age, a grant after the pipeline too: no alarm of their own', () => {
    const [jobs] = expiryAlarmsOf(built.resources, built.jobSchedules);
    const [breaker] = expiryAlarmsOf(built.resources, built.breakerSchedules);
    expect(jobs?.id).toBe(breaker?.id);
    // The FIFO orders queue and the heartbeat schedule: dead letters that also live their DLQ's whole 14 days.
    expect(jobs?.queries.filter((q) => q.MetricStat)).toHaveLength(4);
    const without = pipelineTemplate(exampleResolved()).template.toJSON().Resources as Resources;
    expect(alarmsNamed('DeadLettersExpiring', built.resources)).toHaveLength(
      alarmsNamed('DeadLettersExpiring', without).length,
    );
    // Its commands name a queue a redrive moves back.
    expect(renderIntrinsics(jobs?.properties.AlarmDescription)).toMatch(
      /For "(orders|schedule:heartbeat)" \(others alike\): `hookline failed summary \S+ --stack Late --region \S+`, fix the cause, `hookline redrive /,
    );
  });

  it('notify the alarm topic, which lets CloudWatch publish, and show on the dashboard', () => {
    const [jobs] = expiryAlarmsOf(built.resources, built.jobSchedules);
    const only = Object.fromEntries(
      Object.entries(built.resources).filter(
        ([id, r]) => r.Type !== 'AWS::CloudWatch::Alarm' || id === jobs?.id,
      ),
    );
    expect(walkAlarmsToPublishGrants(only)).toBe(1);
    const dashboard = Object.values(built.resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(renderIntrinsics(dashboard?.Properties?.DashboardBody)).toContain(`resolved-${jobs?.id}.Arn`);
  });

  it('get one alarm of their own where no alarm of their age has room: none of that age, or a full one', () => {
    const ownAlarm = (config: ReturnType<typeof probingBreakerConfig>) => {
      const late = withLateDelayedJobs(config);
      const [jobs] = expiryAlarmsOf(late.resources, late.jobSchedules);
      const [breaker] = expiryAlarmsOf(late.resources, late.breakerSchedules);
      expect(breaker?.id).toBe(jobs?.id);
      const watched = jobs?.queries.flatMap((q) =>
        q.MetricStat ? [queueOf(q.MetricStat.Metric.Dimensions[0]?.Value)] : [],
      );
      expect(watched?.toSorted()).toStrictEqual([late.breakerSchedules, late.jobSchedules].toSorted());
      // Its commands: the summary, which says what to do with letters no redrive moves.
      const description = renderIntrinsics(jobs?.properties.AlarmDescription);
      expect(description).toContain('fix the cause and do as it says (no redrive)');
      // Neither can be redriven, and Scheduler writes no letters of its own: the text claims neither.
      expect(description).toContain('None of them can be redriven: failed summary says what to do instead.');
      expect(description).not.toMatch(/"[a-z_]+" cannot be redriven/);
      expect(description).not.toContain('dead-lettered itself');
      return alarmsNamed('DeadLettersExpiring', late.resources).length;
    };
    // No FIFO queue and no schedule: nothing else lives 14 days in its DLQ. The events queue's own: 1 alarm more.
    expect(
      ownAlarm(probingBreakerConfig({ queues: { events: probingEvents }, routes: [], schedules: [] })),
    ).toBe(2);
    // The FIFO orders queue and 9 schedules fill the alarm of that age.
    const schedules = Array.from({ length: 9 }, (_, i) => ({
      name: `s${i}`,
      expression: 'rate(1 hour)',
      queue: 'events',
      type: 'tick',
    }));
    expect(ownAlarm(probingBreakerConfig({ stackName: 'Full', schedules }))).toBe(3);
  });
});
