/**
 * The console's HTTP server (node:http, loopback only): the gate of `security.ts` in front of every request,
 * the page and its bundle, and a small JSON API over {@link ConsoleOperations}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BackendError,
  CliError,
  LOCAL_PAGE_ANSWER_SECONDS,
  localModeNotAnswering,
  NotFoundError,
  UnknownQueueError,
  UnknownSourceError,
} from '../cli/errors';
import { nextCommand } from '../cli/output';
import { callerHeadersOf } from '../loopback-gate';
import { EVENT_OUTCOMES, type EventFilter } from './activity';
import type { ConsoleAssets } from './assets';
import type { JobRecordQuery } from './job-records';
import { lastResort, UNEXPECTED_FAILURE } from './last-resort';
import type { ConsoleOperations, DeleteSelection, RedriveSelection, ReplayRequest } from './operations';
import { pageCursorOf } from './paging';
import { checkRequest, SECURITY_HEADERS, TOKEN_HEADER, tokenCookie } from './security';
import { ReadsInFlight } from './shared-reads';

/** A request's route parameters, query and JSON body. */
interface RouteInput {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  /**
   * Says a long read goes on: local mode answered a part of it (a receive of a dead-letter queue), so the page's
   * bound on local mode's silence starts again.
   */
  readonly alive: () => void;
}

type Handler = (ops: ConsoleOperations, input: RouteInput) => Promise<unknown> | unknown;

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The JSON API: method, path pattern, handler. Each handler is one call into the operations. */
const ROUTES: readonly (readonly [string, RegExp, Handler])[] = [
  ['GET', /^\/api\/overview$/, (ops) => ops.overview()],
  ['GET', /^\/api\/events$/, (ops, { query }) => ops.events(filterOf(query))],
  ['GET', /^\/api\/events\/([^/]+)$/, (ops, { params, alive }) => ops.event(params[0] ?? '', alive)],
  [
    'GET',
    /^\/api\/failures\/([^/]+)$/,
    (ops, { params, query, alive }) => ops.failures(params[0] ?? '', pageCursorOf(query.get('page')), alive),
  ],
  [
    'POST',
    /^\/api\/failures\/([^/]+)\/delete$/,
    (ops, { params, body }) => ops.deleteDeadLetters(params[0] ?? '', deletionOf(body)),
  ],
  [
    'GET',
    /^\/api\/job-records$/,
    (ops, { query, alive }) =>
      ops.jobRecords(
        {
          state: query.get('state'),
          queue: query.get('queue'),
          type: query.get('type'),
          tenant: query.get('tenant'),
        },
        pageCursorOf(query.get('page')),
        alive,
      ),
  ],
  [
    'POST',
    /^\/api\/job-records\/cancel$/,
    (ops, { body }) => ops.cancelMatchingJobRecords(jobFiltersOf(body), confirmedOf(body)),
  ],
  ['GET', /^\/api\/job-records\/([^/]+)$/, (ops, { params }) => ops.jobRecord(params[0] ?? '')],
  [
    'POST',
    /^\/api\/job-records\/([^/]+)\/cancel$/,
    (ops, { params }) => ops.cancelJobRecord(params[0] ?? ''),
  ],
  ['GET', /^\/api\/jobs$/, (ops) => ({ jobs: ops.jobs.list() })],
  ['GET', /^\/api\/jobs\/([^/]+)$/, (ops, { params }) => jobOf(ops, params[0] ?? '')],
  [
    'POST',
    /^\/api\/queues\/([^/]+)\/redrive$/,
    (ops, { params, body }) => ops.redrive(params[0] ?? '', selectionOf(body)),
  ],
  [
    'POST',
    /^\/api\/queues\/([^/]+)\/purge$/,
    (ops, { params, body }) => ops.purge(params[0] ?? '', body.deadLetter === true, str(body.confirm) ?? ''),
  ],
  ['POST', /^\/api\/queues\/([^/]+)\/pause$/, (ops, { params }) => ops.setConsumer(params[0] ?? '', false)],
  ['POST', /^\/api\/queues\/([^/]+)\/resume$/, (ops, { params }) => ops.setConsumer(params[0] ?? '', true)],
  [
    'POST',
    /^\/api\/sources\/([^/]+)\/send$/,
    (ops, { params, body }) => ops.send(params[0] ?? '', str(body.type) || undefined),
  ],
  ['POST', /^\/api\/replay$/, (ops, { body }) => ops.replay(replayRequestOf(body))],
];

