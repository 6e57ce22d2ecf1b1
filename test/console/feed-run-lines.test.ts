/**
 * The lines of the run the console follows that it lacks, read from local mode's journal file (after a gap in the
 * feed, or once local mode stopped): read back from the file's end, so a journal of many earlier runs (or one long
 * run) costs what the console lacks, not the file's size. `readSync` and `readFileSync` are node's own, watched (not
 * replaced) to see how much of the file is read.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { journalFileLines } from '../../lib/console/feed';
import { bytesRead, forgetReads } from '../helpers/file-reads';

vi.mock('node:fs', async (importOriginal) =>
  (await import('../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync', 'readFileSync'),
);

const CHUNK = 4096;
const START = Date.UTC(2026, 11, 5, 10);

/** A run's numbered journal line. */
function line(run: string, seq: number): string {
  const at = new Date(START + seq).toISOString();
  return `${JSON.stringify({ at, event: 'queued', id: `${run}-${seq}`, run, seq, detail: 'y'.repeat(40) })}\n`;
}

const lines = (run: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => line(run, from + i)).join('');
const ids = (found: readonly { readonly id?: unknown }[] | undefined) => found?.map((entry) => entry.id);

describe("the journal file's lines of the run the console follows", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-run-lines-'));
    path = join(dir, 'journal.jsonl');
    forgetReads();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads only the end of a long journal for the lines after those the console has', () => {
    const earlierRun = lines('run-a', 1, 40_000);
    writeFileSync(path, earlierRun + lines('run-b', 1, 5000));
    const found = journalFileLines(path, CHUNK)('run-b', 4990);
    expect(ids(found)).toEqual(Array.from({ length: 11 }, (_, i) => `run-b-${4990 + i}`));
    expect(earlierRun.length).toBeGreaterThan(4_000_000);
    expect(bytesRead()).toBeLessThan(3 * CHUNK);
  });

  it("gives an earlier run's lines from where the console is, though later runs follow them", () => {
    writeFileSync(path, lines('run-a', 1, 300) + lines('run-b', 1, 300));
    const found = journalFileLines(path, CHUNK)('run-a', 295);
    expect(ids(found)).toEqual([
      'run-a-295',
      'run-a-296',
      'run-a-297',
      'run-a-298',
      'run-a-299',
      'run-a-300',
    ]);
  });

  it('tells a run read to its end (its last line alone) from one the file does not hold (none)', () => {
    writeFileSync(path, lines('run-a', 1, 300));
    const runLines = journalFileLines(path, CHUNK);
    expect(ids(runLines('run-a', 300))).toEqual(['run-a-300']);
    expect(runLines('run-gone', 12)).toEqual([]);
  });

  it('reads the file again only once it changed', () => {
    writeFileSync(path, lines('run-a', 1, 300));
    const runLines = journalFileLines(path, CHUNK);
    expect(ids(runLines('run-a', 299))).toEqual(['run-a-299', 'run-a-300']);
    const once = bytesRead();
    expect(ids(runLines('run-a', 300))).toEqual(['run-a-300']);
    expect(bytesRead()).toBe(once);
    appendFileSync(path, lines('run-a', 301, 302));
    expect(ids(runLines('run-a', 300))).toEqual(['run-a-300', 'run-a-301', 'run-a-302']);
  });
});
