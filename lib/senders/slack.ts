/** Configuration side of the `slack` sender (runtime side: lambda/shared/senders/slack.ts). */
import { z } from 'zod';
import { defineConfigSender, sourceCommon, timestampTolerance, toleranceSettings } from './config-sender';

export const slack = defineConfigSender({
  type: 'slack',
  schema: z.object({ type: z.literal('slack'), ...sourceCommon, ...timestampTolerance }).strict(),
  example: { type: 'slack' },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
    ...toleranceSettings(source),
  }),
});
