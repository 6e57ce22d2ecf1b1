/**
 * The embedded AWS emulators of local mode: fauxqs (SQS and S3 on one port) and dynalite (DynamoDB), both
 * in-process, bound to 127.0.0.1 only and answering only callers on this machine (../loopback-gate): dynalite
 * allows any origin in its CORS answers, so without the gate any web page the developer visits could read and
 * write the local tables, and a DNS-rebinding page could reach fauxqs too.
 *
 * fauxqs's `startFauxqs()` always listens on 0.0.0.0, so this module assembles the server from the same pieces
 * `startFauxqs()` uses (stores, SQLite persistence manager, `buildApp`) and listens on loopback itself. The
 * stores are not in the package's `exports`, so they are imported by file URL next to the resolved entry point;
 * fauxqs is pinned to 2.4.1, whose layout this relies on.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire, isBuiltin } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { LockContent } from '../../lambda/shared/local-state';
import { gateToLoopbackCallers } from '../loopback-gate';
import { lockDataDir } from './data-dir-lock';
import { fixConditionFailureItem } from './dynalite-fixes';
import {
  enteredQueueAt,
  type FauxqsSqsErrorClass,
  fixBodyCharacters,
  fixExpiredHoldCounts,
  fixFifoGroupReceives,
  fixHoldLimit,
  fixReleasePersistence,
  fixRetention,
  fixSendValidation,
  fixUndeliveredHandBack,
  persistQueueEntries,
  receivesInQueue,
} from './fauxqs-fixes';
import type { TenantBacklog } from './quiet-tenants';
import { LocalStartProblem, unusableDirectory } from './start-problem';
import { tenantOf } from './tenant-lanes';

/** Where the emulators listen and how to stop them. */
export interface Emulators {
  /** Region the emulators report in ARNs; SDK clients must use the same one. */
  readonly region: string;
  /** Base URLs, `http://127.0.0.1:<port>`; SQS and S3 share the fauxqs port. */
  readonly endpoints: { readonly sqs: string; readonly s3: string; readonly dynamodb: string };
  /**
   * The local mode that used the data directory before and did not stop (killed with -9, crashed): its lock was
   * taken over. Absent after a clean stop, and in memory.
   */
  readonly notStopped?: LockContent;
  /**
   * Why the emulators ended without being stopped (their thread crashed), once they did; undefined while they run.
   * Only emulators in their own thread can end alone: in-process ones end with the process.
   */
  readonly failure?: string | undefined;
  /** Settles with {@link failure} when the emulators end without being stopped; never otherwise. */
  readonly failed?: Promise<string>;
  /** Stops both servers, cutting pending long polls, and closes the persistence files. */
  stop(): Promise<void>;
}

/** Options of {@link startEmulators}. */
export interface EmulatorOptions {
  /** Port of fauxqs (SQS + S3); 0 (default) picks a free one. */
  readonly sqsPort?: number;
  /** Port of dynalite; 0 (default) picks a free one. */
  readonly dynamoPort?: number;
  /** Directory for persistent state (fauxqs SQLite, dynalite LevelDB). In memory when absent. */
  readonly dataDir?: string;
  /** Default `us-east-1`. */
  readonly region?: string;
}

const LOOPBACK = '127.0.0.1';

/**
 * Throws a readable error on a Node without `node:sqlite`, which fauxqs 2.4.1 imports: Node has it from 22.5, but
 * behind `--experimental-sqlite` until 22.13 (23.4 on 23.x), so the version alone cannot tell. `hasSqlite` is
 * whether this process may load it (`isBuiltin` answers for the flag too and loads nothing).
 */
export function assertNodeVersion(
  version: string = process.versions.node,
  hasSqlite: boolean = isBuiltin('node:sqlite'),
): void {
  if (hasSqlite) return;
  throw new Error(
    `local mode needs node:sqlite for its SQS emulator, which Node ${version} does not offer: use Node 22.13 or later ` +
      '(23.4 on 23.x), start it with NODE_OPTIONS=--experimental-sqlite on Node 22.5 to 22.12, ' +
      'or add the node@24 devDependency (npm install -D node@24) and start local mode through npm (npm start, or ' +
      'npx hookline dev in an app without that script), which puts it first on PATH',
  );
}

