import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  PipelineDashboard,
  type PipelineDashboardProps,
  validateDashboardProps,
} from '../../lib/pipeline-dashboard';
import { summedSeriesOf } from '../helpers/dashboard';

function fixture() {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fn = (id: string) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
  const queues = ['events', 'orders'].map((name) => ({
    name,
    queue: new sqs.Queue(stack, `${name}Queue`),
    deadLetterQueue: new sqs.Queue(stack, `${name}Dlq`),
    consumer: fn(`${name}Consumer`),
  }));
  return { stack, queues, ingest: fn('Ingest'), logGroup: new logs.LogGroup(stack, 'IngestLogs') };
}

/** The dashboard body with every token resolved to a readable placeholder. */
function dashboardBody(
  props: (f: ReturnType<typeof fixture>) => PipelineDashboardProps,
  after: (dashboard: PipelineDashboard, f: ReturnType<typeof fixture>) => void = () => undefined,
): string {
  const f = fixture();
  after(new PipelineDashboard(f.stack, 'Dashboard', props(f)), f);
  const template = Template.fromStack(f.stack);
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]?.Properties.DashboardBody;
  // Fn::Join of literal parts and references: keep the literal parts, mark the references.
  const parts: unknown[] = body['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
}

const widgetsOf = (body: string) =>
  (
    JSON.parse(body.replace(/<ref>/g, 'REF')) as {
      widgets: { type: string; properties: Record<string, unknown> }[];
    }
  ).widgets;

