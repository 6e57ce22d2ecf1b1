/**
 * What a job producer reads from its environment: the stack's `grantSend(fn, queue)` sets one variable listing
 * every granted queue (`HOOKLINE_QUEUES`) and one with the shared settings (`HOOKLINE_PRODUCER`).
 */
import { createHash } from 'node:crypto';
// zod/mini: the same validation as zod with a tree-shakable API, so function bundles stay small.
import { z } from 'zod/mini';
import { type AwsLocation, arnOf, awsLocationSchema, queueUrlOf } from './aws-location';
import { isFifoQueueName } from './contracts';

/** The shared producer settings (dedupe table, claim-check bucket, scheduler role). */
export const PRODUCER_CONFIG_ENV = 'HOOKLINE_PRODUCER';

/** The queues a function may send jobs to, in one variable (see {@link producerQueuesSchema}). */
export const PRODUCER_QUEUES_ENV = 'HOOKLINE_QUEUES';

/**
 * Where a function's queues and scheduler roles are: written once, so each queue costs only its names. Lambda
 * allows 4 KB of variables for a whole function, and a full URL and ARN per queue filled it at about 6 queues.
 */
export const queueLocationSchema = awsLocationSchema;
export type QueueLocation = AwsLocation;

/** One granted queue, by the name jobs address it with (`defineJob(..., { queue })`). */
export const grantedQueueSchema = z.object({
  /** The queue's physical name; a FIFO queue's ends in `.fifo`, as SQS requires. */
  queue: z.string().check(z.minLength(1)),
  /** With delays: the name of the role one-time schedules send to this queue with (a role without a path). */
  role: z.optional(z.string().check(z.minLength(1))),
  /** Granted with flows: its consumer may send flow parents (`grantSend(fn, queue, { flows: true })`). */
  flows: z.optional(z.literal(true)),
});
export type GrantedQueue = z.infer<typeof grantedQueueSchema>;

/** `HOOKLINE_QUEUES`: where, once, and each granted queue by its configured name. */
export const producerQueuesSchema = z.object({
  ...queueLocationSchema.shape,
  queues: z.record(z.string(), grantedQueueSchema),
});
export type ProducerQueuesVariable = z.infer<typeof producerQueuesSchema>;

/** A queue the producer may send to, as it uses it. */
export interface ProducerQueue {
  /** The configured name jobs address the queue with. */
  readonly name: string;
  readonly url: string;
  /** Needed only for delays beyond 15 minutes (the schedule's target). */
  readonly arn?: string;
  readonly fifo: boolean;
  /** The role one-time schedules send to this queue with (it may send to this queue only). */
  readonly schedulerRoleArn?: string;
  /**
   * The queue's `maxReceiveCount`, when the producer knows it (local mode, explicit queues): a job asking for more
   * attempts is refused at send. A granted function's environment does not carry it; its consumer caps them.
   */
  readonly maxReceiveCount?: number;
  /**
   * False when the stack granted it without flows (its consumer may not send a flow's parent); undefined where
   * the producer cannot know (queues given explicitly, local mode), and flows are let through.
   */
  readonly flows?: boolean;
}

/**
 * A granted queue's URL, ARN and scheduler role ARN, from its names and where it is (`./aws-location`); a role's
 * ARN is `arn:<partition>:iam::<account>:role/<path><name>`, and hookline's scheduler roles have no path.
 */
export function producerQueueOf(where: QueueLocation, name: string, granted: GrantedQueue): ProducerQueue {
  return {
    name,
    url: queueUrlOf(where, granted.queue),
    arn: arnOf(where, 'sqs', granted.queue),
    fifo: isFifoQueueName(granted.queue),
    flows: granted.flows === true,
    ...(granted.role
      ? { schedulerRoleArn: arnOf(where, 'iam', `role/${granted.role}`, { global: true }) }
      : {}),
  };
}

/** Every queue of a `HOOKLINE_QUEUES` value, by configured name. */
export function producerQueuesOf(variable: ProducerQueuesVariable): Record<string, ProducerQueue> {
  const { queues, ...where } = variable;
  return Object.fromEntries(
    Object.entries(queues).map(([name, granted]) => [name, producerQueueOf(where, name, granted)]),
  );
}

export const producerSettingsSchema = z.object({
  dedupe: z.optional(
    z.object({ tableName: z.string().check(z.minLength(1)), ttlSeconds: z.int().check(z.positive()) }),
  ),
  payloads: z.optional(
    z.object({
      bucket: z.string().check(z.minLength(1)),
      inlineLimitBytes: z.int().check(z.positive()),
      /** How long the bucket keeps a payload (its lifecycle expiry): a delayed job's must outlive its delay. */
      expirySeconds: z.optional(z.int().check(z.positive())),
    }),
  ),
  /** Present when the function may create one-time schedules (delays beyond SQS's 15 minutes). */
  scheduler: z.optional(
    z.object({
      /** The role schedules send with, when one role serves every queue (local mode); else per queue. */
      roleArn: z.optional(z.string()),
      /** Schedule names start with this, which the producer's grant is limited to. */
      namePrefix: z.string().check(z.minLength(1)),
      groupName: z.optional(z.string()),
      /** Where Scheduler puts a one-time schedule's job it could not deliver, instead of dropping it. */
      deadLetterQueueArn: z.optional(z.string()),
    }),
  ),
});
/**
 * The settings a producer shares across its queues, as `grantSend` writes them to `HOOKLINE_PRODUCER`: the dedupe table
 * (job ids and records) and how long it keeps a key, the payload bucket, and the one-time schedules' settings.
 */
export type ProducerSettings = z.infer<typeof producerSettingsSchema>;

/**
 * The schedule group a deployed stack's one-time job schedules are in: Scheduler's `default` group, as the producer
 * names none. Its grants, the scheduler roles' trust and `hookline status`'s count of waiting jobs all name it.
 */
export const JOB_SCHEDULE_GROUP = 'default';

/**
 * The prefix of a stack's one-time job schedule names: the producer names schedules with it, and its grant (and
 * local mode's stand-in) covers names with it and no others. Short, because a schedule name holds 64 characters.
 * A name cut or rewritten to fit could be another stack's in the same account and region (`…-payments` and
 * `…-shipping` share their first 24 characters): it keeps its first 15 characters and a hash of the whole name,
 * or one stack could read, overwrite and delete the other's schedules, and a job id both use would be taken for
 * the other's, already scheduled.
 */
export function jobScheduleNamePrefix(stackName: string): string {
  const safe = stackName.replace(/[^0-9a-zA-Z_.-]/g, '-');
  if (safe === stackName && safe.length <= 24) return `${safe}-job-`;
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 8);
  return `${safe.slice(0, 15)}-${hash}-job-`;
}

/** How many hex characters of a hash follow the prefix in a job schedule's name: what 64 characters leave, at least 8. */
export function jobScheduleHashLength(prefix: string): number {
  return Math.max(8, 64 - prefix.length);
}

/**
 * Whether `name` is one of the job schedules `prefix` names: the prefix, then the hash alone. A prefix alone is not
 * enough: the stack `Orders-job-runner` names its schedules `Orders-job-runner-job-…`, which start with `Orders-job-`
 * too.
 */
export function isJobScheduleName(prefix: string, name: string): boolean {
  const hash = name.slice(prefix.length);
  return name.startsWith(prefix) && hash.length === jobScheduleHashLength(prefix) && /^[0-9a-f]+$/.test(hash);
}
