/**
 * Emulates the pipeline's API Gateway HTTP API: one route, `ANY /webhooks/{source}` (as the stack declares it, so
 * the ingest function answers wrong methods with 405), integrated with the ingest function through payload format
 * 2.0; everything else gets API Gateway's own 404. The same server also answers
 * local mode's control API under `/_hookline/`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { BreakerTrip } from '../../lambda/shared/circuit-breaker';
import {
  HTTP_API_MAX_PAYLOAD_BYTES,
  LAMBDA_SYNC_REQUEST_MAX_BYTES,
} from '../../lambda/shared/request-limits';
import { callerHeadersOf, foreignCallerReason } from '../loopback-gate';
import type { InvokeResult } from './function-runtime';
import { portHolder } from './port-holder';
import { createTokenBucket, type ThrottleSettings } from './throttle';

/** API Gateway HTTP API's payload limit. */
export const MAX_REQUEST_BYTES = HTTP_API_MAX_PAYLOAD_BYTES;
/**
 * Bytes of an oversized body local mode reads (and discards) so the client can send it whole and then read the
 * 413; a client still sending after that is disconnected.
 */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
/** The route key of the one webhook route. */
export const WEBHOOK_ROUTE_KEY = 'ANY /webhooks/{source}';

/** A request as it arrived, before API Gateway turns it into an event. */
export interface RawRequest {
  readonly method: string;
  /** Path and query exactly as sent, e.g. `/webhooks/github?x=1`. */
  readonly url: string;
  /** Node's `rawHeaders`: name, value, name, value... */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly httpVersion: string;
}

/** Fixed facts of the emulated API. */
export interface ApiIdentity {
  readonly apiId: string;
  readonly accountId: string;
  /** Host used when the request has none. */
  readonly defaultHost: string;
}

/** The media types, besides `text/*`, whose bodies HTTP API hands a function as text. */
const TEXT_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
]);

/**
 * Whether API Gateway would hand the body over as text (`isBase64Encoded: false`). HTTP APIs have no binary media
 * type setting, and AWS lists no types; measured against a real HTTP API (payload format 2.0), the body is text for
 * `text/*`, `application/json`, `application/xml` and `application/javascript` (parameters such as `charset` aside),
 * and base64 for everything else: form posts, a missing content type, and `+json`/`+xml` vendor types too
 * (ministackorg/ministack#766). Local mode makes the same split, so a body reaches the function in the encoding it
 * would deployed: a base64 body's bytes never change; a text body that is not valid UTF-8 cannot travel as text
 * unchanged (here its invalid sequences become U+FFFD).
 */
