/** A shared token (no body signature): a header (optionally `Bearer `) or the HTTP basic-auth password. */
import { createHash, randomUUID } from 'node:crypto';
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
import { secretRef } from './settings-kit';
import { webhookUrlAsIs } from './sign-kit';
import { anyMatches, BASE64, fail, mismatch, OK } from './verify-kit';

/** Hashing both sides first makes the comparison constant-time regardless of the token's length. */
const tokenDigest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The token a header presents, or undefined when the header is not of the scheme's form. */
function presentedToken(scheme: 'header' | 'basic', header: string): string | undefined {
  if (scheme !== 'basic') return header.replace(/^Bearer\s+/i, '');
  const encoded = /^Basic\s+(\S+)$/i.exec(header)?.[1];
  if (!encoded || !BASE64.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export const token = defineSender(
  z.object({
    type: z.literal('token'),
    ...secretRef,
    /** `header`: the named header carries the token (optionally `Bearer `); `basic`: HTTP basic auth password. */
    scheme: z.enum(['header', 'basic']),
    header: z.string().check(z.minLength(1)),
    ...hintSettings,
  }),
  {
    type: 'token',
    needsSecret: true,
    credentialHeaders: ['authorization'],
    configuredCredentialHeaders: (settings) => [settings.header],
    keptHeaders: [],
    rejectionHeaders: {},
    acknowledgement: hooklineAcknowledgement,
    probeAnswer: noProbe,
    verify(settings, request, secrets) {
      const header = request.headers[settings.header];
      if (!header) return fail('missing_signature');
      const presented = presentedToken(settings.scheme, header);
      if (!presented) return fail('malformed_signature');
      const candidate = tokenDigest(presented);
      return anyMatches(secrets, [candidate], tokenDigest) ? OK : mismatch(secrets);
    },
    describe: describeByHints,
    secretFromKey: (key) => key,
    secretProblem: () => undefined,
    requestUrl: webhookUrlAsIs,
    sign(settings, key, _body, { id }) {
      const headers: Record<string, string> =
        settings.scheme === 'basic'
          ? { [settings.header]: `Basic ${Buffer.from(`hookline:${key}`, 'utf8').toString('base64')}` }
          : { [settings.header]: settings.header === 'authorization' ? `Bearer ${key}` : key };
      if (settings.idHeader) headers[settings.idHeader] = id ?? randomUUID();
      return headers;
    },
    sampleType: GENERIC_SAMPLE_TYPE,
    sample: hintedSample,
    typeHeaders: hintedTypeHeaders,
    typeOverrideProblem: hintedTypeOverrideProblem,
  },
);
