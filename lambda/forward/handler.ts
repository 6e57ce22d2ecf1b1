/**
 * The forwarding consumer (`consumer.forward`): the consumer runtime, with one default handler that posts every
 * event and job to the configured destination (./core). Thin: the configuration and the secret loader are made on
 * the first event, so local mode's sandboxes may import this before their environment is set.
 */
import { defineConsumer } from '../consumer/define-consumer';
import type { ConsumerEvent, HandlerContext } from '../consumer/types';
import { createSecretLoader } from '../ingest/secrets';
import { clientOptions, INGEST_BUDGET } from '../shared/aws-clients';
import { FORWARD_CONFIG_ENV, forwardRuntimeSchema } from '../shared/forward-config';
import { onFirstUse } from '../shared/on-first-use';
import { readRuntimeConfig } from '../shared/read-runtime-config';
import { createForwarder } from './core';

const fetchSecretString = onFirstUse(async () =>
  (await import('../ingest/secrets-manager')).secretsManagerFetcher(
    clientOptions('SECRETS_MANAGER', INGEST_BUDGET),
  ),
);

let forward: ((event: ConsumerEvent, ctx: HandlerContext) => Promise<void>) | undefined;

function forwarder(): NonNullable<typeof forward> {
  if (forward) return forward;
  const config = readRuntimeConfig(forwardRuntimeSchema, FORWARD_CONFIG_ENV);
  const loadSecrets = createSecretLoader({
    cacheSeconds: config.secretCacheSeconds,
    fetchSecretString: async (secretId) => (await fetchSecretString())(secretId),
  });
  forward = createForwarder(config, {
    fetch: globalThis.fetch,
    // Each active secret signs, the newest first: a rotation keeps both until --remove-old.
    loadSecrets: () => loadSecrets(config.secretId),
    now: Date.now,
  });
  return forward;
}

export const handler = defineConsumer({
  handlers: {},
  default: (event, ctx) => forwarder()(event, ctx),
});
