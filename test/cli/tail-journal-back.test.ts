/**
 * Local mode's journal read back from its end a chunk at a time: the whole lines it holds come out once each, newest
 * chunk first, whatever the chunk boundaries cut (a line split across two chunks, a line longer than a chunk), and
 * nothing of a half-written last line, a file without a newline, an empty file or a missing one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JournalEntry, parseJournal } from '../../lib/local/journal';
import { journalChunksBack } from '../../lib/local/journal-read';

/** Journal lines of every length from a few bytes past a chunk boundary to several chunks. */
function journalLines(count: number, chunk: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(Date.UTC(2026, 11, 5, 10) + i * 1000).toISOString();
    const detail = i % 7 === 6 ? 'x'.repeat(chunk * 3 + i) : 'y'.repeat((i * 13) % chunk);
    return `${JSON.stringify({ at, event: 'queued', id: `evt-${i}`, detail })}\n`;
  });
}

/** What reading back gives, put back in the order it was written, and how many chunks it came in. */
function readBack(path: string, chunk: number): { entries: JournalEntry[]; chunks: number } {
  const chunks = [...journalChunksBack(path, chunk)];
  return { entries: chunks.reverse().flat(), chunks: chunks.length };
}

describe('the journal read back from its end', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-tail-back-'));
    path = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([16, 100, 257, 4096])(
    'gives every whole line once, lines split across chunks and longer than a chunk included (chunk %i)',
    (chunk) => {
      const text = journalLines(60, chunk).join('');
      writeFileSync(path, text);
      const { entries, chunks } = readBack(path, chunk);
      expect(entries).toEqual(parseJournal(text));
      expect(chunks).toBeGreaterThan(1);
    },
  );

  it('gives the newest chunk first, each chunk in the order its lines were written', () => {
    writeFileSync(path, journalLines(40, 64).join(''));
    const [newest, before] = [...journalChunksBack(path, 64)].map((entries) =>
      entries.map((entry) => Number(String(entry.id).slice('evt-'.length))),
    );
    expect(newest?.at(-1)).toBe(39);
    expect(before?.at(-1)).toBe((newest?.[0] ?? 0) - 1);
  });

  it('leaves out a last line whose newline is not written yet, as the forward reader does', () => {
    const lines = journalLines(10, 64);
    writeFileSync(path, `${lines.join('')}{"at":"2026-12-05T10:00:10.000Z","event":"que`);
    expect(readBack(path, 64).entries.map((entry) => entry.id)).toEqual(lines.map((_, i) => `evt-${i}`));
    writeFileSync(
      path,
      `${lines.join('')}${JSON.stringify({ at: '2026-12-05T10:00:10.000Z', event: 'queued' })}`,
    );
    expect(readBack(path, 64).entries).toHaveLength(10);
  });

  it('gives nothing for a journal without a newline, an empty one, or none', () => {
    writeFileSync(path, JSON.stringify({ at: '2026-12-05T10:00:00.000Z', event: 'queued', id: 'evt-0' }));
    expect(readBack(path, 16).entries).toEqual([]);
    writeFileSync(path, '');
    expect(readBack(path, 16).entries).toEqual([]);
    expect(readBack(join(dir, 'missing.jsonl'), 16).entries).toEqual([]);
  });

  it('gives the one line of a journal that holds a single line, longer than a chunk', () => {
    const [line] = journalLines(7, 32).slice(6);
    writeFileSync(path, line as string);
    const { entries, chunks } = readBack(path, 32);
    expect(entries.map((entry) => entry.id)).toEqual(['evt-6']);
    expect(chunks).toBe(1);
  });
});
