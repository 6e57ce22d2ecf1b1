/**
 * Scheduled jobs: each configured schedule becomes an EventBridge Scheduler schedule that sends a hookline
 * envelope to its target queue, so the queue's consumer handles cron work exactly like webhooks.
 *
 * Each schedule has a retry policy, its own dead-letter queue (deliveries Scheduler gave up on) and a role that
 * may only `sqs:SendMessage` to its target queue and that dead-letter queue.
 */
import { Annotations, type Duration, type RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SCHEDULE_SOURCE } from '../lambda/shared/job';
import { withDidYouMean } from './closest-name';
import { DEFAULTS, type ResolvedSchedule } from './config';
import { propShapeViolations, propsWithout } from './config/parse-shape';
import { isTokenProp, propTokenViolations } from './config/tokens';
import {
  SCHEDULE_EXECUTION_HEADER,
  SCHEDULE_NAME_HEADER,
  SCHEDULER_CONTEXT,
  SCHEDULER_INPUT_LIMIT,
  scheduleEnvelope,
  schedulePayloadProblem,
  scheduleTargetInput,
} from './schedule-envelope';
import { scheduleProblems } from './schedule-expression';
import { neverFires, neverFiresWarning } from './schedule-runs';
import { schedulerDeadLetterQueue } from './scheduler-dead-letter-queue';
import { defaultScheduleGroupArn, schedulerExecutionRole } from './scheduler-execution-role';
import { retentionViolations } from './validation';
import { prefixViolations, type Violation, ViolationsError, violation } from './violations';

export {
  SCHEDULE_EXECUTION_HEADER,
  SCHEDULE_NAME_HEADER,
  SCHEDULE_SOURCE,
  SCHEDULER_CONTEXT,
  SCHEDULER_INPUT_LIMIT,
  scheduleEnvelope,
};

/** Properties of {@link PipelineSchedules}. */
export interface PipelineSchedulesProps {
  /** The resolved schedules from the configuration (`resolveConfig(...).schedules`). */
  readonly schedules: readonly ResolvedSchedule[];
  /** The pipeline's queues by configured name; each schedule's `queue` must name one (standard, not FIFO). */
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  /**
   * How many times Scheduler retries a failed `SendMessage` before the delivery goes to the schedule's DLQ.
   * @default 185 (the Scheduler maximum)
   */
  readonly retryAttempts?: number;
  /**
   * How long Scheduler keeps retrying one invocation: whole seconds, 1 minute to 24 hours.
   * @default Duration.hours(24) (the Scheduler maximum)
   */
  readonly maxEventAge?: Duration;
  /**
   * Retention of each schedule's dead-letter queue.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly deadLetterRetentionPeriod?: Duration;
  /**
   * Whether the schedules run. Off, a schedule that will not fire again is not warned of at synth
   * (`hookline:scheduleNeverFires`): it is deliberately off.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Schedule group for the schedules.
   * @default - the account's `default` group
   */
  readonly scheduleGroup?: scheduler.IScheduleGroup;
  /**
   * Removal policy of the dead-letter queues: RETAIN or DESTROY (the configuration's `removalPolicy` options) or
   * RETAIN_ON_UPDATE_OR_DELETE.
   * @default RemovalPolicy.DESTROY (they hold only failed deliveries of recurring jobs)
   */
  readonly deadLetterRemovalPolicy?: RemovalPolicy;
}

/** Rule: Scheduler retries a failed delivery 0 to 185 times. */
function retryAttemptsViolations(retry: number | undefined): Violation[] {
  if (retry === undefined || isTokenProp(retry)) return [];
  if (Number.isInteger(retry) && retry >= 0 && retry <= 185) return [];
  return [violation('retryAttempts', 'must be a whole number from 0 to 185', retry, 'use 185, the default')];
}

/** Rule: Scheduler keeps retrying one invocation between 1 minute and 24 hours, counted in whole seconds. */
function maxEventAgeViolations(age: Duration | undefined): Violation[] {
  if (age === undefined || isTokenProp(age)) return [];
  const seconds = age.toSeconds({ integral: false });
  if (Number.isInteger(seconds) && seconds >= 60 && seconds <= 86_400) return [];
  return [
    violation(
      'maxEventAge',
      'must be whole seconds between 1 minute and 24 hours',
      age,
      'use Duration.hours(24), the default',
    ),
  ];
}

