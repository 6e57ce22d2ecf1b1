/**
 * A job consumer for local-mode job tests, on the real consumer runtime: every handler run appends `<id> <attempt>`
 * to HOOKLINE_TEST_RECORD_FILE (as the recording consumer does), and each job returns a result.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { defineConsumer, handleJob, PermanentError } from '../../../lambda/consumer';
import { doubleJob, echoJob, failingJob, partJob, reportJob, slowJob } from './jobs';

function record(id: string, attempt: number): void {
  const file = process.env.HOOKLINE_TEST_RECORD_FILE;
  if (!file) throw new Error('HOOKLINE_TEST_RECORD_FILE is not set');
  appendFileSync(file, `${id} ${attempt}\n`);
}

export const handler = defineConsumer({
  handlers: {},
  jobs: [
    handleJob(doubleJob, (event, ctx) => {
      record(event.id, ctx.attempt);
      return { doubled: event.payload.n * 2, ranAt: Date.now() };
    }),
    handleJob(slowJob, async (event, ctx) => {
      // Halfway at 50, then a tight loop to 100: the record shows 50 while it runs and 100 once it completed.
      ctx.progress({ step: 'sleeping' });
      await new Promise((resolve) => setTimeout(resolve, event.payload.ms / 2));
      ctx.progress(50);
      await new Promise((resolve) => setTimeout(resolve, event.payload.ms / 2));
      for (let n = 51; n <= 100; n++) ctx.progress(n);
      record(event.id, ctx.attempt);
      return 'slept';
    }),
    handleJob(echoJob, (event, ctx) => {
      ctx.progress({ chars: event.payload.text.length });
      return { echoed: event.payload.text };
    }),
    handleJob(partJob, (event, ctx) => {
      if (event.payload.failWhile && existsSync(event.payload.failWhile))
        throw new Error('the part is not ready');
      record(event.id, ctx.attempt);
      return { squared: event.payload.n ** 2 };
    }),
    handleJob(reportJob, (event, ctx) => {
      record(event.id, ctx.attempt);
      const failed = ctx.failedChildren ?? {};
      return {
        children: ctx.children,
        ...(Object.keys(failed).length > 0 ? { failedChildren: failed } : {}),
      };
    }),
    handleJob(failingJob, (event) => {
      throw new PermanentError(`cannot: ${event.payload.why}`);
    }),
  ],
});