describe('PipelineDashboard', () => {
  const full = (f: ReturnType<typeof fixture>): PipelineDashboardProps => ({
    dashboardName: 'hookline-test',
    queues: f.queues,
    ingestFunction: f.ingest,
    ingestLogGroup: f.logGroup,
  });

  it('has a widget for every signal the operators need', () => {
    const titles = widgetsOf(dashboardBody(full)).map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Ingest outcomes (requests)',
        'Ingest rejections and failures by reason',
        'Ingest by source and outcome',
        'Ingest function',
        'Queue depth (visible messages)',
        'Age of oldest message (seconds)',
        'Dead-letter queue depth',
        'Dead-lettered now',
        'Consumer duration (p50 / p99 ms)',
        'Consumer errors and throttles',
        'Records retried (handed back with backoff)',
        'Records dead-lettered by the consumers',
      ]),
    );
  });

  it("charts the ingest EMF outcomes of the stack's namespace, where its functions write them", () => {
    const body = dashboardBody(full);
    for (const metric of ['Accepted', 'Duplicate', 'Ignored']) {
      expect(body).toContain(`["Hookline/Test","${metric}","service","ingest"`);
    }
    expect(body).toContain(
      `SUM(SEARCH('{\\"Hookline/Test\\",reason,service} MetricName=\\"Rejected\\" service=\\"ingest\\"', 'Sum', 60))`,
    );
    expect(body).toContain('filter message = \\"webhook outcome\\"');
    expect(body).toContain('stats count(*) as requests by source, outcome');
  });

  it('charts SQS depth, age and DLQ depth, and consumer retries and dead-letters per queue', () => {
    const body = dashboardBody(full);
    expect(body).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName"');
    expect(body).toContain('"AWS/SQS","ApproximateAgeOfOldestMessage","QueueName"');
    expect(body).toContain('"label":"events DLQ"');
    expect(body).toContain('"label":"orders DLQ"');
    for (const queue of ['events', 'orders']) {
      expect(body).toContain(`MetricName=\\"Retried\\" service=\\"${queue}\\"`);
      expect(body).toContain(`MetricName=\\"DeadLettered\\" service=\\"${queue}\\"`);
      expect(body).toContain(`MetricName=\\"KeyHeldElsewhere\\" service=\\"${queue}\\"`);
    }
    expect(body).toContain('"AWS/Lambda","Throttles","FunctionName"');
    expect(body).toContain('"stat":"p99"');
  });

  it('charts per queue the records processed and the records deferred, the count the consumer README says to watch', () => {
    const body = dashboardBody(full);
    const titles = widgetsOf(body).map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Records processed',
        'Records deferred (not started: deadline margin, FIFO group held back, no rate-limit slot)',
      ]),
    );
    for (const queue of ['events', 'orders']) {
      expect(body).toContain(`MetricName=\\"Processed\\" service=\\"${queue}\\"`);
      expect(body).toContain(`MetricName=\\"Deferred\\" service=\\"${queue}\\"`);
    }
  });

  it("charts per queue the records whose own delete failed, which the stack's DeleteFailed alarm sums", () => {
    const widgets = widgetsOf(dashboardBody(full));
    const graph = widgets.find((w) =>
      String(w.properties.title).startsWith('Records whose own delete failed'),
    );
    const expressions = ((graph?.properties.metrics ?? []) as unknown[][]).map((m) =>
      String((m[0] as { expression: string }).expression),
    );
    expect(expressions).toStrictEqual(
      ['events', 'orders'].map(
        (queue) =>
          `SUM(SEARCH('{"Hookline/Test",service,type} MetricName="DeleteFailed" service="${queue}"', 'Sum', 60))`,
      ),
    );
  });

  it('graphs what the sources that opted out of verification let in, named in its title; nothing without one', () => {
    const unverifiedGraph = (sources?: string[]) =>
      widgetsOf(
        dashboardBody((f) => ({ ...full(f), ...(sources ? { unverifiedSources: sources } : {}) })),
      ).filter((w) => String(w.properties.title).startsWith('Requests let in unverified'));
    const [graph, ...more] = unverifiedGraph(['play', 'sandbox']);
    expect(more).toHaveLength(0);
    expect(graph?.properties.title).toBe(
      'Requests let in unverified (verification opted out: play, sandbox)',
    );
    expect(graph?.properties.metrics).toStrictEqual([
      ['Hookline/Test', 'Unverified', 'service', 'ingest', { label: 'Unverified', period: 60, stat: 'Sum' }],
    ]);
    expect(unverifiedGraph()).toHaveLength(0);
    expect(unverifiedGraph([])).toHaveLength(0);
  });

  it('includes extra DLQs such as the schedules', () => {
    const body = dashboardBody((f) => ({
      queues: f.queues,
      extraDeadLetterQueues: [
        { label: 'schedule heartbeat DLQ', queue: new sqs.Queue(f.stack, 'ScheduleDlq') },
      ],
    }));
    expect(body).toContain('"label":"schedule heartbeat DLQ"');
  });

  it('leaves out what it was not given', () => {
    const titles = widgetsOf(
      dashboardBody((f) => ({ queues: f.queues.map(({ consumer: _, ...q }) => q) })),
    ).map((w) => w.properties.title);
    expect(titles).not.toContain('Ingest by source and outcome');
    expect(titles).not.toContain('Consumer errors and throttles');
    expect(titles).toContain('Dead-letter queue depth');
  });

  it('uses the requested period', () => {
    const body = dashboardBody((f) => ({ queues: f.queues, period: Duration.minutes(5) }));
    expect(body).toContain('MetricName=\\"Retried\\" service=\\"events\\"\', \'Sum\', 300))');
    expect(body).not.toContain("'Sum', 60))");
    expect(dashboardBody((f) => ({ queues: f.queues }))).toContain('"period":60');
  });
});

