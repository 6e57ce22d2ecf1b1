/**
 * The consumer runtime. A consumer file is itself the Lambda entry:
 *
 * ```ts
 * import { defineConsumer, PermanentError } from '../consumer';
 * export const handler = defineConsumer({ handlers: { 'github.push': async (event, ctx) => {} } });
 * ```
 */
export type { ConsumerHandler } from './define-consumer';
export { defineConsumer } from './define-consumer';
export { PermanentError } from './errors';
export type {
  ConsumerDefinition,
  ConsumerEvent,
  ConsumerLogger,
  EventHandler,
  HandlerContext,
  HandlerSpec,
  SchemaHandler,
} from './types';