/** Rule: schedule names are unique; reported on each repeat. */
function duplicateNameViolations(
  field: string,
  index: number,
  schedules: readonly ResolvedSchedule[],
): Violation[] {
  const s = schedules[index];
  if (!s || !schedules.slice(0, index).some((other) => other.name === s.name)) return [];
  return [violation(field, 'schedule names must be unique', s.name, 'rename one of them')];
}

/** Rule: the expression and time zone are valid Scheduler syntax (parsed by `schedule-expression.ts`). */
function expressionViolations(field: string, s: ResolvedSchedule): Violation[] {
  return scheduleProblems(s.expression, s.timezone).map((problem) =>
    violation(
      `${field}.${problem.field}`,
      problem.message,
      problem.field === 'expression' ? s.expression : s.timezone,
      problem.fix,
    ),
  );
}

/** Rule: the target is one of the pipeline's standard queues. */
function targetQueueViolations(
  field: string,
  s: ResolvedSchedule,
  queues: PipelineSchedulesProps['queues'],
): Violation[] {
  const queue = queues[s.queue];
  if (!queue) {
    return [
      violation(
        `${field}.queue`,
        withDidYouMean('names a queue that is not in props.queues', s.queue, Object.keys(queues)),
        s.queue,
        `use one of: ${Object.keys(queues).join(', ')}`,
      ),
    ];
  }
  if (!queue.fifo) return [];
  return [
    violation(
      `${field}.queue`,
      'is a FIFO queue: Scheduler needs content-based deduplication and a fixed group for it',
      s.queue,
      'target a standard queue',
    ),
  ];
}

/** Rule: the envelope is JSON and fits Scheduler's input limit (`schedule-envelope.ts`). */
function envelopeViolations(field: string, s: ResolvedSchedule): Violation[] {
  const problem = schedulePayloadProblem(s);
  return problem ? [violation(`${field}.payload`, problem.message, s.payload, problem.fix)] : [];
}

/** How a schedule is named in a violation: its index and name (a name that is no text left out). */
function scheduleField(index: number, s: ResolvedSchedule): string {
  return typeof s.name === 'string' ? `schedules[${index}] (${s.name})` : `schedules[${index}]`;
}

/** The fields of a schedule of the wrong kind: each is text. */
function scheduleShapeViolations(field: string, s: ResolvedSchedule): Violation[] {
  return prefixViolations(
    field,
    propShapeViolations({
      name: ['text', s.name],
      expression: ['text', s.expression],
      timezone: ['text', s.timezone],
      queue: ['text', s.queue],
      type: ['text', s.type],
    }),
  );
}

/** Validates the props; returns every problem (empty when valid). Pure. */
export function validateSchedulesProps(given: PipelineSchedulesProps): Violation[] {
  // A prop of the wrong kind is reported and left out, so the rules below compute with the rest.
  // Whole numbers and whole seconds are the range rules' own, which say the range too.
  const shape = propShapeViolations({
    retryAttempts: ['number', given.retryAttempts],
    maxEventAge: ['duration', given.maxEventAge],
    deadLetterRetentionPeriod: ['seconds', given.deadLetterRetentionPeriod],
    deadLetterRemovalPolicy: ['removalPolicy', given.deadLetterRemovalPolicy],
  });
  const props = propsWithout(given, shape);
  return [
    ...shape,
    // CDK's Scheduler target compares both with its limits at synth, a token's encoding included.
    ...propTokenViolations(
      { retryAttempts: props.retryAttempts, maxEventAge: props.maxEventAge },
      { deadLetterRetentionPeriod: props.deadLetterRetentionPeriod },
    ),
    ...retryAttemptsViolations(props.retryAttempts),
    ...maxEventAgeViolations(props.maxEventAge),
    ...retentionViolations('deadLetterRetentionPeriod', props.deadLetterRetentionPeriod),
    ...props.schedules.flatMap((s, i) => {
      const field = scheduleField(i, s);
      // A schedule with a field of the wrong kind is not checked further: its rules read every field as text.
      const kinds = scheduleShapeViolations(field, s);
      if (kinds.length > 0) return kinds;
      return [
        ...duplicateNameViolations(field, i, props.schedules),
        ...expressionViolations(field, s),
        ...targetQueueViolations(field, s, props.queues),
        ...envelopeViolations(field, s),
      ];
    }),
  ];
}

/** Thrown when {@link PipelineSchedulesProps} are invalid; the message lists every problem and its fix. */
export class PipelineSchedulesError extends ViolationsError {
  /** `path`: the construct's path, which the message names (as the other constructs' errors do). */
  constructor(
    public readonly problems: readonly Violation[],
    path?: string,
  ) {
    super(path ? `Invalid PipelineSchedules ${path}` : 'Invalid PipelineSchedules props', problems);
    this.name = 'PipelineSchedulesError';
  }
}