/** The live list's filters; an outcome the feed never carries is a typo, not a filter that matches nothing. */
function filterOf(query: URLSearchParams): EventFilter {
  const pick = (name: string) => query.get(name) || undefined;
  const outcome = pick('outcome');
  if (outcome !== undefined && !EVENT_OUTCOMES.includes(outcome)) {
    throw new CliError(`unknown outcome "${outcome}": use one of ${EVENT_OUTCOMES.join(', ')}`);
  }
  return {
    ...(pick('source') ? { source: pick('source') } : {}),
    ...(pick('type') ? { type: pick('type') } : {}),
    ...(pick('outcome') ? { outcome: pick('outcome') } : {}),
    ...(pick('queue') ? { queue: pick('queue') } : {}),
  };
}

/** The Jobs page's filters in a body (`state`, `queue`, `type`, `tenant`), each a string when given. */
function jobFiltersOf(body: Record<string, unknown>): JobRecordQuery {
  const filters: Record<string, string> = {};
  for (const name of ['state', 'queue', 'type', 'tenant'] as const) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new CliError(`${name} must be a string: nothing was cancelled`);
    filters[name] = value;
  }
  return filters;
}

/**
 * The jobs a Cancel matching's `yes` cancels: `ids`, those its dry run answered and the operator confirmed, of which
 * only those that still match are cancelled. Without `yes`, none (the dry run). A `yes` without them is refused: it
 * would cancel whatever matches by then, more than the confirmation counted.
 */
function confirmedOf(body: Record<string, unknown>): readonly string[] | undefined {
  if (body.yes !== true) return undefined;
  const { ids } = body;
  if (!isIdList(ids) || ids.length === 0) {
    throw new CliError(
      'yes needs ids: the job ids the dry run (the same request without yes) answered, which the operator confirmed; nothing was cancelled',
    );
  }
  return ids;
}

/** `failure`, when the body has one: a failure key (`failed summary`'s KEY column), checked as the CLI checks it. */
function failureOf(body: Record<string, unknown>, nothingDone: string): { failure?: string } {
  const { failure } = body;
  if (failure === undefined) return {};
  if (typeof failure !== 'string') {
    throw new CliError(
      `failure must be a failure key (a string) as hookline failed summary prints it: nothing was ${nothingDone}`,
    );
  }
  return { failure };
}

/**
 * A redrive's selection. A selector of the wrong shape is an error: dropped, it would leave no selector, and
 * no selector means "redrive everything".
 */
/** What a page's `ids` must be: a blank id is refused here, before a job starts, as `--id ""` is. */
const ID_LIST_RULE = 'ids must be a list of event ids (strings, none blank)';

function isIdList(ids: unknown): ids is string[] {
  return Array.isArray(ids) && ids.every((x) => typeof x === 'string' && x.trim() !== '');
}

function selectionOf(body: Record<string, unknown>): RedriveSelection {
  const { ids, type } = body;
  if (ids !== undefined && !isIdList(ids)) {
    throw new CliError(`${ID_LIST_RULE}: nothing was redriven`);
  }
  if (type !== undefined && typeof type !== 'string') {
    throw new CliError('type must be a type pattern (a string) such as "invoice.*": nothing was redriven');
  }
  return {
    ...(ids !== undefined ? { ids } : {}),
    ...(type !== undefined ? { type } : {}),
    ...failureOf(body, 'redriven'),
  };
}

/**
 * A delete's selection: the ids or a failure's key, and `yes: true`, the confirmation the page asked for (as
 * `failed delete --yes`): what is deleted cannot be brought back, so a request without it deletes nothing.
 */
function deletionOf(body: Record<string, unknown>): DeleteSelection {
  const { ids, yes } = body;
  const failure = failureOf(body, 'deleted');
  if ((ids !== undefined || failure.failure === undefined) && !isIdList(ids)) {
    throw new CliError(`${ID_LIST_RULE}: nothing was deleted`);
  }
  if (yes !== true) {
    throw new CliError(
      'a delete cannot be undone: send "yes": true once the operator confirmed it (the page asks first); nothing was deleted',
    );
  }
  return { ...(ids !== undefined ? { ids } : {}), ...failure };
}

/** A path parameter, decoded; malformed percent-encoding is the caller's error. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new CliError(`the path has malformed percent-encoding: ${raw}`);
  }
}

function replayRequestOf(body: Record<string, unknown>): ReplayRequest {
  const fields = ['source', 'type', 'since', 'until', 'queue'] as const;
  const request: Record<string, unknown> = { dryRun: body.dryRun === true };
  for (const name of fields) if (str(body[name]) !== undefined) request[name] = body[name];
  return request as ReplayRequest;
}

function jobOf(ops: ConsoleOperations, id: string) {
  const job = ops.jobs.get(id);
  if (!job) throw new NotFoundError(`no job ${id} in this console run`);
  return job;
}

/**
 * The page: the token rides in a meta tag, readable by this origin's script only, and so does the command that
 * starts this console again (with the target flags it was started with), which the page names once it stops
 * answering. Its icon is inline and empty, so the browser asks for no `/favicon.ico`, which would be a 404 in the
 * console of every load.
 */
