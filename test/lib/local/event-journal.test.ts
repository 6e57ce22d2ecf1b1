import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSUMER_OUTCOME_MESSAGE, INGEST_OUTCOME_MESSAGE } from '../../../lambda/shared/contracts';
import { buildTimeline, localRows } from '../../../lib/cli/trace';
import { EventJournal, FOLLOWER_ACTIVE_MS } from '../../../lib/local/event-journal';
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

describe('the journal as local mode stops', () => {
  it('writes each line with its run and number, as the feed serves them, so a follower finds what it missed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-journal-run-'));
    const file = new Journal(join(dir, 'journal.jsonl'), { truncate: true });
    const journal = new EventJournal(10, () => new Date('2026-11-30T00:00:00Z'), file, 'run-1');
    for (const id of ['a', 'b']) journal.record({ event: 'processed', id });
    await file.close();
    const lines = parseJournal(readFileSync(file.path, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
    expect(lines.map((l) => [l.run, l.seq, l.id])).toEqual([
      ['run-1', 1, 'a'],
      ['run-1', 2, 'b'],
    ]);
    expect(journal.after(0)).toMatchObject({ run: 'run-1', latest: 2 });
  });

  it('waits for a reading follower to read, after the end, up to the last line; then its page says the run ended', async () => {
    const journal = new EventJournal();
    journal.record({ event: 'queued', id: 'a' });
    expect(journal.after(0, 1_000, 'console').ended).toBeUndefined();
    journal.record({ event: 'processed', id: 'a' });
    journal.end();
    let lagging: number | undefined;
    const waiting = journal.followersCaughtUp(2_000).then((n) => {
      lagging = n;
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(lagging).toBeUndefined();
    const page = journal.after(1, 1_000, 'console');
    expect(page).toMatchObject({ latest: 2, ended: true, events: [{ event: 'processed', id: 'a' }] });
    await waiting;
    expect(lagging).toBe(0);
  });

  it('waits for no follower that stopped reading, and at most its bound for one that does not catch up', async () => {
    let now = Date.parse('2026-11-30T10:00:00Z');
    const journal = new EventJournal(10, () => new Date(now));
    journal.record({ event: 'queued', id: 'a' });
    journal.after(0, 1_000, 'gone');
    now += FOLLOWER_ACTIVE_MS + 1;
    journal.end();
    expect(await journal.followersCaughtUp(5_000)).toBe(0);
    journal.after(0, 0, 'slow');
    journal.record({ event: 'processed', id: 'a' });
    const started = performance.now();
    expect(await journal.followersCaughtUp(150)).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
  it('forgets a follower once it has been quiet longer than a stop waits for, however many names have read', () => {
    let now = Date.parse('2026-11-30T10:00:00Z');
    const journal = new EventJournal(10, () => new Date(now));
    journal.record({ event: 'queued', id: 'a' });
    for (let console = 0; console < 1_000; console++) {
      journal.after(0, 1_000, `console-${console}`);
      now += 100;
    }
    // The last FOLLOWER_ACTIVE_MS of reads, at one every 100 ms, and the one just made.
    expect(journal.followersTracked).toBe(FOLLOWER_ACTIVE_MS / 100 + 1);
    now += FOLLOWER_ACTIVE_MS + 1;
    journal.after(0, 1_000, 'latest');
    expect(journal.followersTracked).toBe(1);
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
    const { rows } = localRows(file.path, 'evt-1');
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
