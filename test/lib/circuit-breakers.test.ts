/**
 * The deployed circuit breaker, walked through the template as CloudFormation wires it: the alarm, its Lambda
 * action, the permission that lets CloudWatch invoke the function from that alarm alone, the function's role, and
 * a grant that reaches exactly the consumer's event source mapping; and the metrics the alarm reads are the ones
 * the consumer publishes.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { BREAKER_CONFIG_ENV, BREAKER_METRICS, breakerAlarmName } from '../../lambda/shared/circuit-breaker';
import { CONSUMER_CONFIG_ENV } from '../../lambda/shared/consumer-config';
import { METRIC_DIMENSIONS, metricsNamespaceOf } from '../../lambda/shared/contracts';
import { resolveConfig } from '../../lib/config';
import { pipelineTemplate, renderIntrinsics } from '../helpers/cdk';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;

const withBreaker = resolveConfig({
  ...exampleConfig,
  queues: {
    ...exampleConfig.queues,
    events: {
      ...exampleConfig.queues.events,
      consumer: {
        entry: 'lambda/consumers/events.ts',
        circuitBreaker: { failureRatio: 0.8, minimumRecords: 30, window: Duration.minutes(3) },
      },
    },
  },
});
const { template, stack } = pipelineTemplate(withBreaker);
const resources = template.toJSON().Resources as Resources;
const stackName = stack.stackName;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const getAttId = (value: unknown): string | undefined =>
  (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
const refId = (value: unknown): string | undefined => (value as { Ref?: string })?.Ref;
const envOf = (fnId: string) =>
  (resources[fnId]?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)
    ?.Variables ?? {};

/** The event source mapping that feeds a queue's consumer, found by the queue it reads. */
function mappingOf(queue: string): string {
  const queueUrl = renderIntrinsics(
    template.toJSON().Outputs[`QueueUrl${queue[0]?.toUpperCase()}${queue.slice(1)}`].Value,
  );
  const queueId = queueUrl.replace(/^resolved-/, '');
  const found = ofType('AWS::Lambda::EventSourceMapping').filter(
    ([, r]) => getAttId(r.Properties.EventSourceArn) === queueId,
  );
  expect(found).toHaveLength(1);
  return found[0]?.[0] ?? '';
}

/** The consumer function of a queue: the one its mapping invokes. */
const consumerOf = (queue: string) => refId(resources[mappingOf(queue)]?.Properties.FunctionName) ?? '';

