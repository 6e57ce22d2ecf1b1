/**
 * Local mode whose emulators end while it runs (their thread crashed: see the emulators' own test for a real
 * crash on a damaged table): the terminal says what happened and what to do, once, webhooks are answered 503, and
 * a stop still stops. The emulators here are real and really stopped; only the moment local mode hears of it is
 * chosen by the test, as the thread's crash would tell it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulatorsInThread } from '../../lib/local/emulator-thread';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { LocalStartProblem } from '../../lib/local/start-problem';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

let pipeline: TestPipeline | undefined;
const buildDir = join(process.cwd(), '.hookline', 'build', `emulator-failure-${process.pid}`);

afterAll(async () => {
  await pipeline?.stop();
});

/** Real emulators in their thread, whose end the test announces as their thread's crash would. */
async function emulatorsThatEnd(): Promise<{ emulators: Emulators; end: (why: string) => Promise<void> }> {
  const real = await startEmulatorsInThread({ buildDir });
  let failure: string | undefined;
  let announce = (_why: string) => {};
  const failed = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const emulators: Emulators = {
    region: real.region,
    endpoints: real.endpoints,
    get failure() {
      return failure;
    },
    failed,
    stop: () => real.stop(),
  };
  const end = async (why: string) => {
    await real.stop();
    failure = why;
    announce(why);
  };
  return { emulators, end };
}

describe('local mode whose emulators end while it runs', () => {
  it('says so once with the fix, answers webhooks 503, and still stops', async () => {
    const { emulators, end } = await emulatorsThatEnd();
    pipeline = await startTestPipeline(testConfig({ events: recordingQueue() }), {
      emulators: Promise.resolve(emulators),
    });
    const { output } = pipeline;
    expect((await pipeline.post('github', { ref: 'refs/heads/main' })).status).toBe(202);

    await end('Error: the thread crashed');
    const notice =
      'the emulators (SQS, S3 and DynamoDB) stopped: Error: the thread crashed. Until local mode starts again, webhooks and jobs are answered 503 (senders retry them) and no consumer can read its queue: stop it (Ctrl-C) and start it again (what the queues held in memory is lost)';
    await pipeline.waitFor(() => output.some((line) => line.includes(notice)), 10_000, 'the notice');

    const answer = await pipeline.post('github', { ref: 'refs/heads/main' });
    expect(answer.status).toBe(503);
    // The ingest's own 503: its outcome line, ERROR and written by Powertools to stderr, is reported as a failure.
    const failed = () =>
      pipeline?.events.find((e) => e.event === 'failed' && e.source === 'github' && e.function !== undefined);
    await pipeline.waitFor(() => failed() !== undefined, 10_000, "the ingest's failed line");
    expect(failed()).toMatchObject({ status: 503, level: 'ERROR' });
    // The consumers' failing polls are not each reported beside it: by the time the alarm watch has failed a
    // read of the queues (its 10 s round), every poller (1 s long polls) has failed several.
    await pipeline.waitFor(
      () => output.some((line) => line.includes("could not read the queues' dead letters")),
      30_000,
      'a failed read of the queues',
    );
    expect(output.filter((line) => line.includes('consumer events:'))).toEqual([]);
    expect(
      output.filter((line) => line.includes('the emulators (SQS, S3 and DynamoDB) stopped')),
    ).toHaveLength(1);

    await pipeline.stop();
    pipeline = undefined;
  }, 60_000);
});

describe('local mode whose emulators end while it starts', () => {
  it('stops the start with why and the fix, not a refused connection', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-emulator-failure-'));
    try {
      // A table file cut short: LevelDB opens it, and the first read ends the thread.
      const config = testConfig({ events: recordingQueue() });
      await (await startTestPipeline(config, { dataDir })).stop();
      // Opened again, LevelDB moves its log into a table file.
      await (await startEmulators({ dataDir })).stop();
      const emulators = await startEmulatorsInThread({ buildDir, dataDir });
      // Cut short after the emulators' own start read it (a disk failing as local mode starts): dynalite opens the
      // store at local mode's first request to it, and its read ends the thread.
      const store = join(dataDir, 'dynalite');
      const tables = readdirSync(store).filter((name) => name.endsWith('.ldb'));
      expect(tables.length).toBeGreaterThan(0);
      for (const name of tables)
        writeFileSync(join(store, name), readFileSync(join(store, name)).subarray(0, 100));

      const start = startTestPipeline(config, { dataDir, emulators: Promise.resolve(emulators) });
      void start.then(
        (started) => started.stop(),
        () => undefined,
      );
      await expect(start).rejects.toBeInstanceOf(LocalStartProblem);
      await expect(start).rejects.toThrow(
        `the emulators (SQS, S3 and DynamoDB) stopped while local mode started: `,
      );
      await expect(start).rejects.toThrow(
        `Fix: a damaged store in the data directory ends them so: move ${store} or ${join(dataDir, 'fauxqs')} aside`,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
