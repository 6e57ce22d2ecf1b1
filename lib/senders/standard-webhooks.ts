/** Configuration side of the `standard-webhooks` sender (runtime side: lambda/shared/senders/standard-webhooks.ts). */
import { z } from 'zod';
import { defineConfigSender, sourceCommon, timestampTolerance, toleranceSettings } from './config-sender';

export const standardWebhooks = defineConfigSender({
  type: 'standard-webhooks',
  schema: z.object({ type: z.literal('standard-webhooks'), ...sourceCommon, ...timestampTolerance }).strict(),
  example: { type: 'standard-webhooks' },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
    ...toleranceSettings(source),
  }),
});
