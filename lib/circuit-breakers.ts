/**
 * The deployed circuit breakers: per breaker-enabled consumer, a CloudWatch alarm computing the shared rule
 * (`lambda/shared/circuit-breaker.ts`) in metric math over the totals the consumer publishes, which notifies the
 * alarm topic and invokes one small breaker function for the stack. The function may disable those consumers'
 * event source mappings and nothing else, and CloudWatch may invoke it only from those alarms. With a probe
 * (`halfOpenAfter`) on any of them, also a schedule group for the probes, the dead-letter queue their schedules name
 * and a role Scheduler invokes the function with (and sends to that queue with, nothing else); the function may then
 * tag and re-enable those consumers' mappings, read their breaker alarms, and create schedules in that group only.
 */
import { ArnFormat, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { z } from 'zod';
import {
  BREAKER_CONFIG_ENV,
  BREAKER_ENTRY,
  BREAKER_METRICS,
  type BreakerRuntimeConfig,
  type BreakerTarget,
  breakerAlarmName,
  type MappingScaling,
  SCALING_MODES,
} from '../lambda/shared/circuit-breaker';
import { METRIC_DIMENSIONS, metricsNamespaceOf } from '../lambda/shared/contracts';
import { plural } from '../lambda/shared/plural';
import { propShapeViolations, propsWithout } from './config/parse-shape';
import { propTokenViolations } from './config/tokens';
import { grantSendMessage } from './grants';
import { HooklineFunction, LOG_RETENTION_PROP, TRACING_PROP } from './hookline-function';
import { acknowledgeWildcardResource } from './nag-acknowledgements';
import { hooklineModulePath, hooklinePackageRoot } from './package-root';
import { hooklineCommand } from './pipeline-alarms';
import { schedulerDeadLetterQueue } from './scheduler-dead-letter-queue';
import { schedulerExecutionRole } from './scheduler-execution-role';
import { breakerQueueNameViolations, circuitBreakerViolations, mappingScalingViolations } from './validation';
import { prefixViolations, throwIfViolations, type Violation } from './violations';

/** A consumer with a circuit breaker. */
export interface BreakerConsumer {
  /**
   * The queue's name in the pipeline: the consumer's `service` dimension, and part of its alarm's name
   * (`<stack>/<queue>/circuit-breaker`).
   *
   * A hookline queue name: lower-case letters, digits and dashes, starting with a letter, at most 40 characters.
   */
  readonly name: string;
  /** Its event source mapping's UUID (`QueueConsumer.eventSourceMappingId`). */
  readonly eventSourceMappingId: string;
  /** Share of the records ended in `window` that failed, above 0 and at most 1, at or above which it trips. */
  readonly failureRatio: number;
  /** Fewest records ended in `window` before it may trip, a whole number from 1. */
  readonly minimumRecords: number;
  /** Whole minutes: the alarm's period. */
  readonly window: Duration;
  /**
   * After a trip, the wait before a probe.
   *
   * @default - no probe: resuming is manual (`hookline resume <queue>`)
   */
  readonly halfOpenAfter?: Duration;
  /** The mapping's scaling as the stack configures it: what closing a probe restores. */
  readonly scaling: MappingScaling;
}

/** Properties for {@link ConsumerCircuitBreakers}. */
export interface ConsumerCircuitBreakersProps {
  /** The consumers that have a breaker: one alarm each, all invoking one function. */
  readonly consumers: readonly BreakerConsumer[];
  /** The topic the stack's other alarms notify: a trip is told there too. */
  readonly topic: sns.ITopic;
  /**
   * CloudWatch Logs retention of the breaker function's log group.
   * @default DEFAULTS.logRetentionDays (30 days)
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing mode of the breaker function.
   * @default - DEFAULTS.tracing (disabled)
   */
  readonly tracing?: lambda.Tracing;
}

/** One breaker alarm per consumer, and the function they invoke. */
export class ConsumerCircuitBreakers extends Construct {
  /** The function the alarms invoke. */
  public readonly breakerFunction: HooklineFunction;
  /** Each consumer's breaker alarm, by queue name. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /**
   * Where Scheduler puts a probe or close it could not deliver (after its retries), when some breaker has a probe:
   * its consumer then stays paused or at probe concurrency. Alarm on its depth.
   */
  public readonly scheduleDeadLetterQueue?: sqs.IQueue;

  constructor(scope: Construct, id: string, props: ConsumerCircuitBreakersProps) {
    super(scope, id);
    throwIfViolations(`ConsumerCircuitBreakers ${this.node.path}`, [
      ...propShapeViolations({
        logRetention: [LOG_RETENTION_PROP, props.logRetention],
        tracing: [TRACING_PROP, props.tracing],
      }),
      ...props.consumers.flatMap(breakerViolations),
    ]);
    const stackName = Stack.of(this).stackName;
    // Alarm names are fixed strings, not the alarms' tokens: the function names them and the alarms name the
    // function, which would otherwise be a dependency cycle.
    const probed = props.consumers.filter((c) => c.halfOpenAfter !== undefined);
    const probes = probed.length > 0 ? this.probeResources() : undefined;
    if (probes) this.scheduleDeadLetterQueue = probes.deadLetterQueue;
    const runtime: BreakerRuntimeConfig = {
      alarms: Object.fromEntries(
        props.consumers.map((c) => [breakerAlarmName(stackName, c.name), breakerTarget(c)]),
      ),
      ...(probes
        ? {
            scheduler: {
              groupName: probes.group.scheduleGroupName,
              roleArn: probes.role.roleArn,
              deadLetterQueueArn: probes.deadLetterQueue.queueArn,
            },
          }
        : {}),
    };
    this.breakerFunction = new HooklineFunction(this, 'Function', {
      entry: hooklineModulePath(BREAKER_ENTRY),
      projectRoot: hooklinePackageRoot(),
      serviceName: 'circuit-breaker',
      memorySize: 128,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.tracing ? { tracing: props.tracing } : {}),
      environment: { [BREAKER_CONFIG_ENV]: Stack.of(this).toJsonString(runtime) },
      environmentFix: `enable the circuit breaker on fewer queues of this stack (${props.consumers.length} now; each adds 84 bytes, the stack's name and twice its queue's name, some 90 more with halfOpenAfter, so some 30 to 38 fit with short names and no probe, fewer with long ones), or split the queues over two stacks`,
    });
    this.breakerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
        resources: props.consumers.map((c) => eventSourceMappingArn(this, c.eventSourceMappingId)),
      }),
    );
    if (probes) this.grantProbes(probes, probed);
    const action = new actions.LambdaAction(this.breakerFunction, { useUniquePermissionId: true });
    this.alarms = Object.fromEntries(
      props.consumers.map((c) => [c.name, this.breakerAlarm(c, props.topic, action)]),
    );
  }

  /**
   * The probes' schedule group, the dead-letter queue their schedules name, and the role Scheduler invokes the
   * breaker function with (only that function) and sends what it could not deliver with (only to that queue).
   */
  private probeResources(): ProbeResources {
    // One-time schedules delete themselves once run; those pending go with the stack, whose function they invoke.
    const group = new scheduler.ScheduleGroup(this, 'ProbeSchedules', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = schedulerExecutionRole(this, 'ProbeSchedulerRole', {
      description: 'hookline circuit breaker probes: invoke the breaker function',
      scheduleGroupArn: group.scheduleGroupArn,
    });
    const deadLetterQueue = schedulerDeadLetterQueue(this, 'ProbeScheduleDeadLetterQueue', {
      schedules: 'every circuit breaker probe and close schedule',
    });
    grantSendMessage(deadLetterQueue, role);
    return { group, role, deadLetterQueue };
  }

  /**
   * What probing takes, on the probed consumers only: their mappings' tags and scaling, their breaker alarms' state,
   * schedules in the group, handing Scheduler its role; and the role invoking this function alone.
   */
  private grantProbes(probes: ProbeResources, probed: readonly BreakerConsumer[]): void {
    const fn = this.breakerFunction;
    const stack = Stack.of(this);
    const scheduleArns = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${probes.group.scheduleGroupName}/*`,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:ListTags', 'lambda:TagResource', 'lambda:UntagResource'],
        resources: probed.map((c) => eventSourceMappingArn(this, c.eventSourceMappingId)),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms'],
        resources: probed.map((c) =>
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: breakerAlarmName(stack.stackName, c.name),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['scheduler:CreateSchedule'],
        resources: [scheduleArns],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [probes.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    probes.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
    );
    acknowledgeWildcardResource(
      this,
      stack.resolve(scheduleArns),
      "Each probe and close is a one-time schedule named by its mapping and time, so the breaker function may create schedules in the stack's own probe group and nowhere else.",
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
      alarmDescription: `Circuit breaker of "${c.name}": at least ${plural(c.minimumRecords, 'record')} ended in ${minutes} min and ${Math.round(c.failureRatio * 100)}% or more of them failed, so its consumer was paused (its event source mapping disabled); the messages wait in the queue, nothing is dead-lettered by the pause. Find what its handler calls that fails (${hooklineCommand(this, `failed list ${c.name}`)} shows the records that already gave up), fix it, then ${hooklineCommand(this, `resume ${c.name}`)}. ${recoveryOf(c)}`,
    });
    alarm.addAlarmAction(action);
    alarm.addAlarmAction(new actions.SnsAction(topic));
    // No OK action: a paused consumer publishes nothing, so the alarm returns to OK one period after every trip
    // while the consumer is still paused, and an "OK" notification then would tell the on-call engineer otherwise.
    return alarm;
  }
}

/** What a probe needs besides the function: its schedule group, their dead-letter queue, Scheduler's role. */
interface ProbeResources {
  readonly group: scheduler.ScheduleGroup;
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * What CloudWatch and the breaker function would refuse, or read wrongly, of one consumer's settings: a name its
 * alarm's name could not be unique with, and settings that are computed with at synth (the alarm's period, threshold
 * and description, the probe's minutes), so none may be a token.
 */
function breakerViolations(given: BreakerConsumer, index: number): Violation[] {
  // A setting of the wrong kind is reported and left out, so the rules below compute with the rest.
  const shape = breakerShapeViolations(given);
  const c = propsWithout(given, shape);
  const { failureRatio, minimumRecords, window, halfOpenAfter } = c;
  const own = circuitBreakerViolations(c).map((v) => ({
    ...v,
    path: v.path.replace(/^circuitBreaker\./, ''),
  }));
  const named = typeof given.name === 'string' ? ` (${given.name})` : '';
  return prefixViolations(`consumers[${index}]${named}`, [
    ...shape,
    ...(c.name !== undefined ? breakerQueueNameViolations('name', c.name) : []),
    ...propTokenViolations({ failureRatio, minimumRecords, window, halfOpenAfter }),
    ...own,
    ...(c.scaling ? prefixViolations('scaling', mappingScalingViolations(scalingOf(c.scaling))) : []),
  ]);
}

/** The settings of the wrong kind: the breaker's as the configuration's `circuitBreaker` takes them. */
function breakerShapeViolations(c: BreakerConsumer): Violation[] {
  const scaling = scalingOf(c.scaling ?? { mode: 'on-demand' });
  return propShapeViolations({
    'scaling.mode': [SCALING_MODE_PROP, c.scaling?.mode],
    name: ['text', c.name],
    eventSourceMappingId: ['text', c.eventSourceMappingId],
    failureRatio: ['number', c.failureRatio],
    minimumRecords: ['number', c.minimumRecords],
    window: ['duration', c.window],
    halfOpenAfter: ['duration', c.halfOpenAfter],
    'scaling.maximumConcurrency': ['count', scaling.maximumConcurrency],
    'scaling.minimumPollers': ['count', scaling.minimumPollers],
    'scaling.maximumPollers': ['count', scaling.maximumPollers],
  });
}

/** A mapping's scaling mode, as the breaker function reads it. */
const SCALING_MODE_PROP = z.unknown().refine((mode) => SCALING_MODES.includes(mode as never), {
  message: 'is not a scaling mode of an event source mapping',
  params: { fix: `use ${SCALING_MODES.map((m) => JSON.stringify(m)).join(' or ')}` },
});

/** A mapping's scaling with each of its settings named, whichever its mode. */
function scalingOf(scaling: MappingScaling): {
  readonly maximumConcurrency?: number;
  readonly minimumPollers?: number;
  readonly maximumPollers?: number;
} {
  return scaling;
}

/** The breaker function's view of one consumer: its queue, mapping and, with `halfOpenAfter`, its probe. */
function breakerTarget(c: BreakerConsumer): BreakerTarget {
  return {
    queue: c.name,
    mappingId: c.eventSourceMappingId,
    ...(c.halfOpenAfter
      ? {
          probe: {
            halfOpenAfterMinutes: c.halfOpenAfter.toMinutes(),
            windowMinutes: c.window.toMinutes(),
            scaling: c.scaling,
          },
        }
      : {}),
  };
}

/** What the alarm's description says of recovering: a probe after `halfOpenAfter`, or only the operator. */
function recoveryOf(c: BreakerConsumer): string {
  if (!c.halfOpenAfter) return 'The breaker never resumes on its own.';
  return `Without you, it probes after ${c.halfOpenAfter.toMinutes()} min at low concurrency for one window and closes if nothing trips (a re-open doubles the wait, up to 1 hour).`;
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
