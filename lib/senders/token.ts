/** Configuration side of the `token` sender (runtime side: lambda/shared/senders/token.ts). */
import { z } from 'zod';
import { bodyHints, defineConfigSender, headerName, runtimeHints, sourceCommon } from './config-sender';

export const token = defineConfigSender({
  type: 'token',
  schema: z
    .object({
      type: z.literal('token'),
      ...sourceCommon,
      /**
       * `header`: the header holds the token; `basic`: HTTP Basic auth with the token as password.
       * @default 'header'
       */
      scheme: z.enum(['header', 'basic']).optional(),
      /**
       * Header holding the token (scheme `header`).
       * @default 'authorization'
       */
      header: headerName.optional(),
      ...bodyHints,
    })
    .strict(),
  example: { type: 'token', scheme: 'header', header: 'authorization' },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
    scheme: source.scheme ?? 'header',
    header: (source.header ?? 'authorization').toLowerCase(),
    ...runtimeHints(source),
  }),
});
