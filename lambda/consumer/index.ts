/**
 * The consumer runtime. A consumer file is itself the Lambda entry:
 *
 * ```ts
 * import { defineConsumer, PermanentError } from '../consumer';
 * export const handler = defineConsumer({ handlers: { 'github.push': async (event, ctx) => {} } });
 * ```
 */

export type { Delay, DurationLike } from '../shared/duration';
export { defineJob, type JobDefinition, type JobPayload } from '../shared/job';
export type { StandardSchemaV1 } from '../shared/standard-schema';
export type { ConsumerHandler } from './define-consumer';
export { defineConsumer } from './define-consumer';
export { AttemptsExhaustedError, PermanentError, RetryLaterError } from './errors';
export { handleJob } from './jobs';
export { bodyBytes } from './payload';
export { InvalidProgressError, type JobProgress, MAX_PROGRESS_BYTES } from './progress';
export type {
  AnyJobHandler,
  ConsumerDefinition,
  ConsumerEvent,
  ConsumerLogger,
  EventHandler,
  HandlerContext,
  HandlerSpec,
  JobHandler,
  LogExtra,
  SchemaHandler,
} from './types';
