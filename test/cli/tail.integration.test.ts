/**
 * `hookline tail --local` on the real local mode (emulators, ingest, recording consumer, journal, state file)
 * through the real `bin/hookline.ts` as a long-running child process: signed webhooks posted over HTTP show up as
 * trace's steps on its stdout while it runs, its filters leave out what they should, and Ctrl-C ends it with 0.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TailLine } from '../../lib/cli/tail';
import { JOURNAL_FILE_NAME } from '../../lib/local/state-file';
import { runHookline } from '../helpers/local/cli';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';
import { type RunningCli, watchCli } from '../helpers/running-cli';
import { waitFor } from '../helpers/wait-for';

type Tail = RunningCli;

function startTail(stateDir: string, args: readonly string[]): Tail {
  return watchCli(
    spawn('node_modules/.bin/tsx', ['bin/hookline.ts', 'tail', '--local', '--json', ...args], {
      env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

const stepsOf = (tail: Tail, id: string) =>
  tail
    .jsonLines<TailLine>()
    .filter((line) => line.id === id)
    .map((line) => (line.step === 'attempt' ? `attempt:${line.outcome}` : line.step));

/**
 * One event's two journal lines as two writers race to the file: the consumer's `processed` (15 ms after the
 * ingest's line by their times) appended first, the ingest's `queued` after it, as local mode writes them when it
 * reads the consumer's output before the ingest's.
 */
function appendRacedEvent(journal: string, id: string, queuedAt: Date): void {
  const event = { id, source: 'generic', type: 'test.raced', queue: 'events' };
  const processedAt = new Date(queuedAt.getTime() + 15).toISOString();
  appendFileSync(
    journal,
    `${JSON.stringify({ event: 'processed', ...event, attempt: 1, at: processedAt })}\n`,
  );
  appendFileSync(
    journal,
    `${JSON.stringify({ event: 'queued', ...event, status: 202, at: queuedAt.toISOString() })}\n`,
  );
}

