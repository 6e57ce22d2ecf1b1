/**
 * Writes a file whole or not at all: into a temporary file beside it, then renamed over it. A rename within one
 * directory is atomic, so a reader in another process (the CLI reading `local.json`, a second test file reading a
 * cached bundle) sees the old contents or the new ones, never a half-written file, and a crash mid-write leaves the
 * old file in place.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes `contents` to `path` atomically, creating its folder when missing; `mode` for a file only you may read. */
export function writeFileAtomically(path: string, contents: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`);
  writeFileSync(temporary, contents, mode === undefined ? undefined : { mode });
  renameSync(temporary, path);
}
