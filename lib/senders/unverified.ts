/** Configuration side of the `unverified` sender (runtime side: lambda/shared/senders/unverified.ts). */
import { z } from 'zod';
import { violation } from '../violations';
import { bodyHints, defineConfigSender, runtimeHints } from './config-sender';

export const unverified = defineConfigSender({
  type: 'unverified',
  schema: z
    .object({
      type: z.literal('unverified'),
      /** Must be `true`: this source accepts requests from anyone. Never use it in production. */
      dangerouslyAcceptUnverifiedRequests: z.boolean(),
      ...bodyHints,
    })
    .strict(),
  example: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
  violations: (source) =>
    source.dangerouslyAcceptUnverifiedRequests === true
      ? []
      : [
          violation(
            'dangerouslyAcceptUnverifiedRequests',
            'an unverified source accepts requests from anyone and must be opted into explicitly',
            source.dangerouslyAcceptUnverifiedRequests,
            'set dangerouslyAcceptUnverifiedRequests: true (never in production), or pick a verifying type such as hmac or token',
          ),
        ],
  runtimeSettings: (source) => ({ type: source.type, ...runtimeHints(source) }),
});
