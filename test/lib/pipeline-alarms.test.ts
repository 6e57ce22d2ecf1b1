import { type CfnResource, Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HOLD_SECONDS } from '../../lib/cli/dead-letter-notes';
import { HooklineConfigError, resolveConfig } from '../../lib/config';
import { PipelineAlarms } from '../../lib/pipeline-alarms';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { type Json, list, type Resources, walkAlarmsToPublishGrants } from '../helpers/alarms';
import { exampleResolved, pipelineTemplate, renderIntrinsics, testApp, testStack } from '../helpers/cdk';
import { maximalConfig } from '../helpers/maximal-config';

/** What decides an alarm's state from its datapoints. */
interface AlarmRule {
  readonly Threshold: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
}

/**
 * CloudWatch's state after each datapoint of `values` (one per period, none missing, comparison
 * `GreaterThanThreshold`): ALARM while at least `DatapointsToAlarm` of the last `EvaluationPeriods` are above the
 * threshold, else OK.
 */
function cloudWatchStates(rule: AlarmRule, values: readonly number[]): ('ALARM' | 'OK')[] {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i + 1 - rule.EvaluationPeriods), i + 1);
    const breaching = window.filter((v) => v > rule.Threshold).length;
    return breaching >= (rule.DatapointsToAlarm ?? rule.EvaluationPeriods) ? 'ALARM' : 'OK';
  });
}

describe('PipelineAlarms', () => {
  const { template } = pipelineTemplate();
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm'));

  it('alarms on any message in each dead-letter queue, with missing data not breaching', () => {
    const dlqAlarms = alarms().filter(
      (a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    // events, orders, and the heartbeat schedule's DLQ
    expect(dlqAlarms).toHaveLength(3);
    for (const alarm of dlqAlarms) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
        Statistic: 'Maximum',
      });
      expect(JSON.stringify(alarm.Properties.Dimensions)).toContain('DeadLetterQueue');
    }
  });

  it('pages on the first dead letter, stays in alarm while a reader holds the dead letters, and returns to OK once they are gone', () => {
    const dlqAlarms = alarms().filter(
      (a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(dlqAlarms).toHaveLength(3);
    const minutes = DEFAULT_HOLD_SECONDS / 60;
    // One-minute maxima of the visible dead letters: 3 arrive, `failed summary` holds them (in flight, so not
    // visible) for its whole hold, the hold ends with nothing fixed, then a redrive empties the queue.
    const held = [0, 3, 3, ...Array(minutes).fill(0), 3, 3];
    const redriven = [...held, ...Array(minutes + 1).fill(0)];
    for (const alarm of dlqAlarms) {
      const states = cloudWatchStates(alarm.Properties as AlarmRule, redriven);
      expect(states[1]).toBe('ALARM');
      // No OK during the hold: it would tell the on-call engineer the queue was fixed, then page again.
      expect(states.slice(1, held.length)).toEqual(Array(held.length - 1).fill('ALARM'));
      expect(states.at(-1)).toBe('OK');
    }
  });

  it('alarms when the oldest message is older than the threshold for 5 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
    const custom = exampleResolved({ alarms: { oldestMessageAge: Duration.minutes(30) } });
    pipelineTemplate(custom).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1800,
    });
  });

  it('reads queues over 1-minute maxima and functions and the API over 5-minute sums, so the oldest-message alarm fires after 5 minutes, as its description says', () => {
    const expected: Record<string, { Period: number; Statistic: string }> = {
      ApproximateNumberOfMessagesVisible: { Period: 60, Statistic: 'Maximum' },
      ApproximateAgeOfOldestMessage: { Period: 60, Statistic: 'Maximum' },
      Errors: { Period: 300, Statistic: 'Sum' },
      Throttles: { Period: 300, Statistic: 'Sum' },
      '5xx': { Period: 300, Statistic: 'Sum' },
    };
    const seen = new Set<string>();
    for (const alarm of alarms()) {
      const metric = alarm.Properties.MetricName as string | undefined;
      if (metric === undefined || !(metric in expected)) continue;
      seen.add(metric);
      expect(alarm.Properties, metric).toMatchObject(expected[metric] as object);
      if (metric === 'ApproximateAgeOfOldestMessage')
        expect(renderIntrinsics(alarm.Properties.AlarmDescription)).toContain('for 5 minutes');
    }
    expect([...seen].sort()).toEqual(Object.keys(expected).sort());
  });

  it('alarms on errors and throttles of the ingest function and of every consumer', () => {
    const byMetric = (name: string) =>
      alarms().filter((a) => a.Properties.MetricName === name && a.Properties.Namespace === 'AWS/Lambda');
    expect(byMetric('Errors')).toHaveLength(3);
    expect(byMetric('Throttles')).toHaveLength(3);
  });

  it('alarms on API 5xx answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Threshold: 0,
    });
  });

  it('sends every alarm and its recovery to one SNS topic', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const alarm of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/AlarmsTopic/) }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/AlarmsTopic/) }]);
      expect(renderIntrinsics(alarm.Properties.AlarmDescription).length).toBeGreaterThan(20);
    }
  });

  it('lets CloudWatch publish every alarm of the pipeline to the topic it notifies', () => {
    // A topic policy (enforceSSL makes one) replaces SNS's default policy, so without an explicit grant every
    // notification is refused with "no resource-based policy allows the SNS:Publish action".
    for (const config of [exampleResolved(), exampleResolved({ alarms: { email: 'ops@example.com' } })]) {
      const resources = pipelineTemplate(config).template.toJSON().Resources as Resources;
      const alarmCount = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
      const walked = walkAlarmsToPublishGrants(resources);
      expect(walked).toBeGreaterThan(0);
      expect(walked).toBe(alarmCount);
    }
  });

  it('subscribes an email address when configured', () => {
    const { template: t } = pipelineTemplate(exampleResolved({ alarms: { email: 'ops@example.com' } }));
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('uses an existing topic instead of creating one', () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:pager';
    const { template: t } = pipelineTemplate(exampleResolved({ alarms: { existingTopicArn: arn } }));
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.arrayWith([arn]) });
  });
});

