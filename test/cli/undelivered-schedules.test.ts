/**
 * What a delivery EventBridge Scheduler gave up on is, in each dead-letter queue it fills: a circuit breaker's probe
 * or close (no envelope: known by the breaker's own input), a delayed job, a configured schedule's event.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { breakerAlarmName, breakerStepScheduleName } from '../../lambda/shared/circuit-breaker';
import { describeDeadLetter } from '../../lib/cli/dead-letters';
import { scheduleContextOf, undeliveredScheduleOf } from '../../lib/cli/undelivered-schedules';
import { BREAKER_SCHEDULES, JOB_SCHEDULES } from '../../lib/stack-outputs';
import { deadLetterMessage, EVENTS, stackTarget } from './helpers';

const string = (value: string) => ({ DataType: 'String', StringValue: value });

/** A message as Scheduler puts it in a dead-letter queue: the schedule's input as body, its six attributes. */
function undelivered(body: string, schedule: string, target: string, retries = '185'): Message {
  return {
    MessageId: 'sqs-1',
    ReceiptHandle: 'rh-1',
    Body: body,
    Attributes: { SentTimestamp: String(Date.parse('2026-12-05T10:05:00Z')) },
    MessageAttributes: {
      ERROR_CODE: string('AccessDeniedException'),
      ERROR_MESSAGE: string('not authorized'),
      EXECUTION_ID: string('exec-1'),
      RETRY_ATTEMPTS: string(retries),
      SCHEDULE_ARN: string(`arn:aws:scheduler:us-east-1:123456789012:schedule/${schedule}`),
      TARGET_ARN: string(target),
    },
  };
}

const BREAKER_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:Hookline-Breaker';
const describeIn = (deadLetterQueue: string, message: Message) =>
  undeliveredScheduleOf(describeDeadLetter(message), scheduleContextOf(stackTarget(), deadLetterQueue));

describe("a circuit breaker's step Scheduler could not deliver", () => {
  const due = Date.parse('2026-12-04T10:05:00Z');
  const step = (alarmName: string, name = breakerStepScheduleName('probe', 'uuid-1', due)) =>
    undelivered(
      JSON.stringify({ hooklineCircuitBreaker: 'probe', alarmName }),
      `Hookline-probes/${name}`,
      BREAKER_FUNCTION,
    );

  it("is the probe of its queue's breaker, due when its schedule's name says, with Scheduler's run and retries", () => {
    expect(describeIn(BREAKER_SCHEDULES, step(breakerAlarmName('Hookline', 'events')))).toEqual({
      subject: 'circuit breaker probe of the events queue',
      description: 'circuit breaker probe of the events queue, due 2026-12-04T10:05:00.000Z',
      schedule: 'probe-uuid-1-1796378700',
      scheduleGroup: 'Hookline-probes',
      executionId: 'exec-1',
      retryAttempts: 185,
      targetArn: BREAKER_FUNCTION,
      queue: 'events',
      breaker: {
        step: 'probe',
        alarmName: 'Hookline/events/circuit-breaker',
        dueAt: '2026-12-04T10:05:00.000Z',
      },
    });
  });

  it("names the queue of a step carrying the alarm's earlier dashed name through the stack's name", () => {
    const described = describeIn(BREAKER_SCHEDULES, step('Hookline-order-events-circuit-breaker'));
    expect(described?.queue).toBe('order-events');
  });

  it('names the alarm of a step for no queue of this stack, and a schedule name that gives no time', () => {
    const described = describeIn(BREAKER_SCHEDULES, step('Other/events/circuit-breaker', 'hand-made'));
    expect(described?.description).toBe('circuit breaker probe of the events queue');
    const foreign = describeIn(BREAKER_SCHEDULES, step('Other-events-circuit-breaker', 'hand-made'));
    expect(foreign).toMatchObject({
      queue: null,
      description: 'circuit breaker probe of alarm Other-events-circuit-breaker (no queue of this stack)',
      breaker: { dueAt: null },
    });
  });

  it('says so of a body in that queue that is no step', () => {
    const other = undelivered('{"v":1}', 'Hookline-probes/x', BREAKER_FUNCTION);
    expect(describeIn(BREAKER_SCHEDULES, other)?.subject).toBe(
      'not a circuit breaker probe or close (its body is no step)',
    );
  });
});

describe('a delivery of a job or a schedule Scheduler could not make', () => {
  const envelope = deadLetterMessage(7, { error: false }).Body ?? '';

  it("is a delayed job for the queue Scheduler's target names", () => {
    const job = undelivered(envelope, 'default/Hookline-evt-7', EVENTS.arn, '0');
    expect(describeIn(JOB_SCHEDULES, job)).toMatchObject({
      description: 'delayed job for the events queue',
      queue: 'events',
      schedule: 'Hookline-evt-7',
      retryAttempts: 0,
    });
  });

  it('names a target that is no queue of the pipeline now', () => {
    const gone = 'arn:aws:sqs:us-east-1:123456789012:Hookline-removed';
    expect(describeIn(JOB_SCHEDULES, undelivered(envelope, 'default/x', gone))?.description).toBe(
      `delayed job for ${gone} (no queue of this pipeline now)`,
    );
  });

  it("is the configured schedule's event, by the schedule's own name", () => {
    const heartbeat = undelivered(envelope, 'default/Hookline-Heartbeat-1A2B', EVENTS.arn);
    expect(describeIn('schedule:heartbeat', heartbeat)?.description).toBe(
      'event of schedule heartbeat for the events queue',
    );
  });

  it("is nothing of the kind in a queue's own dead-letter queue", () => {
    expect(describeIn('events', undelivered(envelope, 'default/x', EVENTS.arn))).toBeNull();
  });
});