describe('PipelineDashboard series', () => {
  type Widget = { type: string; properties: Record<string, unknown> };
  /** Each series of a widget as metric name, label, statistic and period (a search expression: its text). */
  const seriesOf = (widget: Widget | undefined, axis: 'left' | 'right' = 'left') =>
    ((widget?.properties.metrics ?? []) as unknown[][])
      .filter((m) => {
        const options = m.at(-1) as { yAxis?: string };
        return (options.yAxis ?? 'left') === axis;
      })
      .map((m) => {
        const options = m.at(-1) as { label?: string; stat?: string; period?: number; expression?: string };
        return options.expression !== undefined
          ? { expression: options.expression, label: options.label }
          : { metric: m[1], label: options.label, stat: options.stat, period: options.period };
      });

  function widgets() {
    const body = dashboardBody((f) => ({
      queues: f.queues,
      ingestFunction: f.ingest,
      jobsFunction: f.queues[0]?.consumer,
      extraDeadLetterQueues: [{ label: 'schedule DLQ', queue: new sqs.Queue(f.stack, 'ScheduleDlq') }],
      // Neither CDK's default period (5 minutes) nor the dashboard's (1 minute).
      period: Duration.minutes(2),
    }));
    const all = widgetsOf(body) as Widget[];
    const titled = (title: string) => all.filter((w) => w.properties.title === title);
    return { all, titled, one: (title: string) => titled(title)[0] };
  }

  it("reads each queue's depth and age as its maximum over the dashboard's period, labelled by queue", () => {
    const { one } = widgets();
    for (const [title, metric] of [
      ['Queue depth (visible messages)', 'ApproximateNumberOfMessagesVisible'],
      ['Age of oldest message (seconds)', 'ApproximateAgeOfOldestMessage'],
    ] as const) {
      expect(seriesOf(one(title)), title).toEqual(
        ['events', 'orders'].map((label) => ({ metric, label, stat: 'Maximum', period: 120 })),
      );
    }
  });

  it('shows every dead-letter queue, the extra ones too, once on the depth graph and once on the tile', () => {
    const { titled } = widgets();
    expect(titled('Dead-letter queue depth')).toHaveLength(1);
    expect(titled('Dead-lettered now')).toHaveLength(1);
    // What a DLQ holds is its visible messages and those an operator's read holds out of sight, as status counts.
    const held = (label: string) => ({
      label,
      terms: ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible'].map(
        (metric) => ({
          metric,
          dimension: 'REF',
          stat: 'Maximum',
          period: 120,
        }),
      ),
    });
    const series = (title: string) =>
      summedSeriesOf((titled(title)[0]?.properties.metrics ?? []) as unknown[][]);
    expect(series('Dead-letter queue depth')).toEqual(['events DLQ', 'orders DLQ', 'schedule DLQ'].map(held));
    expect(series('Dead-lettered now')).toEqual(['events', 'orders', 'schedule DLQ'].map(held));
  });

  it("charts each consumer's p50 and p99 duration, errors and throttles over the dashboard's period", () => {
    const { one } = widgets();
    expect(seriesOf(one('Consumer duration (p50 / p99 ms)'))).toEqual(
      ['events', 'orders'].flatMap((q) => [
        { metric: 'Duration', label: `${q} p50`, stat: 'p50', period: 120 },
        { metric: 'Duration', label: `${q} p99`, stat: 'p99', period: 120 },
      ]),
    );
    expect(seriesOf(one('Consumer errors and throttles'))).toEqual(
      ['events', 'orders'].flatMap((q) => [
        { metric: 'Errors', label: `${q} errors`, stat: 'Sum', period: 120 },
        { metric: 'Throttles', label: `${q} throttles`, stat: 'Sum', period: 120 },
      ]),
    );
  });

  it('charts the ingest and jobs endpoint functions: invocations, errors and throttles, with p99 duration on the right', () => {
    const { one } = widgets();
    for (const title of ['Ingest function', 'Jobs endpoint function (POST /jobs)']) {
      expect(
        seriesOf(one(title)).map((s) => [s.metric, s.period]),
        title,
      ).toEqual([
        ['Invocations', 120],
        ['Errors', 120],
        ['Throttles', 120],
      ]);
      expect(seriesOf(one(title), 'right'), title).toEqual([
        { metric: 'Duration', label: 'Duration p99', stat: 'p99', period: 120 },
      ]);
    }
  });

  it('stacks the ingest outcomes and sums each EMF count over its varying dimensions', () => {
    const { one } = widgets();
    const outcomes = one('Ingest outcomes (requests)');
    expect(outcomes?.properties.stacked).toBe(true);
    expect(seriesOf(outcomes).map((s) => s.label)).toEqual([
      'Accepted',
      'Duplicate',
      'Ignored',
      'Rejected',
      'Failed (503)',
    ]);
    expect(seriesOf(outcomes).at(-1)?.expression).toBe(
      `SUM(SEARCH('{"Hookline/Test",reason,service} MetricName="Failed" service="ingest"', 'Sum', 120))`,
    );
    expect(seriesOf(one('Records retried (handed back with backoff)'))[0]).toEqual({
      expression: `SUM(SEARCH('{"Hookline/Test",service,type} MetricName="Retried" service="events"', 'Sum', 120))`,
      label: 'events',
    });
    expect(seriesOf(one('Records dead-lettered by the consumers'))[1]?.expression).toContain(
      '{"Hookline/Test",service,type} MetricName="DeadLettered" service="orders"',
    );
    // Beside them, the copies of those two that collided on their idempotency key, per queue, as the runtime counts them.
    expect(seriesOf(one('Of those: idempotency key held elsewhere (duplicates, not failures)'))).toEqual([
      {
        expression: `SUM(SEARCH('{"Hookline/Test",service,type} MetricName="KeyHeldElsewhere" service="events"', 'Sum', 120))`,
        label: 'events',
      },
      {
        expression: `SUM(SEARCH('{"Hookline/Test",service,type} MetricName="KeyHeldElsewhere" service="orders"', 'Sum', 120))`,
        label: 'orders',
      },
    ]);
  });

  it('adds a dead-letter queue charted after it was made to the same graph and tile', () => {
    const body = dashboardBody(
      (f) => ({ queues: f.queues }),
      (dashboard, f) =>
        dashboard.chartDeadLetterQueue({ label: 'job schedules DLQ', queue: new sqs.Queue(f.stack, 'Late') }),
    );
    const all = widgetsOf(body) as Widget[];
    const graphs = all.filter((w) => w.properties.title === 'Dead-letter queue depth');
    const tiles = all.filter((w) => w.properties.title === 'Dead-lettered now');
    expect(graphs).toHaveLength(1);
    expect(tiles).toHaveLength(1);
    const labelsOf = (w: Widget | undefined) =>
      summedSeriesOf((w?.properties.metrics ?? []) as unknown[][]).map((s) => s.label);
    expect(labelsOf(graphs[0])).toEqual(['events DLQ', 'orders DLQ', 'job schedules DLQ']);
    expect(labelsOf(tiles[0])).toEqual(['events', 'orders', 'job schedules DLQ']);
  });

  it('accepts only the periods CloudWatch accepts', () => {
    const problemsFor = (period: Duration) =>
      validateDashboardProps({ queues: [], ingestFunction: {} as never, period }).map((p) => p.path);
    for (const ok of [
      Duration.seconds(1),
      Duration.seconds(5),
      Duration.seconds(10),
      Duration.seconds(30),
      Duration.minutes(1),
      Duration.minutes(2),
    ])
      expect(problemsFor(ok), ok.toString()).toEqual([]);
    for (const bad of [
      Duration.seconds(2),
      Duration.seconds(45),
      Duration.seconds(90),
      Duration.millis(1500),
      Duration.seconds(0),
    ])
      expect(problemsFor(bad), bad.toString()).toEqual(['period']);
  });
});

