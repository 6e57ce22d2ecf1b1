/**
 * Which consumers are paused, kept in the data directory (`<dataDir>/paused-consumers.json`) so a pause
 * survives a restart of local mode, as a disabled event source mapping stays disabled on AWS. Without a data
 * directory everything is in memory and a restart starts every consumer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-write';
import { LocalStartProblem } from './start-problem';

const FILE = 'paused-consumers.json';

/** Where the paused consumers are stored. */
export function pausedConsumersPath(dataDir: string): string {
  return join(dataDir, FILE);
}

/**
 * The consumers saved as paused; an absent file means none. A file that cannot be read stops the start, naming
 * the file and the fix: starting every consumer instead would run what the operator paused.
 */
export function readPausedConsumers(dataDir: string): Set<string> {
  const path = pausedConsumersPath(dataDir);
  if (!existsSync(path)) return new Set();
  let reason: string;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { paused?: unknown } | null;
    const paused = parsed?.paused;
    if (Array.isArray(paused) && paused.every((name) => typeof name === 'string')) return new Set(paused);
    reason = 'expected {"paused": ["<queue>", ...]}';
  } catch (error) {
    reason = (error as Error).message;
  }
  throw new LocalStartProblem(
    `${path} is unreadable (${reason}): it lists the consumers paused with hookline pause. ` +
      'Repair it (e.g. {"paused": ["events"]}), or delete it to start every consumer',
  );
}

/** Saves the paused consumers atomically (write, then rename), so a crash never leaves half a file. */
export function writePausedConsumers(dataDir: string, paused: Iterable<string>): void {
  writeFileAtomically(
    pausedConsumersPath(dataDir),
    `${JSON.stringify({ paused: [...paused].sort() }, null, 2)}\n`,
  );
}
