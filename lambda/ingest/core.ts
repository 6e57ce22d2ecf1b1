/**
 * The ingest decision, free of SDK clients: every side effect goes through the collaborators, so unit tests
 * drive it with fakes and the handler wires real clients.
 *
 * Order of checks: method (405) -> source (404) -> content encoding (415) -> body size/emptiness (413/400) ->
 * the sender's unsigned probe (Slack's ssl_check: 200) -> secrets (503, also when none of them can verify anything)
 * -> signature (401) -> body shape (400) -> the sender's handshake (Slack's url_verification, GitHub's ping) ->
 * route (ignore: 202) -> size (413 or claim check) -> dedupe claim -> payload upload -> enqueue every target -> 202,
 * or the acknowledgement the sender reads instead (Slack's slash commands: an empty 200; Twilio: empty TwiML).
 * Only the last step says 202 for a routed event, and only when every SendMessage succeeded. Anything
 * unexpected is a 503, never a throw. So is a request still waiting on a dependency when the invocation reaches
 * its deadline margin ({@link RequestDeadline}): answered 503 then, not left to run into Lambda's timeout.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ArchiveSink, archivableEnvelopeBytes, archiveLine } from '../shared/archive';
import {
  attributeBytes,
  type FittedMessage,
  fitEnvelope,
  type PayloadObject,
  SQS_MAX_MESSAGE_BYTES,
} from '../shared/claim-check';
import {
  ARCHIVE_FAILED_METRIC,
  deliveryDedupeKey,
  type INGEST_METRICS,
  INGEST_OUTCOME_MESSAGE,
  type INGEST_REASONS,
} from '../shared/contracts';
import type { ClaimResult, DedupeStore } from '../shared/dedupe-store';
import {
  ENVELOPE_VERSION,
  envelopeBodyBytes,
  MESSAGE_ATTRIBUTES,
  type WebhookEnvelope,
} from '../shared/envelope';
import type {
  FifoGrouping,
  IngestRuntimeConfig,
  QueueTarget,
  SourceRuntimeConfig,
} from '../shared/ingest-config';
import {
  type DeadlineWatch,
  type InvocationContext,
  NO_DEADLINE,
  untilDeadline,
} from '../shared/invocation-deadline';
import { MAX_WEBHOOK_BODY_BYTES } from '../shared/request-limits';
import { isSqsGroupId } from '../shared/safe-ids';
import { credentialHeadersOf, senderFor } from '../shared/senders';
import { contentTypeOf } from '../shared/senders/describe-kit';
import type { SenderAnswer, SenderParts } from '../shared/senders/sender';
import { publicWebhookUrl } from '../shared/senders/twilio';
import {
  describeEvent,
  type EventDescription,
  encodeBody,
  jsonForGrouping,
  sanitizeId,
  sanitizeType,
  valueAtPath,
} from './normalize';
import { selectRoute } from './routing';
import { type SignedRequest, type VerifyResult, verifyWith } from './verify';

/** The largest body accepted; larger ones that still reach the function are answered 413 here. */
export const MAX_BODY_BYTES = MAX_WEBHOOK_BODY_BYTES;
/** SQS's limit for a message body plus its attributes. */
export { SQS_MAX_MESSAGE_BYTES };
/** Seconds a sender is asked to wait after a 503. */
export const RETRY_AFTER_SECONDS = '5';