describe('PipelineDashboard alarm grid', () => {
  /** `n` alarms on one metric of the fixture, named `a<i>`. */
  const alarmsOf = (f: ReturnType<typeof fixture>, n: number, prefix = 'a') =>
    Array.from(
      { length: n },
      (_, i) =>
        new cloudwatch.Alarm(f.stack, `${prefix}${i}`, {
          metric: f.ingest.metricErrors(),
          threshold: 0,
          evaluationPeriods: 1,
        }),
    );
  const alarmWidgets = (body: string) => widgetsOf(body).filter((w) => w.type === 'alarm');

  it('shows the state of every alarm first, with those a caller adds after the dashboard was made', () => {
    const body = dashboardBody(
      (f) => ({ queues: f.queues, alarms: alarmsOf(f, 2) }),
      (dashboard, f) => dashboard.showAlarms(alarmsOf(f, 1, 'late')),
    );
    const widgets = widgetsOf(body);
    expect(widgets[0]?.type).toBe('alarm');
    expect(alarmWidgets(body).map((w) => (w.properties.alarms as string[]).length)).toStrictEqual([3]);
  });

  it('shows more alarms than one alarm status widget holds in widgets of 100, side by side', () => {
    const body = dashboardBody((f) => ({ queues: f.queues, alarms: alarmsOf(f, 150) }));
    const widgets = alarmWidgets(body) as unknown as {
      x: number;
      y: number;
      width: number;
      properties: { alarms: string[] };
    }[];
    expect(widgets.map((w) => w.properties.alarms.length)).toStrictEqual([100, 50]);
    expect(widgets.map((w) => [w.x, w.y, w.width])).toStrictEqual([
      [0, 0, 12],
      [12, 0, 12],
    ]);
  });

  it("graphs the API's requests and its 4xx and 5xx answers when given the API", () => {
    const body = dashboardBody((f) => ({
      queues: f.queues,
      api: new apigw.HttpApi(f.stack, 'Api'),
    }));
    for (const metric of ['Count', '4xx', '5xx'])
      expect(body).toContain(`"AWS/ApiGateway","${metric}","ApiId"`);
  });
});

