/**
 * What a delivery EventBridge Scheduler gave up on is, read from the message it put in one of the dead-letter queues
 * it fills (`job_schedules`, `breaker_schedules`, `schedule:<name>`): the body is the schedule's input, and Scheduler's
 * attributes name the schedule, its run, its retries and its target
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html). A circuit breaker's probe
 * or close is no hookline envelope: it is read through the breaker's own input contract.
 */
import {
  type BreakerScheduleEvent,
  breakerScheduleEventOf,
  breakerStepDueAt,
  queueOfBreakerAlarm,
} from '../../lambda/shared/circuit-breaker';
import { BREAKER_SCHEDULES, JOB_SCHEDULES, SCHEDULE_DEAD_LETTER_QUEUE_PREFIX } from '../stack-outputs';
import {
  type DeadLetter,
  SCHEDULE_ARN_ATTRIBUTE,
  SCHEDULER_EXECUTION_ATTRIBUTE,
  SCHEDULER_RETRIES_ATTRIBUTE,
  SCHEDULER_TARGET_ATTRIBUTE,
} from './dead-letters';
import { isOtherDeadLetterQueueName, type Target } from './target';

/** A circuit breaker's probe or close Scheduler could not hand the breaker function. */
export interface UndeliveredBreakerStep {
  readonly step: BreakerScheduleEvent['hooklineCircuitBreaker'];
  /** The breaker alarm the step names (`<stack>/<queue>/circuit-breaker`). */
  readonly alarmName: string;
  /** When the step was due (ISO 8601), from its schedule's name; null when that name does not say. */
  readonly dueAt: string | null;
}

/** One delivery Scheduler gave up on, as `failed list`, `summary`, `show` and the console describe it. */
export interface UndeliveredSchedule {
  /** What it concerns, without times: `circuit breaker probe of the events queue`, `delayed job for the orders queue`. */
  readonly subject: string;
  /** The subject, with when a breaker's step was due. */
  readonly description: string;
  /** The schedule's name and group, from Scheduler's `SCHEDULE_ARN` (`...:schedule/<group>/<name>`). */
  readonly schedule: string | null;
  readonly scheduleGroup: string | null;
  /** Scheduler's `EXECUTION_ID`: the run of the schedule. */
  readonly executionId: string | null;
  /** Scheduler's `RETRY_ATTEMPTS`: the retries it made before it gave up. */
  readonly retryAttempts: number | null;
  /** Scheduler's `TARGET_ARN`: the queue, or the breaker function, the delivery was meant for. */
  readonly targetArn: string | null;
  /** The hookline queue it concerns: a job's or an event's queue, or the one whose breaker a step is of. */
  readonly queue: string | null;
  readonly breaker: UndeliveredBreakerStep | null;
}

/** What the description needs of the target: the dead-letter queue read, the queues by ARN, the stack's name. */
export interface ScheduleContext {
  /** The dead-letter queue read, by its CLI name. */
  readonly deadLetterQueue: string;
  readonly queueByArn: ReadonlyMap<string, string>;
  /** A breaker alarm's earlier name (`-` joined) names its queue only beside the stack's. */
  readonly stackName?: string;
}

/** The context of a read of the dead-letter queue `deadLetterQueue` of `target`. */
export function scheduleContextOf(target: Target, deadLetterQueue: string): ScheduleContext {
  return {
    deadLetterQueue,
    queueByArn: new Map(Object.values(target.queues).map((q) => [q.arn, q.name])),
    ...(target.kind === 'stack' ? { stackName: target.stackName } : {}),
  };
}

/**
 * What a dead letter of a queue Scheduler fills is; null in a queue's own dead-letter queue, where no schedule's
 * delivery is (a schedule's event its consumer failed is a dead letter like any other).
 */
export function undeliveredScheduleOf(
  letter: DeadLetter,
  context: ScheduleContext,
): UndeliveredSchedule | null {
  if (!isOtherDeadLetterQueueName(context.deadLetterQueue)) return null;
  const attribute = (name: string) => letter.messageAttributes[name]?.StringValue ?? null;
  const { group, name } = scheduleOfArn(attribute(SCHEDULE_ARN_ATTRIBUTE));
  const targetArn = attribute(SCHEDULER_TARGET_ATTRIBUTE);
  const retries = Number(attribute(SCHEDULER_RETRIES_ATTRIBUTE) ?? Number.NaN);
  const breaker = breakerStepOf(letter, name);
  const queue = breaker
    ? (queueOfBreakerAlarm(breaker.alarmName, context.stackName) ?? null)
    : targetArn === null
      ? null
      : (context.queueByArn.get(targetArn) ?? null);
  const subject = subjectOf(context.deadLetterQueue, { breaker, queue, targetArn });
  return {
    subject,
    description: breaker?.dueAt ? `${subject}, due ${breaker.dueAt}` : subject,
    schedule: name,
    scheduleGroup: group,
    executionId: attribute(SCHEDULER_EXECUTION_ATTRIBUTE),
    retryAttempts: Number.isInteger(retries) && retries >= 0 ? retries : null,
    targetArn,
    queue,
    breaker,
  };
}

/** The breaker's step the body holds, with when it was due; null when the body is no probe or close. */
function breakerStepOf(letter: DeadLetter, schedule: string | null): UndeliveredBreakerStep | null {
  const event = breakerScheduleEventOf(letter.body);
  if (!event) return null;
  return {
    step: event.hooklineCircuitBreaker,
    alarmName: event.alarmName,
    dueAt: (schedule === null ? undefined : breakerStepDueAt(schedule)) ?? null,
  };
}

/** A schedule's ARN, `arn:<partition>:scheduler:<region>:<account>:schedule/<group>/<name>`, split. */
function scheduleOfArn(arn: string | null): { group: string | null; name: string | null } {
  const match = arn === null ? null : /:schedule\/([^/]+)\/([^/]+)$/.exec(arn);
  return { group: match?.[1] ?? null, name: match?.[2] ?? null };
}

/** What the delivery concerns, in the words of the dead-letter queue it waits in. */
function subjectOf(
  deadLetterQueue: string,
  facts: {
    breaker: UndeliveredBreakerStep | null;
    queue: string | null;
    targetArn: string | null;
  },
): string {
  const { breaker, queue, targetArn } = facts;
  const meantFor = queue
    ? `the ${queue} queue`
    : targetArn
      ? `${targetArn} (no queue of this pipeline now)`
      : 'a target Scheduler did not name';
  if (breaker) {
    return queue
      ? `circuit breaker ${breaker.step} of the ${queue} queue`
      : `circuit breaker ${breaker.step} of alarm ${breaker.alarmName} (no queue of this stack)`;
  }
  if (deadLetterQueue === BREAKER_SCHEDULES)
    return 'not a circuit breaker probe or close (its body is no step)';
  if (deadLetterQueue === JOB_SCHEDULES) return `delayed job for ${meantFor}`;
  // The configured schedule's own name, which its dead-letter queue's CLI name holds (Scheduler's is the stack's).
  return `event of schedule ${deadLetterQueue.slice(SCHEDULE_DEAD_LETTER_QUEUE_PREFIX.length)} for ${meantFor}`;
}
