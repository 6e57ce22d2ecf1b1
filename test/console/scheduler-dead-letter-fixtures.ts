/**
 * A deployed stack with the dead-letter queues EventBridge Scheduler fills (a schedule's and the one-time job
 * schedules' one; the circuit breakers' one apart), and deliveries Scheduler gave up on in each: shared by the
 * console's API and browser tests.
 */
import { breakerAlarmName, breakerStepScheduleName } from '../../lambda/shared/circuit-breaker';
import type { StackTarget } from '../../lib/cli/target';
import { EVENTS, stackTarget } from '../cli/helpers';

const account = 'arn:aws:sqs:us-east-1:123456789012';
export const sqsUrl = (name: string) => `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
export const HEARTBEAT = 'schedule:heartbeat';
export const HEARTBEAT_EVENT_ID = 'heartbeat:2026-11-25T01:00:00Z';

export const schedulerDeadLetterTarget = (): StackTarget => ({
  ...stackTarget(),
  jobSchedulesDeadLetterQueue: {
    name: 'job_schedules',
    deadLetterUrl: sqsUrl('Hookline-JobSchedulesDlq'),
    deadLetterArn: `${account}:Hookline-JobSchedulesDlq`,
    holds: 'one-time jobs Scheduler could not deliver',
  },
  scheduleDeadLetterQueues: [
    {
      name: HEARTBEAT,
      deadLetterUrl: sqsUrl('Hookline-HeartbeatDlq'),
      deadLetterArn: `${account}:Hookline-HeartbeatDlq`,
      holds: 'deliveries of schedule heartbeat to the events queue Scheduler gave up on',
      redriveTo: 'events',
    },
  ],
});

/** A delivery of the heartbeat schedule that Scheduler gave up on: its envelope, Scheduler's reason. */
export const undeliveredHeartbeat = () => ({
  MessageId: 'sqs-hb-1',
  ReceiptHandle: 'rh-hb-1',
  Body: JSON.stringify({
    v: 1,
    id: HEARTBEAT_EVENT_ID,
    source: 'schedule',
    type: 'schedule.heartbeat',
    receivedAt: '2026-11-25T01:00:00Z',
    headers: { 'x-hookline-schedule': 'heartbeat' },
    contentType: 'application/json',
    body: '{}',
    bodyEncoding: 'utf8',
  }),
  Attributes: { SentTimestamp: String(Date.parse('2026-11-25T01:00:00Z')), ApproximateReceiveCount: '1' },
  MessageAttributes: {
    ERROR_CODE: { DataType: 'String', StringValue: 'AccessDenied' },
    ERROR_MESSAGE: { DataType: 'String', StringValue: 'not authorized to perform sqs:SendMessage' },
    TARGET_ARN: { DataType: 'String', StringValue: EVENTS.arn },
  },
});

/** The circuit breakers' schedules' dead-letter queue, as a stack with a breaker names it. */
export const BREAKER_SCHEDULES_DLQ = {
  name: 'breaker_schedules',
  deadLetterUrl: sqsUrl('Hookline-BreakerSchedulesDlq'),
  deadLetterArn: `${account}:Hookline-BreakerSchedulesDlq`,
  holds: 'circuit breaker probes and closes Scheduler could not deliver',
};

const string = (value: string) => ({ DataType: 'String', StringValue: value });

/** Scheduler's attributes on a message it gave up on (its reason, run, retries, schedule and target). */
const schedulerAttributes = (schedule: string, target: string) => ({
  ERROR_CODE: string('AccessDenied'),
  ERROR_MESSAGE: string('not authorized to perform sqs:SendMessage'),
  EXECUTION_ID: string('exec-1'),
  RETRY_ATTEMPTS: string('185'),
  SCHEDULE_ARN: string(`arn:aws:scheduler:us-east-1:123456789012:schedule/${schedule}`),
  TARGET_ARN: string(target),
});

export const UNDELIVERED_JOB_ID = 'remind-u42';

/** A delayed job for the events queue whose one-time schedule Scheduler could not deliver. */
export const undeliveredJob = () => ({
  MessageId: 'sqs-job-1',
  ReceiptHandle: 'rh-job-1',
  Body: JSON.stringify({
    v: 1,
    id: UNDELIVERED_JOB_ID,
    source: 'job',
    type: 'mail.remind',
    receivedAt: '2026-11-25T01:00:00Z',
    headers: {},
    contentType: 'application/json',
    body: '{}',
    bodyEncoding: 'utf8',
  }),
  Attributes: { SentTimestamp: String(Date.parse('2026-11-25T01:05:00Z')), ApproximateReceiveCount: '1' },
  MessageAttributes: schedulerAttributes('default/Hookline-remind-u42', EVENTS.arn),
});

export const BREAKER_PROBE_DUE = '2026-12-04T10:05:00.000Z';

/** A probe of the events queue's circuit breaker Scheduler could not hand the breaker function: no envelope. */
export const undeliveredBreakerProbe = () => ({
  MessageId: 'sqs-probe-1',
  ReceiptHandle: 'rh-probe-1',
  Body: JSON.stringify({
    hooklineCircuitBreaker: 'probe',
    alarmName: breakerAlarmName('Hookline', 'events'),
  }),
  Attributes: { SentTimestamp: String(Date.parse(BREAKER_PROBE_DUE)), ApproximateReceiveCount: '1' },
  MessageAttributes: schedulerAttributes(
    `Hookline-probes/${breakerStepScheduleName('probe', 'uuid-1', Date.parse(BREAKER_PROBE_DUE))}`,
    'arn:aws:lambda:us-east-1:123456789012:function:Hookline-Breaker',
  ),
});
