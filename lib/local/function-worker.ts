/**
 * The "Lambda runtime interface" of local mode: runs inside a worker thread, imports one bundled function
 * (its cold start), and serves invocations one message at a time with a Lambda-like context.
 *
 * This file is bundled on its own by `function-runtime.ts` and never imported by the main thread.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import nodeModule from 'node:module';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { describedStack, describeError } from '../../lambda/consumer/errors';
import { CONSUMER_OUTCOME_MESSAGE, OUTCOME_MESSAGES } from '../../lambda/shared/contracts';
import { handlerNotFoundMessage } from './handler-export';

/** Static facts about the function, given when the worker starts. */
export interface WorkerSetup {
  readonly bundleUrl: string;
  /** The entry file the bundle was built from, as the developer knows it (relative to the working directory). */
  readonly entry: string;
  readonly handlerName: string;
  readonly functionName: string;
  readonly memorySize: number;
  readonly region: string;
  /**
   * Node's on-disk compile cache: V8 code for the bundle (keyed by its content, so an edit is a miss) is reused
   * by the next sandbox and the next start instead of parsing and compiling ~1 MB again.
   */
  readonly compileCacheDir?: string;
  /**
   * Counts the invocations (and the final `flush`) the main thread has posted (it adds one after each, then
   * notifies): the sandbox sleeps on it between invocations, frozen as Lambda freezes an execution environment
   * (see {@link freezeUntilInvoked}).
   */
  readonly invocationsPosted?: SharedArrayBuffer;
}

/** Main thread -> worker. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly invocationId: number;
  readonly requestId: string;
  readonly event: unknown;
  /** The function's timeout, in run time charged to the invocation (see {@link ChargedTime}). */
  readonly timeoutMs: number;
}

/**
 * Main thread -> worker: local mode is about to end the sandbox's thread (it timed out, crashed, or local mode
 * stops); the worker answers `flushed` once everything it wrote has reached the main thread. Posted like an
 * invocation (the count goes up), so a frozen sandbox wakes for it.
 */
export interface FlushMessage {
  readonly type: 'flush';
}

/**
 * Main thread -> worker: an invocation's time is up unless it already finished. The worker answers
 * `deadline-passed` after every result it posted before, so a result racing the deadline wins.
 */
export interface DeadlineMessage {
  readonly type: 'deadline';
  readonly invocationId: number;
}

/** Worker -> main thread. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly initMs: number }
  | { readonly type: 'init-error'; readonly error: SerializedError }
  | { readonly type: 'deadline-passed'; readonly invocationId: number }
  /** Answers `flush`: nothing the sandbox wrote is left in its stdout or stderr. */
  | { readonly type: 'flushed' }
  /**
   * A consumer logged the outcome of one record (by SQS message id). Posted as the line is written, on the
   * port that later carries `deadline-passed`, so the main thread knows which records of a batch had finished
   * when the invocation timed out or crashed.
   */
  | { readonly type: 'record-outcome'; readonly messageId: string; readonly outcome: string }
  | {
      readonly type: 'result';
      readonly invocationId: number;
      readonly ok: true;
      readonly value: unknown;
      readonly outcomeLines: number;
    }
  | {
      readonly type: 'result';
      readonly invocationId: number;
      readonly ok: false;
      readonly error: SerializedError;
      readonly outcomeLines: number;
    };

/** An error as Lambda reports it: `errorType`, `errorMessage`, `stack`. */
export interface SerializedError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: string;
}

type Handler = (event: unknown, context: object) => unknown;

/**
 * What the Node.js 24 runtime answers a handler declaring a third (callback) parameter, at init: it decides by
 * the parameters the exported function declares, and refuses the function before any invocation runs.
 */
const CALLBACK_HANDLER_REMOVED =
  'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. ' +
  'You need to modify this function to use a supported handler signature to use Node.js 24 or later. ' +
  'For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';

/**
 * A module the sandbox cannot serve, found by the sandbox itself: reported without a stack, whose frames would be
 * the sandbox's own; its message says which file and what to change.
 */
class SandboxInitError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
    this.stack = undefined;
  }
}

/**
 * What was thrown, as Lambda reports it, described without throwing whatever it is (a value JSON cannot write, an
 * Error whose getters throw) and bounded: local mode prints the message at start and in the reason of every record
 * of every batch the failure fails, so a module that throws a megabyte at import must not print megabytes. The stack
 * keeps its frames, under the bounded first line.
 */
function serialize(error: unknown): SerializedError {
  const described = describeError(error);
  if (!(error instanceof Error)) return { errorType: 'Error', errorMessage: described.message };
  const stack = describedStack(error, described);
  return { errorType: described.name, errorMessage: described.message, ...(stack ? { stack } : {}) };
}

