/** The explicit insecure opt-out: every request is accepted. Never in production. */
import * as z from 'zod/mini';
import { hooklineAcknowledgement, noProbe } from './answer-kit';
import {
  describeByHints,
  GENERIC_SAMPLE_TYPE,
  hintedSample,
  hintedTypeHeaders,
  hintedTypeOverrideProblem,
  hintSettings,
} from './generic-kit';
import { defineSender } from './sender';
import { webhookUrlAsIs } from './sign-kit';
import { OK } from './verify-kit';

export const unverified = defineSender(z.object({ type: z.literal('unverified'), ...hintSettings }), {
  type: 'unverified',
  needsSecret: false,
  credentialHeaders: [],
  configuredCredentialHeaders: () => [],
  keptHeaders: [],
  rejectionHeaders: {},
  acknowledgement: hooklineAcknowledgement,
  probeAnswer: noProbe,
  verify: () => OK,
  describe: describeByHints,
  secretFromKey: (key) => key,
  secretProblem: () => undefined,
  requestUrl: webhookUrlAsIs,
  sign: () => ({}),
  sampleType: GENERIC_SAMPLE_TYPE,
  sample: hintedSample,
  typeHeaders: hintedTypeHeaders,
  typeOverrideProblem: hintedTypeOverrideProblem,
});