function indexHtml(token: string, title: string, restart: string): string {
  const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hookline console: ${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="hookline-token" content="${escapeHtml(token)}"><meta name="hookline-console-command" content="${escapeHtml(restart)}">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/app.css"></head><body><div id="app"></div><script type="module" src="/app.js"></script></body></html>`;
}

function answer(res: ServerResponse, status: number, type: string, body: string | Buffer, extra = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown) =>
  answer(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

const MAX_BODY_BYTES = 64 * 1024;

/**
 * A Cancel matching's confirmation carries every id its dry run named, which may be tens of thousands of ids of up to
 * 200 characters: 16 MB holds 80,000 of the longest, 400,000 UUIDs.
 */
const CONFIRMED_IDS_BODY_BYTES = 16 * 1024 * 1024;

/** The largest body a path takes. */
const bodyLimitOf = (path: string) =>
  path === '/api/job-records/cancel' ? CONFIRMED_IDS_BODY_BYTES : MAX_BODY_BYTES;

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CliError('request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new CliError('the request body is not JSON');
  }
  // Read as an empty object, a list or a string would carry no selector, and a redrive without one moves everything.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError('the request body must be a JSON object: nothing was done');
  }
  return parsed as Record<string, unknown>;
}

/** Options of {@link startConsoleServer}. */
export interface ConsoleServerOptions {
  readonly operations: ConsoleOperations;
  readonly assets: ConsoleAssets;
  readonly token: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** How often the event feed is read. @default 1000 */
  readonly feedIntervalMs?: number;
  /** How long a read (GET) of local mode is waited for before the page is told it is not answering (tests). */
  readonly pageAnswerMs?: number;
}

/** A running console. */
export interface ConsoleServer {
  readonly port: number;
  /** The URL to open, with the token. */
  readonly url: string;
  close(): Promise<void>;
}

/** The request handler: gate, then page, bundle or API. */
function handlerFor(options: ConsoleServerOptions, port: () => number) {
  const { token } = options;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const verdict = checkRequest(
      {
        method: req.method ?? 'GET',
        ...callerHeadersOf(req),
        cookie: header('cookie'),
        headerToken: header(TOKEN_HEADER),
        queryToken: url.searchParams.get('token'),
      },
      { port: port(), token },
    );
    if (!verdict.allow) {
      req.resume();
      json(res, verdict.status, { error: verdict.reason });
      return;
    }
    if (verdict.setCookie) {
      // Keep the token in the cookie and take it out of the address bar (and out of the history).
      req.resume();
      answer(res, 303, 'text/plain', '', { 'set-cookie': tokenCookie(token, port()), location: '/' });
      return;
    }
    await route(req, res, url, options);
  };
}

/**
 * The request handler, with the last resort around it: an error outside the routes' own (in the gate, in writing an
 * answer) would otherwise leave the request unanswered and end the console with an unhandled rejection.
 */
function guarded(options: ConsoleServerOptions, port: () => number) {
  const handle = handlerFor(options, port);
  return (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      const { operations } = options;
      // The path only: a query may carry the token.
      const path = (req.url ?? '/').split('?', 1)[0];
      const told = lastResort(error, operations.target, operations.log, `answering ${req.method} ${path}`);
      if (res.headersSent) res.destroy();
      else json(res, told ? statusOf(told, []) : 500, { error: told?.message ?? UNEXPECTED_FAILURE });
    });
  };
}

/**
 * What went wrong, as HTTP says it: the backend's state (local mode stopped, AWS throttled or denied, or answering
 * with an error nothing explains) is a 503 the page can retry, a thing the request names that does not exist is a
 * 404, a request the operation refuses is a 400. A queue or a source is a thing the request names when its path
 * names it (`/api/queues/nope/pause`, `/api/sources/nope/send`); in a filter or a body it is a value the request got
 * wrong. The console's own fault is a 500,
 * which {@link lastResort} tells.
 */
