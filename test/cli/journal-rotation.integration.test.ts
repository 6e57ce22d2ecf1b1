/**
 * Local mode's journal kept within a tiny `HOOKLINE_JOURNAL_MAX` on the real local mode (emulators, ingest,
 * recording consumer, journal, state file), read through the real CLI (`trace` in this process, `tail` as a process
 * of its own): the journal rotates as events arrive, `trace --local` and `tail --since` still find an event written
 * before the rotation, and a `tail` that was following while the file rotated printed every step once.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TailLine } from '../../lib/cli/tail';
import { rotatedJournalPath } from '../../lib/local/journal';
import { JOURNAL_FILE_NAME } from '../../lib/local/state-file';
import { runHooklineInProcess } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';
import { type RunningCli, watchCli } from '../helpers/running-cli';
import { waitFor } from '../helpers/wait-for';

function startTail(stateDir: string, args: readonly string[]): RunningCli {
  return watchCli(
    spawn('node_modules/.bin/tsx', ['bin/hookline.ts', 'tail', '--local', '--json', ...args], {
      env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

const stepsOf = (tail: RunningCli, id: string) =>
  tail
    .jsonLines<TailLine>()
    .filter((line) => line.id === id)
    .map((line) => (line.step === 'attempt' ? `attempt:${line.outcome}` : line.step));

describe('local mode journal retention', () => {
  let pipeline: TestPipeline;
  let stateDir: string;
  let dataDir: string;
  let journal: string;
  let follower: RunningCli;
  const started = new Date();

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-journal-rotation-'));
    dataDir = mkdtempSync(join(tmpdir(), 'hookline-journal-rotation-data-'));
    journal = join(stateDir, JOURNAL_FILE_NAME);
    pipeline = await startTestPipeline(testConfig({ events: recordingQueue() }), {
      stateDir,
      dataDir,
      env: { HOOKLINE_JOURNAL_MAX: '16KB' },
    });
    follower = startTail(stateDir, []);
    // The follower starts at the journal's end: once a warm-up webhook shows on it, it is following.
    await waitFor(
      async () => {
        const id = `warmup-${randomUUID()}`;
        expect((await pipeline.post('generic', { id, type: 'warmup.ok' })).status).toBe(202);
        return waitFor(() => stepsOf(follower, id).length > 0, 2_000, 'warm-up line').catch(() => false);
      },
      60_000,
      'the tail to follow the journal',
    );
  }, 120_000);

  afterAll(async () => {
    await follower?.stop();
    await pipeline?.stop();
    for (const dir of [stateDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rotates the journal, and trace, tail --since and a following tail find every event once', async () => {
    const early = `early-${randomUUID()}`;
    expect((await pipeline.post('generic', { id: early, type: 'test.ok' })).status).toBe(202);
    await waitFor(() => readFileSync(journal, 'utf8').includes(`"id":"${early}"`), 30_000, 'early journaled');
    // Events until the live file holding the early one is rotated: one rotation, so it is in journal.1.jsonl.
    const sent = [early];
    while (!existsSync(rotatedJournalPath(journal))) {
      const id = `more-${sent.length}-${randomUUID()}`;
      expect((await pipeline.post('generic', { id, type: 'test.ok' })).status).toBe(202);
      sent.push(id);
      expect(sent.length).toBeLessThan(200);
    }
    const last = sent.at(-1) as string;
    await waitFor(() => stepsOf(follower, last).includes('attempt:processed'), 30_000, 'last processed');
    expect(readFileSync(rotatedJournalPath(journal), 'utf8')).toContain(`"id":"${early}"`);
    expect(readFileSync(journal, 'utf8')).not.toContain(`"id":"${early}"`);

    const traced = await runHooklineInProcess(stateDir, ['trace', early, '--local', '--json']);
    expect(traced.stderr).toBe('');
    expect(traced.code).toBe(0);
    const steps = (JSON.parse(traced.stdout) as { steps: TailLine[] }).steps.map((s) =>
      s.step === 'attempt' ? `attempt:${s.outcome}` : s.step,
    );
    expect(steps).toEqual(['received', 'queued', 'attempt:processed']);

    const since = startTail(stateDir, ['--since', started.toISOString()]);
    try {
      await waitFor(
        () => stepsOf(since, last).includes('attempt:processed'),
        30_000,
        'tail --since to the end',
      );
      expect(stepsOf(since, early)).toEqual(['received', 'queued', 'attempt:processed']);
    } finally {
      since.child.kill('SIGINT');
      expect(await since.exited).toBe(0);
    }
    for (const id of sent) expect(stepsOf(follower, id)).toEqual(['received', 'queued', 'attempt:processed']);
  }, 120_000);
});
