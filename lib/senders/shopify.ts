/** Configuration side of the `shopify` sender (runtime side: lambda/shared/senders/shopify.ts). */
import { z } from 'zod';
import { defineConfigSender, sourceCommon } from './config-sender';

export const shopify = defineConfigSender({
  type: 'shopify',
  schema: z.object({ type: z.literal('shopify'), ...sourceCommon }).strict(),
  example: { type: 'shopify' },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
  }),
});
