/** Jobs of the local-mode job tests, shared by the test (producer side) and `job-consumer.ts` (consumer side). */
import { z } from 'zod';
import { defineJob } from '../../../lambda/shared/job';

/** Doubles `n`; returns when it ran, so a test can check it ran no earlier than due. */
export const doubleJob = defineJob('math.double', z.object({ n: z.number() }), { queue: 'jobs' });
/** Takes `ms` milliseconds, so a test can see it processing. */
export const slowJob = defineJob('test.slow', z.object({ ms: z.number() }), { queue: 'jobs' });
/** Always fails permanently. */
export const failingJob = defineJob('test.fail', z.object({ why: z.string() }), { queue: 'jobs' });
/** Returns the text it was sent, so a test can put a string of its choosing into a job's result. */
export const echoJob = defineJob('test.echo', z.object({ text: z.string() }), { queue: 'jobs' });
/** A flow's part on the `parts` queue: fails while the file `failWhile` exists, else returns `n` squared. */
export const partJob = defineJob(
  'flow.part',
  z.object({ n: z.number(), failWhile: z.optional(z.string()) }),
  {
    queue: 'parts',
  },
);
/**
 * A flow's parent: returns the results of its children it was handed (`ctx.children`), and why the children it
 * ignored failed (`ctx.failedChildren`) when any did.
 */
export const reportJob = defineJob('flow.report', z.object({ name: z.string() }), { queue: 'jobs' });