describe('PipelineAlarms with every feature on', () => {
  const { template: t } = pipelineTemplate(resolveConfig(maximalConfig()));

  it('watches every function the pipeline deploys for errors and throttles, the circuit breaker function too', () => {
    // A function nobody watches fails silently: a breaker function that cannot disable a mapping leaves the
    // consumer running while its breaker alarm told the on-call engineer it was paused.
    const resources = t.toJSON().Resources as Resources;
    const functions = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id]) => id);
    expect(functions.some((id) => id.startsWith('CircuitBreakers'))).toBe(true);
    const watched = (metric: string) =>
      Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::CloudWatch::Alarm' &&
            r.Properties?.Namespace === 'AWS/Lambda' &&
            r.Properties?.MetricName === metric,
        )
        .map((r) => (list(r.Properties?.Dimensions)[0] as { Value: { Ref: string } }).Value.Ref);
    expect(watched('Errors').sort()).toEqual([...functions].sort());
    expect(watched('Throttles').sort()).toEqual([...functions].sort());
  });

  it("says in the breaker function's errors alarm that a consumer may not be paused, probed or closed as its breaker alarm said", () => {
    const alarm = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).find(([id]) =>
      id.startsWith('AlarmsErrorsCircuitBreaker'),
    );
    expect(alarm).toBeDefined();
    const description = renderIntrinsics(alarm?.[1].Properties.AlarmDescription);
    expect(description).toMatch(/"circuit breaker" function failed/);
    expect(description).toMatch(/may not have paused, probed or closed/);
    expect(description).toMatch(/hookline status/);
  });
});

describe('alarms on an existing topic', () => {
  const pager = 'arn:aws:sns:us-east-1:123456789012:pager';
  const stackIn = (region?: string) => () =>
    new WebhookPipelineStack(testApp(), 'Hookline', {
      config: exampleResolved({ alarms: { existingTopicArn: pager } }),
      ...(region ? { env: { account: '123456789012', region } } : {}),
    });

  it("refuses at synth a topic outside the stack's region, which CloudWatch would refuse for every alarm", () => {
    expect(stackIn('eu-west-1')).toThrow(HooklineConfigError);
    expect(stackIn('eu-west-1')).toThrow(
      /alarms\.existingTopicArn: is a topic in us-east-1, .* in eu-west-1 .*\(got "arn:aws:sns:us-east-1:123456789012:pager"\)\. Fix: use a topic in eu-west-1/,
    );
  });

  it("accepts a topic of the stack's region, and any topic when the region is only known at deploy", () => {
    expect(stackIn('us-east-1')).not.toThrow();
    expect(stackIn()).not.toThrow();
  });
});