/** Lambda returns what JSON.stringify makes of the result, so do the same (and make it cloneable). */
function asJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value));
}

/** The outcome lines written so far by the invocation whose code is running (its async context). */
type OutcomeCounter = { count: number };

/**
 * Counts the outcome lines each invocation writes, so local mode knows whether the function reported the
 * request or its records itself. A sandbox of the ingest or the jobs endpoint serves many invocations at once,
 * so a line counts for the invocation whose async context wrote it: a request that logged nothing is still
 * shown, whatever the requests beside it logged.
 */
function countOutcomeLines(port: MessagePort): AsyncLocalStorage<OutcomeCounter> {
  const current = new AsyncLocalStorage<OutcomeCounter>();
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      const counter = current.getStore();
      for (const message of OUTCOME_MESSAGES) {
        if (counter && text.includes(`"${message}"`)) counter.count += text.split(`"${message}"`).length - 1;
      }
      if (text.includes(`"${CONSUMER_OUTCOME_MESSAGE}"`)) postRecordOutcomes(port, text);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  return current;
}

/** Posts `record-outcome` for each consumer outcome line in `text`. */
function postRecordOutcomes(port: MessagePort, text: string): void {
  for (const line of text.split('\n')) {
    if (!line.includes(`"${CONSUMER_OUTCOME_MESSAGE}"`)) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (
        entry.message === CONSUMER_OUTCOME_MESSAGE &&
        typeof entry.messageId === 'string' &&
        typeof entry.outcome === 'string'
      ) {
        port.postMessage({
          type: 'record-outcome',
          messageId: entry.messageId,
          outcome: entry.outcome,
        } satisfies WorkerMessage);
      }
    } catch {
      // Not a JSON line: not an outcome the reporter would read either.
    }
  }
}

/** The cold start: imports the bundle and finds the handler export. */
async function loadHandler(setup: WorkerSetup): Promise<Handler> {
  if (setup.compileCacheDir) nodeModule.enableCompileCache(setup.compileCacheDir);
  const module = (await import(setup.bundleUrl)) as Record<string, unknown>;
  if (setup.compileCacheDir) nodeModule.flushCompileCache();
  const notFound = handlerNotFoundMessage(setup.entry, setup.handlerName, module);
  if (notFound !== undefined) throw new SandboxInitError('Runtime.HandlerNotFound', notFound);
  const candidate = module[setup.handlerName] as Handler;
  if (candidate.length >= 3) {
    throw Object.assign(new Error(CALLBACK_HANDLER_REMOVED), { name: 'Runtime.CallbackHandlerDeprecated' });
  }
  return candidate as Handler;
}

/**
 * The run time charged to each invocation the sandbox serves: the wall clock, split evenly between the invocations
 * running at once, as the main thread charges them against the timeout (`charge` in function-runtime.ts), so that
 * an invocation's remaining time agrees with the timeout it is held to. Lambda runs each invocation in a sandbox of
 * its own; here one sharing its thread with k others gets about 1/k of it, and the rest is not its own time.
 */
class ChargedTime {
  readonly #running = new Set<{ chargedMs: number }>();
  #chargedAt = Date.now();

  start(): { chargedMs: number } {
    this.#charge();
    const invocation = { chargedMs: 0 };
    this.#running.add(invocation);
    return invocation;
  }

  end(invocation: { chargedMs: number }): void {
    this.#charge();
    this.#running.delete(invocation);
  }

  of(invocation: { chargedMs: number }): number {
    this.#charge();
    return invocation.chargedMs;
  }

