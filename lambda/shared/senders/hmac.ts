/** Any other HMAC sender: header, algorithm, encoding, prefix, optional timestamp and a signed-content template. */
import { randomUUID } from 'node:crypto';
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
import { hmac as digest, fillSignedContent, webhookUrlAsIs } from './sign-kit';
import {
  anyMatches,
  checkTimestamp,
  DIGEST_BYTES,
  decodeDigest,
  fail,
  mac,
  mismatch,
  OK,
  type TimestampCheck,
} from './verify-kit';

export const hmac = defineSender(
  z.object({
    type: z.literal('hmac'),
    ...secretRef,
    header: z.string().check(z.minLength(1)),
    algorithm: z.enum(['sha1', 'sha256', 'sha512']),
    encoding: z.enum(['hex', 'base64']),
    prefix: z.string(),
    timestampHeader: z.optional(z.string().check(z.minLength(1))),
    toleranceSeconds: z.optional(z.int().check(z.positive())),
    /** Template of the signed content; `{body}`, `{timestamp}` and `{id}` are replaced. */
    signedContent: z.string().check(z.minLength(1)),
    ...hintSettings,
  }),
  {
    type: 'hmac',
    needsSecret: true,
    credentialHeaders: [],
    configuredCredentialHeaders: (settings) => [settings.header],
    keptHeaders: [],
    rejectionHeaders: {},
    acknowledgement: hooklineAcknowledgement,
    probeAnswer: noProbe,
    verify(settings, request, secrets, nowMs) {
      const header = request.headers[settings.header];
      if (!header) return fail('missing_signature');
      let timestamp = '';
      let time: TimestampCheck = { ok: true, text: '' };
      if (settings.timestampHeader) {
        time = checkTimestamp(request.headers[settings.timestampHeader], settings.toleranceSeconds, nowMs);
        if (!time.ok && time.reason !== 'stale_timestamp') return fail(time.reason);
        timestamp = request.headers[settings.timestampHeader] ?? '';
      }
      const id = settings.idHeader ? (request.headers[settings.idHeader] ?? '') : '';
      if (settings.signedContent.includes('{id}') && !id) return fail('missing_id');
      if (!header.startsWith(settings.prefix)) return fail('malformed_signature');
      const presented = decodeDigest(
        header.slice(settings.prefix.length),
        settings.encoding,
        DIGEST_BYTES[settings.algorithm],
      );
      if (!presented) return fail('malformed_signature');
      const content = fillSignedContent(settings.signedContent, request.body, timestamp, id);
      if (!anyMatches(secrets, [presented], (s) => mac(settings.algorithm, s, content)))
        return mismatch(secrets);
      return time.ok ? OK : fail(time.reason);
    },
    describe: describeByHints,
    secretFromKey: (key) => key,
    secretProblem: () => undefined,
    requestUrl: webhookUrlAsIs,
    sign(settings, key, body, { seconds, id: given }) {
      const id = given ?? randomUUID();
      const content = fillSignedContent(settings.signedContent, body, seconds, id);
      const headers: Record<string, string> = {
        [settings.header]:
          settings.prefix + digest(settings.algorithm, key, content).toString(settings.encoding),
      };
      if (settings.timestampHeader) headers[settings.timestampHeader] = seconds;
      if (settings.idHeader) headers[settings.idHeader] = id;
      return headers;
    },
    sampleType: GENERIC_SAMPLE_TYPE,
    sample: hintedSample,
    typeHeaders: hintedTypeHeaders,
    typeOverrideProblem: hintedTypeOverrideProblem,
  },
);