describe("PipelineAlarms when queue names match the pipeline's own parts", () => {
  // A consumer on a queue named `ingest`, and a queue named like the heartbeat schedule's dead-letter queue.
  const { stack, template } = pipelineTemplate(
    exampleResolved({
      queues: {
        events: { consumer: { entry: 'lambda/consumers/events.ts' } },
        ingest: { consumer: { entry: 'lambda/consumers/events.ts' } },
        'schedule-heartbeat': {},
      },
      routes: [],
    }),
  );
  const resources = template.toJSON().Resources as Resources;
  const alarmsOn = (metricName: string) =>
    Object.values(resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === metricName,
    );
  /** The logical id each alarm's dimension names (`Ref` of a function, `GetAtt` of a queue). */
  const watched = (alarm: { Properties?: Json }, dimension: string) => {
    const value = list(alarm.Properties?.Dimensions).find(
      (d) => (d as { Name: string }).Name === dimension,
    ) as { Value: { Ref?: string; 'Fn::GetAtt'?: [string, string] } } | undefined;
    return value?.Value.Ref ?? value?.Value['Fn::GetAtt']?.[0];
  };
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnResource);

  it('synthesizes, with one errors alarm for the ingest function and one for each consumer', () => {
    const functions = alarmsOn('Errors').map((a) => watched(a, 'FunctionName'));
    expect(functions.sort()).toEqual(
      [
        logicalId(stack.ingest.ingestFunction),
        logicalId(stack.consumers.events?.consumerFunction as never),
        logicalId(stack.consumers.ingest?.consumerFunction as never),
      ].sort(),
    );
    expect(alarmsOn('Throttles')).toHaveLength(3);
  });

  it("alarms on the schedule's dead-letter queue and on the queue named like it, each its own", () => {
    const queues = alarmsOn('ApproximateNumberOfMessagesVisible').map((a) => watched(a, 'QueueName'));
    // events, ingest and schedule-heartbeat's dead-letter queues, and the heartbeat schedule's
    expect(new Set(queues).size).toBe(4);
    expect(queues).toHaveLength(4);
    for (const name of ['events', 'ingest', 'schedule-heartbeat']) {
      expect(queues).toContain(logicalId(stack.queues[name]?.deadLetterQueue as never));
    }
    for (const id of queues) expect(resources[id as string]?.Type).toBe('AWS::SQS::Queue');
    expect(walkAlarmsToPublishGrants(resources)).toBeGreaterThan(0);
  });
});

describe('PipelineAlarms used on its own', () => {
  it('refuses two watched functions that would share an alarm id, naming the id and the fix', () => {
    const stack = testStack();
    const fn = lambda.Function.fromFunctionName(stack, 'Fn', 'worker');
    const other = lambda.Function.fromFunctionName(stack, 'Other', 'other-worker');
    const create = () =>
      new PipelineAlarms(stack, 'Alarms', {
        queues: [],
        functions: [
          { name: 'worker', fn },
          { name: 'worker', fn: other },
        ],
      });
    expect(create).toThrow(/"Errors-worker".*distinct `id`/);
  });
});

describe('PipelineAlarms lists its alarms', () => {
  it('lists every alarm it creates, for a caller to build on (a composite alarm, a dashboard)', () => {
    const { stack } = pipelineTemplate();
    const created = stack.pipeline.alarms.node.findAll().filter((c) => c instanceof cloudwatch.Alarm);
    expect(created.length).toBeGreaterThan(5);
    expect(new Set(stack.pipeline.alarms.alarms)).toEqual(new Set(created));
  });
});

describe('PipelineAlarms on a fair queue', () => {
  const fairConfig = () =>
    exampleResolved({
      queues: {
        events: {
          tenants: { stripe: { path: 'account' }, shopify: { header: 'x-shopify-shop-domain' } },
          consumer: { entry: 'lambda/consumers/events.ts' },
        },
        orders: { fifo: true, consumer: { entry: 'lambda/consumers/orders.ts' } },
      },
    });
  const quietAlarms = (resources: Resources) =>
    Object.entries(resources).filter(
      ([, r]) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties?.MetricName === 'ApproximateAgeOfOldestMessageInQuietGroups',
    );

  it("alarms on the quiet tenants' oldest message of the fair queue, read from that queue, notifying the topic", () => {
    const { stack, template } = pipelineTemplate(fairConfig());
    const resources = template.toJSON().Resources as Resources;
    const found = quietAlarms(resources);
    expect(found).toHaveLength(1);
    const [, alarm] = found[0] as [string, { Properties: Json }];
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 900,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
    });
    expect(renderIntrinsics(alarm.Properties.AlarmDescription)).toContain('for 5 minutes');
    // alarm -> metric dimension -> the fair queue itself (not its DLQ, not the FIFO queue)
    const dimension = list(alarm.Properties.Dimensions).find(
      (d) => (d as { Name: string }).Name === 'QueueName',
    ) as { Value: { 'Fn::GetAtt': [string, string] } };
    const [queueId, attribute] = dimension.Value['Fn::GetAtt'];
    expect(attribute).toBe('QueueName');
    expect(resources[queueId]?.Type).toBe('AWS::SQS::Queue');
    const eventsQueue = stack.queues.events?.queue.node.defaultChild as CfnResource;
    expect(queueId).toBe(stack.getLogicalId(eventsQueue));
    expect(walkAlarmsToPublishGrants(resources)).toBeGreaterThan(0);
  });

  it('adds no quiet-tenant alarm to queues without fairness', () => {
    const resources = pipelineTemplate().template.toJSON().Resources as Resources;
    expect(quietAlarms(resources)).toHaveLength(0);
  });
});
