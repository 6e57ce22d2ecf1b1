import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundle as bundleEntry,
  bundleFunction,
  type FunctionDefinition,
  type InvokeResult,
  LocalFunction,
  shownPath,
} from '../../../lib/local/function-runtime';

const entry = fileURLToPath(new URL('../../helpers/local/raw-function.ts', import.meta.url));
const buildDir = `.hookline/build/function-runtime-test-${process.pid}`;

interface Echo {
  invocations: number;
  loadedAt: number;
  env: Record<string, string>;
  functionName: string;
  requestId: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  remainingMs: number;
}

/** The line a consumer writes when it has finished a record (what the sandbox watches for). */
const recordOutcome = (messageId: string, outcome: string) =>
  JSON.stringify({ level: 'INFO', message: 'record outcome', outcome, messageId });

const value = <T>(result: InvokeResult): T => {
  if (!result.ok) throw new Error(`invocation failed: ${result.kind} ${result.error.errorMessage}`);
  return result.value as T;
};

describe('shownPath', () => {
  it('names a file under the working directory relative to it, and any other in full', () => {
    expect(shownPath(join(process.cwd(), 'lambda', 'consumers', 'events.ts'))).toBe(
      join('lambda', 'consumers', 'events.ts'),
    );
    const elsewhere = join(tmpdir(), 'project', 'events.ts');
    expect(shownPath(elsewhere)).toBe(elsewhere);
    expect(shownPath(process.cwd())).toBe(process.cwd());
  });
});

