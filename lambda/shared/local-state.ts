/**
 * `.hookline/local.json`, the contract between local mode (which writes it while running and removes it on
 * stop) and its readers: the CLI and the job producer find the running local mode through it. One schema for
 * every side: the writer is typed by it, the readers parse with it.
 */
import { join } from 'node:path';
// zod/mini: the same validation as zod with a tree-shakable API, so a producer's bundle stays small.
import { z } from 'zod/mini';

/** The state file's name inside the state directory. */
export const STATE_FILE_NAME = 'local.json';

export const localStateSchema = z.object({
  pid: z.int(),
  webhookBaseUrl: z.string().check(z.minLength(1)),
  controlUrl: z.string().check(z.minLength(1)),
  region: z.string().check(z.minLength(1)),
  endpoints: z.object({
    sqs: z.string().check(z.minLength(1)),
    s3: z.optional(z.string()),
    dynamodb: z.optional(z.string()),
    /** Local mode's EventBridge Scheduler stand-in (one-time job schedules). */
    scheduler: z.optional(z.string()),
  }),
  queues: z.record(
    z.string(),
    z.object({
      url: z.string().check(z.minLength(1)),
      arn: z.string().check(z.minLength(1)),
      deadLetterUrl: z.string().check(z.minLength(1)),
      deadLetterArn: z.string().check(z.minLength(1)),
      fifo: z.boolean(),
    }),
  ),
  consumers: z._default(z.record(z.string(), z.object({ state: z.string() })), {}),
  /** The event archive (bucket in the local S3), when archiving is on. */
  archive: z.optional(
    z.object({ bucket: z.string().check(z.minLength(1)), stream: z.string().check(z.minLength(1)) }),
  ),
  /** What a job producer needs besides the queues. */
  jobs: z.optional(
    z.object({
      dedupeTable: z.optional(z.string()),
      dedupeTtlSeconds: z.optional(z.int()),
      payloadBucket: z.optional(z.string()),
      inlineLimitBytes: z.optional(z.int()),
      schedulerRoleArn: z.optional(z.string()),
      scheduleNamePrefix: z.optional(z.string()),
    }),
  ),
});
export type LocalState = z.infer<typeof localStateSchema>;

/** Where the state file lives: `$HOOKLINE_STATE_DIR/local.json`, else `<cwd>/.hookline/local.json`. */
export function localStatePath(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): string {
  return join(env.HOOKLINE_STATE_DIR || join(cwd, '.hookline'), STATE_FILE_NAME);
}
