/**
 * Runs functions the way Lambda does, on one machine: each function is bundled like CDK's `NodejsFunction`
 * (esbuild, ESM, node24, minified with a source map, AWS SDK bundled, createRequire banner, as
 * `HooklineFunction` configures it) and served by worker threads, each with
 * its own environment and module instance (its "sandbox"). A timed-out or crashed sandbox is discarded and the
 * next invocation gets a fresh one, with a fresh cold start.
 */
import { randomUUID } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type BuildOptions, build } from 'esbuild';
import { ESM_REQUIRE_BANNER } from '../esm-require-banner';
import { splitBundleOptions } from '../ingest-asset';
import { hooklineModulePath } from '../package-root';
import { writeFileAtomically } from './atomic-write';
import { cachedBuild, type FileHasher } from './bundle-cache';
import type {
  DeadlineMessage,
  FlushMessage,
  InvokeMessage,
  SerializedError,
  WorkerMessage,
  WorkerSetup,
} from './function-worker';

/**
 * How long a sandbox may take to answer local mode (confirm a deadline, hand over its output before its thread
 * ends) before it counts as stuck: busy on its CPU for good, such as a handler in an endless synchronous loop.
 */
const ANSWER_LIMIT_MS = 1_000;

/**
 * How long Lambda lets a function's init (its module's top-level code) run, at every cold start: longer, it stops
 * it and runs it again inside the first invocation, counted in the function's timeout.
 */
export const LAMBDA_INIT_LIMIT_MS = 10_000;
/** Why an invocation ends when local mode stops. */
const STOPPED: SerializedError = {
  errorType: 'Runtime.Stopped',
  errorMessage: 'local mode is shutting down',
};

/** What one local function is. */
export interface FunctionDefinition {
  /** Like the Lambda function name, e.g. `Hookline-ingest`. */
  readonly name: string;
  /** TypeScript (or JavaScript) entry file. */
  readonly entry: string;
  /** Exported handler name. */
  readonly handler: string;
  readonly timeoutMs: number;
  readonly memorySize: number;
  /** The complete environment of the function (nothing leaks in from the host process). */
  readonly environment: Readonly<Record<string, string>>;
  /** Most sandboxes alive at once (Lambda's concurrency). */
  readonly maxWorkers: number;
  /**
   * Invocations one sandbox serves at once. Lambda serves 1; local ingest may serve more, trading strict
   * isolation of concurrent requests for far fewer threads.
   */
  readonly invocationsPerWorker?: number;
}

/** The outcome of one invocation. `kind` tells a handler error from a timeout, a crash and a failed init. */
export type InvokeResult =
  | {
      readonly ok: true;
      readonly value: unknown;
      readonly durationMs: number;
      readonly coldStart: boolean;
      /** Outcome log lines ('webhook outcome' / 'record outcome') the invocation wrote. */
      readonly outcomeLines?: number;
    }
  | {
      readonly ok: false;
      readonly kind: 'error' | 'timeout' | 'crash' | 'init';
      readonly error: SerializedError;
      readonly durationMs: number;
      readonly coldStart: boolean;
      readonly outcomeLines?: number;
      /**
       * The records of an SQS event the consumer logged an outcome for before the invocation failed (SQS
       * message id -> outcome): they had finished, whatever became of the invocation.
       */
      readonly recordOutcomes?: Readonly<Record<string, string>>;
    };