export function isTextContentType(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mediaType.startsWith('text/') || TEXT_MEDIA_TYPES.has(mediaType);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `25/Nov/2026:16:44:57 +0000`, API Gateway's `requestContext.time` format. */
export function requestTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/**
 * A map keyed by names the client chose: without a prototype, `constructor` or `__proto__` is a name like any
 * other, never an inherited value (nor the object's prototype).
 */
const ownRecord = (): Record<string, string> => Object.create(null) as Record<string, string>;

/** A repeated header or query parameter, joined with a comma as API Gateway joins them. */
function appendValue(values: Record<string, string>, name: string, value: string): void {
  values[name] = Object.hasOwn(values, name) ? `${values[name]},${value}` : value;
}

/** Builds the HTTP API payload format 2.0 event for the webhook route, as API Gateway does. */
export function buildHttpApiEvent(
  request: RawRequest,
  source: string,
  identity: ApiIdentity,
  now: Date = new Date(),
  requestId: string = randomUUID(),
): APIGatewayProxyEventV2 {
  const headers = ownRecord();
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] ?? '').toLowerCase();
    const value = request.rawHeaders[i + 1] ?? '';
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    appendValue(headers, name, value);
  }
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? '' : request.url.slice(queryStart + 1);
  const queryStringParameters = ownRecord();
  for (const pair of rawQueryString.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    appendValue(queryStringParameters, key, value);
  }
  // API Gateway sets the scheme the client used (always https there); the ingest rebuilds the signed URL from it.
  headers['x-forwarded-proto'] = 'http';
  const domainName = headers.host ?? identity.defaultHost;
  const hasBody = request.body.length > 0;
  const text = isTextContentType(headers['content-type']);
  return {
    version: '2.0',
    routeKey: WEBHOOK_ROUTE_KEY,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters } : {}),
    requestContext: {
      accountId: identity.accountId,
      apiId: identity.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method.toUpperCase(),
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: WEBHOOK_ROUTE_KEY,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    pathParameters: { source },
    ...(hasBody ? { body: text ? request.body.toString('utf8') : request.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

/** The HTTP response API Gateway derives from a Lambda result (format 2.0). */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

const json = (statusCode: number, value: unknown): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  cookies: [],
  body: Buffer.from(JSON.stringify(value)),
});

/**
 * Maps the ingest function's result to the HTTP response: a `{statusCode, headers, cookies, body,
 * isBase64Encoded}` object as given; any other value as a 200 JSON body (API Gateway's format inference);
 * a function error or timeout as API Gateway's 500.
 */
export function toHttpResponse(result: InvokeResult): HttpResponse {
  if (!result.ok) return json(500, { message: 'Internal Server Error' });
  const value = result.value;
  if (value !== null && typeof value === 'object' && 'statusCode' in value) {
    const r = value as {
      statusCode: unknown;
      headers?: Record<string, unknown>;
      cookies?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
    };
    if (typeof r.statusCode !== 'number') return json(500, { message: 'Internal Server Error' });
    const headers: Record<string, string> = {};
    for (const [name, v] of Object.entries(r.headers ?? {})) headers[name.toLowerCase()] = String(v);
    const body =
      typeof r.body === 'string'
        ? Buffer.from(r.body, r.isBase64Encoded === true ? 'base64' : 'utf8')
        : Buffer.alloc(0);
    const cookies = Array.isArray(r.cookies) ? r.cookies.map(String) : [];
    return { statusCode: r.statusCode, headers, cookies, body };
  }
  if (value === null || value === undefined)
    return { statusCode: 200, headers: {}, cookies: [], body: Buffer.alloc(0) };
  return json(200, value);
}

/** One webhook request, reported after its response was sent. */
export interface WebhookRequestReport {
  readonly source: string;
  readonly statusCode: number;
  readonly latencyMs: number;
  readonly bytes: number;
  readonly requestId: string;
  readonly error?: string;
  /** The ingest function logged its own outcome line for this request. */
  readonly outcomeLogged?: boolean;
}

/** What the control API can see and change. */
export interface ControlApi {
  status(): unknown;
  /** Returns the new state, or undefined for an unknown consumer. */
  setConsumerEnabled(name: string, enabled: boolean): 'Enabled' | 'Disabled' | undefined;
  /** The circuit breaker's record of a consumer, until it closes (a pause or resume answers the one it ended). */
  breakerTrip?(name: string): BreakerTrip | undefined;
  /** Writes the archive's buffered records now; false when archiving is off. */
  flushArchive?(): Promise<boolean>;
  /**
   * Recent events after a sequence number (`GET /_hookline/events?after=N&limit=M&follower=F`), as the follower
   * `F` (any name it keeps while it reads, empty when it gives none) reads them.
   */
  events?(after: number, limit: number, follower: string): unknown;
  /** Each queue's depth, dead letters and consumer state (`GET /_hookline/queues`, what `status --local` shows). */
  queues?(): Promise<unknown>;
  /** The data directory's queues the configuration does not have that hold messages, answered with the queues. */
  unconfiguredQueues?(): Promise<unknown>;
  /** The jobs the one-time schedules will send later, by queue name, answered with the queues. */
  scheduledJobs?(): Readonly<Record<string, number>>;
}

/** Options of {@link startHttpApi}. */
export interface HttpApiOptions {
  readonly port: number;
  readonly host?: string;
  readonly invokeIngest: (event: APIGatewayProxyEventV2) => Promise<InvokeResult>;
  /** The jobs endpoint function behind `POST /jobs/{queue}`; without it that route does not exist. */
  readonly invokeJobs?: (event: APIGatewayProxyEventV2) => Promise<InvokeResult>;
  readonly control?: ControlApi;
  readonly onRequest?: (report: WebhookRequestReport) => void;
  readonly identity?: Partial<ApiIdentity>;
  /** The stage's throttle (as `ingest.rateLimit`/`burstLimit` configure it); none when absent. */
  readonly throttle?: ThrottleSettings;
}

/** A running HTTP API. */
export interface HttpApi {
  readonly port: number;
  readonly url: string;
  /** Requests being handled right now. */
  readonly inFlight: number;
  /**
   * Stops taking webhooks and jobs (each is answered 503 from now on) and waits for those in flight; the control
   * API keeps answering until {@link close}, refusing only its changes (503).
   */
  refuseRequests(): Promise<void>;
  /** Stops accepting connections and waits for requests in flight. */
  close(): Promise<void>;
}

/** What a webhook, a job or a control change sent while local mode stops is answered (503, worth sending again). */
export const STOPPING_MESSAGE = 'local mode is stopping: send it again once it runs';

/**
 * Thrown by {@link startHttpApi} when the port is taken, with a port found free just then to suggest instead, when
 * one of the next few is.
 */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly freePort?: number,
    /** The process listening on it, when the system says (`portHolder`). */
    readonly holder?: string,
  ) {
    const inUse = `port ${port} is in use${holder ? ` by ${holder}` : ''}`;
    super(
      freePort === undefined
        ? `${inUse}, and so are the next ${FREE_PORT_PROBES}: set PORT to a free port (PORT=N npm start)`
        : `${inUse}: set PORT=${freePort} npm start (free when this was checked)`,
    );
    this.name = 'PortInUseError';
  }
}

