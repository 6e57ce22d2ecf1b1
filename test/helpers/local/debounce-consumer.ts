/**
 * A job consumer for the local-mode test of debounced jobs, on the real consumer runtime: every run of a job appends
 * `<id>:<edit> <attempt>` to HOOKLINE_TEST_RECORD_FILE, so the test reads which payload ran, and how often. A
 * negative edit fails for good (dead-lettered at once, nothing appended).
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { defineConsumer, handleJob, PermanentError } from '../../../lambda/consumer';
import { defineJob } from '../../../lambda/shared/job';

/** Re-indexes a document: returns the edit it saw. */
export const reindexJob = defineJob('doc.reindex', z.object({ edit: z.number() }), { queue: 'jobs' });

export const handler = defineConsumer({
  handlers: {},
  jobs: [
    handleJob(reindexJob, (event, ctx) => {
      const file = process.env.HOOKLINE_TEST_RECORD_FILE;
      if (!file) throw new Error('HOOKLINE_TEST_RECORD_FILE is not set');
      if (event.payload.edit < 0) throw new PermanentError(`edit ${event.payload.edit} cannot be indexed`);
      appendFileSync(file, `${event.id}:${event.payload.edit} ${ctx.attempt}\n`);
      return { indexedEdit: event.payload.edit };
    }),
  ],
});
