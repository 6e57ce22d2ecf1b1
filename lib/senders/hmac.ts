/** Configuration side of the `hmac` sender (runtime side: lambda/shared/senders/hmac.ts). */
import { z } from 'zod';
import { type Violation, violation } from '../violations';
import {
  bodyHints,
  defineConfigSender,
  headerName,
  runtimeHints,
  sourceCommon,
  timestampTolerance,
  toleranceSettings,
} from './config-sender';

/** What an `hmac` source signs: its `signedContent`, else the body, prefixed by the timestamp when there is one. */
export function hmacSignedContent(source: { signedContent?: string; timestampHeader?: string }): string {
  return source.signedContent ?? (source.timestampHeader ? '{timestamp}.{body}' : '{body}');
}

export const hmac = defineConfigSender({
  type: 'hmac',
  schema: z
    .object({
      type: z.literal('hmac'),
      ...sourceCommon,
      /** Header carrying the signature, e.g. `x-signature`. */
      header: headerName,
      /**
       * HMAC hash function.
       * @default 'sha256'
       */
      algorithm: z.enum(['sha1', 'sha256', 'sha512']).optional(),
      /**
       * Encoding of the signature in the header.
       * @default 'hex'
       */
      encoding: z.enum(['hex', 'base64']).optional(),
      /**
       * Text before the signature in the header, e.g. `sha256=`.
       * @default ''
       */
      prefix: z.string().optional(),
      /**
       * Header carrying the signed timestamp, in Unix seconds (enables replay protection).
       * @default - no timestamp is signed
       */
      timestampHeader: headerName.optional(),
      ...timestampTolerance,
      /**
       * What is signed: `{body}`, and optionally `{timestamp}` (the `timestampHeader` value) and `{id}` (the
       * `idHeader` value).
       * @default '{timestamp}.{body}' with a timestampHeader, else '{body}'
       */
      signedContent: z.string().min(1).optional(),
      ...bodyHints,
    })
    .strict(),
  example: {
    type: 'hmac',
    header: 'x-signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
    timestampHeader: 'x-timestamp',
    signedContent: '{timestamp}.{body}',
    idPath: 'id',
    typePath: 'type',
  },
  violations(source) {
    const violations: Violation[] = [];
    const template = hmacSignedContent(source);
    if (!template.includes('{body}')) {
      violations.push(
        violation(
          'signedContent',
          'the signed content must include {body}, or the body is not authenticated',
          source.signedContent,
          'include {body}, e.g. "{timestamp}.{body}"',
        ),
      );
    }
    if (template.includes('{timestamp}') && !source.timestampHeader) {
      violations.push(
        violation(
          'timestampHeader',
          'signedContent uses {timestamp} but no timestampHeader says where it comes from',
          source.timestampHeader,
          'set timestampHeader, e.g. "x-signature-timestamp"',
        ),
      );
    }
    if (source.timestampHeader && !template.includes('{timestamp}')) {
      violations.push(
        violation(
          'signedContent',
          'timestampHeader is set but signedContent does not sign {timestamp}, so anyone can replay a captured request with a fresh timestamp',
          template,
          'include {timestamp} where the sender signs it, e.g. "{timestamp}.{body}", or remove timestampHeader',
        ),
      );
    }
    if (source.tolerance !== undefined && !source.timestampHeader) {
      violations.push(
        violation(
          'tolerance',
          'a tolerance without a timestampHeader checks nothing: no timestamp is read, so there is no replay window',
          source.tolerance,
          'set timestampHeader to the header carrying the signed timestamp, or remove tolerance',
        ),
      );
    }
    if (template.includes('{id}') && !source.idHeader) {
      violations.push(
        violation(
          'idHeader',
          'signedContent uses {id} but no idHeader says where it comes from, so every request would be refused',
          source.idHeader,
          'set idHeader to the header carrying the signed delivery id, e.g. "x-webhook-id"',
        ),
      );
    }
    return violations;
  },
  runtimeSettings: (source, context) => ({
    type: source.type,
    secretId: context.secretId(),
    header: source.header.toLowerCase(),
    algorithm: source.algorithm ?? 'sha256',
    encoding: source.encoding ?? 'hex',
    prefix: source.prefix ?? '',
    ...(source.timestampHeader
      ? {
          timestampHeader: source.timestampHeader.toLowerCase(),
          ...toleranceSettings(source),
        }
      : {}),
    signedContent: hmacSignedContent(source),
    ...runtimeHints(source),
  }),
});
