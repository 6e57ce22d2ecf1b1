/**
 * Debounced jobs end to end on local mode: the real producer finding local mode through its state file (as
 * `createProducer()` finds `npm start`), the real consumer runtime, fauxqs, dynalite and the real CLI program (run in
 * this process: a process of its own took most of a debounce period to start on a busy machine).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../lambda/producer';
import { queueDepth } from '../../lib/cli/dead-letters';
import { localSqsClient } from '../../lib/local/clients';
import { runHooklineInProcess, runHooklineInProcessOk } from '../helpers/local/cli';
import { reindexJob } from '../helpers/local/debounce-consumer';
import { startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const CONSUMER = fileURLToPath(new URL('../helpers/local/debounce-consumer.ts', import.meta.url));
/**
 * Long enough for the CLI to read the record while the job still waits: its modules are loaded before the sends, so
 * all it does in this period is one read of the record.
 */
const PERIOD = { seconds: 20 };

describe('debounced jobs on local mode', () => {
  let pipeline: TestPipeline;
  let dir: string;
  let producer: Producer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-debounce-'));
    pipeline = await startTestPipeline(
      testConfig({
        jobs: {
          maxReceiveCount: 3,
          consumer: {
            entry: CONSUMER,
            timeout: Duration.seconds(30),
            batchSize: 10,
            retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
          },
        },
      }),
      { stateDir: dir },
    );
    const stateFile = join(dir, 'producer-local.json');
    writeFileSync(stateFile, JSON.stringify(pipeline.local.status()));
    producer = createProducer({ local: stateFile, baseDelayMs: 20 });
  }, 120_000);
  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the handler once, with the last payload, after quick sends; jobs show tells the pending job; nothing is dead-lettered', async () => {
    const sends = 6;
    // Before the sends, so the period below is not spent loading the command: no job has this id yet.
    expect((await runHooklineInProcess(dir, ['jobs', 'show', 'doc-42', '--local'])).stderr).toContain(
      'job doc-42 not found',
    );
    for (let edit = 1; edit <= sends; edit++) {
      const sent = await producer.send(reindexJob, { edit }, { id: 'doc-42', debounce: PERIOD });
      expect(sent).toMatchObject({ id: 'doc-42', state: 'scheduled', duplicate: false });
    }
    const shown = await cli('jobs', 'show', 'doc-42', '--local', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: 'doc-42',
      state: 'scheduled',
      debounce: { sends },
    });
    await expect(producer.waitFor('doc-42', { timeout: { seconds: 60 } })).resolves.toMatchObject({
      state: 'completed',
      result: { indexedEdit: sends },
    });
    await pipeline.settled('jobs', 30_000);
    expect(pipeline.sideEffects()).toEqual([{ id: `doc-42:${sends}`, attempt: 1 }]);
    const sqs = localSqsClient(pipeline.local.emulators);
    try {
      const dead = await queueDepth(sqs, pipeline.local.status().queues.jobs?.deadLetterUrl ?? '');
      expect(dead.visible + dead.inFlight + dead.delayed).toBe(0);
    } finally {
      sqs.destroy();
    }
    // Each earlier send was skipped as superseded, counted with the duplicates, never failed.
    const skipped = pipeline.events.filter(
      (event) => event.id === 'doc-42' && event.event === 'duplicate' && event.superseded === true,
    );
    expect(skipped).toHaveLength(sends - 1);
  }, 120_000);

  it('leaves in the DLQ, on redrive, a dead letter a later send of its job replaced, saying so and how to delete it', async () => {
    const sqs = localSqsClient(pipeline.local.emulators);
    const deadLetterUrl = pipeline.local.status().queues.jobs?.deadLetterUrl ?? '';
    try {
      await producer.send(reindexJob, { edit: -1 }, { id: 'doc-dl', debounce: { seconds: 1 } });
      await waitUntil(async () => (await queueDepth(sqs, deadLetterUrl)).visible === 1, 60_000);
      // A send once the job ended starts a new cycle, which runs: the dead letter's send is replaced.
      await producer.send(reindexJob, { edit: 2 }, { id: 'doc-dl', debounce: { seconds: 1 } });
      await expect(producer.waitFor('doc-dl', { timeout: { seconds: 60 } })).resolves.toMatchObject({
        state: 'completed',
        result: { indexedEdit: 2 },
      });

      const json = JSON.parse((await cli('redrive', 'jobs', '--local', '--json')).stdout);
      expect(json).toMatchObject({
        moved: 0,
        superseded: [{ id: 'doc-dl', messageId: expect.any(String) }],
        deadLetterDepthAfter: 1,
      });
      const text = await cli('redrive', 'jobs', '--local');
      expect(text.stdout).toContain(
        '1 debounced dead letter left, not moved: a later send of its job replaced it, so its consumer would skip it as superseded',
      );
      expect((await queueDepth(sqs, deadLetterUrl)).visible).toBe(1);
      // The command it names deletes that letter, by its SQS id (a later dead letter of the job shares its id).
      const { messageId } = json.superseded[0];
      expect(text.stdout).toContain(`hookline failed delete jobs --id ${messageId} --local`);
      await cli('failed', 'delete', 'jobs', '--id', messageId, '--yes', '--local');
      expect((await queueDepth(sqs, deadLetterUrl)).visible).toBe(0);
      await pipeline.settled('jobs', 30_000);
      expect(pipeline.sideEffects().filter((e) => e.id.startsWith('doc-dl:'))).toEqual([
        { id: 'doc-dl:2', attempt: 1 },
      ]);
    } finally {
      sqs.destroy();
    }
  }, 180_000);

  /** The real CLI program on this pipeline's local mode. */
  function cli(...args: string[]) {
    return runHooklineInProcessOk(dir, args);
  }
});

async function waitUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`not done after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
