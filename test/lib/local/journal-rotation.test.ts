/**
 * Local mode's journal kept within its cap: the writer renames the live file to `journal.1.jsonl` once it holds half
 * the cap, and every reader reads the rotated file, then the live one, each line once, in the order written. `readSync`
 * is node's own, watched (not replaced) to count the bytes a read back takes; `statSync` is node's own too, given once
 * a step of local mode's to take at the moment a follower looks for a rotation.
 */
import * as fs from 'node:fs';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localRows } from '../../../lib/cli/trace';
import { journalFileLines, journalRecentLines } from '../../../lib/console/feed';
import { appendToJournal, Journal, parseJournal, rotatedJournalPath } from '../../../lib/local/journal';
import { JournalFollower, journalChunksBack } from '../../../lib/local/journal-read';
import { waitFor } from '../../helpers/wait-for';

vi.mock('node:fs', async (importOriginal) =>
  (await import('../../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync', 'statSync'),
);

const bytesRead = () =>
  vi.mocked(fs.readSync).mock.results.reduce((sum, result) => sum + Number(result.value), 0);

/** A journal line of event `evt-<n>` as local mode writes it. */
const line = (n: number, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ event: 'queued', id: `evt-${n}`, source: 'github', status: 202, run: 'r1', seq: n, ...extra, at: new Date(Date.UTC(2026, 11, 5) + n).toISOString() })}\n`;

const idsOf = (entries: readonly { readonly id?: unknown }[]) => entries.map((entry) => String(entry.id));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `evt-${from + i}`);

/** What reading back gives, in the order written. */
const readBack = (path: string, chunk: number) => [...journalChunksBack(path, chunk)].reverse().flat();

describe('the journal kept within its cap', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-journal-rotation-'));
    path = join(dir, 'journal.jsonl');
    vi.mocked(fs.readSync).mockClear();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the rotated file beside the live one', () => {
    expect(rotatedJournalPath('/s/journal.jsonl')).toBe('/s/journal.1.jsonl');
  });

  it('rotates the live file at half the cap, keeps the two within it, and drops only the oldest lines', async () => {
    const cap = 16 * 1024;
    const journal = new Journal(path, { truncate: true, maxBytes: cap });
    for (let n = 0; n < 500; n++)
      journal.append({ event: 'queued', id: `evt-${n}`, source: 'github', status: 202 });
    await journal.close();
    const rotated = readFileSync(rotatedJournalPath(path), 'utf8');
    const live = readFileSync(path, 'utf8');
    expect(Buffer.byteLength(rotated)).toBeGreaterThanOrEqual(cap / 2);
    expect(Buffer.byteLength(rotated) + Buffer.byteLength(live)).toBeLessThanOrEqual(cap + 200);
    const kept = idsOf(parseJournal(rotated + live));
    const first = Number(kept[0]?.slice('evt-'.length));
    expect(first).toBeGreaterThan(0);
    expect(kept).toEqual(range(first, 500));
    expect(idsOf(readBack(path, 256))).toEqual(kept);
  });

  it('never rotates without a cap (the CLI appending its replayed lines), and empties both files for a fresh run', async () => {
    writeFileSync(rotatedJournalPath(path), line(0));
    for (let n = 1; n < 200; n++) appendToJournal(path, { event: 'replayed', id: `evt-${n}` });
    expect(idsOf(parseJournal(readFileSync(rotatedJournalPath(path), 'utf8')))).toEqual(['evt-0']);
    const fresh = new Journal(path, { truncate: true, maxBytes: 16 * 1024 });
    await fresh.close();
    expect(existsSync(rotatedJournalPath(path))).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it("appends the CLI's replayed lines to the file live when each is written, however often local mode rotated it since", async () => {
    const local = new Journal(path, { truncate: true, maxBytes: 16 * 1024 });
    appendToJournal(path, { event: 'replayed', id: 'evt-first' });
    for (let n = 0; n < 500; n++)
      local.append({ event: 'queued', id: `evt-${n}`, source: 'github', status: 202 });
    await local.close();
    appendToJournal(path, { event: 'replayed', id: 'evt-replayed' });
    expect(idsOf(parseJournal(readFileSync(path, 'utf8'))).at(-1)).toBe('evt-replayed');
  });

  it('reads back the live file, then the rotated one, each line once, every byte read once', () => {
    const older = Array.from({ length: 300 }, (_, n) =>
      line(n, n % 50 === 49 ? { detail: 'x'.repeat(700) } : {}),
    );
    const newer = Array.from({ length: 300 }, (_, n) => line(300 + n));
    writeFileSync(rotatedJournalPath(path), older.join(''));
    writeFileSync(path, `${newer.join('')}{"event":"queued","id":"evt-torn`);
    expect(idsOf(readBack(path, 256))).toEqual(range(0, 600));
    expect(bytesRead()).toBe(statSync(path).size + statSync(rotatedJournalPath(path)).size);
  });

  it('reads a single file back reading each byte once, its last chunk included', () => {
    writeFileSync(path, Array.from({ length: 400 }, (_, n) => line(n)).join(''));
    expect(idsOf(readBack(path, 4096))).toEqual(range(0, 400));
    expect(bytesRead()).toBe(statSync(path).size);
  });

  it("trace --local finds an event's rows in the rotated file and the live one, parsing only lines that may be its", () => {
    const traced = (n: number) => line(n, { id: 'evt-traced', seq: n });
    writeFileSync(rotatedJournalPath(path), [line(0), traced(1), line(2, { note: 'evt-traced' })].join(''));
    writeFileSync(path, [line(3, { source: 'stripe' }), traced(4), line(5)].join(''));
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const { rows, sources } = localRows(path, 'evt-traced', 64);
      expect(rows.map((row) => row.at)).toEqual(
        [1, 4].map((n) => new Date(Date.UTC(2026, 11, 5) + n).toISOString()),
      );
      expect([...sources].sort()).toEqual(['github', 'stripe']);
      // The traced lines, the one naming the id in another field, and the first line of each source.
      expect(parse.mock.calls.length).toBeLessThanOrEqual(5);
    } finally {
      parse.mockRestore();
    }
  });
});

