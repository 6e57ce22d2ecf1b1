/**
 * `hookline/testing`: test a consumer without AWS, emulators or environment variables, in any test framework.
 * Build the events a handler receives (`webhookEvent`, `jobEvent`) and its `ctx` (`handlerContext`) to call a
 * handler directly, or run the whole consumer on a batch (`consumerRunner`) to see what hookline does with each
 * event: processed, retried after its backoff, dead-lettered with its reason, or skipped as a duplicate.
 * Never import it from a consumer file: it is a separate entry, kept out of the consumer's bundle.
 */

export {
  type HandlerContextOptions,
  handlerContext,
  type LogLine,
  RecordingLogger,
  type TestHandlerContext,
} from './context';
export {
  type JobEventOptions,
  jobEvent,
  type TestEvent,
  type WebhookEventOptions,
  webhookEvent,
} from './events';
export {
  type ConsumerRunner,
  type ConsumerRunnerOptions,
  consumerRunner,
  type DeadLetterReason,
  type TestOutcome,
} from './runner';
