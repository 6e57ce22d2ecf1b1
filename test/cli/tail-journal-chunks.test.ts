/**
 * `tail` on a large journal: skipping it (no `--since`) and reading it from `--since` both read it a chunk at a
 * time, never the whole file in one read, and the same lines come out as reading it whole would give. `readSync` is
 * node's own, watched (not replaced) to see how much each read asks for.
 */
import * as fs from 'node:fs';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type TailLine, TailTimelines, tailJournal } from '../../lib/cli/tail';
import { journalRow } from '../../lib/cli/trace';
import { parseJournal } from '../../lib/local/journal';
import { JOURNAL_CHUNK_BYTES, JournalFollower } from '../../lib/local/journal-read';

vi.mock('node:fs', async (importOriginal) =>
  (await import('../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync'),
);

const readSizes = () =>
  vi.mocked(fs.readSync).mock.calls.map((call) => {
    // The form `tail` calls: (fd, buffer, offset, length, position).
    const [, buffer, , length] = call as unknown as [number, Buffer, number, number];
    return { length, buffer: buffer.length };
  });

const CHUNK = 4096;

/** A journal of about `bytes`: events queued, some dead-lettered then redriven and processed, at rising times. */
function journalText(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const at = new Date(Date.UTC(2026, 11, 5, 10) + i * 1000).toISOString();
    const id = `evt-${i % 500}`;
    const fields =
      i % 3 === 0
        ? { event: 'queued', id, source: 'stripe', type: 'invoice.paid', queue: 'invoices', status: 202 }
        : i % 3 === 1
          ? {
              event: 'dead-lettered',
              id,
              source: 'stripe',
              type: 'invoice.paid',
              queue: 'invoices',
              attempt: 3,
            }
          : { event: 'processed', id, source: 'stripe', type: 'invoice.paid', queue: 'invoices', attempt: 1 };
    // Every 1,000th line is longer than a chunk: one read cannot hold it.
    const padding = i % 1000 === 999 ? { detail: 'x'.repeat(CHUNK * 2) } : { detail: 'y'.repeat(i % 90) };
    const line = `${JSON.stringify({ at, ...fields, ...padding })}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join('');
}

describe('tail on a journal of a few MB', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-tail-chunks-'));
    path = join(dir, 'journal.jsonl');
    writeFileSync(path, journalText(3 * 1024 * 1024));
    vi.mocked(fs.readSync).mockClear();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('from the start, gives every line once, in order, in reads no larger than its chunk', () => {
    const follower = new JournalFollower(path, 'start', CHUNK);
    const ids: string[] = [];
    let reads = 0;
    do {
      ids.push(...follower.read().map((e) => `${e.at} ${e.id}`));
      reads++;
    } while (follower.behind);

    const whole = parseJournal(readFileSync(path, 'utf8')).map((e) => `${e.at} ${e.id}`);
    expect(ids).toEqual(whole);
    expect(reads).toBeGreaterThan((3 * 1024 * 1024) / CHUNK / 2);
    expect(Math.max(...readSizes().map((r) => Math.max(r.length, r.buffer)))).toBeLessThanOrEqual(CHUNK);
    expect(follower.read()).toEqual([]);
  });

  it('from the end, skips the journal reading back from its end only, then gives what is appended', () => {
    const follower = new JournalFollower(path, 'end', CHUNK);
    const sizes = readSizes();
    expect(sizes.length).toBeGreaterThan(0);
    expect(sizes.reduce((sum, r) => sum + r.length, 0)).toBeLessThanOrEqual(2 * CHUNK);
    expect(Math.max(...sizes.map((r) => Math.max(r.length, r.buffer)))).toBeLessThanOrEqual(CHUNK);

    appendFileSync(
      path,
      `${JSON.stringify({ at: '2026-12-06T00:00:00.000Z', event: 'queued', id: 'after', status: 202 })}\n`,
    );
    expect(follower.read().map((e) => e.id)).toEqual(['after']);
    expect(follower.read()).toEqual([]);
  });

  it('from the end of a journal whose last line is longer than a chunk, still starts after that line', () => {
    appendFileSync(
      path,
      `${JSON.stringify({ at: '2026-12-06T00:00:00.000Z', event: 'queued', id: 'long', detail: 'z'.repeat(CHUNK * 3) })}\n`,
    );
    vi.mocked(fs.readSync).mockClear();
    const follower = new JournalFollower(path, 'end', CHUNK);
    expect(Math.max(...readSizes().map((r) => Math.max(r.length, r.buffer)))).toBeLessThanOrEqual(CHUNK);
    appendFileSync(
      path,
      `${JSON.stringify({ at: '2026-12-06T00:00:01.000Z', event: 'queued', id: 'after', status: 202 })}\n`,
    );
    expect(follower.read().map((e) => e.id)).toEqual(['after']);
  });

  it('with --since, emits the lines a whole read would, reading no more than a chunk at a time', async () => {
    const text = readFileSync(path, 'utf8');
    const entries = parseJournal(text);
    const since = new Date(entries[Math.floor(entries.length * 0.9)]?.at as string);
    // What `tail --since` emitted when it read the journal whole: every row informs its event's timeline.
    const timelines = new TailTimelines();
    const expected: TailLine[] = [];
    for (const entry of entries) {
      const row = journalRow(entry as unknown as Record<string, unknown>);
      if (!row) continue;
      const lines = timelines.steps(row);
      if (row.at >= since.toISOString()) expected.push(...lines);
    }
    expect(expected.some((line) => line.step === 'redriven')).toBe(true);
    vi.mocked(fs.readSync).mockClear();

    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const run = tailJournal(path, () => true, {
      emit: (line) => {
        emitted.push(line);
        if (emitted.length === expected.length) stop.abort();
      },
      signal: stop.signal,
      since,
      pollIntervalMs: 10,
    });
    setTimeout(() => stop.abort(), 20_000).unref();
    await run;

    expect(emitted).toEqual(expected);
    expect(Math.max(...readSizes().map((r) => Math.max(r.length, r.buffer)))).toBeLessThanOrEqual(
      JOURNAL_CHUNK_BYTES,
    );
  });
});

describe('tail on a journal whose characters span its chunks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-tail-utf8-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a multi-byte character split between two reads as the character it is', () => {
    const path = join(dir, 'journal.jsonl');
    const lines = ['é', '€uro', '😀 ok', 'ü'.repeat(9)].map(
      (source, i) =>
        `${JSON.stringify({ at: `2026-12-05T10:00:0${i}.000Z`, event: 'queued', id: `evt-${i}`, source })}\n`,
    );
    writeFileSync(path, lines.join(''));
    // A chunk of an odd number of bytes puts chunk boundaries inside the 2-, 3- and 4-byte characters.
    for (const chunk of [7, 11, 13]) {
      const follower = new JournalFollower(path, 'start', chunk);
      const sources: unknown[] = [];
      do sources.push(...follower.read().map((e) => e.source));
      while (follower.behind);
      expect(sources).toEqual(['é', '€uro', '😀 ok', 'ü'.repeat(9)]);
    }
  });
});