describe('LocalFunction', () => {
  let bundle: { bundleUrl: string; workerUrl: string };
  const functions: LocalFunction[] = [];
  const logs: string[] = [];
  const make = (overrides: Partial<FunctionDefinition> = {}) => {
    const fn = new LocalFunction(
      {
        name: 'test-fn',
        entry,
        handler: 'handler',
        timeoutMs: 2_000,
        memorySize: 256,
        maxWorkers: 1,
        environment: { ONLY_HERE: 'yes' },
        ...overrides,
      },
      { ...bundle, region: 'us-east-1', onLog: (l) => logs.push(`${l.stream}:${l.line}`) },
    );
    functions.push(fn);
    return fn;
  };

  beforeAll(async () => {
    bundle = await bundleFunction(entry, buildDir, 'raw-function');
  });
  afterAll(async () => {
    await Promise.all(functions.map((f) => f.stop(0)));
    rmSync(buildDir, { recursive: true, force: true });
  });

  it('gives the function exactly its own environment and a Lambda-like context', async () => {
    const fn = make({ name: 'Env-fn', environment: { ONLY_HERE: 'yes', AWS_REGION: 'eu-west-1' } });
    const echo = value<Echo>(await fn.invoke({ action: 'echo' }));
    expect(echo.env).toEqual({ ONLY_HERE: 'yes', AWS_REGION: 'eu-west-1' });
    expect(echo.functionName).toBe('Env-fn');
    expect(echo.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:Env-fn');
    expect(echo.memoryLimitInMB).toBe('256');
    expect(echo.remainingMs).toBeGreaterThan(0);
    expect(echo.remainingMs).toBeLessThanOrEqual(2_000);
  });

  it('keeps module state within a sandbox and separate between functions', async () => {
    const first = make();
    const second = make();
    expect(value<Echo>(await first.invoke({ action: 'echo' })).invocations).toBe(1);
    expect(value<Echo>(await first.invoke({ action: 'echo' })).invocations).toBe(2);
    expect(value<Echo>(await second.invoke({ action: 'echo' })).invocations).toBe(1);
  });

  it('reports a handler error without losing the sandbox', async () => {
    const fn = make();
    await fn.invoke({ action: 'echo' });
    const failed = await fn.invoke({ action: 'throw' });
    expect(failed).toMatchObject({
      ok: false,
      kind: 'error',
      error: { errorType: 'TypeError', errorMessage: 'boom from the handler' },
    });
    expect(value<Echo>(await fn.invoke({ action: 'echo' })).invocations).toBe(3);
    expect(fn.coldStarts).toBe(1);
  });

  it('times out an invocation and starts the next one in a fresh sandbox', async () => {
    const fn = make({ timeoutMs: 300 });
    await fn.invoke({ action: 'echo' });
    const timedOut = await fn.invoke({ action: 'sleep', ms: 5_000 });
    expect(timedOut).toMatchObject({
      ok: false,
      kind: 'timeout',
      error: { errorMessage: 'Task timed out after 0.30 seconds' },
    });
    const next = value<Echo>(await fn.invoke({ action: 'echo' }));
    expect(next.invocations).toBe(1);
    expect(fn.coldStarts).toBe(2);
  });

  it('takes no new invocation into a shared sandbox where one timed out, while its others finish', async () => {
    const fn = make({ timeoutMs: 2_000, invocationsPerWorker: 4, maxWorkers: 1 });
    await fn.invoke({ action: 'echo' });
    const timingOut = fn.invoke({ action: 'sleep', ms: 20_000 });
    await new Promise((r) => setTimeout(r, 1_500));
    // Shares the sandbox from here: the first times out at ~2.5 s, this one finishes at ~3 s within its time.
    const bystander = fn.invoke({ action: 'sleep', ms: 1_500 });
    expect(await timingOut).toMatchObject({ ok: false, kind: 'timeout' });
    const next = value<Echo>(await fn.invoke({ action: 'echo' }));
    expect(next.invocations).toBe(1);
    expect(await bystander).toMatchObject({ ok: true });
  });

  it('does not count waiting for a shared sandbox toward the timeout of an invocation', async () => {
    const fn = make({ timeoutMs: 1_000, invocationsPerWorker: 8 });
    await fn.invoke({ action: 'echo' });
    // 16 invocations of 250 ms of CPU each on one thread: 4 s of wall time, 250 ms of work per invocation.
    const results = await Promise.all(
      Array.from({ length: 16 }, () => fn.invoke({ action: 'spin', ms: 250 })),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('tells an invocation its remaining time as the timeout charges it: alone the wall clock, sharing a sandbox its share', async () => {
    const fn = make({ timeoutMs: 2_000, invocationsPerWorker: 4 });
    await fn.invoke({ action: 'echo' });
    const remaining = (result: InvokeResult) => value<{ remainingMs: number }>(result).remainingMs;
    expect(remaining(await fn.invoke({ action: 'sleep', ms: 600 }))).toBeLessThanOrEqual(1_400);
    // Four at once for 800 ms: each is charged about a quarter (~200 ms), so ~1.8 s is left, not the wall's 1.2 s.
    const shared = await Promise.all(
      Array.from({ length: 4 }, () => fn.invoke({ action: 'sleep', ms: 800 })),
    );
    for (const result of shared) expect(remaining(result)).toBeGreaterThan(1_500);
  });

  it('does not count the time a shared sandbox sat idle toward the timeout of the invocations it then runs', async () => {
    const fn = make({ timeoutMs: 1_500, invocationsPerWorker: 2 });
    await fn.invoke({ action: 'echo' });
    await new Promise((r) => setTimeout(r, 1_500));
    const first = fn.invoke({ action: 'sleep', ms: 1_200 });
    await new Promise((r) => setTimeout(r, 100));
    // Shares the sandbox with the first for 1.1 s, then runs alone: about 1.25 s of its 1.5 s.
    const second = fn.invoke({ action: 'sleep', ms: 1_800 });
    expect(await first).toMatchObject({ ok: true });
    expect(await second).toMatchObject({ ok: true });
  });

  it('does not count the cold start toward the timeout of the invocation that waits for it', async () => {
    const fn = make({ timeoutMs: 500, environment: { INIT_MS: '1000' } });
    expect(await fn.invoke({ action: 'sleep', ms: 50 })).toMatchObject({ ok: true });
  });

  it('names a later cold start whose init runs past the init limit (a new sandbox after a crash), not the one warm made, which warmUp names', async () => {
    const slow: [string, number][] = [];
    const fn = new LocalFunction(
      {
        name: 'slow-init-fn',
        entry,
        handler: 'handler',
        timeoutMs: 2_000,
        memorySize: 256,
        maxWorkers: 1,
        environment: { INIT_MS: '1000' },
      },
      {
        ...bundle,
        region: 'us-east-1',
        initLimitMs: 200,
        onSlowInit: (definition, limitMs) => slow.push([definition.name, limitMs]),
      },
    );
    functions.push(fn);
    expect(await fn.warm()).toBeUndefined();
    expect(await fn.invoke({ action: 'exit' })).toMatchObject({ ok: false, kind: 'crash' });
    expect(slow).toStrictEqual([]);

    expect(await fn.invoke({ action: 'echo' })).toMatchObject({ ok: true, coldStart: true });
    expect(fn.coldStarts).toBe(2);
    expect(slow).toStrictEqual([['slow-init-fn', 200]]);
  });

  it('times out an invocation that blocks its sandbox for good', async () => {
    const fn = make({ timeoutMs: 300 });
    await fn.invoke({ action: 'echo' });
    const started = Date.now();
    const timedOut = await fn.invoke({ action: 'spin', ms: 10_000 });
    expect(timedOut).toMatchObject({ ok: false, kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ['process.exit', 'exit'],
    ['an uncaught exception', 'uncaught'],
  ])(
    'survives %s in the function: only that sandbox dies and the next invocation gets a new one',
    async (_, action) => {
      const fn = make();
      const bystander = make();
      await bystander.invoke({ action: 'echo' });
      const crashed = await fn.invoke({ action });
      expect(crashed).toMatchObject({ ok: false, kind: 'crash' });
      expect(value<Echo>(await fn.invoke({ action: 'echo' })).invocations).toBe(1);
      expect(value<Echo>(await bystander.invoke({ action: 'echo' })).invocations).toBe(2);
    },
  );

  it('caps the sandbox heap at memorySize: going beyond it crashes only that sandbox', async () => {
    const fn = make({ memorySize: 128 });
    expect(await fn.invoke({ action: 'allocate', mb: 32 })).toMatchObject({ ok: true });
    expect(await fn.invoke({ action: 'allocate', mb: 256 })).toMatchObject({ ok: false, kind: 'crash' });
    expect(await fn.invoke({ action: 'allocate', mb: 32 })).toMatchObject({ ok: true });
  });

  it('freezes the sandbox between invocations, as Lambda does: work left after a return runs only in the next', async () => {
    const fn = make();
    expect(await fn.invoke({ action: 'background', result: 'frozen', ms: 50 })).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(logs).not.toContain('stdout:background frozen done');
    await fn.invoke({ action: 'sleep', ms: 200 });
    const until = Date.now() + 2_000;
    while (!logs.includes('stdout:background frozen done') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(logs).toContain('stdout:background frozen done');
  });

  it('fails the invocation running when a promise an earlier one did not await rejects, as the Lambda runtime exits then', async () => {
    const fn = make();
    expect(await fn.invoke({ action: 'reject-later', ms: 50 })).toMatchObject({ ok: true });
    const next = await fn.invoke({ action: 'sleep', ms: 300 });
    expect(next).toMatchObject({
      ok: false,
      kind: 'crash',
      error: { errorMessage: 'rejected after the return' },
    });
    expect(next.ok ? '' : next.error.stack).toMatch(/raw-function\.ts/);
    expect(value<Echo>(await fn.invoke({ action: 'echo' })).invocations).toBe(1);
  });

  it('delivers what an invocation wrote before its sandbox freezes', async () => {
    const fn = make();
    // Several lines at once: the thread hands its output over a chunk at a time, each once the last was taken.
    await fn.invoke({
      action: 'log',
      lines: ['first line', 'second line', 'written just before the return'],
    });
    const until = Date.now() + 2_000;
    while (!logs.includes('stdout:written just before the return') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(logs).toContain('stdout:written just before the return');
  });

  it('delivers what an invocation sharing the sandbox wrote while another flushed on its way to freezing it', async () => {
    const fn = make({ name: 'shared-flush-fn', invocationsPerWorker: 2 });
    await fn.warm();
    // One invocation writes its lines and returns the moment the other's flush before the freeze completes: the
    // first line goes out at once, the second waits in the stream behind it.
    const late = fn.invoke({
      action: 'log-as-flushed',
      lines: ['first of two', 'written as the other flushed'],
    });
    expect(await fn.invoke({ action: 'echo' })).toMatchObject({ ok: true });
    expect(await late).toMatchObject({ ok: true });

    // No invocation follows to thaw the sandbox: the line must have gone out before it froze.
    const until = Date.now() + 2_000;
    while (!logs.includes('stdout:written as the other flushed') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(logs).toContain('stdout:first of two');
    expect(logs).toContain('stdout:written as the other flushed');
  });

  /** The lines of `expected` the function has not delivered (as its output) within two seconds. */
  const undelivered = async (expected: readonly string[]): Promise<string[]> => {
    const missing = () => expected.filter((line) => !logs.includes(`stdout:${line}`));
    const until = Date.now() + 2_000;
    while (missing().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return missing();
  };

  it('delivers what a timed-out invocation wrote as its time ran out, before its sandbox is discarded', async () => {
    const fn = make({ name: 'timeout-flush-fn', timeoutMs: 300 });
    await fn.warm();
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i} written as the time ran out`);
    const timedOut = await fn.invoke({ action: 'log-at-deadline', lines, ms: 300 });
    expect(timedOut).toMatchObject({ ok: false, kind: 'timeout' });

    expect(await undelivered(lines)).toStrictEqual([]);
  });

  it('delivers what an invocation wrote just before its result when its sandbox then retires, another there having timed out', async () => {
    const fn = make({ name: 'retire-flush-fn', timeoutMs: 1_000, invocationsPerWorker: 2 });
    await fn.warm();
    const timingOut = fn.invoke({ action: 'sleep', ms: 20_000 });
    await new Promise((r) => setTimeout(r, 700));
    // Shares the sandbox from here: the first times out at ~1.3 s, which retires it; this one writes its lines and
    // returns as the sandbox is asked about that deadline, so its result is the last there and ends the sandbox.
    const lines = Array.from(
      { length: 20 },
      (_, i) => `line ${i} written as the retiring sandbox's last result`,
    );
    const last = fn.invoke({ action: 'log-at-deadline', lines, ms: 300 });
    expect(await timingOut).toMatchObject({ ok: false, kind: 'timeout' });
    expect(await last).toMatchObject({ ok: true });

    expect(await undelivered(lines)).toStrictEqual([]);
    expect(value<Echo>(await fn.invoke({ action: 'echo' })).invocations).toBe(1);
  });

  it('delivers what the last invocation wrote when it stops right after that invocation returns', async () => {
    const fn = make({ name: 'stop-flush-fn' });
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i} written just before the stop`);
    expect(await fn.invoke({ action: 'log', lines })).toMatchObject({ ok: true });
    await fn.stop(0);

    expect(await undelivered(lines)).toStrictEqual([]);
  });

  it('still ends a sandbox blocked in a synchronous loop when it stops, which cannot hand its output over', async () => {
    const fn = make({ name: 'stuck-stop-fn' });
    await fn.warm();
    const spinning = fn.invoke({ action: 'spin', ms: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await fn.stop(0);

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await spinning).toMatchObject({
      ok: false,
      kind: 'crash',
      error: { errorType: 'Runtime.Stopped' },
    });
  });

  it('reports a missing handler export as an init error naming the entry file, not the bundle, and no stack', async () => {
    const fn = make({ handler: 'nope' });
    const error = await fn.warm();
    expect(error).toStrictEqual({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: expect.stringMatching(
        /^test\/helpers\/local\/raw-function\.ts has no export named "nope" \(it exports "callbackHandler", "handler"\): export the function as "nope"/,
      ),
    });
    expect(await fn.invoke({ action: 'echo' })).toMatchObject({ ok: false, kind: 'init' });
  });

  it.each(['stdout', 'stderr'])(
    'captures %s lines and counts outcome lines per invocation',
    async (stream) => {
      const fn = make({ name: 'logger-fn' });
      const outcome = JSON.stringify({
        level: 'INFO',
        message: 'record outcome',
        outcome: 'processed',
        id: `x-${stream}`,
      });
      const result = await fn.invoke({
        action: 'log',
        lines: ['plain text', outcome],
        stderr: stream === 'stderr',
      });
      expect(result).toMatchObject({ ok: true, outcomeLines: 1 });
      const until = Date.now() + 2_000;
      while (!logs.includes(`${stream}:${outcome}`) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      expect(logs).toContain(`${stream}:plain text`);
      expect(logs).toContain(`${stream}:${outcome}`);
    },
  );

  it('counts only its own outcome lines for an invocation sharing its sandbox with another that logs', async () => {
    const fn = make({ invocationsPerWorker: 2 });
    await fn.invoke({ action: 'echo' });
    const quiet = fn.invoke({ action: 'await-log' });
    const outcome = JSON.stringify({ level: 'INFO', message: 'webhook outcome', outcome: 'queued' });
    const logging = fn.invoke({ action: 'log', lines: [outcome] });

    expect(await quiet).toMatchObject({ ok: true, outcomeLines: 0 });
    expect(await logging).toMatchObject({ ok: true, outcomeLines: 1 });
    expect(fn.coldStarts).toBe(1);
  });

  it('lets running and queued invocations finish when it stops, then answers any new one as stopped', async () => {
    const fn = make();
    const running = fn.invoke({ action: 'sleep', ms: 100 });
    const queued = fn.invoke({ action: 'echo' });
    await fn.stop();

    expect(await running).toMatchObject({ ok: true });
    expect(await queued).toMatchObject({ ok: true });
    expect(await fn.invoke({ action: 'echo' })).toMatchObject({
      ok: false,
      kind: 'crash',
      error: { errorType: 'Runtime.Stopped' },
    });
  });

  it('fails what is still running or queued when its time to stop runs out', async () => {
    const fn = make();
    const running = fn.invoke({ action: 'sleep', ms: 5_000 });
    const queued = fn.invoke({ action: 'echo' });
    await fn.stop(0);

    const stopped = { ok: false, kind: 'crash', error: { errorType: 'Runtime.Stopped' } };
    expect(await running).toMatchObject(stopped);
    expect(await queued).toMatchObject(stopped);
  });

  it('runs a CommonJS dependency that requires a Node built-in, as the deployed ESM bundle does', async () => {
    const project = mkdtempSync(join(tmpdir(), 'hookline-function-runtime-'));
    try {
      mkdirSync(join(project, 'node_modules', 'cjs-dep'), { recursive: true });
      writeFileSync(
        join(project, 'node_modules', 'cjs-dep', 'index.js'),
        "module.exports = { separator: require('node:path').sep };\n",
      );
      writeFileSync(
        join(project, 'handler.ts'),
        "import dep from 'cjs-dep';\nexport const handler = async () => dep.separator;\n",
      );
      const outFile = join(project, 'build', 'cjs.mjs');
      await bundleEntry(join(project, 'handler.ts'), outFile);
      const fn = new LocalFunction(
        {
          name: 'cjs-fn',
          entry: '',
          handler: 'handler',
          timeoutMs: 2_000,
          memorySize: 256,
          maxWorkers: 1,
          environment: {},
        },
        { bundleUrl: pathToFileURL(outFile).href, workerUrl: bundle.workerUrl, region: 'us-east-1' },
      );
      functions.push(fn);

      expect(await fn.invoke({})).toMatchObject({ ok: true, value: '/' });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('reuses an idle sandbox rather than cold-starting another, even when maxWorkers allows more', async () => {
    const fn = make({ maxWorkers: 2 });
    await fn.invoke({ action: 'echo' });
    expect(value<Echo>(await fn.invoke({ action: 'echo' })).invocations).toBe(2);
    expect(fn.coldStarts).toBe(1);
  });

  it('starts another sandbox before sharing a busy one, while maxWorkers allows', async () => {
    const fn = make({ maxWorkers: 2, invocationsPerWorker: 2 });
    const results = await Promise.all([
      fn.invoke({ action: 'sleep', ms: 50 }),
      fn.invoke({ action: 'sleep', ms: 50 }),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fn.coldStarts).toBe(2);
  });

  it('serves at most maxWorkers invocations at once and queues the rest', async () => {
    const fn = make({ maxWorkers: 2 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => fn.invoke({ action: 'sleep', ms: 50 })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fn.coldStarts).toBe(2);
  });

  it('answers null for a handler that returns nothing, as Lambda does (a consumer returning nothing succeeded)', async () => {
    const fn = make();
    expect(await fn.invoke({ action: 'batch' })).toMatchObject({ ok: true, value: null });
  });

  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;

  it.each([
    ['a string as its text', 'not an Error', 'not an Error'],
    ['an object as its JSON', { code: 7 }, '{"code":7}'],
    ['an object JSON cannot write (a cycle) as its text', cyclic, '[object Object]'],
    ['undefined as its text', undefined, 'undefined'],
  ])('reports a thrown non-Error (%s) as an error of type Error', async (_, thrown, errorMessage) => {
    const fn = make();
    expect(await fn.invoke({ action: 'throw-value', result: thrown })).toMatchObject({
      ok: false,
      kind: 'error',
      error: { errorType: 'Error', errorMessage },
    });
  });

  it('reports a cold start that throws a megabyte with a bounded message, and the frames of the code that threw', async () => {
    const fn = make({ environment: { INIT_THROW: 'huge' } });
    const error = await fn.warm();
    expect(error?.errorType).toBe('Error');
    expect(error?.errorMessage).toMatch(/^first line\nx+…$/);
    expect(error?.errorMessage.length).toBeLessThanOrEqual(4_000);
    expect(error?.stack?.length).toBeLessThan(8_000);
    expect(error?.stack).toMatch(/^Error: first line\nx+…\n {4}at .*raw-function/);
    const result = await fn.invoke({ action: 'echo' });
    expect(result).toMatchObject({ ok: false, kind: 'init' });
    expect(result.ok ? '' : result.error.errorMessage).toBe(error?.errorMessage);
  });

  it('refuses a handler declaring a callback parameter at init, as the Node.js 24 runtime does', async () => {
    const fn = make({ handler: 'callbackHandler' });
    const error = await fn.warm();
    expect(error).toMatchObject({
      errorType: 'Runtime.CallbackHandlerDeprecated',
      errorMessage: expect.stringContaining('removed support for callback-based function handlers'),
    });
    expect(await fn.invoke({ result: { via: 'callback' } })).toMatchObject({
      ok: false,
      kind: 'init',
      error: { errorType: 'Runtime.CallbackHandlerDeprecated' },
    });
  });

  describe('an SQS batch that fails after the consumer finished some records', () => {
    const batch = (then: object) => ({
      action: 'log',
      Records: [{ messageId: 'm-done' }, { messageId: 'm-dup' }, { messageId: 'm-open' }],
      lines: [
        recordOutcome('m-done', 'processed'),
        'not json, "record outcome"',
        recordOutcome('m-dup', 'duplicate'),
        recordOutcome('m-elsewhere', 'processed'),
      ],
      then,
    });

    it.each([
      ['times out', { timeoutMs: 300 }, { action: 'sleep', ms: 5_000 }, 'timeout'],
      ['throws', {}, { action: 'throw' }, 'error'],
      ['crashes its sandbox', {}, { action: 'exit' }, 'crash'],
    ] as const)(
      'when it %s, reports the records of this batch it had finished, with their outcomes',
      async (_, overrides, then, kind) => {
        const fn = make(overrides);
        const result = await fn.invoke(batch(then));
        expect(result).toMatchObject({ ok: false, kind });
        expect(result.ok ? undefined : result.recordOutcomes).toStrictEqual({
          'm-done': 'processed',
          'm-dup': 'duplicate',
        });
      },
    );

    it('reports no finished records when it had finished none', async () => {
      const fn = make({ timeoutMs: 300 });
      const result = await fn.invoke({ action: 'sleep', ms: 5_000, Records: [{ messageId: 'm-open' }] });
      expect(result).toMatchObject({ ok: false, kind: 'timeout' });
      expect(result).not.toHaveProperty('recordOutcomes');
    });
  });
});