/** One SQS message to send. */
export interface OutgoingMessage {
  readonly queue: string;
  readonly target: QueueTarget;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** An S3 object holding a body too large to travel inline (the shared claim check). */
export type { PayloadObject } from '../shared/claim-check';

/** Delivery-id deduplication: the shared DynamoDB protocol (`../shared/dedupe-store`). */
export type { ClaimResult, DedupeStore } from '../shared/dedupe-store';

/** The ingest's counts: its outcomes, `Rejected` and `Failed` by `reason`. */
export type MetricName = Exclude<(typeof INGEST_METRICS)[number], 'EnqueueLatency'> | 'Rejected' | 'Failed';

/** Structured logging; attributes are merged into the JSON line. */
export interface IngestLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Metric sinks (EMF in the handler). */
export interface IngestMetrics {
  count(name: MetricName, reason?: string): void;
  enqueueLatency(milliseconds: number): void;
  /**
   * A signed request of a source with a signing secret verified (`matched`) or carried a well-formed signature
   * that matched no stored secret: what the rotated-secret alarm reads, per source.
   */
  signatureChecked(source: string, matched: boolean): void;
}

/** Everything the core needs from the outside world. */
export interface IngestCollaborators {
  readonly config: IngestRuntimeConfig;
  enqueue(message: OutgoingMessage): Promise<void>;
  putPayload(object: PayloadObject): Promise<void>;
  /** Required when `config.dedupe` is set; without it no deduplication happens. */
  readonly dedupe?: DedupeStore;
  /** The event archive (when `config.archive` is set); without it nothing is archived. */
  readonly archive?: ArchiveSink;
  loadSecrets(secretId: string): Promise<string[]>;
  /** Epoch milliseconds. */
  now(): number;
  /** Watches each request's deadline (one timer for all of them); see {@link handleWebhook}. */
  readonly deadlines: DeadlineWatch;
  newId(): string;
  readonly log: IngestLog;
  readonly metrics: IngestMetrics;
}

/** The HTTP answer (API Gateway payload v2 result shape). */
export interface IngestResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type Outcome = 'queued' | 'duplicate' | 'ignored' | 'rejected' | 'failed';

export type FailureReason = (typeof INGEST_REASONS)[number];

interface Result {
  readonly outcome: Outcome;
  readonly status: number;
  readonly reason?: FailureReason;
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  readonly queues?: readonly string[];
  /** The tenant of the event in each fair queue it was sent to (queue name to tenant); absent when none is fair. */
  readonly tenants?: Readonly<Record<string, string>>;
  /** Set when the request was let in without any verification (an `unverified` source). */
  readonly unverified?: true;
  readonly response: IngestResponse;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const message = (status: number, text: string, extra: Record<string, string> = {}): IngestResponse => ({
  statusCode: status,
  headers: { ...JSON_HEADERS, ...extra },
  body: JSON.stringify({ message: text }),
});
const accepted = (id: string): IngestResponse => ({
  statusCode: 202,
  headers: { ...JSON_HEADERS },
  body: JSON.stringify({ id }),
});
const unavailable = () => message(503, 'service unavailable', { 'retry-after': RETRY_AFTER_SECONDS });

type Context = { source?: string; id?: string; type?: string; queues?: readonly string[] };

const rejected = (
  status: number,
  reason: FailureReason,
  response: IngestResponse,
  context: Context = {},
): Result => ({
  outcome: 'rejected',
  status,
  reason,
  response,
  ...context,
});
const failed = (reason: FailureReason, context: Context = {}): Result => ({
  outcome: 'failed',
  status: 503,
  reason,
  response: unavailable(),
  ...context,
});

/**
 * The dependencies a request waits on before its answer is known, in order. A 503 at the deadline names the step that
 * was still running (`deadline_<step>`, among the ingest's reasons).
 */
type DeadlineStep = 'secret_fetch' | 'dedupe_claim' | 'payload_upload' | 'enqueue';

/**
 * One request's progress, for the answer at its deadline: the step it waits on, and the answer once it is known
 * although bookkeeping still runs (the archive put, marking or releasing the dedupe claim). Past the deadline the
 * request goes on in the background only to finish what was in flight: it starts no further step, so a send that
 * completes late still marks its delivery queued (a retry is then a duplicate) and anything else releases the claim.
 */
class RequestDeadline {
  #passed = false;
  #step: DeadlineStep = 'secret_fetch';
  #context: Context = {};
  #answer: Result | undefined;

  /** Names the step about to wait on a dependency; false, starting nothing, once the deadline has passed. */
  begin(step: DeadlineStep, context: Context): boolean {
    this.#step = step;
    this.#context = context;
    return !this.#passed;
  }

  /** The request's answer, known before its bookkeeping is done: the deadline answers it rather than a 503. */
  decided(result: Result): Result {
    this.#answer = result;
    return result;
  }

  /** The answer at the deadline: the decided one, else 503 naming the step still running. */
  reached(): Result {
    this.#passed = true;
    return this.#answer ?? failed(`deadline_${this.#step}`, this.#context);
  }
}

/** Header names lower-cased (HTTP API already does; other callers may not); non-string values dropped. */
function normalizeHeaders(raw: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === null || typeof raw !== 'object') return headers;
  const record = raw as Record<string, unknown>;
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue;
    const value = record[name];
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  return headers;
}

/**
 * The body as text when it arrived as text: a well-formed string encodes to UTF-8 and decodes back to itself,
 * so the string itself is the decoded body and decoding the bytes again is skipped. (A string with a lone
 * surrogate encodes it as U+FFFD, so it is decoded from the bytes like a base64 body.)
 */
function knownText(event: APIGatewayProxyEventV2, rawBody: string): string | undefined {
  if (event.isBase64Encoded) return undefined;
  // String.prototype.isWellFormed is ES2024 (Node >= 20); the project's lib setting is ES2023.
  return (rawBody as string & { isWellFormed(): boolean }).isWellFormed() ? rawBody : undefined;
}

function sourceName(event: APIGatewayProxyEventV2): string | undefined {
  const fromParams = event.pathParameters?.source;
  if (typeof fromParams === 'string' && fromParams !== '') return fromParams;
  const match = typeof event.rawPath === 'string' ? /\/webhooks\/([^/]+)\/?$/.exec(event.rawPath) : null;
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    // Malformed percent-encoding names no configured source: a 404, not an error.
    return undefined;
  }
}

/** A configured source with its sender, looked up once per configuration rather than per request. */
interface BoundSource {
  readonly name: string;
  readonly settings: SourceRuntimeConfig;
  readonly sender: SenderParts<SourceRuntimeConfig>;
  /** Absent for a sender that needs no secret. */
  readonly secretId: string | undefined;
  /** Externally visible base URL the sender signs (Twilio), when configured. */
  readonly publicUrl: string | undefined;
  /**
   * `keepHeaders` and the headers a queue's grouping or this source's tenant rule reads, minus every credential
   * header, every source's configured ones included (`credentialHeadersOf`).
   */
  readonly keptHeaderNames: readonly string[];
}

