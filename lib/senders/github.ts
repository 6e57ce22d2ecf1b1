/** Configuration side of the `github` sender (runtime side: lambda/shared/senders/github.ts). */
import { z } from 'zod';
import { defineConfigSender, sourceCommon } from './config-sender';

export const github = defineConfigSender({
  type: 'github',
  schema: z.object({ type: z.literal('github'), ...sourceCommon }).strict(),
  example: { type: 'github' },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
  }),
});
