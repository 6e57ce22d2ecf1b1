/**
 * The console shows local mode's last moments: the real `hookline console --local` following a real local mode
 * that is stopped (as Ctrl-C stops it) while a burst's batches are still being processed, then started again
 * without a data directory (which empties the journal file). Every line journaled during the stop's drain is
 * listed, nothing is counted missed, and the next run's events follow under their own numbers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../lib/local/journal';
import { type ConsoleProcess, startConsoleProcess, stopConsoleProcess } from '../helpers/console-process';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';
import { waitFor } from '../helpers/wait-for';

const stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-stop-'));
const config = testConfig({
  events: recordingQueue({}, { environment: { HOOKLINE_TEST_RECORD_DELAY_MS: '100' } }),
});
let pipeline: TestPipeline | undefined;
let consoleProcess: ConsoleProcess | undefined;
let consoleUrl: URL;

interface EventsAnswer {
  events: { seq: number; event: string; id?: string }[];
  matching: number;
  feed: { error: string | null; missed: number; unreadEnds: string | null };
}

async function listed(query = ''): Promise<EventsAnswer> {
  const answer = await fetch(new URL(`/api/events${query}`, consoleUrl.origin), {
    headers: { 'x-hookline-token': consoleUrl.searchParams.get('token') ?? '' },
  });
  return (await answer.json()) as EventsAnswer;
}

const journaled = () => parseJournal(readFileSync(join(stateDir, 'journal.jsonl'), 'utf8'));

beforeAll(async () => {
  pipeline = await startTestPipeline(config, { stateDir });
  consoleProcess = startConsoleProcess(stateDir);
  consoleUrl = await consoleProcess.url;
}, 180_000);

afterAll(async () => {
  stopConsoleProcess(consoleProcess);
  await pipeline?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

describe('hookline console through a stop of local mode with work in flight', () => {
  it('lists every line journaled while local mode drained, then the restarted run, with nothing missed', async () => {
    const running = pipeline as TestPipeline;
    await waitFor(async () => (await listed()).feed.error === null, 20_000, 'the console following the feed');
    const ids = Array.from({ length: 40 }, (_, i) => `stop-${i}-${randomUUID()}`);
    const accepted = await Promise.all(ids.map((id) => running.post('generic', { id, type: 'stop.test' })));
    expect(accepted.map((r) => r.status)).toEqual(ids.map(() => 202));
    await running.waitFor(
      () => running.events.some((e) => e.event === 'processed'),
      30_000,
      'a batch processed',
    );
    const beforeStop = running.events.length;
    await running.local.stop();
    pipeline = undefined;
    expect(running.events.slice(beforeStop).some((e) => e.event === 'processed')).toBe(true);

    const firstRun = journaled();
    await waitFor(
      async () => /not running/.test((await listed()).feed.error ?? ''),
      10_000,
      'local mode down',
    );
    const afterStop = await listed();
    expect(afterStop.matching).toBe(firstRun.length);
    expect(afterStop.feed).toMatchObject({ missed: 0, unreadEnds: null });
    const processed = (await listed('?outcome=processed')).events.map((e) => e.id).sort();
    expect(processed).toEqual(
      firstRun
        .filter((l) => l.event === 'processed')
        .map((l) => l.id)
        .sort(),
    );

    // Started again without a data directory: the journal file starts empty, numbered from 1 again.
    pipeline = await startTestPipeline(config, { stateDir });
    const restarted = pipeline;
    const id = `after-${randomUUID()}`;
    expect((await restarted.post('generic', { id, type: 'stop.test' })).status).toBe(202);
    await waitFor(
      async () => (await listed('?outcome=processed')).events.some((e) => e.id === id),
      30_000,
      `event ${id} processed in the console`,
    );
    const all = await listed();
    expect(all.feed).toMatchObject({ error: null, missed: 0, unreadEnds: null });
    expect(all.matching).toBe(firstRun.length + journaled().length);
    const seqs = all.events.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 180_000);
});
