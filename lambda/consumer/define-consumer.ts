/**
 * `defineConsumer`: turns a map of typed handlers into a Lambda handler for an SQS event source.
 *
 * Wiring only. The runtime configuration (HOOKLINE_CONSUMER_CONFIG) and the AWS clients are created on the first
 * invocation, not at import, so a consumer module can be imported (by tests, by local mode's worker threads)
 * before its environment is set. Everything else lives in the core (`./core`).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CONSUMER_CONFIG_ENV, consumerRuntimeSchema } from '../shared/consumer-config';
import { invocationOf } from '../shared/invocation-deadline';
import { readRuntimeConfig } from '../shared/read-runtime-config';
import { awsCollaborators } from './aws';
import { type ConsumerCollaborators, type ConsumerCore, createConsumerCore } from './core';
import { HandlerRouter } from './routing';
import type { ConsumerDefinition } from './types';

/** The Lambda handler `defineConsumer` returns (needs `ReportBatchItemFailures` on the event source mapping). */
export type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Where a handler keeps its definition, for `hookline/testing` to run it on in-memory collaborators. A registered
 * symbol, not a module-level map: a test that loads the runtime twice (two bundles, two copies of the package)
 * still finds it.
 */
const DEFINITION = Symbol.for('hookline.consumer.definition');

/** The definition a handler from {@link defineConsumer} was made from; undefined for any other function. */
export function definitionOf(handler: unknown): ConsumerDefinition | undefined {
  if (typeof handler !== 'function') return undefined;
  return (handler as { [DEFINITION]?: ConsumerDefinition })[DEFINITION];
}

/**
 * Declares a consumer. Export the result as `handler` from the file named by the queue's `consumer.entry`.
 *
 * @example
 * export const handler = defineConsumer({
 *   handlers: {
 *     'github.push': async (event, ctx) => ctx.logger.info('push', { id: event.id }),
 *     'stripe.invoice.*': { schema: z.object({ id: z.string() }), handle: async (event) => charge(event.payload.id) },
 *   },
 * });
 */
export function defineConsumer<Schemas extends Record<string, unknown>>(
  definition: ConsumerDefinition<Schemas>,
): ConsumerHandler {
  // Fail at import (cold start, and in any unit test importing the module) on a malformed key.
  new HandlerRouter(Object.keys(definition.handlers).map((key) => [key, key] as const));
  let core: ConsumerCore | undefined;
  let logger: ReturnType<typeof awsCollaborators>['logger'] | undefined;
  const handler: ConsumerHandler = async (event, context) => {
    if (!core) {
      const config = readRuntimeConfig(consumerRuntimeSchema, CONSUMER_CONFIG_ENV);
      const collaborators = awsCollaborators(config);
      logger = collaborators.logger;
      core = createConsumerCore(
        definition as ConsumerDefinition,
        config,
        collaborators as ConsumerCollaborators,
      );
    }
    // Adds the request id and function name to every line; local mode may pass a partial context.
    if (context && typeof context.awsRequestId === 'string') logger?.powertools.addContext(context);
    return core.processBatch(event, invocationOf(context));
  };
  return Object.defineProperty(handler, DEFINITION, { value: definition });
}