/** A line a function wrote to stdout or stderr. */
export interface FunctionLogLine {
  readonly functionName: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

/** Flags that load code into a process before its entry (tsx registers itself with them under `npm start`). */
const PRELOAD_FLAGS = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader']);

/**
 * The host's Node flags without its preloads, for worker threads that run a self-contained bundle: a worker
 * inherits `execArgv`, and under `npm start` that re-ran tsx's loader in every thread (2-5 times the thread's
 * start) although nothing there is TypeScript; Lambda would not run the host's preloads either.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i] as string;
    if (PRELOAD_FLAGS.has(flag)) i += 1;
    else if (!PRELOAD_FLAGS.has(flag.split('=')[0] as string)) kept.push(flag);
  }
  return kept;
}

/** How {@link bundle} builds. */
export interface BundleOptions {
  /** Leave node_modules imports out of the bundle (they resolve from the project's node_modules). */
  readonly externalPackages?: boolean;
  /** The bundle cache (see `bundle-cache.ts`); undefined always runs esbuild. */
  readonly cacheDir?: string | undefined;
  /** Hashes the cache's inputs; one shared by bundles checked together reads each file once. */
  readonly hasher?: FileHasher;
  /**
   * Split `import()`ed modules into `chunks/` beside `outFile`, as the stack bundles the ingest function
   * (ingest-asset.ts).
   */
  readonly splitting?: boolean;
}

/**
 * Bundles `entry` to `outFile` (plus a linked source map), from the cache when nothing it is built from
 * changed; resolves with whether the cache served it.
 */
export async function bundle(entry: string, outFile: string, options: BundleOptions = {}): Promise<boolean> {
  const { outputFiles, fromCache } = await cachedBuild(
    {
      ...(options.externalPackages ? { packages: 'external' as const } : {}),
      ...(options.splitting ? splitOutput(entry, outFile) : singleOutput(entry, outFile)),
      write: false,
      logLevel: 'silent',
      absWorkingDir: process.cwd(),
    },
    options.cacheDir,
    build,
    options.hasher,
  );
  const code = outputFiles.find((f) => f.path === resolve(outFile));
  if (!code) throw new Error(`esbuild produced nothing for ${entry}`);
  // Write then rename, so a concurrent reader (another test file) never sees half a bundle; the entry last.
  for (const file of [...outputFiles.filter((f) => f !== code), code]) {
    writeFileAtomically(file.path, file.contents);
  }
  return fromCache;
}

/** One file, as CDK's NodejsFunction bundles a function (HooklineFunction's settings). */
function singleOutput(entry: string, outFile: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // As the stack's HooklineFunction: the AWS SDK is bundled (bundleAwsSDK), ESM entry points preferred.
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: 'linked',
    outfile: outFile,
  };
}

/** An entry file plus chunks, with the options the stack bundles the ingest function with. */
function splitOutput(entry: string, outFile: string): BuildOptions {
  return splitBundleOptions(entry, dirname(outFile), basename(outFile, '.mjs'));
}

/** Bundles the sandbox bootstrap (`function-worker.ts`) into `buildDir`; returns its file URL. */
export async function bundleFunctionWorker(
  buildDir: string,
  options: Omit<BundleOptions, 'externalPackages'> = {},
): Promise<string> {
  const workerFile = join(resolve(buildDir), '_runtime', 'function-worker.mjs');
  await bundle(hooklineModulePath('lib/local/function-worker.ts'), workerFile, options);
  return pathToFileURL(workerFile).href;
}

/**
 * Bundles a function entry (and the worker bootstrap) into `buildDir`, returning file URLs.
 * The bundle lives inside the project, so anything left external would still resolve from its node_modules.
 */
export async function bundleFunction(
  entry: string,
  buildDir: string,
  name: string,
  cacheDir?: string,
): Promise<{ bundleUrl: string; workerUrl: string }> {
  const outFile = join(resolve(buildDir), `${name}.mjs`);
  const [, workerUrl] = await Promise.all([
    bundle(resolve(entry), outFile, { cacheDir }),
    bundleFunctionWorker(buildDir, { cacheDir }),
  ]);
  return { bundleUrl: pathToFileURL(outFile).href, workerUrl };
}

interface Pending {
  readonly resolve: (result: InvokeResult) => void;
  readonly started: number;
  readonly coldStart: boolean;
  /** Running in the sandbox (initialised and handed over), so its run time is being charged. */
  running: boolean;
  /** Run time charged so far, in ms (see {@link LocalFunction.charge}). */
  charged: number;
  /** Its time is up; waiting for the sandbox to confirm it has not finished. */
  expiring: boolean;
  /** Resolves the invocation as timed out. */
  expire?: () => void;
  /** Backstop for a sandbox that cannot confirm a deadline. */
  timer?: NodeJS.Timeout;
  /** SQS message ids of the records in the event, when it is an SQS event. */
  readonly messageIds: ReadonlySet<string>;
  /** Outcomes the function logged for those records so far (message id -> outcome). */
  readonly recordOutcomes: Map<string, string>;
}

/** The message ids of an SQS event's records (none for any other event). */
function sqsMessageIds(event: unknown): Set<string> {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return new Set();
  return new Set(
    records.flatMap((r) => {
      const id = (r as { messageId?: unknown } | null)?.messageId;
      return typeof id === 'string' ? [id] : [];
    }),
  );
}

