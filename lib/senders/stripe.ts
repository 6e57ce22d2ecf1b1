/** Configuration side of the `stripe` sender (runtime side: lambda/shared/senders/stripe.ts). */
import { Duration } from 'aws-cdk-lib/core';
import { z } from 'zod';
import { defineConfigSender, sourceCommon, timestampTolerance, toleranceSettings } from './config-sender';

export const stripe = defineConfigSender({
  type: 'stripe',
  schema: z.object({ type: z.literal('stripe'), ...sourceCommon, ...timestampTolerance }).strict(),
  example: { type: 'stripe', tolerance: Duration.minutes(5) },
  violations: () => [],
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
    ...toleranceSettings(source),
  }),
});