  #charge(): void {
    const now = Date.now();
    for (const invocation of this.#running)
      invocation.chargedMs += (now - this.#chargedAt) / this.#running.size;
    this.#chargedAt = now;
  }
}

const chargedTime = new ChargedTime();

/** The Lambda context object of one invocation; `remainingMs` is its remaining (charged) time. */
function lambdaContext(setup: WorkerSetup, message: InvokeMessage, remainingMs: () => number): object {
  return {
    functionName: setup.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${setup.region}:000000000000:function:${setup.functionName}`,
    memoryLimitInMB: String(setup.memorySize),
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/${setup.functionName}`,
    logStreamName: `local/[$LATEST]${message.requestId.replaceAll('-', '')}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, remainingMs()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Runs the handler as the Node.js 24 runtime does: its answer is what it returns or resolves. */
async function runHandler(handler: Handler, event: unknown, context: object): Promise<unknown> {
  return await handler(event, context);
}

/** Resolves once what the sandbox wrote so far has reached the main thread (Lambda flushes logs before it freezes). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** Output written to the sandbox's stdout or stderr that has not reached the main thread yet. */
function outputPending(): boolean {
  return process.stdout.writableLength > 0 || process.stderr.writableLength > 0;
}

/**
 * Lambda freezes an execution environment once an invocation returns and nothing else runs in it: a timer, an
 * unawaited write or an abandoned promise goes on only when the next invocation thaws it (if one comes). A
 * worker thread would go on at once, so a consumer that returned before its work finished passed locally and
 * lost that work deployed. The sandbox blocks its thread (timers and I/O included) until the main thread posts
 * another invocation; `consumed` is how many invocations it has received, so one posted meanwhile never waits.
 *
 * It flushes again while output is pending: in a sandbox serving several invocations at once, another one can
 * write its lines and return while this flush is under way, and a line left in the stream would reach local mode
 * only when a later invocation thaws the sandbox, or never (an ingest request's `webhook outcome` line: `trace`
 * would show an event answered 202 as never received).
 */
async function freezeUntilInvoked(
  posted: Int32Array,
  consumed: number,
  running: () => number,
): Promise<void> {
  do {
    await flushedBoth();
    if (running() > 0) return;
  } while (outputPending());
  Atomics.wait(posted, 0, consumed);
}

/** Resolves once what the sandbox wrote so far, to stdout and to stderr, has reached the main thread. */
function flushedBoth(): Promise<unknown> {
  return Promise.all([flushed(process.stdout), flushed(process.stderr)]);
}

/**
 * Resolves once nothing the sandbox wrote is left in its streams, before local mode ends its thread: a worker's
 * stream hands its output over a chunk at a time, each once the main thread took the last, so the lines an
 * invocation wrote just before its result (an outcome line, an error's log) would otherwise end with the thread,
 * where Lambda delivers them to CloudWatch.
 */
async function handOverOutput(): Promise<void> {
  do await flushedBoth();
  while (outputPending());
}

/** Serves one invocation and posts its result. */
async function invoke(
  port: MessagePort,
  setup: WorkerSetup,
  handler: Handler,
  outcomes: AsyncLocalStorage<OutcomeCounter>,
  message: InvokeMessage,
): Promise<void> {
  const lines: OutcomeCounter = { count: 0 };
  const charged = chargedTime.start();
  const context = lambdaContext(setup, message, () => message.timeoutMs - chargedTime.of(charged));
  try {
    const value = await outcomes.run(lines, () => runHandler(handler, message.event, context));
    port.postMessage({
      type: 'result',
      invocationId: message.invocationId,
      ok: true,
      value: asJson(value),
      outcomeLines: lines.count,
    } satisfies WorkerMessage);
  } catch (error) {
    port.postMessage({
      type: 'result',
      invocationId: message.invocationId,
      ok: false,
      error: serialize(error),
      outcomeLines: lines.count,
    } satisfies WorkerMessage);
  } finally {
    chargedTime.end(charged);
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('function-worker must run in a worker thread');
  const setup = workerData as WorkerSetup;
  process.setSourceMapsEnabled(true);
  const outcomes = countOutcomeLines(port);
  const started = performance.now();
  let handler: Handler;
  try {
    handler = await loadHandler(setup);
  } catch (error) {
    port.postMessage({ type: 'init-error', error: serialize(error) } satisfies WorkerMessage);
    return;
  }
  port.postMessage({
    type: 'ready',
    initMs: Math.round(performance.now() - started),
  } satisfies WorkerMessage);

  const posted = setup.invocationsPosted ? new Int32Array(setup.invocationsPosted) : undefined;
  let consumed = 0;
  let running = 0;
  const freeze = () => (posted ? freezeUntilInvoked(posted, consumed, () => running) : Promise.resolve());
  port.on('message', async (message: InvokeMessage | DeadlineMessage | FlushMessage) => {
    if (message.type === 'flush') {
      consumed += 1;
      await handOverOutput();
      port.postMessage({ type: 'flushed' } satisfies WorkerMessage);
      return;
    }
    if (message.type === 'deadline') {
      port.postMessage({
        type: 'deadline-passed',
        invocationId: message.invocationId,
      } satisfies WorkerMessage);
      return;
    }
    if (message.type !== 'invoke') return;
    consumed += 1;
    running += 1;
    try {
      await invoke(port, setup, handler, outcomes, message);
    } finally {
      running -= 1;
    }
    await freeze();
  });
  // Initialised: frozen until the first invocation, as after Lambda's init.
  await freeze();
}

await main();
