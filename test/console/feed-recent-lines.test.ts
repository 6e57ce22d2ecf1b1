/**
 * The console's earlier lines from local mode's journal file (its window before the first page): read back from the
 * file's end, so a journal of many earlier runs costs what the window holds, not the file's size. `readSync` is
 * node's own, watched (not replaced) to see how much of the file is read.
 */
import * as fs from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { journalRecentLines } from '../../lib/console/feed';

vi.mock('node:fs', async (importOriginal) =>
  (await import('../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync'),
);

const bytesRead = () =>
  vi.mocked(fs.readSync).mock.calls.reduce((sum, call) => sum + ((call as unknown as number[])[3] ?? 0), 0);

const START = Date.UTC(2026, 11, 5, 10);
const SINCE = new Date(START + 60_000);

/** A run's numbered journal line at `ms` after the start; `cli` for one of the CLI's own lines (no run, no number). */
function line(ms: number, run: string, seq: number): string {
  return `${JSON.stringify({ at: new Date(START + ms).toISOString(), event: 'queued', id: `${run}-${seq}`, run, seq, detail: 'y'.repeat(40) })}\n`;
}

const ids = (lines: readonly { readonly id?: unknown }[]) => lines.map((entry) => entry.id);

describe("the console's earlier lines from the journal file", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-recent-lines-'));
    path = join(dir, 'journal.jsonl');
    vi.mocked(fs.readSync).mockClear();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads only the file's end when a long journal's older runs lie before the window", async () => {
    const old = Array.from({ length: 40_000 }, (_, i) => line(i, 'run-a', i + 1)).join('');
    const recent = [line(60_000, 'run-b', 1), line(60_001, 'run-b', 2), line(60_002, 'run-c', 1)].join('');
    writeFileSync(path, old + recent);
    const lines = await journalRecentLines(path, 4096)(SINCE, 2000);
    expect(ids(lines)).toEqual(['run-b-1', 'run-b-2', 'run-c-1']);
    expect(old.length).toBeGreaterThan(4_000_000);
    expect(bytesRead()).toBeLessThan(4 * 4096);
  });

  it('stops at its newest lines once it has as many as it keeps, oldest first', async () => {
    writeFileSync(path, Array.from({ length: 5000 }, (_, i) => line(60_000 + i, 'run-a', i + 1)).join(''));
    const lines = await journalRecentLines(path, 4096)(SINCE, 100);
    expect(ids(lines)).toEqual(Array.from({ length: 100 }, (_, i) => `run-a-${4901 + i}`));
    expect(bytesRead()).toBeLessThan(100 * 200 + 2 * 4096);
  });

  it('takes a line in the window written before an older one, and stops only after a whole chunk older than the window', async () => {
    // About 30 lines a chunk of 4 KB: the 100 lines at 59,990 ms hold at least two whole chunks.
    const older = Array.from({ length: 200 }, (_, i) => line(i, 'run-a', i + 1));
    const behindAnOlderChunk = line(60_010, 'run-x', 1);
    const olderChunks = Array.from({ length: 100 }, (_, i) => line(59_990, 'run-y', i + 1));
    const interleaved = [line(60_020, 'run-b', 1), line(59_999, 'run-z', 1), line(60_021, 'run-b', 2)];
    writeFileSync(path, [...older, behindAnOlderChunk, ...olderChunks, ...interleaved].join(''));
    const lines = await journalRecentLines(path, 4096)(SINCE, 2000);
    expect(ids(lines)).toEqual(['run-b-1', 'run-b-2']);
    expect(bytesRead()).toBeLessThanOrEqual(3 * 4096);
  });

  it("is not stopped by the CLI's own lines, whose times are a replay run's start", async () => {
    const replayed = (i: number) =>
      `${JSON.stringify({ at: new Date(START).toISOString(), event: 'replayed', id: `evt-${i}`, detail: 'z'.repeat(60) })}\n`;
    const lines = [
      line(60_000, 'run-a', 1),
      ...Array.from({ length: 100 }, (_, i) => replayed(i)),
      line(60_001, 'run-a', 2),
    ];
    writeFileSync(path, lines.join(''));
    expect(ids(await journalRecentLines(path, 4096)(SINCE, 2000))).toEqual(['run-a-1', 'run-a-2']);
  });

  it("leaves out the CLI's own lines and a half-written last line", async () => {
    const cli = `${JSON.stringify({ at: new Date(START + 60_001).toISOString(), event: 'replayed', id: 'evt-1' })}\n`;
    writeFileSync(
      path,
      `${line(60_000, 'run-a', 1)}${cli}${line(60_002, 'run-a', 2)}{"at":"2026-12-05T10:01:00.003Z","ev`,
    );
    expect(ids(await journalRecentLines(path, 16)(SINCE, 2000))).toEqual(['run-a-1', 'run-a-2']);
  });

  it('has no earlier lines from an empty journal, one without a newline, or none', async () => {
    writeFileSync(path, '');
    expect(await journalRecentLines(path)(SINCE, 2000)).toEqual([]);
    writeFileSync(path, line(60_000, 'run-a', 1).trimEnd());
    expect(await journalRecentLines(path)(SINCE, 2000)).toEqual([]);
    expect(await journalRecentLines(join(dir, 'missing.jsonl'))(SINCE, 2000)).toEqual([]);
  });
});
