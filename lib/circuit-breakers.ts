/**
 * The deployed circuit breakers: per breaker-enabled consumer, a CloudWatch alarm computing the shared rule
 * (`lambda/shared/circuit-breaker.ts`) in metric math over the totals the consumer publishes, which notifies the
 * alarm topic and invokes one small breaker function for the stack. The function may disable those consumers'
 * event source mappings and nothing else, and CloudWatch may invoke it only from those alarms.
 */
import { ArnFormat, type Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  BREAKER_CONFIG_ENV,
  BREAKER_ENTRY,
  BREAKER_METRICS,
  type BreakerRuntimeConfig,
  breakerAlarmName,
} from '../lambda/shared/circuit-breaker';
import { METRIC_DIMENSIONS, metricsNamespaceOf } from '../lambda/shared/contracts';
import { HooklineFunction } from './hookline-function';
import { hooklineModulePath, hooklinePackageRoot } from './package-root';
import { hooklineCommand } from './pipeline-alarms';

/** A consumer with a circuit breaker. */
export interface BreakerConsumer {
  /** The queue's name in the pipeline: the consumer's `service` dimension. */
  readonly name: string;
  /** Its event source mapping's UUID (`QueueConsumer.eventSourceMappingId`). */
  readonly eventSourceMappingId: string;
  readonly failureRatio: number;
  readonly minimumRecords: number;
  /** Whole minutes: the alarm's period. */
  readonly window: Duration;
}

/** Properties for {@link ConsumerCircuitBreakers}. */
export interface ConsumerCircuitBreakersProps {
  readonly consumers: readonly BreakerConsumer[];
  /** The topic the stack's other alarms notify: a trip is told there too. */
  readonly topic: sns.ITopic;
  /** @default - the function's default */
  readonly logRetention?: logs.RetentionDays;
  /** @default - no active tracing */
  readonly tracing?: lambda.Tracing;
}

/** One breaker alarm per consumer, and the function they invoke. */
export class ConsumerCircuitBreakers extends Construct {
  /** The function the alarms invoke. */
  public readonly breakerFunction: HooklineFunction;
  /** Each consumer's breaker alarm, by queue name. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: ConsumerCircuitBreakersProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    // Alarm names are fixed strings, not the alarms' tokens: the function names them and the alarms name the
    // function, which would otherwise be a dependency cycle.
    const runtime: BreakerRuntimeConfig = {
      alarms: Object.fromEntries(
        props.consumers.map((c) => [
          breakerAlarmName(stackName, c.name),
          { queue: c.name, mappingId: c.eventSourceMappingId },
        ]),
      ),
    };
    this.breakerFunction = new HooklineFunction(this, 'Function', {
      entry: hooklineModulePath(BREAKER_ENTRY),
      projectRoot: hooklinePackageRoot(),
      serviceName: 'circuit-breaker',
      memorySize: 128,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.tracing ? { tracing: props.tracing } : {}),
      environment: { [BREAKER_CONFIG_ENV]: Stack.of(this).toJsonString(runtime) },
      environmentFix: `enable the circuit breaker on fewer queues of this stack (${props.consumers.length} now; each adds 84 bytes, the stack's name and twice its queue's name, so some 30 to 38 fit with short names, fewer with long ones), or split the queues over two stacks`,
    });
    this.breakerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
        resources: props.consumers.map((c) => eventSourceMappingArn(this, c.eventSourceMappingId)),
      }),
    );
    const action = new actions.LambdaAction(this.breakerFunction, { useUniquePermissionId: true });
    this.alarms = Object.fromEntries(
      props.consumers.map((c) => [c.name, this.breakerAlarm(c, props.topic, action)]),
    );
  }

  /** The alarm that trips one consumer's breaker: it invokes the function and notifies the topic. */
  private breakerAlarm(
    c: BreakerConsumer,
    topic: sns.ITopic,
    action: cloudwatch.IAlarmAction,
  ): cloudwatch.Alarm {
    const minutes = c.window.toMinutes();
    const alarm = new cloudwatch.Alarm(this, `Alarm-${c.name}`, {
      alarmName: breakerAlarmName(Stack.of(this).stackName, c.name),
      metric: failedShare(this, c),
      threshold: c.failureRatio,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No records, no data: an idle or paused consumer is not failing.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Circuit breaker of "${c.name}": at least ${c.minimumRecords} records ended in ${minutes} min and ${Math.round(c.failureRatio * 100)}% or more of them failed, so its consumer was paused (its event source mapping disabled); the messages wait in the queue, nothing is dead-lettered by the pause. Find what its handler calls that fails (${hooklineCommand(this, `failed list ${c.name}`)} shows the records that already gave up), fix it, then ${hooklineCommand(this, `resume ${c.name}`)}. The breaker never resumes on its own.`,
    });
    alarm.addAlarmAction(action);
    alarm.addAlarmAction(new actions.SnsAction(topic));
    // No OK action: a paused consumer publishes nothing, so the alarm returns to OK one period after every trip
    // while the consumer is still paused, and an "OK" notification then would tell the on-call engineer otherwise.
    return alarm;
  }
}

/** The failed share of the records that ended in the window, 0 until `minimumRecords` ended. */
function failedShare(scope: Construct, c: BreakerConsumer): cloudwatch.IMetric {
  const metric = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: metricsNamespaceOf(Stack.of(scope).stackName),
      metricName,
      dimensionsMap: { [METRIC_DIMENSIONS.service]: c.name },
      statistic: cloudwatch.Stats.SUM,
      period: c.window,
    });
  return new cloudwatch.MathExpression({
    expression: `IF(ended >= ${c.minimumRecords}, failed / ended, 0)`,
    usingMetrics: { ended: metric(BREAKER_METRICS.ended), failed: metric(BREAKER_METRICS.failed) },
    period: c.window,
    label: `${c.name} failed share`,
  });
}

/** `arn:<partition>:lambda:<region>:<account>:event-source-mapping:<uuid>`: the one resource the grant names. */
function eventSourceMappingArn(scope: Construct, uuid: string): string {
  return Stack.of(scope).formatArn({
    service: 'lambda',
    resource: 'event-source-mapping',
    resourceName: uuid,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
