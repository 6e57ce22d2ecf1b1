/**
 * The jobs endpoint's decision (`POST /jobs/{queue}`), free of SDK clients: any language enqueues a job over HTTP
 * with a bearer token, and the job goes out through the one producer (`../producer`): same envelope, delays,
 * schedules, job-key dedupe, debounce and claim check as `hookline/producer`, and the same refusals of its options
 * (the endpoint only reads seconds into durations).
 *
 * Order: bearer token (401; 503 when the tokens cannot be loaded) -> queue (404) -> body size (413) -> JSON
 * shape (400) -> send (202 once queued or scheduled; 400 for what the caller must change; 503 otherwise).
 * The endpoint cannot know a job's schema, so it checks structure only; the consumer validates the payload.
 * A request still waiting on a dependency when the invocation reaches its deadline margin is answered 503 then
 * ({@link RequestDeadline}), not left to run into Lambda's timeout.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  JobTooLargeError,
  ProducerConfigError,
  type SendGate,
  type SendOptions,
  type SendResult,
  type SendStep,
} from '../producer/producer';
import {
  JOBS_ENDPOINT_LATE_SEND_MESSAGE,
  JOBS_ENDPOINT_OUTCOME_MESSAGE,
  JOBS_ENDPOINT_REJECTED_MESSAGE,
} from '../shared/contracts';
import {
  type DeadlineWatch,
  type InvocationContext,
  NO_DEADLINE,
  untilDeadline,
} from '../shared/invocation-deadline';
import { parseIsoTime } from '../shared/iso-time';
import {
  defineJob,
  EVENT_TYPE_RULE,
  isEventTypeName,
  JOB_SOURCE,
  type JobDefinition,
  JobPayloadError,
} from '../shared/job';
import { integersAsWritten, parseJsonText } from '../shared/json-text';
import { MAX_WEBHOOK_BODY_BYTES } from '../shared/request-limits';
import { safeEqual } from '../shared/senders/verify-kit';
import type { StandardSchemaV1 } from '../shared/standard-schema';

/** Seconds a caller is asked to wait after a 503 (as the ingest asks senders). */
export const RETRY_AFTER_SECONDS = '5';

/** Everything the endpoint needs from the outside world. */
export interface JobsEndpointCollaborators {
  /** The queues the function was granted (and so the only ones served). */
  readonly queues: ReadonlySet<string>;
  readonly tokenSecretId: string;
  /** The active tokens (several while rotating); throws when they cannot be loaded. */
  loadTokens(secretId: string): Promise<string[]>;
  /** The producer's send; `gate` stops it before a step once the request's deadline has passed. */
  send(job: JobDefinition, payload: unknown, options: SendOptions, gate: SendGate): Promise<SendResult>;
  /** Watches each request's deadline (one timer for all of them); see {@link handleJobRequest}. */
  readonly deadlines: DeadlineWatch;
  readonly log: {
    info(m: string, a: object): void;
    warn(m: string, a: object): void;
    error(m: string, a: object): void;
  };
}

/** The HTTP answer (API Gateway payload v2 result shape). */
export interface JobsResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One request as the caller sent it. */
interface JobRequest {
  readonly type: string;
  readonly payload: unknown;
  readonly options: SendOptions;
}

/**
 * A body read as a job request, or why it is not one (which field, what is wrong; never a value sent) and the job
 * type it names when that is a valid one, for the log line.
 */
export type ParsedJobRequest =
  | { readonly ok: true; readonly request: JobRequest }
  | { readonly ok: false; readonly reason: string; readonly type?: string };

/** The fields a job request may hold. */
const REQUEST_FIELDS = [
  'type',
  'payload',
  'id',
  'delay',
  'group',
  'tenant',
  'attempts',
  'backoff',
  'debounce',
];

const reply = (statusCode: number, body: object, extra: Record<string, string> = {}): JobsResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...extra },
  body: JSON.stringify(body),
});
const unavailable = () =>
  reply(503, { message: 'service unavailable' }, { 'retry-after': RETRY_AFTER_SECONDS });

