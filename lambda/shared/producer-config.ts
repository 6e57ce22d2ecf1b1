/**
 * What a job producer reads from its environment: the stack's `grantSend(fn, queue)` sets one variable per
 * granted queue (`HOOKLINE_QUEUE_<NAME>`) and one with the shared settings (`HOOKLINE_PRODUCER`).
 */
// zod/mini: the same validation as zod with a tree-shakable API, so function bundles stay small.
import { z } from 'zod/mini';

/** The shared producer settings (dedupe table, claim-check bucket, scheduler role). */
export const PRODUCER_CONFIG_ENV = 'HOOKLINE_PRODUCER';

/** One variable per queue a function may send jobs to. */
export function producerQueueEnvName(queue: string): string {
  return `HOOKLINE_QUEUE_${queue.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
export const PRODUCER_QUEUE_ENV_PREFIX = 'HOOKLINE_QUEUE_';

export const producerQueueSchema = z.object({
  name: z.string().check(z.minLength(1)),
  url: z.string().check(z.minLength(1)),
  /** Needed only for delays beyond 15 minutes (the schedule's target). */
  arn: z.optional(z.string()),
  fifo: z.boolean(),
  /** The role one-time schedules send to this queue with (it may send to this queue only). */
  schedulerRoleArn: z.optional(z.string()),
});
export type ProducerQueue = z.infer<typeof producerQueueSchema>;

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
export type ProducerSettings = z.infer<typeof producerSettingsSchema>;

/**
 * The prefix of a stack's one-time job schedule names: the producer names schedules with it, and its grant (and
 * local mode's stand-in) covers names with it and no others. Short, because a schedule name holds 64 characters.
 */
export function jobScheduleNamePrefix(stackName: string): string {
  return `${stackName.replace(/[^0-9a-zA-Z_.-]/g, '-').slice(0, 24)}-job-`;
}
