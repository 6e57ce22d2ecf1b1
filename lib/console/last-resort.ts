/**
 * The console's last resort for a failure, as `runCli`'s is the CLI's: what the command cores did not explain is
 * told in the operator's terms where it can be (`explainError`), and anything else is logged with its stack where
 * the console runs, while the page gets a line with nothing of the console's internals in it.
 */
import { contextOf, explainFailure } from '../cli/backend';
import { BackendError, CliError, httpStatus, unexplainedAnswer } from '../cli/errors';
import type { Target } from '../cli/target';

/** Where the console writes what it cannot tell the page: the output of `hookline console` (its stderr). */
export type ConsoleLog = (text: string) => void;

/** The console's output when none is given: its process's stderr. */
export const stderrLog: ConsoleLog = (text) => {
  process.stderr.write(text);
};

const LOGGED = 'it is logged, with its stack, in the output of hookline console';

/** What the page is told of a fault of the console's own: the error itself is in the log. */
export const UNEXPECTED_FAILURE = `the console failed with an unexpected error: ${LOGGED}; please report it`;

/**
 * `error` as the page is told it: an expected failure (the CLI's line), an answer of AWS or local mode's emulators
 * that nothing explains (a {@link BackendError}, worth asking again), or undefined for a fault of the console's own,
 * to be answered with {@link UNEXPECTED_FAILURE}. Either of the last two is logged with its stack, saying `doing`
 * (`answering GET /api/overview`).
 */
export function lastResort(
  error: unknown,
  target: Target,
  log: ConsoleLog,
  doing: string,
): CliError | undefined {
  const explained = explainFailure(error, target);
  if (explained instanceof CliError) return explained;
  log(
    `unexpected error (please report it) ${doing}: ${explained instanceof Error ? (explained.stack ?? explained.message) : String(explained)}\n`,
  );
  const answer = unexplainedAnswer(explained, contextOf(target));
  // AWS's own fault may pass; a refusal of the request (4xx) would only be refused again.
  const next =
    (httpStatus(explained) ?? 500) >= 500 ? 'run it again, and report it if it persists' : 'please report it';
  return answer && new BackendError(`${answer.message}: ${LOGGED}; ${next}`);
}
