/**
 * Names of the stack outputs, and the CLI's names of the dead-letter queues that belong to no queue (which the
 * stack's alarms tell the operator to type). The CLI finds a deployed pipeline's resources through them, so they
 * are a public contract: change them only together with `bin/hookline.ts`.
 */

/**
 * Kinds of per-source, per-queue or per-schedule outputs. Only what no other output derives: a stack holds at
 * most 200 outputs, so every output per queue lowers how many queues one stack holds.
 */
export type OutputKind =
  | 'WebhookUrl'
  | 'QueueUrl'
  | 'DeadLetterQueueUrl'
  /** Named by CloudFormation (the function declares no name), so derived from nothing. */
  | 'ConsumerFunctionName'
  /** Known only to Lambda: finding it from the function and queue would take a call per queue. */
  | 'EventSourceMappingId'
  /** The consumer function's log group (`hookline trace`): named by CloudFormation too, not after the function. */
  | 'ConsumerLogGroupName'
  /** A verifying source's signing secret: its ARN, or its name when the configuration names an existing one. */
  | 'SigningSecretId'
  /** A forwarding queue's signing secret (`hookline forward secret`): its ARN, or the existing secret's name. */
  | 'ForwardSecretId'
  /** A configured schedule's dead-letter queue (deliveries EventBridge Scheduler gave up on). */
  | 'ScheduleDeadLetterQueueUrl';

/**
 * Kinds of outputs earlier versions declared and this one leaves out, since the CLI derives them: each queue's ARN,
 * from its URL and the stack's own ARN (`queueArnOfUrl`). The CLI still reads them from a stack those versions
 * deployed, where they are present.
 */
export type FormerOutputKind = 'QueueArn' | 'DeadLetterQueueArn' | 'ScheduleDeadLetterQueueArn';

/** `billing-jobs` -> `BillingJobs`: CloudFormation output keys are alphanumeric. */
export function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** The output key for one resource of a source, queue or schedule, e.g. `outputKey('QueueUrl', 'events')` = `QueueUrlEvents`. */
export function outputKey(kind: OutputKind | FormerOutputKind, name: string): string {
  return `${kind}${pascalCase(name)}`;
}

/** Stack-wide outputs. */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  ingestFunctionName: 'IngestFunctionName',
  alarmTopicArn: 'AlarmTopicArn',
  dedupeTableName: 'DedupeTableName',
  idempotencyTableName: 'IdempotencyTableName',
  payloadBucketName: 'PayloadBucketName',
  dashboardName: 'DashboardName',
  archiveBucketName: 'ArchiveBucketName',
  archiveStreamName: 'ArchiveStreamName',
  ingestLogGroupName: 'IngestLogGroupName',
  /** The jobs endpoint function's log group (`hookline trace` of a job sent over HTTP), once it is deployed. */
  jobsEndpointLogGroupName: 'JobsEndpointLogGroupName',
  /** The one-time job schedules' dead-letter queue, once a producer may delay jobs (`grantSend` with delays). */
  jobSchedulesDeadLetterQueueUrl: 'JobSchedulesDeadLetterQueueUrl',
  /** The circuit breakers' probe and close schedules' dead-letter queue, once a breaker has `halfOpenAfter`. */
  breakerSchedulesDeadLetterQueueUrl: 'BreakerSchedulesDeadLetterQueueUrl',
} as const;

/**
 * What the key of every function log group's output contains (`IngestLogGroupName`, `JobsEndpointLogGroupName`,
 * `ConsumerLogGroupName<Queue>`) and no other output's: a command can select them all from `describe-stacks`, however
 * many consumers the stack has.
 */
export const LOG_GROUP_OUTPUT_MARK = 'LogGroupName';

/** Stack-wide outputs earlier versions declared, read only where present (see {@link FormerOutputKind}). */
export const FORMER_STACK_OUTPUTS = {
  jobSchedulesDeadLetterQueueArn: 'JobSchedulesDeadLetterQueueArn',
} as const;

/**
 * The CLI's name for the one-time job schedules' dead-letter queue (`hookline failed list job_schedules`): never a
 * configured queue's name, which has no `_`. Alarm descriptions name it too, so the operator can type it.
 */
export const JOB_SCHEDULES = 'job_schedules';

/**
 * What to do with a job in {@link JOB_SCHEDULES}, as the alarm, `hookline failed` and `hookline redrive` say it: its
 * own id is still claimed, so sending it again under that id is a duplicate that sends nothing.
 */
export const JOB_SCHEDULES_RESEND =
  'send the job again from its producer under a new id: its own id stays claimed until its dedupe window passes, and sent again before that it is answered as a duplicate and not sent';

/**
 * The CLI's name for the dead-letter queue of the circuit breakers' probe and close schedules
 * (`hookline failed list breaker_schedules`): never a configured queue's name, which has no `_`.
 */
export const BREAKER_SCHEDULES = 'breaker_schedules';

/**
 * What to do with a probe or close in {@link BREAKER_SCHEDULES}, as the alarm, `hookline failed` and `hookline
 * redrive` say it: Scheduler never invoked the breaker function with it, so its consumer stayed paused (or at probe
 * concurrency) and nothing will move it on.
 */
export const BREAKER_SCHEDULES_RECOVER =
  "resume the consumer by hand with hookline resume <queue>: its breaker alarm's name (<stack>/<queue>/circuit-breaker) is in the message's body, and hookline status shows it paused or probing";

/** How the CLI names a configured schedule's dead-letter queue: never a queue's name, which has no `:`. */
export const SCHEDULE_DEAD_LETTER_QUEUE_PREFIX = 'schedule:';

/** The CLI's name for the dead-letter queue of the configured schedule `schedule` (`schedule:nightly-report`). */
export function scheduleDeadLetterQueueName(schedule: string): string {
  return `${SCHEDULE_DEAD_LETTER_QUEUE_PREFIX}${schedule}`;
}
