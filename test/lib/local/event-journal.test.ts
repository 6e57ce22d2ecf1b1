import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSUMER_OUTCOME_MESSAGE, INGEST_OUTCOME_MESSAGE } from '../../../lambda/shared/contracts';
import { buildTimeline, localRows } from '../../../lib/cli/trace';
import { EventJournal } from '../../../lib/local/event-journal';
import { Journal, parseJournal } from '../../../lib/local/journal';
import { Reporter } from '../../../lib/local/reporter';

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

describe('the journal of lines read out of the order they were written', () => {
  it("keeps each outcome at its function's own time, so trace shows an event queued before it was processed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-journal-order-'));
    const file = new Journal(join(dir, 'journal.jsonl'), { truncate: true });
    // Local mode reads both lines at the same later moment, the consumer's first (its worker's output came first).
    const journal = new EventJournal(10, () => new Date('2026-11-30T10:00:01.000Z'), file);
    const reporter = new Reporter({ json: false, color: false, write: () => {} });
    reporter.subscribe((event) => journal.record(event));
    const line = (fields: Record<string, unknown>) =>
      JSON.stringify({
        level: 'INFO',
        service: 'fn',
        id: 'evt-1',
        source: 'github',
        type: 'push',
        ...fields,
      });
    reporter.functionLog(
      'events-consumer',
      line({
        message: CONSUMER_OUTCOME_MESSAGE,
        timestamp: '2026-11-30T10:00:00.080Z',
        outcome: 'processed',
        queue: 'events',
        attempt: 1,
      }),
      'events',
    );
    reporter.functionLog(
      'ingest',
      line({
        message: INGEST_OUTCOME_MESSAGE,
        timestamp: '2026-11-30T10:00:00.020Z',
        outcome: 'queued',
        queues: ['events'],
        status: 202,
      }),
    );
    await file.close();
    const rows = localRows(file.path);
    rmSync(dir, { recursive: true, force: true });
    expect(rows.map((r) => [r.outcome, r.at])).toEqual([
      ['processed', '2026-11-30T10:00:00.080Z'],
      ['queued', '2026-11-30T10:00:00.020Z'],
    ]);
    const steps = buildTimeline('evt-1', rows).steps;
    expect(steps.findIndex((s) => s.step === 'received')).toBeLessThan(
      steps.findIndex((s) => s.step === 'attempt'),
    );
  });
});
