/**
 * Job handlers for `defineConsumer({ jobs: [...] })`: the job's own schema (`defineJob`) types and validates the
 * payload, so the producer and the consumer cannot disagree about it.
 */
import { type JobDefinition, JobPayloadError, validateJobPayload } from '../shared/job';
import { InvalidPayloadError } from './errors';
import type { JobHandler } from './types';

/**
 * Handles a job; `event.payload` is the job's validated payload, and the resolved value is kept as its result.
 *
 * @example
 * export const handler = defineConsumer({
 *   handlers: {},
 *   jobs: [handleJob(welcomeEmail, async (event) => ({ sent: await mail(event.payload.userId) }))],
 * });
 */
export function handleJob<J extends JobDefinition>(job: J, handle: JobHandler<J>['handle']): JobHandler<J> {
  return { job, handle };
}

/** The payload validated by the job's schema; a payload that does not fit is permanent (straight to the DLQ). */
export async function validateJob(job: JobDefinition, payload: unknown): Promise<unknown> {
  try {
    return await validateJobPayload(job, payload);
  } catch (error) {
    if (error instanceof JobPayloadError) throw new InvalidPayloadError(error.message, { cause: error });
    throw error;
  }
}