/** Accepts any JSON payload: the consumer's job definition validates it. */
const anyPayload: StandardSchemaV1<unknown, unknown> = {
  '~standard': { version: 1, vendor: 'hookline', validate: (value) => ({ value }) },
};

/** The dependencies a request waits on before its answer is known, in order (the producer's after the tokens). */
type DeadlineStep = 'secret_fetch' | SendStep;
/** What the failure line names of the request, as far as it got. */
interface FailureContext {
  readonly queue?: string;
  readonly type?: string;
  readonly id?: string;
}

/**
 * One request's progress, for the answer at its deadline: the step it waits on and what it knows of the job. Past
 * the deadline the request goes on in the background only to finish what was in flight: the producer starts no
 * further step ({@link gate}), so a send or schedule that completes late still completes its claim (a retry with the
 * same id is then a duplicate), and logs that it did (see `sentLate`); anything else releases it (the retry sends),
 * with no second line.
 */
class RequestDeadline {
  passed = false;
  #step: DeadlineStep = 'secret_fetch';
  #context: FailureContext = {};

  /** Names the request's job, once known, for the failure line. */
  about(context: FailureContext): void {
    this.#context = context;
  }

  /** The request's job as far as it is known: what a failure line names. */
  get job(): FailureContext {
    return this.#context;
  }

  /** The producer's gate: names the step about to start; false, starting nothing, once the deadline has passed. */
  readonly gate: SendGate = (step) => {
    this.#step = step;
    return !this.passed;
  };

  /** The reason the answer at the deadline gave: the step still running then. */
  reason: `deadline_${DeadlineStep}` | undefined;

