import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventJournal } from '../../../lib/local/event-journal';
import { Journal, parseJournal } from '../../../lib/local/journal';

describe('local event journal', () => {
  it('numbers events in order and answers the ones after a sequence number', () => {
    const journal = new EventJournal(10, () => new Date('2026-11-30T00:00:00Z'));
    for (const id of ['a', 'b', 'c']) journal.record({ event: 'queued', id });
    const page = journal.after(1);
    expect(page.latest).toBe(3);
    expect(page.events.map((e) => [e.seq, e.id, e.at])).toEqual([
      [2, 'b', '2026-11-30T00:00:00.000Z'],
      [3, 'c', '2026-11-30T00:00:00.000Z'],
    ]);
    expect(journal.after(3).events).toEqual([]);
    expect(journal.after(0, 1).events.map((e) => e.id)).toEqual(['a']);
  });

  it('keeps only the newest entries, so a reader that fell behind sees the gap in the numbers', () => {
    const journal = new EventJournal(3);
    for (let i = 1; i <= 5; i++) journal.record({ event: 'processed', id: String(i) });
    const page = journal.after(0);
    expect(page.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(page.latest).toBe(5);
  });

  it('writes every event to the journal file with the time the feed shows, for trace to read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-journal-'));
    const file = new Journal(join(dir, 'journal.jsonl'), { truncate: true });
    const journal = new EventJournal(1, () => new Date('2026-11-30T00:00:00Z'), file);
    for (const id of ['a', 'b']) journal.record({ event: 'processed', id });
    return file.close().then(() => {
      const lines = parseJournal(readFileSync(file.path, 'utf8'));
      rmSync(dir, { recursive: true, force: true });
      expect(lines.map((l) => [l.id, l.at])).toEqual([
        ['a', '2026-11-30T00:00:00.000Z'],
        ['b', '2026-11-30T00:00:00.000Z'],
      ]);
      expect(journal.after(0).events.map((e) => [e.id, e.at])).toEqual([['b', '2026-11-30T00:00:00.000Z']]);
    });
  });
});