/** The outcomes a failed invocation's records had reached, when it has any. */
function finishedRecords(pending: Pending): { recordOutcomes?: Record<string, string> } {
  return pending.recordOutcomes.size > 0
    ? { recordOutcomes: Object.fromEntries(pending.recordOutcomes) }
    : {};
}

/** How a sandbox's start ended. */
type SandboxReady = { ok: true } | { ok: false; error: SerializedError };

interface Sandbox {
  readonly worker: Worker;
  /** Invocations posted to it, which wakes it from its freeze between invocations (see `function-worker.ts`). */
  readonly invocationsPosted: Int32Array;
  readonly ready: Promise<SandboxReady>;
  /** Resolves when its thread has ended (by itself, on a crash, or terminated). */
  readonly exited: Promise<void>;
  /** Resolves the wait for its output before its thread is terminated (see {@link LocalFunction.end}). */
  handedOver?: () => void;
  readonly inFlight: Map<number, Pending>;
  /** Set after a timeout: takes no new work and is ended once idle. */
  retiring: boolean;
  /** When run time was last charged to the invocations running here. */
  chargedAt: number;
  /** Fires at the earliest moment an invocation here can run out of time. */
  deadlineTimer?: NodeJS.Timeout;
  dead: boolean;
  served: number;
  /** Fires when its init runs past {@link LAMBDA_INIT_LIMIT_MS}; cleared once it ends. */
  initTimer?: NodeJS.Timeout;
}

interface Waiter {
  readonly event: unknown;
  readonly resolve: (result: InvokeResult) => void;
}

/** The result of an invocation that local mode stopped before it ran. */
/** A file as its messages name it: relative to the working directory when it is under it, else in full. */
export function shownPath(file: string): string {
  const shown = relative(process.cwd(), resolve(file));
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? resolve(file) : shown;
}

function stoppedResult(): InvokeResult {
  return { ok: false, kind: 'crash', error: STOPPED, durationMs: 0, coldStart: false };
}

/** Options of {@link LocalFunction}. */
export interface LocalFunctionOptions {
  readonly bundleUrl: string;
  readonly workerUrl: string;
  readonly region: string;
  /** Node's compile cache for the sandboxes (see `function-worker.ts`); none when undefined. */
  readonly compileCacheDir?: string | undefined;
  /** Every line the function writes (stdout and stderr), in order per stream. */
  readonly onLog?: (line: FunctionLogLine) => void;
  /**
   * A cold start after the one {@link LocalFunction.warm} made (a new sandbox after a crash or a timeout, or for
   * more concurrency) whose init is still running after `initLimitMs`; `warmUp` reports the first one's.
   */
  readonly onSlowInit?: (definition: FunctionDefinition, initLimitMs: number) => void;
  /** @default LAMBDA_INIT_LIMIT_MS */
  readonly initLimitMs?: number;
}

/** One function with its pool of sandboxes. */
export class LocalFunction {
  private readonly sandboxes = new Set<Sandbox>();
  private readonly waiting: Waiter[] = [];
  private nextInvocationId = 1;
  private stopped = false;
  /** Number of sandboxes started so far (cold starts). */
  coldStarts = 0;

  constructor(
    readonly definition: FunctionDefinition,
    private readonly options: LocalFunctionOptions,
  ) {}

  private get perWorker(): number {
    return Math.max(1, this.definition.invocationsPerWorker ?? 1);
  }

  /** Starts a sandbox; `watchInit` reports its init should it run past the limit (`warm`'s caller does for its own). */
  private spawn(watchInit: boolean): Sandbox {
    this.coldStarts += 1;
    const invocationsPosted = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const worker = this.startWorker(invocationsPosted);
    let settleReady: (value: SandboxReady) => void = () => undefined;
    const ready = new Promise<SandboxReady>((r) => {
      settleReady = r;
    });
    const sandbox: Sandbox = {
      worker,
      invocationsPosted,
      ready,
      exited: new Promise((r) => worker.once('exit', () => r())),
      inFlight: new Map(),
      retiring: false,
      dead: false,
      served: 0,
      chargedAt: Date.now(),
    };
    worker.on('message', (message: WorkerMessage) => this.onWorkerMessage(sandbox, settleReady, message));
    this.watchForCrash(sandbox, settleReady);
    this.sandboxes.add(sandbox);
    if (watchInit && this.options.onSlowInit) this.watchInit(sandbox, this.options.onSlowInit);
    return sandbox;
  }