describe("the console's back-reads across a rotation", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-journal-console-'));
    path = join(dir, 'journal.jsonl');
    writeFileSync(rotatedJournalPath(path), Array.from({ length: 100 }, (_, n) => line(n)).join(''));
    writeFileSync(path, Array.from({ length: 100 }, (_, n) => line(100 + n)).join(''));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("gives a run's lines from before the rotation, and the window's earlier runs' lines, each once, in order", async () => {
    expect(idsOf(journalFileLines(path, 256)('r1', 90) ?? [])).toEqual(range(90, 200));
    expect(idsOf(await journalRecentLines(path, 256)(new Date(Date.UTC(2026, 11, 5) + 50), 2_000))).toEqual(
      range(50, 200),
    );
  });
});

describe('a follower across a rotation', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-journal-follow-'));
    path = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Reads until a read gives nothing and is not behind. */
  const drain = (follower: JournalFollower) => {
    const ids: string[] = [];
    for (let read = follower.read(); read.length > 0 || follower.behind; read = follower.read())
      ids.push(...idsOf(read));
    return ids;
  };

  it('reads the renamed file to its end, then the new live file from its start', () => {
    writeFileSync(path, line(0));
    const follower = new JournalFollower(path, 'end', 64);
    appendFileSync(path, line(1) + line(2));
    expect(idsOf(follower.read())).toEqual(['evt-1']);
    appendFileSync(path, line(3));
    renameSync(path, rotatedJournalPath(path));
    writeFileSync(path, line(4));
    expect(drain(follower)).toEqual(['evt-2', 'evt-3', 'evt-4']);
    follower.close();
  });

  it('waits between the rename and the new file, and leaves a torn end of the renamed file out', () => {
    writeFileSync(path, line(0));
    const follower = new JournalFollower(path, 'start', 64);
    appendFileSync(path, '{"event":"queued","id":"evt-to');
    renameSync(path, rotatedJournalPath(path));
    expect(drain(follower)).toEqual(['evt-0']);
    writeFileSync(path, line(1));
    expect(drain(follower)).toEqual(['evt-1']);
    follower.close();
  });

  it('takes the lines written to the live file just before local mode renamed it while the follower looked', () => {
    writeFileSync(path, line(0));
    const follower = new JournalFollower(path, 'start');
    expect(idsOf(follower.read())).toEqual(['evt-0']);
    // Local mode writes the line that fills the file and renames it between the follower's read and its look.
    vi.mocked(fs.statSync).mockImplementationOnce(((...args: Parameters<typeof fs.statSync>) => {
      appendFileSync(path, line(1));
      renameSync(path, rotatedJournalPath(path));
      writeFileSync(path, line(2));
      return fs.statSync(...args);
    }) as typeof fs.statSync);
    const seen = [follower.read(), follower.read(), follower.read()].flat();
    follower.close();
    expect(idsOf(seen)).toEqual(['evt-1', 'evt-2']);
  });

  it('a whole file behind (the live file rotated twice since it read), reads the rotated file before the live one', () => {
    writeFileSync(path, line(0));
    const follower = new JournalFollower(path, 'end', 64);
    appendFileSync(path, line(1));
    renameSync(path, rotatedJournalPath(path));
    writeFileSync(path, line(2));
    renameSync(path, rotatedJournalPath(path));
    writeFileSync(path, line(3));
    expect(drain(follower)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    follower.close();
  });

  it('from the start, reads the rotated file, then the live one', () => {
    writeFileSync(rotatedJournalPath(path), line(0) + line(1));
    writeFileSync(path, line(2));
    const follower = new JournalFollower(path, 'start', 64);
    expect(drain(follower)).toEqual(['evt-0', 'evt-1', 'evt-2']);
    follower.close();
  });

  it('sees every line of a journal rotating under it once, in order, reading as tail does between writes', async () => {
    const journal = new Journal(path, { truncate: true, maxBytes: 16 * 1024 });
    const follower = new JournalFollower(path, 'end', 256);
    const seen: string[] = [];
    for (let n = 0; n < 1_000; n++) {
      journal.append({ event: 'queued', id: `evt-${n}`, source: 'github', status: 202 });
      // Read once every 20 lines (a fifth of a file) are written: a rotation happens between reads now and then.
      if (n % 20 === 19) {
        await waitFor(
          () => {
            seen.push(...drain(follower));
            return seen.at(-1) === `evt-${n}`;
          },
          5_000,
          `evt-${n}`,
        );
      }
    }
    await journal.close();
    follower.close();
    expect(existsSync(rotatedJournalPath(path))).toBe(true);
    expect(seen).toEqual(range(0, 1_000));
  });
});