let warningFilterInstalled = false;
/** Drops only the "SQLite is experimental" warning that importing fauxqs can emit; every other warning passes. */
function silenceSqliteWarning(): void {
  if (warningFilterInstalled) return;
  warningFilterInstalled = true;
  const original = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = typeof warning === 'string' ? type : warning.name;
    if ((name === 'ExperimentalWarning' || type === 'ExperimentalWarning') && /sqlite/i.test(text)) return;
    (original as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

// Minimal shapes of the fauxqs internals used here (not part of its public types).
interface FauxqsStore {
  persistence?: unknown;
  region?: string;
}
interface FauxqsMessage {
  messageId: string;
  sentTimestamp: number;
  approximateReceiveCount: number;
  messageGroupId?: string;
  messageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}
interface FauxqsSqsStore extends FauxqsStore {
  allQueues(): Iterable<{
    persistence?: unknown;
    inspectMessages(): { ready: object[]; delayed: object[]; inflight: { message: object }[] };
  }>;
  getQueueByName(name: string):
    | {
        /** Where each kind of queue keeps its messages: a FIFO queue holds its waiting ones per group. */
        inspectMessages(): { ready: FauxqsMessage[]; inflight: { message: FauxqsMessage }[] };
        /** Returns expired holds and due delays, and drops messages past retention (`fauxqs-fixes.ts`). */
        processTimers(): void;
        isFifo(): boolean;
      }
    | undefined;
}
interface FauxqsPersistence {
  load(sqs: unknown, sns: unknown, s3: unknown): void;
  close(): void;
}
interface FastifyLike {
  get(path: string, handler: (request: { params: Record<string, string> }) => Promise<unknown>): void;
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
  addHook(name: 'preClose', hook: () => void): void;
  server: Server;
}
type StoreConstructor<T> = new () => T;

async function startFauxqsOnLoopback(port: number, region: string, dataDir: string | undefined) {
  silenceSqliteWarning();
  const entry = import.meta.resolve('fauxqs');
  const load = async <T>(relative: string): Promise<T> => (await import(new URL(relative, entry).href)) as T;
  const app = await load<{ buildApp(options: object): FastifyLike }>('./app.js');
  const { SqsStore, SqsQueue } = await load<{
    SqsStore: StoreConstructor<FauxqsSqsStore>;
    SqsQueue: unknown;
  }>('./sqs/sqsStore.js');
  fixExpiredHoldCounts(SqsQueue);
  fixFifoGroupReceives(SqsQueue);
  fixRetention(SqsQueue);
  // Before buildApp, which registers the actions.
  const { SqsRouter } = await load<{ SqsRouter: unknown }>('./sqs/sqsRouter.js');
  fixUndeliveredHandBack(SqsRouter);
  const { INVALID_MESSAGE_BODY_CHAR } = await load<{ INVALID_MESSAGE_BODY_CHAR: unknown }>(
    './sqs/sqsTypes.js',
  );
  fixBodyCharacters(INVALID_MESSAGE_BODY_CHAR);
  const { SqsError } = await load<{ SqsError: FauxqsSqsErrorClass }>('./common/errors.js');
  fixSendValidation(SqsRouter, SqsError);
  fixHoldLimit(SqsQueue, SqsRouter, SqsError);
  const { SnsStore } = await load<{ SnsStore: StoreConstructor<FauxqsStore> }>('./sns/snsStore.js');
  const { S3Store } = await load<{ S3Store: StoreConstructor<FauxqsStore> }>('./s3/s3Store.js');

  const sqsStore = new SqsStore();
  const snsStore = new SnsStore();
  const s3Store = new S3Store();
  let persistence: FauxqsPersistence | undefined;
  if (dataDir) {
    const { PersistenceManager } = await load<{ PersistenceManager: new (dir: string) => FauxqsPersistence }>(
      './persistence.js',
    );
    mkdirSync(dataDir, { recursive: true });
    const dir = join(dataDir, 'fauxqs');
    try {
      persistence = new PersistenceManager(dir);
      // Same order as startFauxqs: load first, then attach, so loading does not write back.
      persistence.load(sqsStore, snsStore, s3Store);
    } catch (error) {
      throw unreadableStore(dataDir, join(dir, 'fauxqs.db'), 'queues, messages and objects', error);
    }
    fixReleasePersistence(persistence);
    persistQueueEntries(persistence, sqsStore.allQueues());
    sqsStore.persistence = persistence;
    snsStore.persistence = persistence;
    s3Store.persistence = persistence;
    for (const queue of sqsStore.allQueues()) queue.persistence = persistence;
  }
  const server = app.buildApp({
    logger: false,
    defaultRegion: region,
    stores: { sqsStore, snsStore, s3Store },
  });
  serveOldestMessage(server, sqsStore);
  serveTenantBacklogs(server, sqsStore);
  if (persistence) {
    const opened = persistence;
    server.addHook('preClose', () => opened.close());
  }
  gateToLoopbackCallers(server.server, 'the SQS/S3 emulator');
  keepIdleConnections(server.server);
  await listenOrExplain(() => server.listen({ port, host: LOOPBACK }), 'SQS/S3 emulator (fauxqs)', port);
  const address = server.server.address() as AddressInfo;
  return { port: address.port, close: () => server.close() };
}

/** Path of the emulator's answer to "which tenants' messages does this queue hold". */
const TENANT_BACKLOGS_PATH = '/_hookline/tenant-backlogs/';

/** Path of the emulator's answer to "when was the oldest message of this queue sent". */
const OLDEST_MESSAGE_PATH = '/_hookline/oldest-message/';

/**
 * Answers `GET /_hookline/oldest-message/<queue name>` with `{ sentAt }`, when the oldest message waiting or in
 * flight entered the queue (epoch ms), as SQS's `ApproximateAgeOfOldestMessage` counts it (a dead letter a redrive
 * policy moved, from its move), or null when there is none: a delayed message is not yet in the queue, and on a
 * standard queue a message received three times or more in it is left out (SQS moves it to the back and reports the
 * next one; a dead letter's receives in the queue it was moved from do not count). Served by the emulator, which may run in its own thread,
 * so the main thread asks over HTTP, as for everything else; and without the bodies fauxqs's own inspection sends.
 */
function serveOldestMessage(server: FastifyLike, sqsStore: FauxqsSqsStore): void {
  server.get(`${OLDEST_MESSAGE_PATH}:queueName`, async (request) => {
    const queue = sqsStore.getQueueByName(request.params.queueName ?? '');
    if (!queue) return { sentAt: null };
    // As the queue's counts do: a message past its retention is gone, though no receive has run since.
    queue.processTimers();
    const { ready, inflight } = queue.inspectMessages();
    const counted = (message: FauxqsMessage) => queue.isFifo() || receivesInQueue(message) < 3;
    let sentAt: number | null = null;
    for (const message of [...ready, ...inflight.map((entry) => entry.message)]) {
      const entered = enteredQueueAt(message);
      if (counted(message) && (sentAt === null || entered < sentAt)) sentAt = entered;
    }
    return { sentAt };
  });
}

/**
 * Answers `GET /_hookline/tenant-backlogs/<queue name>` with `{ tenants }`: per tenant (as SQS fair queues key
 * them, {@link tenantOf}), its messages waiting (`ready`) and in flight (`inflight`), and when the oldest of them
 * entered the queue as the age of the oldest message counts it (`sentAt`, null when none counts). Delayed
 * messages are not yet in the queue. Served by the emulator, as the oldest message is, without the bodies.
 */
function serveTenantBacklogs(server: FastifyLike, sqsStore: FauxqsSqsStore): void {
  server.get(`${TENANT_BACKLOGS_PATH}:queueName`, async (request) => {
    const queue = sqsStore.getQueueByName(request.params.queueName ?? '');
    if (!queue) return { tenants: {} };
    queue.processTimers();
    const { ready, inflight } = queue.inspectMessages();
    // A Map, not an object: a tenant is sender data, and may be `__proto__`.
    const tenants = new Map<string, TenantBacklog>();
    const count = (message: FauxqsMessage, part: 'ready' | 'inflight') => {
      const tenant = tenantOf({
        MessageId: message.messageId,
        ...(message.messageGroupId ? { Attributes: { MessageGroupId: message.messageGroupId } } : {}),
        ...(message.messageAttributes ? { MessageAttributes: message.messageAttributes } : {}),
      });
      const backlog = tenants.get(tenant) ?? { ready: 0, inflight: 0, sentAt: null };
      tenants.set(tenant, backlog);
      backlog[part] += 1;
      const entered = enteredQueueAt(message);
      const counted = queue.isFifo() || receivesInQueue(message) < 3;
      if (counted && (backlog.sentAt === null || entered < backlog.sentAt)) backlog.sentAt = entered;
    };
    for (const message of ready) count(message, 'ready');
    for (const entry of inflight) count(entry.message, 'inflight');
    return { tenants: Object.fromEntries(tenants) };
  });
}

/**
 * Each tenant's messages in the queue `url` names, from the emulator at `sqsEndpoint` (see
 * {@link serveTenantBacklogs}); `signal` bounds the read, as for {@link oldestMessageAges}.
 */
export async function tenantBacklogs(
  sqsEndpoint: string,
  url: string,
  signal?: AbortSignal,
): Promise<Record<string, TenantBacklog>> {
  const emulatorName = url.slice(url.lastIndexOf('/') + 1);
  const answer = await fetch(`${sqsEndpoint}${TENANT_BACKLOGS_PATH}${encodeURIComponent(emulatorName)}`, {
    ...(signal ? { signal } : {}),
  });
  if (!answer.ok) throw new Error(`the SQS emulator answered ${answer.status} for ${emulatorName}'s tenants`);
  return ((await answer.json()) as { tenants: Record<string, TenantBacklog> }).tenants;
}

/**
 * The age in whole seconds of each queue's oldest message, from the emulator at `sqsEndpoint`, for the queues that
 * hold one; local mode's stand-in for CloudWatch's `ApproximateAgeOfOldestMessage`, which its alarm reads.
 * `signal` bounds the reads, so an emulator thread that stalls fails them instead of holding the caller.
 */
export async function oldestMessageAges(
  sqsEndpoint: string,
  queues: readonly { readonly name: string; readonly url: string }[],
  now: number = Date.now(),
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const ages = new Map<string, number>();
  await Promise.all(
    queues.map(async (queue) => {
      const emulatorName = queue.url.slice(queue.url.lastIndexOf('/') + 1);
      const answer = await fetch(`${sqsEndpoint}${OLDEST_MESSAGE_PATH}${encodeURIComponent(emulatorName)}`, {
        ...(signal ? { signal } : {}),
      });
      if (!answer.ok)
        throw new Error(`the SQS emulator answered ${answer.status} for ${queue.name}'s oldest message`);
      const { sentAt } = (await answer.json()) as { sentAt: number | null };
      if (sentAt !== null) ages.set(queue.name, Math.max(0, Math.floor((now - sentAt) / 1000)));
    }),
  );
  return ages;
}

type DynaliteServer = Server;
type DynaliteFactory = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => DynaliteServer;

async function startDynaliteOnLoopback(port: number, dataDir: string | undefined) {
  const require = createRequire(import.meta.url);
  const dynalite = require('dynalite') as DynaliteFactory;
  // A refused conditional write answers with the item it found, as DynamoDB does (dynalite-fixes.ts).
  fixConditionFailureItem(require);
  const path = dataDir ? join(dataDir, 'dynalite') : undefined;
  if (dataDir && path) {
    mkdirSync(path, { recursive: true });
    await assertLevelReads(require, dataDir, path);
  }
  // Tables are ACTIVE at once: local mode creates them at start and uses them immediately.
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  gateToLoopbackCallers(server, 'the DynamoDB emulator');
  keepIdleConnections(server);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listenOrExplain(
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, LOOPBACK, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    'DynamoDB emulator (dynalite)',
    port,
  );
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        // Keep-alive sockets from SDK clients would otherwise hold dynalite's graceful close open.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The part of dynalite's LevelDB API the start's check reads with. */
interface DynaliteLevel {
  open(): Promise<void>;
  close(): Promise<void>;
  keys(range: { gte: string; lt: string }): AsyncIterable<string>;
}

const DYNALITE_HOLDS = 'dedupe and idempotency tables';

/**
 * Opens dynalite's LevelDB once before dynalite does, and reads every key of its tables. dynalite opens it on the
 * first request, and a store it cannot open (a damaged `CURRENT` or manifest, after a full disk or a kill mid-write)
 * then ends the emulators' thread with an iterator error, which the start showed as a connection refused. A store
 * that opens can still hold a block that cannot be read (a table file cut short or overwritten): dynalite reads it
 * only when a request needs one of its items, the first webhook or job to touch them, long after the start said
 * ready. Keys and values share their blocks, so reading every key reads every block of the tables.
 */
async function assertLevelReads(require: NodeJS.Require, dataDir: string, path: string): Promise<void> {
  const { Level } = createRequire(require.resolve('dynalite'))('level') as {
    Level: new (path: string) => DynaliteLevel;
  };
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    throw unreadableStore(dataDir, path, DYNALITE_HOLDS, error);
  }
  try {
    const damaged = await unreadableTable(db);
    if (damaged) throw unreadableStore(dataDir, path, DYNALITE_HOLDS, damaged.error, damaged.part);
  } finally {
    await db.close();
  }
}

/** The first part of dynalite's store that cannot be read (its table list, or one table's items), with why. */
async function unreadableTable(db: DynaliteLevel): Promise<{ part: string; error: unknown } | undefined> {
  // dynalite keys a table's definition `table~<name>` and its items `item-<name>~<key>`; names never hold `~`.
  const tables: string[] = [];
  try {
    for await (const key of db.keys({ gte: 'table~', lt: 'table\x7f' }))
      tables.push(key.slice('table~'.length));
  } catch (error) {
    return { part: 'its list of tables', error };
  }
  for (const table of tables) {
    try {
      for await (const _key of db.keys({ gte: `item-${table}~`, lt: `item-${table}\x7f` })) {
        // Reading the key is the check.
      }
    } catch (error) {
      return { part: `the items of table ${table}`, error };
    }
  }
  return undefined;
}

/** Why a store in the data directory cannot be opened, naming it, what it holds and the fix. */
function unreadableStore(
  dataDir: string,
  store: string,
  holds: string,
  error: unknown,
  part?: string,
): Error {
  const cause = error as Error & { cause?: Error };
  const detail = [cause.message, cause.cause?.message].filter(Boolean).join(': ');
  const where = part ? `${part} in ${store}` : store;
  return (
    unusableDirectory('data directory', dataDir, 'HOOKLINE_DATA_DIR', error) ??
    new LocalStartProblem(
      `data directory ${dataDir}: ${where} cannot be read (${detail}), so local mode cannot start on its ${holds}; ` +
        `it is damaged (a full disk or a kill while it was written): move it aside (mv ${store} ${store}.damaged) ` +
        'to start with it empty, or restore it from a copy; or set HOOKLINE_DATA_DIR to another directory',
    )
  );
}

/**
 * Local mode freezes a function's sandbox between invocations, as Lambda does, so its SDK clients do not see an
 * emulator close an idle keep-alive connection (Node's 5 seconds for dynalite, Fastify's 72 for fauxqs): the next
 * invocation writes to the closed socket, gets "socket hang up" on both of the ingest's attempts, and a webhook
 * sent after a pause was answered 503. AWS's endpoints keep idle connections far longer; so do these now, until
 * the client closes them or the emulators stop (which destroys them).
 */
function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = 0;
}

async function listenOrExplain(listen: () => Promise<unknown>, what: string, port: number): Promise<void> {
  try {
    await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `port ${port} for the ${what} is in use: stop the other process or choose another port`,
      );
    }
    throw error;
  }
}

