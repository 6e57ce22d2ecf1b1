/**
 * Which consumers are paused, kept in the data directory (`<dataDir>/paused-consumers.json`) so a pause
 * survives a restart of local mode, as a disabled event source mapping stays disabled on AWS. Without a data
 * directory everything is in memory and a restart starts every consumer.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'paused-consumers.json';

/** Where the paused consumers are stored. */
export function pausedConsumersPath(dataDir: string): string {
  return join(dataDir, FILE);
}

/** The consumers saved as paused; an absent or unreadable file means none (reported through `onProblem`). */
export function readPausedConsumers(dataDir: string, onProblem: (message: string) => void): Set<string> {
  const path = pausedConsumersPath(dataDir);
  if (!existsSync(path)) return new Set();
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { paused?: unknown };
    if (!Array.isArray(parsed.paused) || !parsed.paused.every((name) => typeof name === 'string')) {
      throw new Error('expected {"paused": ["<queue>", ...]}');
    }
    return new Set(parsed.paused);
  } catch (error) {
    onProblem(
      `${path} is unreadable (${(error as Error).message}): starting every consumer; delete the file`,
    );
    return new Set();
  }
}

/** Saves the paused consumers atomically (write, then rename), so a crash never leaves half a file. */
export function writePausedConsumers(dataDir: string, paused: Iterable<string>): void {
  mkdirSync(dataDir, { recursive: true });
  const path = pausedConsumersPath(dataDir);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ paused: [...paused].sort() }, null, 2)}\n`);
  renameSync(temporary, path);
}