describe('the circuit breaker of a consumer, deployed', () => {
  const [alarmId, alarm] = ofType('AWS::CloudWatch::Alarm').find(
    ([, r]) => r.Properties.AlarmName === breakerAlarmName(stackName, 'events'),
  ) ?? ['', { Type: '', Properties: {} }];

  it('has one alarm, for the queue that enables it, notifying the alarm topic of a trip and never of its return to OK, which comes while the consumer is still paused', () => {
    const breakerAlarms = ofType('AWS::CloudWatch::Alarm').filter(([, r]) =>
      String(r.Properties.AlarmName ?? '').endsWith('/circuit-breaker'),
    );
    expect(breakerAlarms.map(([id]) => id)).toEqual([alarmId]);
    const deadLetters = ofType('AWS::CloudWatch::Alarm').find(([id]) => id.includes('DeadLettersevents'));
    const topic = (deadLetters?.[1].Properties.AlarmActions as unknown[] | undefined)?.[0];
    expect(topic).toBeDefined();
    expect(alarm.Properties.AlarmActions).toContainEqual(topic);
    expect(alarm.Properties.OKActions ?? []).toEqual([]);
    expect(alarm.Properties).toMatchObject({
      Threshold: 0.8,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(renderIntrinsics(alarm.Properties.AlarmDescription)).toContain(
      `\`hookline resume events --stack ${stackName} --region`,
    );
  });

  it('computes the rule over the totals the consumer publishes: its namespace, service dimension and metric names', () => {
    const metrics = alarm.Properties.Metrics as {
      Id: string;
      Expression?: string;
      ReturnData?: boolean;
      MetricStat?: {
        Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
        Period: number;
        Stat: string;
      };
    }[];
    const read = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat);
    expect(read.map((m) => m?.Metric.MetricName).sort()).toEqual(
      [BREAKER_METRICS.ended, BREAKER_METRICS.failed].sort(),
    );
    const consumerEnv = envOf(consumerOf('events'));
    for (const m of read) {
      expect(m).toMatchObject({ Period: 180, Stat: 'Sum' });
      expect(m?.Metric.Namespace).toBe(consumerEnv.POWERTOOLS_METRICS_NAMESPACE);
      expect(m?.Metric.Namespace).toBe(metricsNamespaceOf(stackName));
      expect(m?.Metric.Dimensions).toEqual([{ Name: METRIC_DIMENSIONS.service, Value: 'events' }]);
    }
    expect(consumerEnv.POWERTOOLS_SERVICE_NAME).toBe('events');
    // The consumer publishes them: its configuration turns the breaker's totals on.
    expect(JSON.parse(renderIntrinsics(consumerEnv[CONSUMER_CONFIG_ENV]))).toMatchObject({
      circuitBreaker: true,
    });
    expect(JSON.parse(renderIntrinsics(envOf(consumerOf('orders'))[CONSUMER_CONFIG_ENV]))).not.toHaveProperty(
      'circuitBreaker',
    );
    const expression = metrics.find((m) => m.ReturnData !== false && m.Expression);
    expect(expression?.Expression).toMatch(/^IF\(\w+ >= 30, \w+ \/ \w+, 0\)$/);
  });

  it("invokes a function CloudWatch may call from this alarm only, whose role may disable exactly the consumer's mapping", () => {
    const fnIds = (alarm.Properties.AlarmActions as unknown[]).map(getAttId).filter(Boolean) as string[];
    expect(fnIds).toHaveLength(1);
    const fnId = fnIds[0] ?? '';
    expect(resources[fnId]?.Type).toBe('AWS::Lambda::Function');

    const permissions = ofType('AWS::Lambda::Permission').filter(
      ([, r]) => getAttId(r.Properties.FunctionName) === fnId,
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.[1].Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'lambda.alarms.cloudwatch.amazonaws.com',
    });
    expect(getAttId(permissions[0]?.[1].Properties.SourceArn)).toBe(alarmId);

    const roleId = getAttId(resources[fnId]?.Properties.Role) ?? '';
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, r]) => (r.Properties.Roles as unknown[]).some((role) => refId(role) === roleId))
      .flatMap(
        ([, r]) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      );
    const updates = statements.filter((s) => [s.Action].flat().includes('lambda:UpdateEventSourceMapping'));
    expect(updates).toHaveLength(1);
    const granted = [updates[0]?.Resource].flat().map(renderIntrinsics);
    expect(granted).toEqual([
      `arn:aws:lambda:resolved-AWS::Region:resolved-AWS::AccountId:event-source-mapping:resolved-${mappingOf('events')}`,
    ]);
    // Nothing else of Lambda, and nothing on "*".
    expect(statements.flatMap((s) => [s.Resource].flat())).not.toContain('*');
    const lambdaActions = statements
      .flatMap((s) => [s.Action].flat())
      .filter((a) => String(a).startsWith('lambda:'));
    expect(lambdaActions.sort()).toEqual(['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping']);

    // The function knows which mapping this alarm's name trips.
    const config = JSON.parse(renderIntrinsics(envOf(fnId)[BREAKER_CONFIG_ENV]));
    expect(config).toEqual({
      alarms: {
        [breakerAlarmName(stackName, 'events')]: {
          queue: 'events',
          mappingId: `resolved-${mappingOf('events')}`,
        },
      },
    });
  });

  it('adds no breaker alarm, function or permission when no queue enables it', () => {
    const plain = pipelineTemplate(resolveConfig(exampleConfig)).template.toJSON().Resources as Resources;
    const all = Object.values(plain);
    expect(all.filter((r) => String(r.Properties?.AlarmName ?? '').endsWith('/circuit-breaker'))).toEqual([]);
    expect(
      all.filter(
        (r) =>
          r.Type === 'AWS::Lambda::Function' &&
          BREAKER_CONFIG_ENV in
            ((r.Properties.Environment as { Variables?: object } | undefined)?.Variables ?? {}),
      ),
    ).toEqual([]);
    expect(
      all.filter(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' &&
          r.Properties.Principal === 'lambda.alarms.cloudwatch.amazonaws.com',
      ),
    ).toEqual([]);
  });
});