function bindSource(
  config: IngestRuntimeConfig,
  name: string,
  settings: SourceRuntimeConfig,
  credentials: ReadonlySet<string>,
): BoundSource {
  const sender = senderFor(settings);
  const named = [...config.keepHeaders, ...groupingHeadersOf(config, name)].map((h) => h.toLowerCase());
  const keptHeaderNames = [...new Set(named)].filter((header) => !credentials.has(header));
  return {
    name,
    settings,
    sender,
    secretId: sender.needsSecret && 'secretId' in settings ? settings.secretId : undefined,
    publicUrl: 'publicUrl' in settings ? settings.publicUrl : undefined,
    keptHeaderNames,
  };
}

/**
 * The request headers a source's events are grouped by: a FIFO queue's `{ header }` grouping and a fair queue's
 * tenant rule for this source. The envelope keeps them, so a replay (which has only the archived envelope)
 * puts each event back in the group or tenant it was first sent to; the value is already the group id or the
 * tenant attribute, and a credential header is refused as a rule.
 */
function groupingHeadersOf(config: IngestRuntimeConfig, source: string): string[] {
  return Object.values(config.queues).flatMap((target) =>
    [target.grouping, target.tenants?.[source]].flatMap((rule) =>
      rule?.by === 'header' ? [rule.header] : [],
    ),
  );
}

const boundByConfig = new WeakMap<IngestRuntimeConfig, ReadonlyMap<string, BoundSource>>();

/**
 * The configuration's sources with their senders, bound once per configuration object (the handler binds its
 * configuration at module init, so requests only look the bound source up by name).
 */
export function boundSources(config: IngestRuntimeConfig): ReadonlyMap<string, BoundSource> {
  let bound = boundByConfig.get(config);
  if (!bound) {
    const credentials = credentialHeadersOf(Object.values(config.sources));
    bound = new Map(
      Object.entries(config.sources).map(([name, settings]) => [
        name,
        bindSource(config, name, settings, credentials),
      ]),
    );
    boundByConfig.set(config, bound);
  }
  return bound;
}

