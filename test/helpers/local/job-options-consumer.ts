/**
 * A job consumer for the local-mode test of a job's own attempts and backoff, on the real consumer runtime: every
 * run of a job appends `<id> <attempt>` to HOOKLINE_TEST_RECORD_FILE, before it fails or returns.
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { defineConsumer, handleJob } from '../../../lambda/consumer';
import { defineJob } from '../../../lambda/shared/job';

/** Always fails with a retryable error. */
export const flakyJob = defineJob('test.flaky', z.object({ why: z.string() }), { queue: 'jobs' });
/** Returns its input doubled. */
export const doubleJob = defineJob('math.double', z.object({ n: z.number() }), { queue: 'jobs' });

function record(id: string, attempt: number): void {
  const file = process.env.HOOKLINE_TEST_RECORD_FILE;
  if (!file) throw new Error('HOOKLINE_TEST_RECORD_FILE is not set');
  appendFileSync(file, `${id} ${attempt}\n`);
}

export const handler = defineConsumer({
  handlers: {},
  jobs: [
    handleJob(flakyJob, (event, ctx) => {
      record(event.id, ctx.attempt);
      throw new Error(`flaky: ${event.payload.why}`);
    }),
    handleJob(doubleJob, (event, ctx) => {
      record(event.id, ctx.attempt);
      return { doubled: event.payload.n * 2 };
    }),
  ],
});