describe('cdk-nag', () => {
  it('adds no AwsSolutions finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag', { env: { account: '123456789012', region: 'eu-west-1' } });
    const dlq = new sqs.Queue(stack, 'Dlq', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    const queue = new sqs.Queue(stack, 'Events', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
    });
    new PipelineDashboard(stack, 'Dashboard', { queues: [{ name: 'events', queue, deadLetterQueue: dlq }] });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('validateDashboardProps', () => {
  it('reports every problem with a fix', () => {
    const { queues } = fixture();
    const first = queues[0];
    if (!first) throw new Error('fixture has queues');
    const problems = validateDashboardProps({
      queues: [first, first, { ...first, name: 'bad name' }],
      period: Duration.seconds(45),
      dashboardName: 'no spaces allowed',
    });
    expect(problems.map((p) => p.path)).toEqual([
      'queues[1].name',
      'queues[2].name',
      'period',
      'dashboardName',
    ]);
    expect(validateDashboardProps({ queues: [] })[0]?.fix).toMatch(/pass the pipeline queues/);
  });

  it('makes the construct throw', () => {
    const { stack } = fixture();
    expect(() => new PipelineDashboard(stack, 'D', { queues: [] })).toThrow(/nothing to show/);
  });
});

describe('PipelineDashboard with a fair queue', () => {
  it("charts the quiet tenants' backlog and age and the noisy tenants of fair queues only", () => {
    const body = dashboardBody((f) => ({
      queues: f.queues.map((q) => ({ ...q, fair: q.name === 'events' })),
    }));
    const fairness = widgetsOf(body).filter((w) => String(w.properties.title).match(/tenants/i));
    expect(fairness.map((w) => w.properties.title)).toEqual([
      'Quiet tenants: visible messages',
      'Quiet tenants: age of oldest message (seconds)',
      'Noisy tenants',
    ]);
    for (const metric of [
      'ApproximateNumberOfMessagesVisibleInQuietGroups',
      'ApproximateAgeOfOldestMessageInQuietGroups',
      'ApproximateNumberOfNoisyGroups',
    ]) {
      const widget = fairness.find((w) => JSON.stringify(w.properties.metrics).includes(metric));
      // one line per fair queue: events only
      expect(JSON.stringify(widget?.properties.metrics).match(/"AWS\/SQS"/g)).toHaveLength(1);
      expect(JSON.stringify(widget?.properties.metrics)).toContain('"label":"events"');
    }
  });

  it('has no fairness row without a fair queue', () => {
    const body = dashboardBody((f) => ({ queues: f.queues }));
    expect(body).not.toContain('InQuietGroups');
  });
});
