/**
 * The configuration-side registry of sender types, keyed like `lambda/shared/senders` (a test holds the two
 * registries to the same types). Adding a sender = its runtime module + entry there, and its module here + an
 * entry in {@link CONFIG_SENDER_LIST}.
 */
import { z } from 'zod';
import { credentialHeadersOf, type SourceSettings } from '../../lambda/shared/senders';
import type { ConfigSender, RuntimeContext } from './config-sender';
import { github } from './github';
import { hmac } from './hmac';
import { shopify } from './shopify';
import { slack } from './slack';
import { standardWebhooks } from './standard-webhooks';
import { stripe } from './stripe';
import { token } from './token';
import { twilio } from './twilio';
import { unverified } from './unverified';

/** Every sender's configuration side, in the order the documentation lists them. */
export const CONFIG_SENDER_LIST = [
  github,
  stripe,
  slack,
  shopify,
  standardWebhooks,
  twilio,
  hmac,
  token,
  unverified,
] as const;

type SourceSchema = (typeof CONFIG_SENDER_LIST)[number]['schema'];

/** A source as written, whatever its type: its sender's schema, chosen by `type`. */
export const sourceConfigSchema = z.discriminatedUnion(
  'type',
  CONFIG_SENDER_LIST.map((sender) => sender.schema) as unknown as readonly [SourceSchema, ...SourceSchema[]],
);
export type SourceConfigOutput = z.output<typeof sourceConfigSchema>;

/** The type names, for messages. */
export const SENDER_TYPE_NAMES: readonly string[] = CONFIG_SENDER_LIST.map((sender) => sender.type);

/** The configuration side of a source's sender, typed for that source. */
export function configSenderFor<S extends SourceConfigOutput>(source: S): ConfigSender {
  const sender = CONFIG_SENDER_LIST.find((candidate) => candidate.type === source.type);
  if (!sender) throw new Error(`no sender of type "${source.type}"`);
  return sender as unknown as ConfigSender;
}

/** The runtime settings of a source, through its sender. */
export function runtimeSettingsOf(source: SourceConfigOutput, context: RuntimeContext): SourceSettings {
  return configSenderFor(source).runtimeSettings(source, context) as SourceSettings;
}

/**
 * Every credential header of a configuration's sources (the ingest's rule, `credentialHeadersOf`): what no view
 * shows and nothing groups by. Only header names are read, so no secret id is needed.
 */
export function credentialHeadersOfSources(sources: readonly SourceConfigOutput[]): ReadonlySet<string> {
  return credentialHeadersOf(
    sources.map((source) => runtimeSettingsOf(source, { secretId: () => 'not used' })),
  );
}