describe('hookline tail --local', () => {
  let pipeline: TestPipeline;
  let stateDir: string;
  let everything: Tail;
  let failures: Tail;
  const started = new Date();

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-tail-'));
    pipeline = await startTestPipeline(testConfig({ events: recordingQueue({ maxReceiveCount: 2 }) }), {
      stateDir,
    });
    everything = startTail(stateDir, []);
    // From a time before anything was sent: what it shows does not depend on when its process got going.
    failures = startTail(stateDir, [
      '--since',
      started.toISOString(),
      '--outcome',
      'failed',
      '--type',
      '*.poison',
    ]);
    // The unfiltered tail starts at "now": once a warm-up webhook shows on it, it is following.
    await waitFor(
      async () => {
        const id = `warmup-${randomUUID()}`;
        expect((await pipeline.post('generic', { id, type: 'warmup.ok' })).status).toBe(202);
        return waitFor(() => stepsOf(everything, id).length > 0, 2_000, 'warm-up line').catch(() => false);
      },
      60_000,
      'the tail to follow the journal',
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([everything, failures].map((tail) => tail?.stop()));
    await pipeline?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints each step of a webhook as it happens, a failing one to its dead-lettering, and Ctrl-C ends it with 0', async () => {
    const ok = `ok-${randomUUID()}`;
    const poison = `poison-${randomUUID()}`;
    expect((await pipeline.post('generic', { id: ok, type: 'test.ok' })).status).toBe(202);
    expect((await pipeline.post('generic', { id: poison, type: 'test.poison' })).status).toBe(202);

    await waitFor(() => stepsOf(everything, ok).includes('attempt:processed'), 30_000, 'ok processed');
    await waitFor(
      () => stepsOf(everything, poison).includes('dead-lettered'),
      30_000,
      'poison dead-lettered',
    );

    expect(stepsOf(everything, ok)).toEqual(['received', 'queued', 'attempt:processed']);
    expect(stepsOf(everything, poison)).toEqual([
      'received',
      'queued',
      'attempt:retried',
      'attempt:dead-lettered',
      'dead-lettered',
    ]);
    const lines = everything.jsonLines<TailLine>();
    expect(lines.find((l) => l.id === ok && l.step === 'received')).toMatchObject({
      source: 'generic',
      type: 'test.ok',
      status: 202,
      outcome: 'queued',
    });
    expect(lines.find((l) => l.id === ok && l.step === 'queued')).toMatchObject({ queues: ['events'] });
    const failedAttempt = lines.find((l) => l.id === poison && l.outcome === 'retried');
    expect(failedAttempt).toMatchObject({ queue: 'events', attempt: 1 });
    expect(failedAttempt?.error).toContain(`poison message ${poison}`);
    expect(failedAttempt?.durationMs).toEqual(expect.any(Number));

    // The filtered tail: the failing type's failed attempts and its dead-lettering, nothing of the rest.
    await waitFor(
      () => stepsOf(failures, poison).includes('dead-lettered'),
      30_000,
      'filtered dead-lettered',
    );
    expect(stepsOf(failures, poison)).toEqual(['attempt:retried', 'attempt:dead-lettered', 'dead-lettered']);
    expect(new Set(failures.jsonLines<TailLine>().map((l) => l.id))).toEqual(new Set([poison]));

    for (const tail of [everything, failures]) {
      const printed = tail.stdout();
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
      expect(tail.stdout()).toBe(printed);
      expect(tail.stderr()).toBe('');
    }
  }, 90_000);

  it("prints an event's steps in the order they happened when the journal got them in another order, following", async () => {
    const journal = join(stateDir, JOURNAL_FILE_NAME);
    const following = startTail(stateDir, []);
    try {
      // It starts at the journal's end: once a line appended after that shows on it, it is following.
      await waitFor(
        async () => {
          const id = `ready-${randomUUID()}`;
          const at = new Date(Date.now() - 5_000).toISOString();
          appendFileSync(
            journal,
            `${JSON.stringify({ event: 'queued', id, status: 202, queue: 'events', at })}\n`,
          );
          return waitFor(() => stepsOf(following, id).length > 0, 2_000, 'ready line').catch(() => false);
        },
        60_000,
        'the tail to follow the journal',
      );
      const followed = `raced-${randomUUID()}`;
      appendRacedEvent(journal, followed, new Date());
      await waitFor(() => stepsOf(following, followed).length === 3, 30_000, 'raced lines followed');
      expect(stepsOf(following, followed)).toEqual(['received', 'queued', 'attempt:processed']);
      // Its own lines only: a ready line, dated in the past, is late if the pipeline printed a line meanwhile.
      const raced = following.jsonLines<TailLine>().filter((line) => line.id === followed);
      expect(raced.some((line) => line.late)).toBe(false);
    } finally {
      await following.stop();
    }
  }, 120_000);

  it("prints an event's steps in the order they happened from lines the journal already holds (--since)", async () => {
    const journal = join(stateDir, JOURNAL_FILE_NAME);
    const held = `raced-${randomUUID()}`;
    const heldAt = new Date();
    appendRacedEvent(journal, held, heldAt);
    const since = startTail(stateDir, ['--since', new Date(heldAt.getTime() - 1_000).toISOString()]);
    try {
      await waitFor(() => stepsOf(since, held).length === 3, 30_000, 'raced lines read with --since');
      expect(stepsOf(since, held)).toEqual(['received', 'queued', 'attempt:processed']);
      expect(since.jsonLines<TailLine>().some((line) => line.id === held && line.late)).toBe(false);
    } finally {
      await since.stop();
    }
  }, 60_000);

  it('refuses a malformed source, and a queue, outcome or type pattern that names nothing, naming what does', async () => {
    // A source not configured is taken (a removed one may still have lines, see tail-deployed); a malformed name is
    // no source at all: a usage error, nothing read.
    const source = await runHookline(stateDir, ['tail', '--local', '--source', 'No-such!']);
    expect(source.code).toBe(2);
    expect(source.stderr).toMatch(
      /--source "No-such!" is not a source name: source names are lower-case letters/,
    );
    const queue = await runHookline(stateDir, ['tail', '--local', '--queue', 'nope']);
    expect(queue.code).toBe(1);
    expect(queue.stderr).toMatch(/unknown queue "nope" in local mode: use one of events/);
    const outcome = await runHookline(stateDir, ['tail', '--local', '--outcome', 'exploded']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      /unknown outcome "exploded": use one of received, processed, failed, queued/,
    );
    const type = await runHookline(stateDir, ['tail', '--local', '--type', 'a..b']);
    // A pattern the CLI cannot take is the command line's fault: a usage error, as an unknown outcome is.
    expect(type.code).toBe(2);
    expect(type.stderr).toMatch(/--type "a..b" is not a valid type pattern/);
  }, 60_000);
});