function statusOf(error: CliError, params: readonly string[]): number {
  if (error instanceof BackendError) return 503;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof UnknownQueueError && params.includes(error.queue)) return 404;
  if (error instanceof UnknownSourceError && params.includes(error.source)) return 404;
  return 400;
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, options: ConsoleServerOptions) {
  const { operations, assets, token } = options;
  const method = req.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/') {
    const { target, hints = {} } = operations.context;
    answer(
      res,
      200,
      'text/html; charset=utf-8',
      indexHtml(token, target.description, nextCommand(hints, 'console')),
    );
    return;
  }
  if (method === 'GET' && url.pathname === '/app.js') return answer(res, 200, 'text/javascript', assets.js);
  if (method === 'GET' && url.pathname === '/app.css') return answer(res, 200, 'text/css', assets.css);
  for (const [routeMethod, pattern, handle] of ROUTES) {
    const match = routeMethod === method ? pattern.exec(url.pathname) : null;
    if (!match) continue;
    let params: readonly string[] = [];
    try {
      const body = method === 'POST' ? await readJson(req, bodyLimitOf(url.pathname)) : {};
      params = match.slice(1).map(decodeParam);
      const run = (alive: () => void = () => {}) =>
        handle(operations, { params, query: url.searchParams, body, alive });
      json(res, 200, await (method === 'GET' ? pageRead(options, url, run) : run()));
    } catch (error) {
      const told = lastResort(
        error,
        operations.target,
        operations.log,
        `answering ${method} ${url.pathname}`,
      );
      json(res, told ? statusOf(told, params) : 500, { error: told?.message ?? UNEXPECTED_FAILURE });
    }
    return;
  }
  req.resume();
  json(res, 404, { error: 'not found' });
}

/** A read still waiting for its answer, and when local mode last answered a part of it. */
interface ReadInFlight {
  readonly answer: Promise<unknown>;
  lastAnswerAt: number;
}

/**
 * The reads still waiting for an answer, per console, by URL: joined while they run, as `SharedReads` joins
 * its reads, but never reused once answered (a page asks again for what changed since), so no answer is kept.
 */
const readsInFlight = new WeakMap<ConsoleOperations, ReadsInFlight<ReadInFlight>>();

/**
 * A page's read: answered as 503 "not answering" when local mode has answered nothing of it for
 * {@link LOCAL_PAGE_ANSWER_SECONDS} (suspended, stuck), so the person looking at the page is told in seconds rather
 * than after the SDK's tries. A read that goes on answering (a dead-letter queue of thousands, read receive after
 * receive) says so through `alive`, and is waited for: its length is the queue's size, not local mode's silence. The
 * read goes on within its own bounds, and the same read asked again meanwhile (the page polls) joins it instead of
 * starting another. A change (POST) is never cut short: the page must not say it failed while it may still happen.
 */
function pageRead(
  options: ConsoleServerOptions,
  url: URL,
  read: (alive: () => void) => Promise<unknown> | unknown,
): Promise<unknown> {
  const { operations } = options;
  const reads = readsInFlight.get(operations) ?? new ReadsInFlight<ReadInFlight>();
  readsInFlight.set(operations, reads);
  const inFlight = reads.join(`${url.pathname}${url.search}`, () => startRead(read));
  if (operations.context.target.kind !== 'local') return inFlight.answer;
  const boundMs = options.pageAnswerMs ?? LOCAL_PAGE_ANSWER_SECONDS * 1_000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    // Checked again when the bound would end: a read local mode answered meanwhile waits another bound from then.
    const check = () => {
      const silentMs = Date.now() - inFlight.lastAnswerAt;
      if (silentMs >= boundMs) reject(localModeNotAnswering(undefined, boundMs / 1_000));
      else timer = setTimeout(check, boundMs - silentMs);
    };
    timer = setTimeout(check, boundMs);
  });
  return Promise.race([inFlight.answer, late]).finally(() => clearTimeout(timer));
}

/** Starts a page's read, with its `alive` hook. */
function startRead(read: (alive: () => void) => Promise<unknown> | unknown): ReadInFlight {
  const heard = { lastAnswerAt: Date.now() };
  const alive = () => {
    heard.lastAnswerAt = Date.now();
  };
  const answer = Promise.resolve().then(() => read(alive));
  return Object.assign(heard, { answer });
}

/**
 * Why the console cannot listen, as the operator's error when it is theirs: a port taken by another process (a
 * second console, say) or one that needs privileges is fixed by choosing another, not reported as a bug.
 */
function listenError(error: Error, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new CliError(
      `port ${port} on 127.0.0.1 is in use by another process: choose another with --port N, or leave --port out for a free one`,
    );
  }
  if (code === 'EACCES') {
    return new CliError(
      `port ${port} on 127.0.0.1 needs privileges this process does not have: choose one above 1023 with --port N, or leave --port out for a free one`,
    );
  }
  return error;
}

/** Starts the console on 127.0.0.1 and follows the event feed until closed. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  let port = 0;
  const server: Server = createServer(guarded(options, () => port));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, options.port ?? 0)));
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  await options.operations.pump();
  const timer = setInterval(() => void options.operations.pump(), options.feedIntervalMs ?? 1000);
  timer.unref();
  return {
    port,
    url: `http://127.0.0.1:${port}/?token=${options.token}`,
    close: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