/** How many ports after a taken one are tried for a free one to suggest. */
const FREE_PORT_PROBES = 10;

/** The first of the {@link FREE_PORT_PROBES} ports after `port` that `host` lets this process listen on, if any. */
async function freePortAfter(port: number, host: string): Promise<number | undefined> {
  for (let candidate = port + 1; candidate <= Math.min(port + FREE_PORT_PROBES, 65_535); candidate++) {
    const probe = createNetServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(candidate, host, () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => probe.close(resolve));
      return candidate;
    }
  }
  return undefined;
}

function send(res: ServerResponse, response: HttpResponse, closing = false): void {
  const headers: Record<string, string | string[]> = { ...response.headers };
  // While shutting down, keep-alive connections are ended after their response so close() can complete.
  if (closing) headers.connection = 'close';
  if (response.cookies.length > 0) headers['set-cookie'] = [...response.cookies];
  headers['content-length'] = String(response.body.length);
  headers['apigw-requestid'] ??= randomUUID();
  res.writeHead(response.statusCode, headers);
  res.end(response.body);
}

/** A request body as read: its bytes, or why there are none to hand on. */
interface ReadBody {
  readonly chunks: Buffer[];
  readonly size: number;
  readonly tooLarge: boolean;
  /** The client went away before the end of its body: what arrived is a fragment, never handed to a function. */
  readonly cut: boolean;
}

/**
 * Reads the request body, and past the API's payload limit keeps reading without storing: leaving the loop
 * early would destroy the socket, and the client, still writing, would see a reset instead of the 413. Reading
 * stops at the drain limit (`size` then exceeds it).
 */
