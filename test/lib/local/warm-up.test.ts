import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAMBDA_INIT_LIMIT_MS } from '../../../lib/local/function-runtime';
import type { SerializedError } from '../../../lib/local/function-worker';
import { Reporter } from '../../../lib/local/reporter';
import { slowInit, type WarmedFunction, warmUp } from '../../../lib/local/warm-up';

/** A function whose cold start ends when the test says so. */
function coldStart(name: string, entry: string) {
  let finish: (error: SerializedError | undefined) => void = () => undefined;
  const warming = new Promise<SerializedError | undefined>((resolve) => {
    finish = resolve;
  });
  const fn = { definition: { name, entry }, warm: () => warming } as unknown as WarmedFunction;
  return { fn, finish };
}

describe('warmUp', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("goes on with the start when a module's import runs past Lambda's init limit, naming its file, and reports its failure once it comes", async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, write: (line) => lines.push(line) });
    const quick = coldStart('Hookline-consumer-fast', `${process.cwd()}/lambda/consumers/events.ts`);
    const hanging = coldStart('Hookline-consumer-stuck', `${process.cwd()}/lambda/consumers/stuck.ts`);
    let started = false;
    const start = warmUp(reporter, [quick.fn, hanging.fn]).then(() => {
      started = true;
    });

    quick.finish(undefined);
    await vi.advanceTimersByTimeAsync(LAMBDA_INIT_LIMIT_MS - 1);
    expect(started).toBe(false);
    expect(lines).toStrictEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await start;

    expect(started).toBe(true);
    expect(lines).toStrictEqual([
      'function Hookline-consumer-stuck (lambda/consumers/stuck.ts) has not finished initialising after 10 s: its module is still running its top-level code (a top-level await that does not settle, a connection made at import). Deployed, Lambda stops an init at 10 s and runs it again inside each invocation, counted in its timeout; local mode starts without it, and its invocations wait until the import finishes',
    ]);
    hanging.finish({ errorType: 'Error', errorMessage: 'database unreachable' });
    await vi.advanceTimersByTimeAsync(0);
    expect(lines[1]).toBe(
      'function Hookline-consumer-stuck failed to initialise: Error: database unreachable\n' +
        'each invocation fails the same way until the code is fixed and local mode is started again',
    );
  });

  it('reports a function that failed to initialise within the limit once, with the start', async () => {
    const lines: string[] = [];
    const reporter = new Reporter({ json: false, color: false, write: (line) => lines.push(line) });
    const broken = coldStart('Hookline-consumer-events', 'lambda/consumers/events.ts');
    broken.finish({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'lambda/consumers/events.ts exports nothing',
    });

    await warmUp(reporter, [broken.fn]);

    expect(lines).toStrictEqual([
      'function Hookline-consumer-events failed to initialise: Runtime.HandlerNotFound: lambda/consumers/events.ts exports nothing\n' +
        'each invocation fails the same way until the code is fixed and local mode is started again',
    ]);
  });

  it('names a later cold start past the limit as the start does, saying local mode goes on', () => {
    expect(
      slowInit(
        { name: 'Hookline-consumer-stuck', entry: `${process.cwd()}/lambda/consumers/stuck.ts` },
        LAMBDA_INIT_LIMIT_MS,
        'later',
      ),
    ).toBe(
      'function Hookline-consumer-stuck (lambda/consumers/stuck.ts) has not finished initialising after 10 s in a new sandbox: its module is still running its top-level code (a top-level await that does not settle, a connection made at import). Deployed, Lambda stops an init at 10 s and runs it again inside each invocation, counted in its timeout; local mode goes on, and the invocations given to that sandbox wait until the import finishes',
    );
  });
});
