/**
 * `trace --local` on a journal kept across restarts: the journal is read a chunk at a time, never whole (a journal
 * past V8's longest string could not be read whole at all), and only the traced event's rows are kept. `readSync`
 * and `readFileSync` are node's own, watched (not replaced) to see how much of the file one read takes.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localRows } from '../../lib/cli/trace';
import { forgetReads, readSizes } from '../helpers/file-reads';

vi.mock('node:fs', async (importOriginal) =>
  (await import('../helpers/watched-fs')).watchedFs(await importOriginal(), 'readSync', 'readFileSync'),
);

const CHUNK = 4096;
const START = Date.UTC(2026, 11, 5, 10);

/** An ingest's `queued` line and a consumer's `processed` line of event `id`, `ms` after the start. */
function eventLines(id: string, source: string, ms: number): string {
  const at = (offset: number) => new Date(START + ms + offset).toISOString();
  return [
    { at: at(0), event: 'queued', id, source, queue: 'events', status: 202, run: 'run-a', seq: 1 },
    { at: at(5), event: 'processed', id, source, queue: 'events', attempt: 1, run: 'run-a', seq: 2 },
  ]
    .map((entry) => `${JSON.stringify(entry)}\n`)
    .join('');
}

describe('trace --local on a long journal', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-trace-chunks-'));
    path = join(dir, 'journal.jsonl');
    forgetReads();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the whole journal a chunk at a time, never all of it at once', () => {
    const others = (from: number) =>
      Array.from({ length: 2000 }, (_, i) => eventLines(`evt-${from + i}`, 'github', from + i)).join('');
    writeFileSync(path, others(0) + eventLines('evt-traced', 'stripe', 5000) + others(10_000));
    const { size } = statSync(path);
    expect(size).toBeGreaterThan(100 * CHUNK);
    localRows(path, 'evt-traced', CHUNK);
    const sizes = readSizes();
    expect(sizes.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(size);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(CHUNK);
  });

  it("keeps only the traced event's rows, oldest first, and every source the journal names", () => {
    const before = eventLines('evt-1', 'github', 0);
    const firstAttempt = eventLines('evt-traced', 'stripe', 1000);
    const filler = Array.from({ length: 500 }, (_, i) => eventLines(`evt-${i + 2}`, 'github', 2000 + i)).join(
      '',
    );
    const sameIdOtherSource = eventLines('evt-traced', 'shopify', 9000);
    writeFileSync(path, before + firstAttempt + filler + sameIdOtherSource);
    const { rows, sources } = localRows(path, 'evt-traced', CHUNK);
    expect(rows.map((row) => [row.source, row.outcome])).toEqual([
      ['stripe', 'queued'],
      ['stripe', 'processed'],
      ['shopify', 'queued'],
      ['shopify', 'processed'],
    ]);
    expect([...sources].sort()).toEqual(['github', 'shopify', 'stripe']);
  });
});