describe('the circuit breakers of two pipelines whose stack and queue names join alike', () => {
  /** A pipeline in `stackName` whose one queue, `queue`, has a breaker. */
  function breakerStack(stackName: string, queue: string) {
    const config = resolveConfig({
      stackName,
      sources: { github: { type: 'github' } },
      queues: {
        [queue]: {
          consumer: {
            entry: 'lambda/consumers/events.ts',
            circuitBreaker: { failureRatio: 0.5, minimumRecords: 10, window: Duration.minutes(5) },
          },
        },
      },
      defaultRoute: { queues: [queue] },
    });
    const { stack, template } = pipelineTemplate(config);
    const all = template.toJSON().Resources as Resources;
    const alarmNames = Object.values(all)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties.AlarmName)
      .filter((name): name is string => typeof name === 'string');
    const breakerFunction = Object.values(all).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        BREAKER_CONFIG_ENV in
          ((r.Properties.Environment as { Variables?: object } | undefined)?.Variables ?? {}),
    );
    const variables =
      (breakerFunction?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {};
    const mappings = Object.entries(all).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    return {
      stackName: stack.stackName,
      alarmNames,
      config: JSON.parse(renderIntrinsics(variables[BREAKER_CONFIG_ENV])),
      mappingId: `resolved-${mappings[0]?.[0]}`,
    };
  }

  it('gives stack a-b with queue c and stack a with queue b-c distinct alarms, each mapped by its own function to its own consumer', () => {
    const first = breakerStack('a-b', 'c');
    const second = breakerStack('a', 'b-c');
    expect([first.stackName, second.stackName]).toEqual(['a-b', 'a']);
    const [firstAlarm, secondAlarm] = [breakerAlarmName('a-b', 'c'), breakerAlarmName('a', 'b-c')];
    expect(firstAlarm).not.toBe(secondAlarm);
    expect(first.alarmNames).toContain(firstAlarm);
    expect(second.alarmNames).toContain(secondAlarm);
    expect(first.alarmNames.filter((name) => second.alarmNames.includes(name))).toEqual([]);
    expect(first.config.alarms).toEqual({ [firstAlarm]: { queue: 'c', mappingId: first.mappingId } });
    expect(second.config.alarms).toEqual({ [secondAlarm]: { queue: 'b-c', mappingId: second.mappingId } });
  });
});

describe('the description of a breaker that trips on a single record', () => {
  it('counts the one record in the singular', () => {
    const config = resolveConfig({
      sources: { github: { type: 'github' } },
      queues: {
        events: {
          consumer: {
            entry: 'lambda/consumers/events.ts',
            circuitBreaker: { failureRatio: 1, minimumRecords: 1, window: Duration.minutes(5) },
          },
        },
      },
      defaultRoute: { queues: ['events'] },
    });
    const { stack, template } = pipelineTemplate(config);
    const alarm = Object.values(template.toJSON().Resources as Resources).find(
      (r) => r.Properties.AlarmName === breakerAlarmName(stack.stackName, 'events'),
    );
    expect(renderIntrinsics(alarm?.Properties.AlarmDescription)).toContain(
      'Circuit breaker of "events": at least 1 record ended in 5 min and 100% or more of them failed',
    );
  });
});