/**
 * Starts fauxqs and dynalite on 127.0.0.1. With `dataDir`, queues, messages, buckets and tables survive a
 * restart (`<dataDir>/fauxqs` SQLite and `<dataDir>/dynalite` LevelDB).
 */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  assertNodeVersion();
  const region = options.region ?? 'us-east-1';
  // Before either emulator opens the directory: a second local mode on it stops here, naming the first.
  let notStopped: LockContent | undefined;
  const unlock = options.dataDir
    ? lockDataDir(options.dataDir, (left) => {
        notStopped = left;
      })
    : () => undefined;
  let fauxqs: Awaited<ReturnType<typeof startFauxqsOnLoopback>>;
  let dynamo: Awaited<ReturnType<typeof startDynaliteOnLoopback>>;
  try {
    fauxqs = await startFauxqsOnLoopback(options.sqsPort ?? 0, region, options.dataDir);
  } catch (error) {
    unlock();
    throw error;
  }
  try {
    dynamo = await startDynaliteOnLoopback(options.dynamoPort ?? 0, options.dataDir);
  } catch (error) {
    await fauxqs.close();
    unlock();
    throw error;
  }
  const sqs = `http://${LOOPBACK}:${fauxqs.port}`;
  let stopped: Promise<void> | undefined;
  return {
    region,
    endpoints: { sqs, s3: sqs, dynamodb: `http://${LOOPBACK}:${dynamo.port}` },
    ...(notStopped ? { notStopped } : {}),
    stop() {
      stopped ??= Promise.all([fauxqs.close(), dynamo.close()]).then(unlock, (error: unknown) => {
        unlock();
        throw error;
      });
      return stopped;
    },
  };
}
