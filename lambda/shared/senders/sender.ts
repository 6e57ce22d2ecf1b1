/**
 * What one sender type (GitHub, Stripe, a generic HMAC scheme, ...) is, in one module: the runtime settings of
 * its sources, how its requests are verified, which delivery id and event type they carry, which of their
 * headers are worth keeping or must never be kept, how the sender signs (for tests and `hookline send`) and a
 * realistic sample request. `./index.ts` lists every sender; nothing else branches on a source's type.
 */
import type { z } from 'zod/mini';

import type { RejectReason } from '../contracts';

export type { RejectReason };

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: RejectReason };

/** What a verifier sees of the request. */
export interface SignedRequest {
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact bytes received (after base64 decoding). */
  readonly body: Buffer;
  /** Externally visible URL including the query string (Twilio signs it). */
  readonly url: string;
}

/** What the sender says about the event. */
export interface EventDescription {
  /** The sender's delivery id, sanitized; undefined when the sender gives none. */
  readonly id?: string;
  readonly type: string;
  /** The parsed JSON body when it was parsed (used for FIFO grouping by path). */
  readonly json?: unknown;
  /**
   * Set for a signed request the sender makes only to check the endpoint (Slack's `url_verification`, GitHub's
   * `ping`): never enqueued, and answered with `answer`, or as an accepted event when there is none.
   */
  readonly handshake?: { readonly answer?: SenderAnswer };
}

/** An HTTP answer a sender reads as more than a status: what it needs instead of hookline's `202 {"id"}`. */
export interface SenderAnswer {
  readonly statusCode: number;
  readonly contentType: string;
  readonly body: string;
}

/** What a probe check sees of a POST: lower-case headers and the decoded body. */
export interface ProbeRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export type DescribeResult =
  | ({ readonly ok: true } & EventDescription)
  | { readonly ok: false; readonly reason: 'malformed_body' };

/** What a sender's signing sees besides the settings, the key and the body. */
export interface SigningContext {
  /** Signing time, epoch seconds as text. */
  readonly seconds: string;
  /** Full URL the request is posted to (Twilio signs it). */
  readonly url?: string;
  /** Delivery id to send where the scheme carries one in a header (default: a random one). */
  readonly id?: string;
}

/** A request a sender of this type would post. */
export interface SampleRequest {
  /** Raw body as posted. */
  readonly body: string;
  readonly contentType: string;
  /** Event headers the sender adds besides the signature (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The event type the ingest function will derive. */
  readonly type: string;
}

export interface SampleOptions {
  /** Event type to use instead of the sample's own. */
  readonly type?: string;
  /** Delivery id. */
  readonly id: string;
  readonly now: Date;
}

type Headers = Readonly<Record<string, string | undefined>>;

/** Every part of a sender, typed by the runtime settings `S` of its sources. */
export interface SenderParts<S extends { readonly type: string }> {
  readonly type: S['type'];
  /** True when its sources have a signing secret (`secretId` in the settings). */
  readonly needsSecret: boolean;
  /** Credential headers of the scheme: never copied into any envelope, whatever `keepHeaders` says. */
  readonly credentialHeaders: readonly string[];
  /** Credential headers a source's settings name (generic schemes): never copied into its envelopes. */
  configuredCredentialHeaders(settings: S): readonly string[];
  /** Its event headers worth keeping; `ingest.keepHeaders` defaults to these of every sender. */
  readonly keptHeaders: readonly string[];
  /** Headers added to a rejection (4xx) of its requests. */
  readonly rejectionHeaders: Readonly<Record<string, string>>;
  /**
   * The answer to one of its requests that was accepted (queued, a duplicate, or ignored by a route), when the
   * sender reads the answer as more than a 2xx (Slack's slash commands want an empty 200, Twilio TwiML); undefined
   * keeps hookline's `202 {"id"}`.
   */
  acknowledgement(settings: S, headers: Headers): SenderAnswer | undefined;
  /**
   * The answer to a request the sender makes only to check the endpoint's certificate or reachability, unsigned
   * (Slack's `ssl_check`): answered before the signature check, and nothing is enqueued; undefined for any other.
   */
  probeAnswer(settings: S, request: ProbeRequest): SenderAnswer | undefined;
  /** Checks the request against any of the active (non-empty) secrets; never throws on request input. */
  verify(settings: S, request: SignedRequest, secrets: readonly string[], nowMs: number): VerifyResult;
  /** Derives delivery id and event type as the sender defines them; `text` is `body` as UTF-8 when known. */
  describe(settings: S, headers: Headers, body: Buffer, text: string | undefined): DescribeResult;
  /** A signing secret as this sender issues it, made from the text `key` (local mode's development secrets). */
  secretFromKey(key: string): string;
  /**
   * Why a non-blank `secret` cannot verify any request of this sender (a key in the wrong form), or undefined
   * when it can.
   */
  secretProblem(secret: string): string | undefined;
  /**
   * The URL the sender posts a request with `body` (of `contentType`) to, given the webhook URL: `url` as is, or
   * with what the sender adds to it (Twilio signs a body that is not a form through its SHA-256 in `bodySHA256`).
   */
  requestUrl(settings: S, url: string, body: Buffer, contentType: string): string;
  /** The headers the sender adds to a request with `body`, signed with `key` (the current secret). */
  sign(settings: S, key: string, body: Buffer, context: SigningContext): Record<string, string>;
  /** The default event type of its sample. */
  readonly sampleType: string;
  /** A realistic request, with a fresh delivery id per call. */
  sample(settings: S, options: SampleOptions): SampleRequest;
  /** Headers that name the event type for a body from a file, where the sender uses headers for it. */
  typeHeaders(settings: S, type: string | undefined): Record<string, string>;
  /**
   * Why a chosen event type cannot reach the ingest on a request from this sender, or undefined when it can: a
   * sample carries it in its body or headers; a body from a file (`file`) is sent as-is, so only a header can.
   */
  typeOverrideProblem(settings: S, type: string, file: boolean): string | undefined;
}

/** A sender: its parts plus the zod/mini schema of its sources' runtime settings. */
export type Sender<Schema extends z.ZodMiniObject = z.ZodMiniObject> = SenderParts<
  z.infer<Schema> & { readonly type: string }
> & {
  readonly settings: Schema;
};

/** Declares a sender; `parts.type` must be the literal of `settings.type`. */
export function defineSender<Schema extends z.ZodMiniObject<{ type: z.ZodMiniLiteral<string> }>>(
  settings: Schema,
  parts: SenderParts<z.infer<Schema> & { readonly type: string }>,
): Sender<Schema> {
  return { settings, ...parts };
}
