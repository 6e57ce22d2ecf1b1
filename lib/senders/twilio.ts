/** Configuration side of the `twilio` sender (runtime side: lambda/shared/senders/twilio.ts). */
import { z } from 'zod';
import { defineConfigSender, sourceCommon } from './config-sender';

export const twilio = defineConfigSender({
  type: 'twilio',
  schema: z
    .object({
      type: z.literal('twilio'),
      ...sourceCommon,
      /**
       * Public base URL Twilio calls when a custom domain fronts the API (Twilio signs the full URL);
       * `/webhooks/<name>` is appended.
       * @default - the URL the request arrived at
       */
      publicUrl: z.string().url().optional(),
    })
    .strict(),
  example: { type: 'twilio', publicUrl: 'https://hooks.example.com' },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
    ...(source.publicUrl ? { publicUrl: source.publicUrl } : {}),
  }),
});
