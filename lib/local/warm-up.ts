/**
 * The cold start of every function at `npm start`, so a broken handler or configuration shows before the first
 * event; never holding the start up for a module whose import does not finish.
 */
import { codeFrames } from './code-frames';
import type { FunctionDefinition, LocalFunction } from './function-runtime';
import { LAMBDA_INIT_LIMIT_MS, shownPath } from './function-runtime';
import type { Reporter } from './reporter';

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
      reporter.problem(slowInit(fn.definition, initLimitMs, 'start'));
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

/**
 * A cold start whose module is still running its top-level code after the init limit: at the start (`warmUp`),
 * which goes on without it, or `later` (a new sandbox after a crash or a timeout, or for more concurrency).
 */
export function slowInit(
  definition: Pick<FunctionDefinition, 'name' | 'entry'>,
  initLimitMs: number,
  when: 'start' | 'later',
): string {
  const seconds = Math.round(initLimitMs / 1000);
  const sandbox = when === 'later' ? ' in a new sandbox' : '';
  const meanwhile =
    when === 'later'
      ? 'local mode goes on, and the invocations given to that sandbox wait until the import finishes'
      : 'local mode starts without it, and its invocations wait until the import finishes';
  return (
    `function ${definition.name} (${shownPath(definition.entry)}) has not finished initialising after ${seconds} s${sandbox}: ` +
    'its module is still running its top-level code (a top-level await that does not settle, a connection made at import). ' +
    `Deployed, Lambda stops an init at ${seconds} s and runs it again inside each invocation, counted in its timeout; ` +
    meanwhile
  );
}