/**
 * A schedule that will not fire again (a one-time time that has passed, a cron whose years have) is a synth warning on
 * its schedule, not an error: one that has fired stays configured until removed, and must not stop later deploys.
 * `cdk synth --strict` fails on it. Not called for schedules that are off (`enabled: false`): they are deliberately
 * off, so that one will not fire is no news.
 */
function warnWhenItNeverFires(scope: Construct, s: ResolvedSchedule, index: number): void {
  const why = neverFires(s.expression, s.timezone, Date.now());
  if (why)
    Annotations.of(scope).addWarningV2('hookline:scheduleNeverFires', neverFiresWarning(s, index, why));
}

/** The resources created for one schedule. */
export interface PipelineSchedule {
  /** The EventBridge Scheduler schedule that sends the job's envelope to its queue. */
  readonly schedule: scheduler.Schedule;
  /** Deliveries Scheduler gave up on (after `retryAttempts` or `maxEventAge`). Alarm on its depth. */
  readonly deadLetterQueue: sqs.Queue;
  /** The role Scheduler sends with: it may send to the job's queue and to this dead-letter queue only. */
  readonly role: iam.Role;
}

/**
 * EventBridge Scheduler schedules for the configured jobs.
 *
 * Limitation: the SQS target cannot set message attributes, so scheduled messages carry no `hookline.*`
 * attributes; consumers read source and type from the envelope body, as they always do.
 */
export class PipelineSchedules extends Construct {
  /** By schedule name. */
  public readonly schedules: Readonly<Record<string, PipelineSchedule>>;
  /** Every schedule dead-letter queue, for alarms and the dashboard. */
  public readonly deadLetterQueues: readonly sqs.IQueue[];

  constructor(scope: Construct, id: string, props: PipelineSchedulesProps) {
    super(scope, id);
    const problems = validateSchedulesProps(props);
    if (problems.length > 0) throw new PipelineSchedulesError(problems, this.node.path);

    const byName: Record<string, PipelineSchedule> = {};
    for (const [index, s] of props.schedules.entries()) {
      const queue = props.queues[s.queue];
      if (!queue) continue; // unreachable: validated above
      const scope = new Construct(this, s.name);
      const deadLetterQueue = schedulerDeadLetterQueue(scope, 'DeadLetterQueue', {
        schedules: `the EventBridge Scheduler schedule "${s.name}"`,
        ...(props.deadLetterRetentionPeriod ? { retentionPeriod: props.deadLetterRetentionPeriod } : {}),
        ...(props.deadLetterRemovalPolicy ? { removalPolicy: props.deadLetterRemovalPolicy } : {}),
      });
      // One role per schedule, trusted only by Scheduler on behalf of this account for the schedule's group: the L2
      // target then grants exactly sqs:SendMessage on the target queue and on this DLQ.
      const role = schedulerExecutionRole(scope, 'Role', {
        description: `hookline schedule ${s.name}: send to the ${s.queue} queue`,
        scheduleGroupArn: props.scheduleGroup?.scheduleGroupArn ?? defaultScheduleGroupArn(this),
      });
      const input = scheduleTargetInput(s);
      const schedule = new scheduler.Schedule(scope, 'Schedule', {
        schedule: scheduler.ScheduleExpression.expression(s.expression, TimeZone.of(s.timezone)),
        description: `hookline schedule ${s.name}: ${s.type} to the ${s.queue} queue`,
        enabled: props.enabled ?? true,
        timeWindow: scheduler.TimeWindow.off(),
        ...(props.scheduleGroup ? { scheduleGroup: props.scheduleGroup } : {}),
        target: new targets.SqsSendMessage(queue, {
          role,
          deadLetterQueue,
          input: scheduler.ScheduleTargetInput.fromText(input),
          retryAttempts: props.retryAttempts ?? DEFAULTS.scheduleRetryAttempts,
          maxEventAge: props.maxEventAge ?? DEFAULTS.scheduleMaxEventAge,
        }),
      });
      if (props.enabled ?? true) warnWhenItNeverFires(schedule, s, index);
      byName[s.name] = { schedule, deadLetterQueue, role };
    }
    this.schedules = byName;
    this.deadLetterQueues = Object.values(byName).map((s) => s.deadLetterQueue);
  }
}