function readBody(req: IncomingMessage): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    // A declared length past the limit is refused whatever arrives; nothing of it is kept meanwhile.
    const declaredTooLarge = Number(req.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES;
    let size = 0;
    let settled = false;
    const done = (cut: boolean) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      const tooLarge = declaredTooLarge || size > MAX_REQUEST_BYTES;
      resolve({ chunks: tooLarge || cut ? [] : chunks, size, tooLarge, cut: cut && !tooLarge });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (!declaredTooLarge && size <= MAX_REQUEST_BYTES) chunks.push(chunk);
      if (size > MAX_DRAIN_BYTES) {
        req.pause();
        done(false);
      }
    };
    req.on('data', onData);
    req.once('end', () => done(false));
    // An error or a close before the end: the client disconnected mid-body.
    req.once('error', () => done(true));
    req.once('close', () => done(!req.complete));
  });
}

/** Reads and discards a request body (a throttled request's), up to the drain limit. */
async function drain(req: IncomingMessage): Promise<void> {
  await readBody(req);
}

const WEBHOOK_PATH = /^\/webhooks\/([^/?]+)\/?$/;
const JOBS_PATH = /^\/jobs\/([^/?]+)\/?$/;
/** The route key of the jobs endpoint (POST only, as the stack declares it). */
export const JOBS_ROUTE_KEY = 'POST /jobs/{queue}';

/** The event of the jobs route: the webhook route's event with its own route key and path parameter. */
function asJobsEvent(event: APIGatewayProxyEventV2, queue: string): APIGatewayProxyEventV2 {
  return {
    ...event,
    routeKey: JOBS_ROUTE_KEY,
    pathParameters: { queue },
    requestContext: { ...event.requestContext, routeKey: JOBS_ROUTE_KEY },
  };
}
const CONSUMER_CONTROL_PATH = /^\/_hookline\/consumers\/([^/]+)\/(pause|resume)$/;

/**
 * Listens on `port` at `host`, turning a taken port into {@link PortInUseError} (the one message `npm start`
 * prints for it).
 */
export function listenOrPortInUse(server: NetServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      freePortAfter(port, host).then(
        (free) => reject(new PortInUseError(port, free, portHolder(port))),
        reject,
      );
    });
    server.listen(port, host, () => resolve());
  });
}

/** Starts the HTTP API on 127.0.0.1 (by default). */
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const host = options.host ?? '127.0.0.1';
  const api = new LocalHttpApi(options, host);
  const port = await api.listen();
  return {
    port,
    url: `http://${host}:${port}`,
    get inFlight() {
      return api.inFlight;
    },
    refuseRequests: () => api.refuseRequests(),
    close: () => api.close(),
  };
}

/** The server behind {@link startHttpApi}: routes each request to the webhook route or the control API. */
class LocalHttpApi {
  inFlight = 0;
  private closing = false;
  /** Stopping: webhooks, jobs and control changes are refused; control reads still answer. */
  private refusing = false;
  /** Webhook and job requests being handled, which a stop lets finish. */
  private routed = 0;
  private routedIdle: (() => void)[] = [];
  private identity: ApiIdentity;
  private readonly bucket;
  private readonly server: Server;