  /** The answer at the deadline: 503, logged with the step still running. */
  reached(deps: JobsEndpointCollaborators): JobsResponse {
    this.passed = true;
    this.reason = `deadline_${this.#step}`;
    return failed(deps, this.#context, this.reason);
  }
}

/**
 * Handles one request; never throws (an unexpected failure is a 503). `invocation` (the Lambda context) gives the
 * request its deadline: when no more than the margin (`DEADLINE_MARGIN_MS`, shared with the ingest) is left while
 * it still waits on a dependency, it is answered 503 (`deadline_<step>`) before Lambda's timeout; without it (a
 * script, a test) a request has no deadline.
 */
export async function handleJobRequest(
  event: APIGatewayProxyEventV2,
  deps: JobsEndpointCollaborators,
  invocation: InvocationContext = NO_DEADLINE,
): Promise<JobsResponse> {
  try {
    const deadline = new RequestDeadline();
    return await untilDeadline(decide(event, deps, deadline), deps.deadlines, invocation, () =>
      deadline.reached(deps),
    );
  } catch (error) {
    deps.log.error('jobs endpoint failed', { error: String(error) });
    return unavailable();
  }
}

/** The generic answer of each status a request is refused with: the reason goes to the log only. */
const REFUSALS: Readonly<Record<number, string>> = {
  400: 'bad request',
  401: 'unauthorized',
  404: 'not found',
  413: 'payload too large',
};

/**
 * Refuses a request: the caller gets the status's generic body, and the log one `job rejected` line (INFO, as the
 * ingest logs a rejected webhook) with the reason, so an operator can tell a producer what to change.
 */
function refuse(
  deps: JobsEndpointCollaborators,
  status: number,
  reason: string,
  context: { readonly queue?: string; readonly type?: string } = {},
  headers: Record<string, string> = {},
): JobsResponse {
  deps.log.info(JOBS_ENDPOINT_REJECTED_MESSAGE, {
    outcome: 'rejected',
    source: JOB_SOURCE,
    ...context,
    status,
    reason,
  });
  return reply(status, { message: REFUSALS[status] ?? 'bad request' }, headers);
}

async function decide(
  event: APIGatewayProxyEventV2,
  deps: JobsEndpointCollaborators,
  deadline: RequestDeadline,
): Promise<JobsResponse> {
  const denied = await authenticate(event, deps);
  // Answered 503 at the deadline already: tokens loaded late decide nothing more, and log nothing more.
  if (deadline.passed) return unavailable();
  if (denied) return denied;
  const queue = queueName(event);
  if (queue === undefined) return refuse(deps, 404, 'the path names no queue: POST /jobs/{queue}');
  if (!deps.queues.has(queue)) {
    // The path's queue is an operator's name, not the caller's data; cut to a name's length all the same.
    return refuse(deps, 404, 'the endpoint does not serve this queue (jobs.endpoint.queues)', {
      queue: queue.slice(0, 80),
    });
  }
  const body = bodyOf(event);
  if (body === undefined) {
    return refuse(deps, 413, `the body is over ${MAX_WEBHOOK_BODY_BYTES} bytes`, { queue });
  }
  const parsed = parseJobRequest(body);
  if (!parsed.ok) {
    return refuse(deps, 400, parsed.reason, { queue, ...(parsed.type ? { type: parsed.type } : {}) });
  }
  const request = parsed.request;
  let job: JobDefinition;
  try {
    job = { ...defineJob(request.type, anyPayload, { queue }) };
  } catch {
    return refuse(deps, 400, `type is not a job type: ${EVENT_TYPE_RULE}`, { queue });
  }
  deadline.about({
    queue,
    type: job.type,
    ...(request.options.id !== undefined ? { id: request.options.id } : {}),
  });
  return send(deps, deadline, job, request, queue);
}

/** Undefined when the bearer token is one of the active ones. */
async function authenticate(
  event: APIGatewayProxyEventV2,
  deps: JobsEndpointCollaborators,
): Promise<JobsResponse | undefined> {
  const presented = bearerToken(event.headers ?? {});
  let tokens: string[];
  try {
    tokens = await deps.loadTokens(deps.tokenSecretId);
  } catch (error) {
    // The cause says what to fix (a key/value secret, an empty list) without the stored value.
    deps.log.error('jobs endpoint token unavailable', {
      secretId: deps.tokenSecretId,
      error: String(error),
      ...(error instanceof Error && error.cause !== undefined ? { cause: String(error.cause) } : {}),
    });
    return unavailable();
  }
  if (presented !== undefined && tokenMatches(presented, tokens)) return undefined;
  const unusable = tokens.filter((token) => jobsTokenProblem(token) !== undefined).length;
  if (unusable > 0) {
    // A stored token no caller can send (a trailing newline from a file) is ours to fix, not the caller's: every
    // caller, with a token or without, is asked to retry, and the log says which secret to correct.
    deps.log.error('jobs endpoint token unusable', {
      secretId: deps.tokenSecretId,
      unusable,
      fix: `store the token without whitespace in secret ${deps.tokenSecretId} (aws secretsmanager put-secret-value --secret-string)`,
    });
    return unavailable();
  }
  const reason =
    presented === undefined
      ? 'no bearer token: send Authorization: Bearer <token>'
      : 'the bearer token is none of the active ones';
  return refuse(deps, 401, reason, {}, { 'www-authenticate': 'Bearer' });
}

/**
 * Why a stored token can never be presented, or undefined when it can: an `Authorization: Bearer` value is one
 * run of non-space characters (HTTP trims the header's ends), so a token holding whitespace matches no request.
 * Empty tokens are the secret parser's to refuse.
 */
export function jobsTokenProblem(token: string): string | undefined {
  return /\s/.test(token)
    ? 'a token holds whitespace (a trailing newline?), which no Authorization header can carry: store it without'
    : undefined;
}

function bearerToken(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const value = headers.authorization ?? headers.Authorization;
  const match = typeof value === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/** Constant time in the token's content and length: both sides are hashed first; every token is compared. */
function tokenMatches(presented: string, tokens: readonly string[]): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const mine = digest(presented);
  let matched = false;
  for (const token of tokens) if (token.length > 0 && safeEqual(digest(token), mine)) matched = true;
  return matched;
}

function queueName(event: APIGatewayProxyEventV2): string | undefined {
  const fromParams = event.pathParameters?.queue;
  if (typeof fromParams === 'string' && fromParams !== '') return fromParams;
  const match = typeof event.rawPath === 'string' ? /\/jobs\/([^/]+)\/?$/.exec(event.rawPath) : null;
  try {
    return match?.[1] ? decodeURIComponent(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The body as text; undefined when larger than the endpoint accepts (as large as a webhook). */
function bodyOf(event: APIGatewayProxyEventV2): string | undefined {
  const raw = typeof event.body === 'string' ? event.body : '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  return body.length > MAX_WEBHOOK_BODY_BYTES ? undefined : body.toString('utf8');
}

/**
 * `{ type, payload, id?, delay?, group?, tenant?, attempts?, backoff?, debounce? }`, or why the body is not that shape: which field and what is
 * wrong with it, never the value sent (a payload, an id or a tenant may hold personal data or a secret).
 */
export function parseJobRequest(body: string): ParsedJobRequest {
  const refused = (reason: string): ParsedJobRequest => ({ ok: false, reason });
  const shape = `{ ${REQUEST_FIELDS.join(', ')} }`;
  if (body.trim() === '') return refused(`the body is empty: send ${shape}`);
  const json = requestJson(body);
  if (json === undefined) return refused('the body is not JSON');
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return refused(`the body is JSON but not an object: send ${shape}`);
  }
  const { type, payload, id, delay, group, tenant, attempts, backoff, debounce, ...rest } = json as Record<
    string,
    unknown
  >;
  // Whatever else is wrong, a refusal names the job type when the body names a valid one (the log line's `type`);
  // any other text there is the caller's, not a name, and is not logged.
  const named = typeof type === 'string' && isEventTypeName(type) ? type : undefined;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    return { ...refused(unknownFieldsReason(unknown)), ...(named ? { type: named } : {}) };
  if (typeof type !== 'string')
    return refused(type === undefined ? 'type is missing' : 'type is not a string');
  if (!named) return refused(`type is not a job type: ${EVENT_TYPE_RULE}`);
  return parseJobOptions(named, { payload, id, delay, group, tenant, attempts, backoff, debounce });
}

/** Every integer beyond 2^53 has at least 16 digits: a body without 16 in a row holds none. */
const MAYBE_UNSAFE_INTEGER = /\d{16}/;

/**
 * The request's JSON, undefined when it is not JSON. A payload's integers beyond 2^53 are kept as written (the job's
 * body carries them digit for digit), only in a body that may hold one: the reviver that keeps them costs about six
 * times the parse. The endpoint's own fields stay as parsed, so they are refused with their own rules.
 */
function requestJson(body: string): unknown {
  let json: unknown;
  try {
    json = parseJsonText(body);
  } catch {
    return undefined;
  }
  if (!MAYBE_UNSAFE_INTEGER.test(body) || typeof json !== 'object' || json === null || !('payload' in json))
    return json;
  const payload = payloadAsWritten(body);
  return payload === undefined ? json : { ...json, payload: payload.value };
}

/**
 * The body's `payload` with its integers beyond 2^53 as written; undefined when the body is nested deeper than the
 * reviver's stack, which walks the value recursively (the payload as parsed is then refused as too deeply nested
 * when it is serialized, as before).
 */
function payloadAsWritten(body: string): { readonly value: unknown } | undefined {
  try {
    return { value: (parseJsonText(body, integersAsWritten) as { payload: unknown }).payload };
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** The rest of a body that names a valid job type: a refusal names that type. */
function parseJobOptions(type: string, fields: Record<string, unknown>): ParsedJobRequest {
  const refused = (reason: string): ParsedJobRequest => ({ ok: false, reason, type });
  const { payload, id, delay, group, tenant, attempts, backoff, debounce } = fields;
  if (payload === undefined) return refused('payload is missing (send null for none)');
  // The producer checks what an id, a group and a tenant may hold (a ProducerConfigError, so a 400 as well).
  for (const [name, value] of [
    ['id', id],
    ['group', group],
    ['tenant', tenant],
  ] as const) {
    if (!optionalText(value)) return refused(`${name} is not a string`);
  }
  const parsedDelay = parseDelay(delay);
  if (parsedDelay === null) return refused(DELAY_RULE);
  // The producer checks their ranges against the queue's (a ProducerConfigError, so a 400 as well).
  if (attempts !== undefined && typeof attempts !== 'number') return refused('attempts is not a number');
  const parsedBackoff = parseBackoff(backoff);
  if (parsedBackoff === null) return refused(BACKOFF_RULE);
  const parsedDebounce = parseDebounce(debounce);
  if (parsedDebounce === null) return refused(DEBOUNCE_RULE);
  return {
    ok: true,
    request: {
      type,
      payload,
      options: {
        ...(typeof id === 'string' ? { id } : {}),
        ...(typeof group === 'string' ? { group } : {}),
        ...(typeof tenant === 'string' ? { tenant } : {}),
        ...(parsedDelay ? { delay: parsedDelay } : {}),
        ...(typeof attempts === 'number' ? { attempts } : {}),
        ...(parsedBackoff ? { backoff: parsedBackoff } : {}),
        ...(parsedDebounce ? { debounce: parsedDebounce } : {}),
      },
    },
  };
}

function optionalText(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/** What a delay may be, for the reason a request's delay is refused. */
const DELAY_RULE =
  'delay is neither a number of seconds (0 or more) nor an ISO 8601 date-time with a zone on a day that exists (2027-01-15T09:00:00Z)';

/** The unknown fields named (a few, each cut short: they are names, but the caller chose them) and the known ones. */
function unknownFieldsReason(fields: readonly string[]): string {
  const named = fields.slice(0, 3).map((field) => JSON.stringify(field.slice(0, 40)));
  const more = fields.length > 3 ? ` and ${fields.length - 3} more` : '';
  const noun = fields.length === 1 ? 'field' : 'fields';
  return `unknown ${noun} ${named.join(', ')}${more}: a job request holds ${REQUEST_FIELDS.join(', ')}`;
}

/**
 * Seconds (a non-negative number) or an ISO date-time with a zone; null when neither, undefined when absent. A
 * time without a zone, or a day that does not exist, is refused rather than read in the server's zone or rolled
 * over into another day.
 */
function parseDelay(delay: unknown): SendOptions['delay'] | null | undefined {
  if (delay === undefined) return undefined;
  if (typeof delay === 'number') return Number.isFinite(delay) && delay >= 0 ? { seconds: delay } : null;
  if (typeof delay === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(delay)) return parseIsoTime(delay) ?? null;
  return null;
}

/** What a backoff may be, for the reason a request's backoff is refused. */
const BACKOFF_RULE =
  'backoff is not an object of { base, factor, max } numbers (base and max in seconds, as delay)';

/**
 * `{ base, factor, max }` with seconds as numbers, as a delay is given over HTTP, to the producer's durations;
 * null when not that shape, undefined when absent. The producer checks the values.
 */
function parseBackoff(backoff: unknown): SendOptions['backoff'] | null | undefined {
  if (backoff === undefined) return undefined;
  if (backoff === null || typeof backoff !== 'object' || Array.isArray(backoff)) return null;
  const { base, factor, max, ...rest } = backoff as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return null;
  if (![base, factor, max].every((value) => value === undefined || typeof value === 'number')) return null;
  return {
    ...(typeof base === 'number' ? { base: { seconds: base } } : {}),
    ...(typeof factor === 'number' ? { factor } : {}),
    ...(typeof max === 'number' ? { max: { seconds: max } } : {}),
  };
}

/** What a debounce may be over HTTP, for the reason a request's debounce is refused. */
const DEBOUNCE_RULE =
  'debounce is neither a number of seconds nor an object of { period, maxWait } numbers of seconds (as delay)';

/**
 * A debounce in seconds, as a delay is given over HTTP (`30`, or `{ period: 30, maxWait: 300 }`), to the producer's
 * durations; null when not that shape, undefined when absent. The producer checks the values, with the messages
 * `send` gives (at least a second, maxWait at least the period, an id, no delay, a standard queue).
 */
function parseDebounce(debounce: unknown): SendOptions['debounce'] | null | undefined {
  if (debounce === undefined) return undefined;
  if (typeof debounce === 'number') return { seconds: debounce };
  if (debounce === null || typeof debounce !== 'object' || Array.isArray(debounce)) return null;
  const { period, maxWait, ...rest } = debounce as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return null;
  if (![period, maxWait].every((value) => value === undefined || typeof value === 'number')) return null;
  // Without a period the producer's refusal says what is missing.
  return {
    ...(typeof period === 'number' ? { period: { seconds: period } } : {}),
    ...(typeof maxWait === 'number' ? { maxWait: { seconds: maxWait } } : {}),
  } as SendOptions['debounce'];
}

/**
 * The producer sends it; what the caller must change is a 400, anything else a 503. A send that ends after the
 * request's deadline was answered 503, with its line, at the deadline: one that went out says so (`sentLate`), one
 * that failed logs nothing more (its claim is released, and the 503 was true).
 */
async function send(
  deps: JobsEndpointCollaborators,
  deadline: RequestDeadline,
  job: JobDefinition,
  request: JobRequest,
  queue: string,
): Promise<JobsResponse> {
  try {
    const result = await deps.send(job, request.payload, request.options, deadline.gate);
    if (deadline.passed) return sentLate(deps, deadline, job, queue, result);
    deps.log.info(JOBS_ENDPOINT_OUTCOME_MESSAGE, {
      ...enqueuedFields(job, queue, result),
      status: 202,
      // The ingest line's shape (queue to tenant), so one log query and one reader serve webhooks and jobs.
      ...(result.tenant !== undefined ? { tenants: { [queue]: result.tenant } } : {}),
    });
    return reply(202, { id: result.id, state: result.state });
  } catch (error) {
    if (deadline.passed) return unavailable();
    if (error instanceof ProducerConfigError || error instanceof JobPayloadError) {
      // A JobPayloadError names no value (the endpoint's schema takes any payload; only JSON can refuse it).
      const reason = error instanceof ProducerConfigError ? error.withoutValues : error.message;
      return refuse(deps, error instanceof JobTooLargeError ? 413 : 400, reason, { queue, type: job.type });
    }
    return failed(deps, deadline.job, `enqueue failed: ${String(error)}`);
  }
}

/** What the `job enqueued` line and its late twin say about the job that went out. */
function enqueuedFields(job: JobDefinition, queue: string, result: SendResult) {
  return {
    outcome: result.duplicate ? 'duplicate' : result.state,
    id: result.id,
    source: JOB_SOURCE,
    type: job.type,
    queue,
    state: result.state,
    ...(result.dueAt !== undefined ? { dueAt: result.dueAt } : {}),
  };
}

/**
 * A job that went out after its request was answered 503 at the deadline: one `job enqueued after its deadline` line,
 * in the `job enqueued` line's shape with the status the caller got and the 503's reason, so an operator who finds
 * the 503 finds that the job was sent (or was there already). At WARN, not INFO: what the caller was told (503, send
 * it again) is not what happened, and a caller that sent no id gets a second job from its retry.
 */
function sentLate(
  deps: JobsEndpointCollaborators,
  deadline: RequestDeadline,
  job: JobDefinition,
  queue: string,
  result: SendResult,
): JobsResponse {
  try {
    deps.log.warn(JOBS_ENDPOINT_LATE_SEND_MESSAGE, {
      ...enqueuedFields(job, queue, result),
      status: 503,
      reason: deadline.reason,
    });
  } catch {
    // The caller was answered already: a log failure changes nothing.
  }
  return unavailable();
}

/**
 * A 503 for a server fault, with its line at ERROR: local mode and a log query then show why the caller got a 503,
 * as the ingest's `failed` outcome does for a webhook.
 */
function failed(deps: JobsEndpointCollaborators, context: FailureContext, reason: string): JobsResponse {
  deps.log.error(JOBS_ENDPOINT_REJECTED_MESSAGE, {
    outcome: 'failed',
    ...(context.id !== undefined ? { id: context.id } : {}),
    source: JOB_SOURCE,
    ...(context.type !== undefined ? { type: context.type } : {}),
    ...(context.queue !== undefined ? { queue: context.queue } : {}),
    status: 503,
    reason,
  });
  return unavailable();
}