/** The URL the sender signed (Twilio): the configured public base, else the API Gateway domain and path. */
function externalUrl(event: APIGatewayProxyEventV2, source: BoundSource): string {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  if (source.publicUrl) return publicWebhookUrl(source.publicUrl, source.name, query);
  // API Gateway serves https only; local mode serves http and says so in the header API Gateway sets.
  const scheme = event.headers?.['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  return `${scheme}://${event.requestContext?.domainName ?? 'localhost'}${event.rawPath ?? ''}${query}`;
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Where a group id is read from: the event, its request headers and (parsed on demand) its JSON or form body. */
export interface GroupingInput {
  readonly source: string;
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly json: () => unknown;
  /**
   * The text `json` was parsed from, when it is the body itself: an integer beyond 2^53 there is read as written
   * rather than as the nearest double, which would name another customer's group (and merge the two).
   */
  readonly text?: () => string | Buffer | undefined;
}

/** What a grouping rule reads of one event, as the ingest function has it after its sender described it. */
export interface GroupedEvent {
  /** The source's name. */
  readonly name: string;
  readonly type: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly described: EventDescription;
  /** The body's bytes, decoded from base64 when it arrived so. */
  readonly body: Buffer;
}

/**
 * Where a grouping rule reads one event: its headers, and on first use the JSON its sender read (the `payload`
 * field of a Slack or GitHub form post), else a form body's fields (a Twilio callback, a Slack slash command), else
 * its body parsed as JSON. The one reading of an event for its group or tenant: the ingest reads each request
 * through it, and a replay each archived envelope ({@link envelopeGroupingInput}).
 */
export function groupingInputOf(event: GroupedEvent): GroupingInput {
  let json: unknown;
  let jsonParsed = false;
  return {
    source: event.name,
    type: event.type,
    headers: event.headers,
    json: () => {
      if (!jsonParsed) {
        json = jsonForGrouping(event.described, event.body, contentTypeOf(event.headers));
        jsonParsed = true;
      }
      return json;
    },
    text: () => event.body,
  };
}

/**
 * The grouping input of a queued or archived envelope, read as the ingest read the request it came from: the body's
 * bytes whatever their encoding, described by the source's sender (`settings`, absent for a job or a scheduled
 * event, which no sender describes) under the content type the request carried. Described on first use, so a
 * rule that reads no body costs no parse. Undefined when the envelope holds no body (claim-checked: it is in the
 * payload bucket).
 */
export function envelopeGroupingInput(
  settings: SourceRuntimeConfig | undefined,
  envelope: WebhookEnvelope,
): GroupingInput | undefined {
  if (envelope.body === undefined) return undefined;
  const body = envelopeBodyBytes(envelope);
  const { contentType } = envelope;
  const headers =
    contentType === undefined
      ? (envelope.headers ?? {})
      : { ...envelope.headers, 'content-type': contentType };
  let read: GroupingInput | undefined;
  const input = () => {
    if (read) return read;
    const text = envelope.bodyEncoding === 'utf8' ? envelope.body : undefined;
    const described = settings && describeEvent(settings, headers, body, text);
    // A body the current sender settings cannot read (changed since it was accepted) is read as plain JSON.
    read = groupingInputOf({
      name: envelope.source,
      type: envelope.type,
      headers,
      described: described?.ok ? described : { type: envelope.type },
      body,
    });
    return read;
  };
  return {
    source: envelope.source,
    type: envelope.type,
    headers,
    json: () => input().json(),
    text: () => body,
  };
}

/** Message group ids allow 1-128 printable ASCII characters; other values are hashed (stable). */
function groupIdFor(grouping: FifoGrouping, input: GroupingInput): string {
  let value: string | undefined;
  if (grouping.by === 'type') value = input.type;
  else if (grouping.by === 'path') value = valueAtGroupingPath(input, grouping.path) || undefined;
  else if (grouping.by === 'header') value = input.headers[grouping.header] || undefined;
  // An empty value names no group: it falls back to the source, like a missing one, rather than hashing ""
  // into one group shared by every source's events without the value.
  value ??= input.source;
  return isSqsGroupId(value) ? value : sha256Hex(value);
}

/** The value at `path`, exact from the body's text where that is the JSON; else as parsed (a `payload` or form field). */
function valueAtGroupingPath(input: GroupingInput, path: string): string | undefined {
  const json = input.json();
  const text = input.text?.();
  return (text === undefined ? undefined : valueAtPath(json, path, text)) ?? valueAtPath(json, path);
}

/** Room for the tenant attribute a fair target adds (a group id is at most 128 bytes). */
function tenantAttributeBytes(event: Routed): number {
  if (!event.targets.some(({ target }) => !target.fifo && target.tenants)) return 0;
  return attributeBytes({ [MESSAGE_ATTRIBUTES.tenant]: 'x'.repeat(128) });
}

/**
 * The group ids of one message to one queue: a FIFO queue's message group, or a fair standard queue's tenant
 * (sent as the group id and as an attribute). Replay reuses it so a replayed event lands in the same group.
 */
export function messageGroupOf(
  target: QueueTarget,
  input: GroupingInput,
): { readonly groupId?: string; readonly tenant?: string } {
  const rule = groupingRuleOf(target, input.source);
  if (rule === undefined) return {};
  const groupId = groupIdFor(rule, input);
  return target.fifo ? { groupId } : { groupId, tenant: groupId };
}

/**
 * The rule naming an event's group on `target`: a FIFO queue's grouping, or a fair standard queue's tenant rule for
 * `source` (by default, the source itself); undefined for a standard queue without tenants.
 */
export function groupingRuleOf(target: QueueTarget, source: string): FifoGrouping | undefined {
  if (target.fifo) return target.grouping ?? { by: 'source' };
  return target.tenants ? (target.tenants[source] ?? { by: 'source' }) : undefined;
}

function keptHeaders(source: BoundSource, headers: Record<string, string>) {
  const kept: Record<string, string> = {};
  for (const name of source.keptHeaderNames) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** The sender's verdict with the usable (non-empty) secrets; a sender without secrets accepts everything. */
const verify = (source: BoundSource, request: SignedRequest, secrets: readonly string[], nowMs: number) =>
  verifyWith(source.sender, source.settings, request, secrets, nowMs);

/** Steps end the request by returning a {@link Result}; anything else is the step's value. */
const isResult = (value: object): value is Result => 'outcome' in value && 'response' in value;

async function decide(
  event: APIGatewayProxyEventV2,
  headers: Record<string, string>,
  deps: IngestCollaborators,
  deadline: RequestDeadline,
): Promise<Result> {
  const method = event?.requestContext?.http?.method;
  if (typeof method !== 'string' || method.toUpperCase() !== 'POST') {
    return rejected(405, 'method_not_allowed', message(405, 'method not allowed', { allow: 'POST' }));
  }
  const source = resolveSource(event, deps.config);
  if (isResult(source)) return source;
  const context: Context = { source: source.name };
  const request = readBody(event, headers, context);
  if (isResult(request)) return request;
  const probe = source.sender.probeAnswer(source.settings, { headers, body: request.body });
  if (probe) return senderAnswered(probe, { ...context, type: 'probe' });
  deadline.begin('secret_fetch', context);
  const denied = await authenticate(event, deps, source, headers, request.body, context);
  if (denied) return denied;
  const result = await decideAuthentic(deps, deadline, source, headers, request, context);
  // The explicit opt-out stays visible on every request it lets in: the outcome line and a metric say so.
  return source.sender.needsSecret ? result : { ...result, unverified: true };
}

/** The rest of the decision for a request its sender's verification let in. */
function decideAuthentic(
  deps: IngestCollaborators,
  deadline: RequestDeadline,
  source: BoundSource,
  headers: Record<string, string>,
  request: RequestBody,
  context: Context,
): Result | Promise<Result> {
  const described = source.sender.describe(source.settings, headers, request.body, request.text);
  if (!described.ok) return rejected(400, described.reason, message(400, 'bad request'), context);
  const id = described.id !== undefined ? sanitizeId(described.id) : deps.newId();
  const type = sanitizeType(described.type);
  if (described.handshake) {
    const { answer } = described.handshake;
    const handshake = { ...context, id, type };
    return answer ? senderAnswered(answer, handshake) : { ...ignored(handshake), response: accepted(id) };
  }
  return routeEvent(deps, deadline, { name: source.name, source, headers, ...request, described, id, type });
}

function resolveSource(event: APIGatewayProxyEventV2, config: IngestRuntimeConfig): BoundSource | Result {
  const name = sourceName(event);
  const source = name === undefined ? undefined : boundSources(config).get(name);
  if (name === undefined || source === undefined) {
    return rejected(404, 'unknown_source', message(404, 'not found'), name ? { source: name } : {});
  }
  return source;
}

interface RequestBody {
  readonly body: Buffer;
  /** `body` decoded as UTF-8, when already known. */
  readonly text: string | undefined;
}

/**
 * A `content-encoding` other than `identity`: API Gateway hands the function the compressed bytes, which no
 * signature scheme here covers and no consumer could read, so a 202 would only turn the event into a dead letter.
 */
function isEncodedBody(headers: Readonly<Record<string, string>>): boolean {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  return encoding !== undefined && encoding !== '' && encoding !== 'identity';
}

/** The decoded body, or 415 when compressed, 413 when too large and 400 when empty. */
function readBody(
  event: APIGatewayProxyEventV2,
  headers: Readonly<Record<string, string>>,
  context: Context,
): RequestBody | Result {
  if (isEncodedBody(headers)) {
    return rejected(415, 'unsupported_encoding', message(415, 'unsupported content encoding'), context);
  }
  const rawBody = typeof event.body === 'string' ? event.body : '';
  // A cheap bound before decoding: base64 is 4/3 of the body, and UTF-8 never has fewer bytes than UTF-16 units.
  if (rawBody.length > (event.isBase64Encoded ? Math.ceil((MAX_BODY_BYTES * 4) / 3) + 4 : MAX_BODY_BYTES)) {
    return rejected(413, 'body_too_large', message(413, 'payload too large'), context);
  }
  const body = event.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8');
  if (body.length > MAX_BODY_BYTES)
    return rejected(413, 'body_too_large', message(413, 'payload too large'), context);
  if (body.length === 0) return rejected(400, 'empty_body', message(400, 'bad request'), context);
  return { body, text: knownText(event, rawBody) };
}

/** Loads the source's secrets and checks the signature: undefined when the request is authentic. */
async function authenticate(
  event: APIGatewayProxyEventV2,
  deps: IngestCollaborators,
  source: BoundSource,
  headers: Record<string, string>,
  body: Buffer,
  context: Context,
): Promise<Result | undefined> {
  const secrets = await loadSourceSecrets(deps, source);
  if (secrets === undefined) return failed('secret_unavailable', context);
  const verdict = verify(source, { headers, body, url: externalUrl(event, source) }, secrets, deps.now());
  if (source.secretId !== undefined) countSignatureVerdict(deps, source.name, verdict);
  if (verdict.ok) return undefined;
  const fault = SECRET_FAULTS[verdict.reason as keyof typeof SECRET_FAULTS];
  if (fault !== undefined) {
    // The stored secret is at fault, not the request: a secret that cannot verify anything (e.g. a Standard
    // Webhooks `whsec_` key that decodes to no bytes), or a mismatch under a secret with stray whitespace (a
    // trailing newline from `echo`). Like a secret that cannot be loaded, that is ours to fix, so the sender is
    // asked to retry (a 401 would tell Slack never to) and the API's 5xx alarm sees it.
    deps.log.error(fault, {
      source: source.name,
      secretId: source.secretId,
      fix: `store a usable signing secret for source ${source.name}, exactly as the sender shows it (hookline secrets set ${source.name})`,
    });
    return failed(verdict.reason, context);
  }
  return rejected(401, verdict.reason, message(401, 'unauthorized'), context);
}

/**
 * Counts a verified signature, or a well-formed one that matched no stored secret (the rotated-secret alarm's
 * signal); a missing or malformed signature is a scanner's, not a sender's with another secret, and is not counted.
 */
function countSignatureVerdict(deps: IngestCollaborators, source: string, verdict: VerifyResult): void {
  if (!verdict.ok && verdict.reason !== 'bad_signature') return;
  try {
    deps.metrics.signatureChecked(source, verdict.ok);
  } catch {
    // Observability failures never change the answer.
  }
}

/** Verification outcomes that blame the stored secret rather than the request, with their ERROR line. */
const SECRET_FAULTS = {
  no_usable_secret: 'signing secret unusable',
  secret_whitespace: 'signature mismatch under a signing secret with stray whitespace',
} as const;

/** The source's signing secrets (none for a sender without); undefined, logged, when they cannot be loaded. */
async function loadSourceSecrets(
  deps: IngestCollaborators,
  source: BoundSource,
): Promise<string[] | undefined> {
  if (source.secretId === undefined) return [];
  try {
    return await deps.loadSecrets(source.secretId);
  } catch (error) {
    deps.log.error('signing secret unavailable', {
      source: source.name,
      secretId: source.secretId,
      error: String(error),
      ...(error instanceof Error && error.cause !== undefined ? { cause: String(error.cause) } : {}),
    });
    return undefined;
  }
}

/** A request answered as its sender asks (a handshake, a probe) and never enqueued. */
function senderAnswered(answer: SenderAnswer, context: Context): Result {
  return { ...ignored(context), status: answer.statusCode, response: answerResponse(answer) };
}

const ignored = (context: Context): Omit<Result, 'response'> => ({
  outcome: 'ignored',
  status: 202,
  ...context,
  queues: [],
});

const answerResponse = (answer: SenderAnswer): IngestResponse => ({
  statusCode: answer.statusCode,
  headers: { 'content-type': answer.contentType },
  body: answer.body,
});

/**
 * The answer its sender reads for an accepted request (queued, duplicate, ignored: a 202), when it needs another
 * than `202 {"id"}`; the id then travels in `x-hookline-id` (what `hookline send` shows).
 */
function acknowledged(
  headers: Readonly<Record<string, string>>,
  config: IngestRuntimeConfig,
  result: Result,
): Result {
  if (result.status !== 202 || result.source === undefined) return result;
  const source = boundSources(config).get(result.source);
  const answer = source?.sender.acknowledgement(source.settings, headers);
  if (!answer) return result;
  const response = answerResponse(answer);
  if (result.id !== undefined) response.headers['x-hookline-id'] = result.id;
  return { ...result, status: answer.statusCode, response };
}

interface Described extends RequestBody {
  readonly name: string;
  readonly source: BoundSource;
  readonly headers: Record<string, string>;
  readonly described: EventDescription;
  readonly id: string;
  readonly type: string;
}

interface Routed extends Described {
  readonly targets: readonly { queue: string; target: QueueTarget }[];
}

/** The event's route: ignored (202), or its queues resolved to their runtime targets and enqueued. */
function routeEvent(
  deps: IngestCollaborators,
  deadline: RequestDeadline,
  event: Described,
): Result | Promise<Result> {
  const { config } = deps;
  const { name, id, type } = event;
  const route = selectRoute(config, name, type);
  if (route.ignore || route.queues.length === 0) {
    return { ...ignored({ source: name, id, type }), response: accepted(id) };
  }
  const targets: { queue: string; target: QueueTarget }[] = [];
  for (const queue of route.queues) {
    const target = Object.hasOwn(config.queues, queue) ? config.queues[queue] : undefined;
    if (!target) {
      deps.log.error('route names a queue missing from the runtime configuration', {
        queue,
        id,
        source: name,
      });
      return failed('unknown_queue', { source: name, id, type, queues: route.queues });
    }
    targets.push({ queue, target });
  }
  return enqueueEvent(deps, deadline, { ...event, targets });
}

/**
 * Claim -> payload upload -> every SendMessage -> mark the delivery queued; 202 only when all succeeded. Past the
 * request's deadline no further step starts: the claim is released instead (the sender was answered 503).
 */
async function enqueueEvent(
  deps: IngestCollaborators,
  deadline: RequestDeadline,
  event: Routed,
): Promise<Result> {
  const { name, id, type, targets } = event;
  const context: Context = { source: name, id, type, queues: targets.map((t) => t.queue) };
  const receivedAt = new Date(deps.now());
  const envelope = buildEnvelope(event, receivedAt);
  const attributes = {
    [MESSAGE_ATTRIBUTES.source]: name,
    [MESSAGE_ATTRIBUTES.type]: type,
    [MESSAGE_ATTRIBUTES.eventId]: id,
  };
  const fitted = fitMessage(deps.config, envelope, attributes, event, receivedAt);
  if (fitted === undefined)
    return rejected(413, 'body_too_large', message(413, 'payload too large'), context);
  const messages = outgoingMessages(event, fitted.serialized, attributes);

  if (!deadline.begin('dedupe_claim', context)) return failed('deadline_dedupe_claim', context);
  const claim = await claimDelivery(deps, deliveryDedupeKey(name, id), context);
  if (isResult(claim)) return claim;
  const release = (result: Result) => settled(deps, deadline, { claim, context, step: 'release' }, result);
  if (fitted.payload) {
    if (!deadline.begin('payload_upload', context))
      return release(failed('deadline_payload_upload', context));
    if (!(await storePayload(deps, fitted.payload, context)))
      return release(failed('payload_store_unavailable', context));
  }
  if (!deadline.begin('enqueue', context)) return release(failed('deadline_enqueue', context));
  // The archive put runs beside the sends, so the answer waits for the slower of the two, not their sum; a
  // failed put never fails the webhook (the event is durable in SQS): it is logged and counted.
  const sending = sendAll(deps, messages, context);
  const archiving = archiveEvent(
    deps,
    envelope,
    fitted,
    targets.map((t) => t.queue),
  );
  if (!(await sending)) {
    await archiving;
    return release(failed('enqueue_failed', context));
  }
  const tenants = tenantsOf(messages);
  const queued: Result = {
    outcome: 'queued',
    status: 202,
    ...context,
    ...(tenants ? { tenants } : {}),
    response: accepted(id),
  };
  return settled(deps, deadline, { claim, context, step: 'complete' }, queued, archiving);
}

/**
 * Settles the claim (after `pending`, the archive put), then answers `result`: already decided, so the deadline
 * answers it too while the settle still runs (a delivery whose sends completed is never answered 503).
 */
async function settled(
  deps: IngestCollaborators,
  deadline: RequestDeadline,
  { claim, context, step }: { claim: Claim; context: Context; step: keyof typeof SETTLE_WARNING },
  result: Result,
  pending?: Promise<void>,
): Promise<Result> {
  deadline.decided(result);
  await pending;
  await settleClaim(deps, claim, context, step);
  return result;
}

/** Each fair queue's tenant of the event, for the outcome line (`npm start` and `trace` show it). */
function tenantsOf(messages: readonly OutgoingMessage[]): Record<string, string> | undefined {
  const entries = messages.flatMap((m) => {
    const tenant = m.attributes[MESSAGE_ATTRIBUTES.tenant];
    return tenant === undefined ? [] : [[m.queue, tenant] as const];
  });
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/**
 * Puts the event's archive record: the inline envelope (raw body) when it fits a Firehose record, else the
 * envelope as queued (claim-checked). Never rejects; a failure is logged and counted (`ArchiveFailed`).
 */
async function archiveEvent(
  deps: IngestCollaborators,
  envelope: WebhookEnvelope,
  fitted: FittedMessage,
  queues: readonly string[],
): Promise<void> {
  if (!deps.config.archive || !deps.archive) return;
  try {
    const line =
      archiveLine(envelope, 'webhook', queues) ??
      (fitted.payload ? archiveLine(JSON.parse(fitted.serialized), 'webhook', queues) : undefined);
    if (line === undefined) throw new Error('the archive record is larger than a delivery stream record');
    await deps.archive.put(line);
  } catch (error) {
    try {
      deps.log.error('archive put failed', {
        id: envelope.id,
        source: envelope.source,
        error: String(error),
      });
      deps.metrics.count(ARCHIVE_FAILED_METRIC);
    } catch {
      // Observability failures never change the answer.
    }
  }
}

function buildEnvelope(event: Routed, receivedAt: Date): WebhookEnvelope {
  const contentType = event.headers['content-type'];
  return {
    v: ENVELOPE_VERSION,
    id: event.id,
    source: event.name,
    type: event.type,
    receivedAt: receivedAt.toISOString(),
    headers: keptHeaders(event.source, event.headers),
    ...(contentType !== undefined ? { contentType } : {}),
    ...encodeBody(event.body, contentType, event.text),
  };
}

/**
 * The envelope serialized inline when it fits SQS (and the configured inline limit), else with its body moved
 * to the payload bucket (the shared claim check); undefined when it fits neither way. With the archive on, an
 * envelope travels inline only when its archive record fits a delivery stream record too (a little less than
 * SQS takes): one that fits SQS alone would be queued but never archived, so `hookline replay` could not find it.
 */
function fitMessage(
  config: IngestRuntimeConfig,
  envelope: WebhookEnvelope,
  attributes: Readonly<Record<string, string>>,
  event: Routed,
  receivedAt: Date,
): FittedMessage | undefined {
  const archived =
    config.archive && config.payloads?.bucket
      ? archivableEnvelopeBytes(
          event.name,
          'webhook',
          event.targets.map((t) => t.queue),
        )
      : SQS_MAX_MESSAGE_BYTES;
  return fitEnvelope(envelope, {
    inlineLimitBytes: Math.min(
      config.payloads?.inlineLimitBytes ?? SQS_MAX_MESSAGE_BYTES,
      SQS_MAX_MESSAGE_BYTES - attributeBytes(attributes) - tenantAttributeBytes(event),
      archived,
    ),
    bucket: config.payloads?.bucket,
    body: event.body,
    receivedAt,
  });
}

/**
 * One message per target; FIFO targets get their group id and a deduplication id per delivery, fair standard
 * targets their tenant as group id (and as an attribute).
 */
function outgoingMessages(
  event: Routed,
  serialized: string,
  attributes: Readonly<Record<string, string>>,
): OutgoingMessage[] {
  const { name, id } = event;
  const input = groupingInputOf(event);
  return event.targets.map(({ queue, target }) => {
    const { groupId, tenant } = messageGroupOf(target, input);
    return {
      queue,
      target,
      body: serialized,
      attributes: tenant === undefined ? attributes : { ...attributes, [MESSAGE_ATTRIBUTES.tenant]: tenant },
      ...(groupId !== undefined ? { groupId } : {}),
      ...(target.fifo ? { deduplicationId: sha256Hex(deliveryDedupeKey(name, id)) } : {}),
    };
  });
}

/** A claimed delivery; no token when deduplication is off. */
interface Claim {
  readonly key: string;
  readonly token: string | undefined;
}

/** Claims the delivery id, or ends the request: 202 for a repeat, 503 while another holds it or the store is down. */
async function claimDelivery(
  deps: IngestCollaborators,
  key: string,
  context: Context,
): Promise<Claim | Result> {
  if (!deps.config.dedupe || !deps.dedupe) return { key, token: undefined };
  let claim: ClaimResult;
  try {
    claim = await deps.dedupe.claim(key);
  } catch (error) {
    deps.log.error('dedupe store unavailable', {
      id: context.id,
      source: context.source,
      error: String(error),
    });
    return failed('dedupe_unavailable', context);
  }
  if (claim.status === 'duplicate') {
    return {
      outcome: 'duplicate',
      status: 202,
      ...context,
      queues: [],
      response: accepted(context.id ?? ''),
    };
  }
  if (claim.status === 'in_progress') return failed('in_progress', context);
  return { key, token: claim.token };
}

/**
 * Why a failed settle is only a warning. release (after a failed upload or enqueue): the lease still runs out,
 * after which the sender's retry can claim again. complete: the event is durably queued; a retry after the lease
 * runs out may enqueue it again, which the consumers' idempotency absorbs, and answering 503 here would invite
 * exactly that retry.
 */
const SETTLE_WARNING = {
  release: 'could not release dedupe claim',
  complete: 'could not mark delivery as queued',
} as const;

/** Releases the claim (`release`) or marks the delivery queued (`complete`); a no-op without a claim. */
async function settleClaim(
  deps: IngestCollaborators,
  claim: Claim,
  context: Context,
  step: keyof typeof SETTLE_WARNING,
): Promise<void> {
  if (claim.token === undefined || !deps.dedupe) return;
  try {
    await deps.dedupe[step](claim.key, claim.token);
  } catch (error) {
    deps.log.warn(SETTLE_WARNING[step], { id: context.id, source: context.source, error: String(error) });
  }
}

/** Uploads the claim-checked body; false, logged, when it failed. */
async function storePayload(
  deps: IngestCollaborators,
  payload: PayloadObject,
  context: Context,
): Promise<boolean> {
  try {
    await deps.putPayload(payload);
    return true;
  } catch (error) {
    deps.log.error('payload upload failed', { id: context.id, source: context.source, error: String(error) });
    return false;
  }
}

/** Every SendMessage at once; false, logged with each failed queue, when any failed. */
async function sendAll(
  deps: IngestCollaborators,
  messages: OutgoingMessage[],
  context: Context,
): Promise<boolean> {
  const started = deps.now();
  const results = await Promise.allSettled(messages.map((m) => deps.enqueue(m)));
  deps.metrics.enqueueLatency(deps.now() - started);
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ queue: messages[i]?.queue, error: String(r.reason) }] : [],
  );
  if (failures.length === 0) return true;
  deps.log.error('enqueue failed', { id: context.id, source: context.source, failures });
  return false;
}

const METRIC_FOR: Record<Outcome, MetricName> = {
  queued: 'Accepted',
  duplicate: 'Duplicate',
  ignored: 'Ignored',
  rejected: 'Rejected',
  failed: 'Failed',
};

/**
 * Handles one API Gateway (payload v2) request. Never throws: an unexpected error becomes a 503.
 * Logs exactly one line `webhook outcome` per request (the local-mode contract): INFO, but ERROR for a 503, so that
 * an operator who keeps only WARN and above still sees every request the service failed. A 503 is a server fault:
 * a sender that does not retry (GitHub) lost the event until someone redelivers it; the jobs endpoint logs its 503s
 * at ERROR too. A 4xx stays INFO: forged or malformed requests are the sender's, and must not flood the log.
 *
 * `invocation` (the Lambda context) gives the request its deadline: when less than the margin (`DEADLINE_MARGIN_MS`,
 * shared with the jobs endpoint) is left while the request still waits on a dependency, it is answered 503
 * (`deadline_<step>`) before Lambda's timeout; without it (a script, a test) a request has no deadline.
 */
export async function handleWebhook(
  event: APIGatewayProxyEventV2,
  deps: IngestCollaborators,
  invocation: InvocationContext = NO_DEADLINE,
): Promise<IngestResponse> {
  let result: Result;
  const started = deps.now();
  // Normalized once per request: the decision and the answer its sender reads both use them.
  let headers: Record<string, string> = {};
  try {
    headers = normalizeHeaders(event?.headers);
    const deadline = new RequestDeadline();
    result = await untilDeadline(decide(event, headers, deps, deadline), deps.deadlines, invocation, () =>
      deadline.reached(),
    );
  } catch (error) {
    try {
      deps.log.error('unexpected ingest failure', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    } catch {
      // Logging must not turn a 503 into a crash.
    }
    result = failed('internal_error');
  }
  if (result.outcome === 'rejected' && result.source !== undefined) {
    const sender = boundSources(deps.config).get(result.source)?.sender;
    if (sender) Object.assign(result.response.headers, sender.rejectionHeaders);
  }
  try {
    result = acknowledged(headers, deps.config, result);
  } catch {
    // The answer was decided; a sender's acknowledgement that cannot be made leaves hookline's own.
  }
  try {
    const line = {
      outcome: result.outcome,
      id: result.id,
      source: result.source,
      type: result.type,
      queues: result.queues ?? [],
      ...(result.tenants !== undefined ? { tenants: result.tenants } : {}),
      status: result.status,
      // The function's own time for the request (trace shows it; the API adds its overhead on top).
      latencyMs: deps.now() - started,
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
      ...(result.unverified ? { verified: false } : {}),
    };
    if (result.outcome === 'failed') deps.log.error(INGEST_OUTCOME_MESSAGE, line);
    else deps.log.info(INGEST_OUTCOME_MESSAGE, line);
    deps.metrics.count(METRIC_FOR[result.outcome], result.reason);
    if (result.unverified) deps.metrics.count('Unverified');
  } catch {
    // Observability failures never change the answer.
  }
  return result.response;
}
