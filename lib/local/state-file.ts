/**
 * `.hookline/local.json`: the contract with the CLI and the job producer, whose one schema lives in
 * `lambda/shared/local-state.ts` (the producer, under `lambda/`, reads it too).
 */
import { join } from 'node:path';
import { localStateDirFrom } from '../../lambda/shared/local-state';

export {
  isProcessAlive,
  type LocalState,
  localModeStarting,
  localStateDir,
  localStatePath,
  parseLocalState,
  STATE_FILE_NAME,
  stateDirHolder,
} from '../../lambda/shared/local-state';

/** The event journal's name inside the state directory: one JSON line per reported event, for `hookline trace`. */
export const JOURNAL_FILE_NAME = 'journal.jsonl';

/** Where a reader finds local mode's event journal: next to the state file. */
export function localJournalPath(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): string {
  return join(localStateDirFrom(env, cwd), JOURNAL_FILE_NAME);
}
