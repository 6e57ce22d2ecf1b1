/**
 * The cold start of every function at `npm start`, so a broken handler or configuration shows before the first
 * event; never holding the start up for a module whose import does not finish.
 */
import { codeFrames } from './code-frames';
import type { LocalFunction } from './function-runtime';
import { shownPath } from './function-runtime';
import type { Reporter } from './reporter';

/**
 * How long Lambda lets a function's init (its module's top-level code) run: longer, it stops it and runs it again
 * inside the first invocation, counted in the function's timeout.
 */
export const LAMBDA_INIT_LIMIT_MS = 10_000;

/** What {@link warmUp} needs of a function. */
export type WarmedFunction = Pick<LocalFunction, 'warm' | 'definition'>;

/**
 * Cold-starts one sandbox of each function and reports the ones that failed to initialise. Waits at most
 * `initLimitMs` for any: a module whose top-level code is still running then (a top-level await that does not
 * settle, a connection made at import) is named with what Lambda would do, and the start goes on without it; its
 * failure, should it come later, is reported when it does.
 */
export async function warmUp(
  reporter: Reporter,
  functions: readonly WarmedFunction[],
  initLimitMs = LAMBDA_INIT_LIMIT_MS,
): Promise<void> {
  await Promise.all(
    functions.map(async (fn) => {
      const warming = fn.warm();
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<'slow'>((resolve) => {
        timer = setTimeout(() => resolve('slow'), initLimitMs);
      });
      const first = await Promise.race([warming.then((error) => ({ error })), limit]);
      clearTimeout(timer);
      if (first !== 'slow') {
        if (first.error) reporter.problem(initFailure(fn, first.error));
        return;
      }
      reporter.problem(slowInit(fn, initLimitMs));
      void warming.then((error) => error && reporter.problem(initFailure(fn, error)));
    }),
  );
}

function initFailure(
  fn: WarmedFunction,
  error: NonNullable<Awaited<ReturnType<LocalFunction['warm']>>>,
): string {
  const where = codeFrames(error.stack);
  return (
    `function ${fn.definition.name} failed to initialise: ${error.errorType}: ${error.errorMessage}${where.map((f) => `\n${f}`).join('')}\n` +
    'each invocation fails the same way until the code is fixed and local mode is started again'
  );
}

function slowInit(fn: WarmedFunction, initLimitMs: number): string {
  const seconds = Math.round(initLimitMs / 1000);
  return (
    `function ${fn.definition.name} (${shownPath(fn.definition.entry)}) has not finished initialising after ${seconds} s: ` +
    'its module is still running its top-level code (a top-level await that does not settle, a connection made at import). ' +
    `Deployed, Lambda stops an init at ${seconds} s and runs it again inside each invocation, counted in its timeout; ` +
    'local mode starts without it, and its invocations wait until the import finishes'
  );
}
