/**
 * A deployed stack with the dead-letter queues EventBridge Scheduler fills (a schedule's and the one-time job
 * schedules' one), and a heartbeat delivery Scheduler gave up on: shared by the console's API and browser tests.
 */
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