  constructor(
    private readonly options: HttpApiOptions,
    private readonly host: string,
  ) {
    this.identity = { apiId: 'local', accountId: '000000000000', defaultHost: host, ...options.identity };
    this.bucket = options.throttle ? createTokenBucket(options.throttle, performance.now()) : undefined;
    this.server = createServer((req, res) => this.serve(req, res));
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens and returns the port (the one picked when `port` is 0). */
  async listen(): Promise<number> {
    await listenOrPortInUse(this.server, this.options.port, this.host);
    const port = (this.server.address() as AddressInfo).port;
    this.identity = { ...this.identity, defaultHost: `${this.host}:${port}` };
    return port;
  }

  refuseRequests(): Promise<void> {
    this.refusing = true;
    if (this.routed === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.routedIdle.push(resolve));
  }

  close(): Promise<void> {
    this.refusing = true;
    return new Promise<void>((resolve) => {
      this.closing = true;
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight += 1;
    res.on('close', () => {
      this.inFlight -= 1;
    });
    this.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, json(500, { message: 'Internal Server Error' }));
      this.options.onRequest?.({
        source: '',
        statusCode: 500,
        latencyMs: 0,
        bytes: 0,
        requestId: '',
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (path.startsWith('/_hookline/') || path === '/_hookline') {
      this.handleControl(req, res, url);
      return;
    }
    const jobs = JOBS_PATH.exec(path);
    const invokeJobs = this.options.invokeJobs;
    if (jobs && invokeJobs && req.method === 'POST') {
      const queue = decode(jobs[1] ?? '');
      await this.runRouted(req, res, queue, () =>
        this.handleWebhook(req, res, url, queue, (event) => invokeJobs(asJobsEvent(event, queue))),
      );
      return;
    }
    const match = WEBHOOK_PATH.exec(path);
    if (!match) {
      req.resume();
      send(res, json(404, { message: 'Not Found' }));
      return;
    }
    const source = decode(match[1] ?? '');
    await this.runRouted(req, res, source, () => this.handleWebhook(req, res, url, source));
  }

  /**
   * Runs a webhook or job request, counted so a stop can let it finish; once local mode stops, answers 503
   * instead, as API Gateway answers when its integration cannot take the request, so the sender retries.
   */
  private async runRouted(
    req: IncomingMessage,
    res: ServerResponse,
    source: string,
    handle: () => Promise<void>,
  ) {
    if (this.refusing) {
      await drain(req);
      this.reject(res, 503, STOPPING_MESSAGE, { source, bytes: 0, requestId: '', error: STOPPING_MESSAGE });
      return;
    }
    this.routed += 1;
    try {
      await handle();
    } finally {
      this.routed -= 1;
      if (this.routed === 0) for (const idle of this.routedIdle.splice(0)) idle();
    }
  }

  /** Throttle, payload limits, then the route's function (the ingest's by default), as API Gateway applies them. */
  private async handleWebhook(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    source: string,
    invoke = this.options.invokeIngest,
  ) {
    const started = performance.now();
    if (this.bucket && !this.bucket.take(performance.now())) {
      await drain(req);
      this.reject(res, 429, 'Too Many Requests', { source, bytes: 0, requestId: '' });
      return;
    }
    const { chunks, size, tooLarge, cut } = await readBody(req);
    // No one is left to answer, and API Gateway never invokes a function with part of a request.
    if (cut) return;
    if (tooLarge) {
      this.tooLarge(req, res, size);
      this.options.onRequest?.({ source, statusCode: 413, latencyMs: 0, bytes: size, requestId: '' });
      return;
    }
    const requestId = randomUUID();
    const event = this.eventOf(req, url, Buffer.concat(chunks), source, requestId);
    // Lambda refuses a synchronous invocation whose event exceeds its request limit; HTTP API then answers 413.
    if (Buffer.byteLength(JSON.stringify(event)) > LAMBDA_SYNC_REQUEST_MAX_BYTES) {
      this.reject(res, 413, 'Request Entity Too Large', { source, bytes: size, requestId });
      return;
    }
    const result = await invoke(event);
    const response = toHttpResponse(result);
    send(res, { ...response, headers: { ...response.headers, 'apigw-requestid': requestId } }, this.closing);
    this.options.onRequest?.({
      source,
      statusCode: response.statusCode,
      latencyMs: performance.now() - started,
      bytes: size,
      requestId,
      ...(result.ok ? {} : { error: `${result.error.errorType}: ${result.error.errorMessage}` }),
      outcomeLogged: (result.outcomeLines ?? 0) > 0,
    });
  }

  private eventOf(
    req: IncomingMessage,
    url: string,
    body: Buffer,
    source: string,
    requestId: string,
  ): APIGatewayProxyEventV2 {
    return buildHttpApiEvent(
      {
        method: req.method ?? 'GET',
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        httpVersion: req.httpVersion,
      },
      source,
      this.identity,
      new Date(),
      requestId,
    );
  }

  /** Answers API Gateway's own error without invoking the function, and reports it. */
  private reject(
    res: ServerResponse,
    statusCode: number,
    message: string,
    report: Pick<WebhookRequestReport, 'source' | 'bytes' | 'requestId' | 'error'>,
  ): void {
    send(res, json(statusCode, { message }), this.closing || this.refusing);
    this.options.onRequest?.({ ...report, statusCode, latencyMs: 0 });
  }

  /**
   * Answers 413 once the body was read to its end, so the client (which writes the whole body before it reads)
   * gets the answer instead of a reset; a body past the drain limit is cut off after the answer.
   */
  private tooLarge(req: IncomingMessage, res: ServerResponse, size: number): void {
    const cut = size > MAX_DRAIN_BYTES;
    send(res, json(413, { message: 'Request Entity Too Large' }), this.closing || cut);
    if (cut) res.on('finish', () => req.socket.destroy());
  }

  private handleControl(req: IncomingMessage, res: ServerResponse, url: string): void {
    req.resume();
    // Webhooks may arrive through a tunnel under any host; the control API answers this machine only, so a web
    // page (cross-origin, or by DNS rebinding) cannot pause a consumer or read the state.
    const foreign = foreignCallerReason(
      callerHeadersOf(req),
      req.socket.localPort ?? 0,
      "local mode's control API",
    );
    if (foreign) {
      send(res, json(403, { message: foreign }));
      return;
    }
    // Stopping, it still answers reads (a follower reads the last lines of the journal) but changes nothing.
    if (this.refusing && req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, json(503, { message: STOPPING_MESSAGE }));
      return;
    }
    const answer = this.asyncControl(req.method, new URL(url, 'http://control').pathname);
    if (!answer) {
      send(res, this.controlResponse(req.method, url));
      return;
    }
    // A fault of local mode itself (an emulator down): 503, worth asking again, as for the webhooks.
    answer.then(
      (response) => send(res, response),
      (error: unknown) => send(res, json(503, { message: String(error) })),
    );
  }

  /** The control routes that wait for the emulators; undefined for every other route. */
  private asyncControl(method: string | undefined, path: string): Promise<HttpResponse> | undefined {
    const control = this.options.control;
    if (method === 'POST' && path === '/_hookline/archive/flush' && control?.flushArchive) {
      return control
        .flushArchive()
        .then((flushed) =>
          json(flushed ? 200 : 404, flushed ? { flushed: true } : { message: 'archiving is off' }),
        );
    }
    if (method === 'GET' && path === '/_hookline/queues' && control?.queues) {
      return Promise.all([control.queues(), control.unconfiguredQueues?.()]).then(([rows, unconfigured]) =>
        json(200, {
          target: 'local mode',
          queues: rows,
          ...(unconfigured !== undefined ? { unconfiguredQueues: unconfigured } : {}),
          ...(control.scheduledJobs ? { scheduledJobs: control.scheduledJobs() } : {}),
        }),
      );
    }
    return undefined;
  }

  private controlResponse(method: string | undefined, url: string): HttpResponse {
    const control = this.options.control;
    if (!control) return json(404, { message: 'Not Found' });
    const { pathname: path, searchParams } = new URL(url, 'http://control');
    if (method === 'GET' && path === '/_hookline/status') return json(200, control.status());
    if (method === 'GET' && path === '/_hookline/events' && control.events) {
      const after = Number(searchParams.get('after') ?? 0) || 0;
      const limit = Number(searchParams.get('limit') ?? 1000) || 1000;
      return json(200, control.events(after, limit, searchParams.get('follower') ?? ''));
    }
    const match = CONSUMER_CONTROL_PATH.exec(path);
    if (method === 'POST' && match) {
      const name = decode(match[1] ?? '');
      const resume = match[2] === 'resume';
      // Read before the pause or resume ends it: the answer says which breaker record the operator ended.
      const cleared = control.breakerTrip?.(name);
      const state = control.setConsumerEnabled(name, resume);
      if (!state) return json(404, { message: `unknown consumer "${name}"` });
      return json(200, { consumer: name, state, ...(cleared ? { clearedCircuitBreaker: cleared } : {}) });
    }
    return json(404, { message: 'Not Found' });
  }
}
