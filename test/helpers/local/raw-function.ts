/**
 * A test function for local mode's function runtime: what it does is chosen by the event, so one bundle covers
 * echo, module state, sleep (timeouts), errors and crashes.
 */
import { parentPort } from 'node:worker_threads';

let invocations = 0;
/** Lines the `log` action has written in this sandbox, for `await-log` to wait on. */
let linesLogged = 0;
const loadedAt = Date.now();
// A slow cold start, when the environment asks for one: busy for INIT_MS before the module finishes loading.
const initUntil = loadedAt + Number(process.env.INIT_MS ?? 0);
while (Date.now() < initUntil) {
  // spin
}
// A cold start that throws, when the environment asks for one: an Error with a 1 MB message that spans lines.
if (process.env.INIT_THROW === 'huge') throw new Error(`first line\n${'x'.repeat(1_000_000)}`);

interface TestEvent {
  readonly action:
    | 'echo'
    | 'sleep'
    | 'spin'
    | 'throw'
    | 'throw-value'
    | 'exit'
    | 'uncaught'
    | 'log'
    | 'await-log'
    | 'log-as-flushed'
    | 'log-at-deadline'
    | 'allocate'
    | 'batch'
    | 'background'
    | 'reject-later';
  readonly ms?: number;
  readonly mb?: number;
  readonly lines?: readonly string[];
  /** `log` writes to stderr (as console.error and a logger's warnings and errors do) instead of stdout. */
  readonly stderr?: boolean;
  readonly result?: unknown;
  /** What `log` does after writing its lines (as a consumer reports some records, then hangs or fails). */
  readonly then?: TestEvent;
  /** SQS records, for the runtime to read their message ids from the event (their content is not used). */
  readonly Records?: readonly { readonly messageId: string }[];
}

interface TestContext {
  readonly functionName: string;
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  getRemainingTimeInMillis(): number;
}

/** Invocations of `log-as-flushed` waiting for the sandbox's next flush, with what each writes then. */
const atNextFlush: { readonly lines: readonly string[]; readonly done: () => void }[] = [];
/** The runtime's flushes (an empty write with a callback, to stdout and to stderr) not completed yet. */
let flushesPending = 0;
let flushWatched = false;

/**
 * Runs the waiting `log-as-flushed` invocations the moment the runtime's flush before a freeze completes, on both
 * streams, whichever completes last: each writes its lines to stdout then and returns, as an invocation finishing
 * in that instant would. The flush is reported complete only after they have returned (a hundred microtasks on,
 * all before the sandbox reads its next message), so the runtime sees nothing running when it decides to freeze.
 */
function watchFlushes(): void {
  if (flushWatched) return;
  flushWatched = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const callback = rest.at(-1);
      if (chunk !== '' || typeof callback !== 'function' || atNextFlush.length === 0)
        return write(chunk, ...rest);
      flushesPending += 1;
      return write(chunk, ...rest.slice(0, -1), (...args: unknown[]) => {
        flushesPending -= 1;
        if (flushesPending > 0 || atNextFlush.length === 0) return callback(...args);
        for (const waiting of atNextFlush.splice(0)) {
          for (const line of waiting.lines) console.log(line);
          waiting.done();
        }
        void afterMicrotasks(100).then(() => callback(...args));
      });
    }) as typeof stream.write;
  }
}

async function afterMicrotasks(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await undefined;
}

/** Busy on the CPU (blocking the sandbox's thread) for `ms`. */
function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

export const handler = async (event: TestEvent, context: TestContext): Promise<unknown> => {
  invocations += 1;
  switch (event.action) {
    case 'echo':
      return {
        invocations,
        loadedAt,
        env: { ...process.env },
        functionName: context.functionName,
        requestId: context.awsRequestId,
        invokedFunctionArn: context.invokedFunctionArn,
        memoryLimitInMB: context.memoryLimitInMB,
        remainingMs: context.getRemainingTimeInMillis(),
      };
    case 'sleep':
      await new Promise((r) => setTimeout(r, event.ms ?? 1_000));
      return { invocations, remainingMs: context.getRemainingTimeInMillis() };
    case 'spin':
      spin(event.ms ?? 100);
      return { invocations };
    case 'throw':
      throw new TypeError('boom from the handler');
    case 'throw-value':
      throw event.result;
    case 'exit':
      process.exit(3);
      return undefined;
    case 'uncaught':
      setTimeout(() => {
        throw new Error('uncaught in a timer');
      }, 0);
      await new Promise((r) => setTimeout(r, 1_000));
      return { invocations };
    case 'log':
      for (const line of event.lines ?? []) (event.stderr ? console.error : console.log)(line);
      linesLogged += event.lines?.length ?? 0;
      return event.then ? handler(event.then, context) : { invocations };
    case 'await-log': {
      // Returns once another invocation in this sandbox has logged, writing nothing itself.
      const before = linesLogged;
      while (linesLogged === before) await new Promise((r) => setTimeout(r, 5));
      return { invocations };
    }
    case 'log-as-flushed':
      // Writes its lines and returns when the sandbox's next flush completes (another invocation's, on its way to
      // freezing the sandbox).
      watchFlushes();
      await new Promise<void>((done) => atNextFlush.push({ lines: event.lines ?? [], done }));
      return { invocations };
    case 'log-at-deadline':
      // Writes its lines and returns the moment the sandbox is told an invocation's time is up (another's, sharing
      // it), as a request finishing in that instant would; then keeps the thread busy for `ms` once its result is
      // out, so the lines behind the first still wait in the stream when local mode reads that result.
      await new Promise<void>((done) => {
        const atDeadline = (message: { readonly type?: unknown } | null) => {
          if (message?.type !== 'deadline') return;
          parentPort?.off('message', atDeadline);
          for (const line of event.lines ?? []) console.log(line);
          setImmediate(() => spin(event.ms ?? 0));
          done();
        };
        parentPort?.on('message', atDeadline);
      });
      return { invocations };
    case 'allocate': {
      // Keeps `mb` MiB of JS heap (arrays of doubles, 1 MiB each) alive until it returns.
      const kept = Array.from({ length: event.mb ?? 1 }, () => new Array(128 * 1024).fill(1.5));
      return { invocations, kept: kept.length };
    }
    case 'batch':
      return event.result;
    case 'reject-later':
      // Returns before a promise it did not await rejects.
      void new Promise((_, reject) =>
        setTimeout(() => reject(new Error('rejected after the return')), event.ms ?? 50),
      );
      return { invocations };
    case 'background':
      // Returns before its timer fires: work a handler left running after it returned.
      setTimeout(() => console.log(`background ${String(event.result)} done`), event.ms ?? 50);
      return { invocations };
  }
};

/**
 * A handler in Lambda's callback style (three parameters), which the Node.js 24 runtime refuses at init: it would
 * answer through the callback, not its return.
 */
export const callbackHandler = (
  event: { readonly fail?: string; readonly result?: unknown },
  _context: unknown,
  callback: (error: unknown, result?: unknown) => void,
): void => {
  setTimeout(() => (event.fail ? callback(new RangeError(event.fail)) : callback(null, event.result)), 10);
};
