/**
 * `.hookline/local.json`, the contract between local mode (which writes it while running and removes it on
 * stop) and the CLI (which finds the running local mode through it). One schema for both sides: the writer
 * is typed by it, the reader parses with it.
 */
import { join } from 'node:path';
import { z } from 'zod';

/** The state file's name inside the state directory. */
export const STATE_FILE_NAME = 'local.json';

export const localStateSchema = z.object({
  pid: z.number().int(),
  webhookBaseUrl: z.string().min(1),
  controlUrl: z.string().min(1),
  region: z.string().min(1),
  endpoints: z.object({ sqs: z.string().min(1), s3: z.string().optional(), dynamodb: z.string().optional() }),
  queues: z.record(
    z.string(),
    z.object({
      url: z.string().min(1),
      arn: z.string().min(1),
      deadLetterUrl: z.string().min(1),
      deadLetterArn: z.string().min(1),
      fifo: z.boolean(),
    }),
  ),
  consumers: z.record(z.string(), z.object({ state: z.string() })).default({}),
  /** The event archive (bucket in the local S3), when archiving is on. */
  archive: z.object({ bucket: z.string().min(1), stream: z.string().min(1) }).optional(),
});
export type LocalState = z.infer<typeof localStateSchema>;

/** Where the state file lives: `$HOOKLINE_STATE_DIR/local.json`, else `<cwd>/.hookline/local.json`. */
export function localStatePath(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): string {
  return join(env.HOOKLINE_STATE_DIR || join(cwd, '.hookline'), STATE_FILE_NAME);
}

/** The event journal's name inside the state directory: one JSON line per reported event, for `hookline trace`. */
export const JOURNAL_FILE_NAME = 'journal.jsonl';

/** Where local mode's event journal lives: next to the state file. */
export function localJournalPath(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): string {
  return join(env.HOOKLINE_STATE_DIR || join(cwd, '.hookline'), JOURNAL_FILE_NAME);
}