  /** Reports the sandbox's init once it runs past the limit, unless it ended (ready, failed, crashed) first. */
  private watchInit(sandbox: Sandbox, onSlowInit: NonNullable<LocalFunctionOptions['onSlowInit']>): void {
    const limitMs = this.options.initLimitMs ?? LAMBDA_INIT_LIMIT_MS;
    sandbox.initTimer = setTimeout(() => {
      if (!sandbox.dead) onSlowInit(this.definition, limitMs);
    }, limitMs);
    // A timer left armed must not keep local mode's process alive once everything else has stopped.
    sandbox.initTimer.unref();
    void sandbox.ready.then(() => clearTimeout(sandbox.initTimer));
  }

  /** A worker thread for one sandbox, its output forwarded line by line to `onLog`. */
  private startWorker(invocationsPosted: Int32Array): Worker {
    const setup: WorkerSetup = {
      invocationsPosted: invocationsPosted.buffer as SharedArrayBuffer,
      bundleUrl: this.options.bundleUrl,
      entry: shownPath(this.definition.entry),
      handlerName: this.definition.handler,
      functionName: this.definition.name,
      memorySize: this.definition.memorySize,
      region: this.options.region,
      ...(this.options.compileCacheDir ? { compileCacheDir: this.options.compileCacheDir } : {}),
    };
    const worker = new Worker(new URL(this.options.workerUrl), {
      workerData: setup,
      execArgv: workerExecArgv(),
      env: { ...this.definition.environment },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(128, this.definition.memorySize) },
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = createInterface({ input: worker[stream], crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => this.options.onLog?.({ functionName: this.definition.name, stream, line }));
    }
    return worker;
  }

  private onWorkerMessage(
    sandbox: Sandbox,
    settleReady: (value: SandboxReady) => void,
    message: WorkerMessage,
  ): void {
    if (message.type === 'ready') settleReady({ ok: true });
    else if (message.type === 'init-error') {
      settleReady({ ok: false, error: message.error });
      this.discard(sandbox);
    } else if (message.type === 'flushed') {
      sandbox.handedOver?.();
    } else if (message.type === 'deadline-passed') {
      sandbox.inFlight.get(message.invocationId)?.expire?.();
    } else if (message.type === 'result') {
      this.complete(sandbox, message);
    } else if (message.type === 'record-outcome') {
      for (const pending of sandbox.inFlight.values()) {
        if (pending.messageIds.has(message.messageId))
          pending.recordOutcomes.set(message.messageId, message.outcome);
      }
    }
  }

  /** Resolves the invocation a result belongs to, and hands the freed slot to the next waiter. */
  private complete(sandbox: Sandbox, message: Extract<WorkerMessage, { type: 'result' }>): void {
    const pending = sandbox.inFlight.get(message.invocationId);
    if (!pending) return;
    this.charge(sandbox);
    sandbox.inFlight.delete(message.invocationId);
    clearTimeout(pending.timer);
    this.scheduleDeadline(sandbox);
    const durationMs = Date.now() - pending.started;
    const { coldStart } = pending;
    const { outcomeLines } = message;
    pending.resolve(
      message.ok
        ? { ok: true, value: message.value, durationMs, coldStart, outcomeLines }
        : {
            ok: false,
            kind: 'error',
            error: message.error,
            durationMs,
            coldStart,
            outcomeLines,
            ...finishedRecords(pending),
          },
    );
    if (sandbox.retiring && sandbox.inFlight.size === 0) this.discard(sandbox);
    this.pump();
  }

  /** A worker that errors or exits fails its invocations (and its start) and is discarded. */
  private watchForCrash(sandbox: Sandbox, settleReady: (value: SandboxReady) => void): void {
    const crashed = (error: SerializedError) => {
      if (sandbox.dead) return;
      settleReady({ ok: false, error });
      this.fail(sandbox, 'crash', error);
      this.discard(sandbox);
    };
    sandbox.worker.on('error', (error) =>
      crashed({
        errorType: 'Runtime.UnhandledError',
        errorMessage: error.message,
        ...(error.stack ? { stack: error.stack } : {}),
      }),
    );
    sandbox.worker.on('exit', (code) =>
      crashed({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: exited with status ${code} before completing the request`,
      }),
    );
  }

  /**
   * Charges the time since the last charge to the invocations running in `sandbox`, split evenly between them.
   * Lambda runs every concurrent invocation in its own sandbox; a local sandbox serving k at once gives each
   * about 1/k of its thread, so only that share is the invocation's own run time and the rest is queueing,
   * which the function timeout must not count. With one invocation per sandbox this is the wall clock.
   */
  private charge(sandbox: Sandbox, now = Date.now()): void {
    const running = [...sandbox.inFlight.values()].filter((p) => p.running && !p.expiring);
    for (const pending of running) pending.charged += (now - sandbox.chargedAt) / running.length;
    sandbox.chargedAt = now;
  }

  /** Arms the sandbox's timer for the earliest moment one of its running invocations can run out of time. */
  private scheduleDeadline(sandbox: Sandbox): void {
    clearTimeout(sandbox.deadlineTimer);
    const running = [...sandbox.inFlight.entries()].filter(([, p]) => p.running && !p.expiring);
    if (running.length === 0 || sandbox.dead) return;
    const least = Math.min(...running.map(([, p]) => this.definition.timeoutMs - p.charged));
    sandbox.deadlineTimer = setTimeout(
      () => {
        this.charge(sandbox);
        for (const [id, pending] of running) {
          if (pending.charged >= this.definition.timeoutMs - 1 && sandbox.inFlight.get(id) === pending) {
            this.confirmDeadline(sandbox, id, pending);
          }
        }
        this.scheduleDeadline(sandbox);
      },
      Math.max(0, least * running.length),
    );
  }

  /**
   * Asks the sandbox whether the invocation is still running: a result it posted before the question arrives
   * first and wins (so an invocation finishing right at its deadline is not turned into a timeout); a sandbox
   * too busy to answer within {@link ANSWER_LIMIT_MS} is stuck, and the invocation times out anyway.
   */
  private confirmDeadline(sandbox: Sandbox, invocationId: number, pending: Pending): void {
    pending.expiring = true;
    pending.timer = setTimeout(() => pending.expire?.(), ANSWER_LIMIT_MS);
    const message: DeadlineMessage = { type: 'deadline', invocationId };
    sandbox.worker.postMessage(message);
  }

  private fail(sandbox: Sandbox, kind: 'crash' | 'init' | 'timeout', error: SerializedError): void {
    clearTimeout(sandbox.deadlineTimer);
    for (const [id, pending] of sandbox.inFlight) {
      sandbox.inFlight.delete(id);
      clearTimeout(pending.timer);
      pending.resolve({
        ok: false,
        kind,
        error,
        durationMs: Date.now() - pending.started,
        coldStart: pending.coldStart,
        ...finishedRecords(pending),
      });
    }
  }

  private discard(sandbox: Sandbox): void {
    if (!sandbox.dead) {
      sandbox.dead = true;
      this.sandboxes.delete(sandbox);
      clearTimeout(sandbox.deadlineTimer);
      clearTimeout(sandbox.initTimer);
      void this.end(sandbox);
    }
    this.pump();
  }

  /**
   * Ends the sandbox's thread once what it wrote has reached local mode: terminated as its last result arrives, it
   * took with it the lines still waiting in its stdout or stderr (a timed-out invocation's last log, the outcome
   * line of the last request a retiring sandbox served), which Lambda delivers to CloudWatch. A thread that ends by
   * itself (a crash) hands its output over as it exits. One that cannot answer within {@link ANSWER_LIMIT_MS}
   * (blocked in a synchronous loop) cannot flush either, and is terminated as it is.
   */
  private async end(sandbox: Sandbox): Promise<void> {
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => {
        sandbox.handedOver = r;
        sandbox.worker.postMessage({ type: 'flush' } satisfies FlushMessage);
        this.wake(sandbox);
      }),
      sandbox.exited,
      new Promise<void>((r) => {
        bound = setTimeout(r, ANSWER_LIMIT_MS);
      }),
    ]);
    clearTimeout(bound);
    await sandbox.worker.terminate();
  }

  /** Wakes a frozen sandbox for the message just posted to it (see `function-worker.ts`). */
  private wake(sandbox: Sandbox): void {
    // After the message: a sandbox that sees the count go up has the message waiting for it.
    Atomics.add(sandbox.invocationsPosted, 0, 1);
    Atomics.notify(sandbox.invocationsPosted, 0);
  }

  /** Starts one sandbox now so configuration errors show at start; resolves with the init error, if any. */
  async warm(): Promise<SerializedError | undefined> {
    const sandbox = [...this.sandboxes].find((s) => !s.dead) ?? this.spawn(false);
    const ready = await sandbox.ready;
    return ready.ok ? undefined : ready.error;
  }

  /** Invokes the function once (queueing while every sandbox is busy). Never rejects. */
  invoke(event: unknown): Promise<InvokeResult> {
    if (this.stopped) {
      return Promise.resolve(stoppedResult());
    }
    return new Promise((resolvePromise) => {
      this.waiting.push({ event, resolve: resolvePromise });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.stopped) {
      // Like Lambda: an idle sandbox first; when all are busy a new one (up to maxWorkers); only then share the
      // least-loaded sandbox (invocationsPerWorker > 1).
      const open = [...this.sandboxes]
        .filter((s) => !s.dead && !s.retiring && s.inFlight.size < this.perWorker)
        .sort((a, b) => a.inFlight.size - b.inFlight.size);
      const alive = [...this.sandboxes].filter((s) => !s.dead).length;
      let sandbox = open[0];
      let coldStart = false;
      if (!sandbox || (sandbox.inFlight.size > 0 && alive < this.definition.maxWorkers)) {
        if (!sandbox && alive >= this.definition.maxWorkers) return;
        if (alive < this.definition.maxWorkers) {
          sandbox = this.spawn(true);
          coldStart = true;
        }
      }
      if (!sandbox) return;
      const waiter = this.waiting.shift();
      if (!waiter) return;
      this.dispatch(sandbox, waiter, coldStart);
    }
  }

  private dispatch(sandbox: Sandbox, waiter: Waiter, coldStart: boolean): void {
    const invocationId = this.nextInvocationId++;
    const pending: Pending = {
      resolve: waiter.resolve,
      started: Date.now(),
      coldStart,
      running: false,
      charged: 0,
      expiring: false,
      messageIds: sqsMessageIds(waiter.event),
      recordOutcomes: new Map(),
    };
    // Reserve the slot now; the clock starts once the sandbox is initialised (init has its own budget in Lambda).
    sandbox.inFlight.set(invocationId, pending);
    sandbox.served += 1;
    void sandbox.ready.then((ready) => {
      if (!sandbox.inFlight.has(invocationId)) return;
      if (!ready.ok) {
        sandbox.inFlight.delete(invocationId);
        waiter.resolve({
          ok: false,
          kind: 'init',
          error: ready.error,
          durationMs: Date.now() - pending.started,
          coldStart,
        });
        this.pump();
        return;
      }
      const timeoutMs = this.definition.timeoutMs;
      pending.expire = () => {
        if (sandbox.inFlight.get(invocationId) !== pending) return;
        clearTimeout(pending.timer);
        sandbox.inFlight.delete(invocationId);
        waiter.resolve({
          ok: false,
          kind: 'timeout',
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          },
          durationMs: Date.now() - pending.started,
          coldStart,
          ...finishedRecords(pending),
        });
        // Like Lambda, a timed-out sandbox is not reused: its module state may be half-way through anything.
        sandbox.retiring = true;
        if (sandbox.inFlight.size === 0) this.discard(sandbox);
        else this.pump();
      };
      this.charge(sandbox);
      pending.running = true;
      this.scheduleDeadline(sandbox);
      const message: InvokeMessage = {
        type: 'invoke',
        invocationId,
        requestId: randomUUID(),
        event: waiter.event,
        timeoutMs,
      };
      sandbox.worker.postMessage(message);
      this.wake(sandbox);
    });
  }

  /** Invocations running now. */
  get inFlight(): number {
    let total = 0;
    for (const sandbox of this.sandboxes) total += sandbox.inFlight.size;
    return total;
  }

  /** Waits for running invocations (up to `timeoutMs`), then ends every sandbox once its output is handed over. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.inFlight > 0 || this.waiting.length > 0) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    for (const waiter of this.waiting.splice(0)) {
      waiter.resolve(stoppedResult());
    }
    await Promise.all(
      [...this.sandboxes].map((sandbox) => {
        sandbox.dead = true;
        clearTimeout(sandbox.initTimer);
        this.fail(sandbox, 'crash', STOPPED);
        return this.end(sandbox);
      }),
    );
    this.sandboxes.clear();
  }
}
