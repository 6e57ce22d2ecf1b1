/**
 * `hookline replay` and `hookline redrive` of large events in local mode, through real HTTP, the real handlers,
 * the local Firehose stand-in and S3, the real emulator (fauxqs, which refuses a `SendMessageBatch` above 1 MiB as
 * SQS does) and the real CLI program: three events that fit SQS one by one but not in
 * one batch are all replayed, and all redriven.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../lib/load-config';
import { type CliRun, runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline } from '../helpers/local/pipeline';

const CONSUMER = fileURLToPath(new URL('../helpers/local/recording-consumer.ts', import.meta.url));

/** The configuration as a module in the project, read by the test and by the CLI alike. */
function writeConfigModule(dir: string): string {
  const file = join(dir, 'hookline.config.ts');
  writeFileSync(
    file,
    `import { Duration } from 'aws-cdk-lib';
export default {
  stackName: 'LargeReplay${process.pid}',
  sources: { shop: { type: 'hmac', header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', idPath: 'id', typePath: 'type' } },
  queues: {
    events: {
      maxReceiveCount: 2,
      consumer: {
        entry: ${JSON.stringify(CONSUMER)},
        retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
      },
    },
  },
  defaultRoute: { queues: ['events'] },
};
`,
  );
  return file;
}

let configFile: string;
let pipeline: TestPipeline;
let stateDir: string;

/** The real CLI against this test's local mode and configuration; never throws on a failed exit. */
const cli = (...args: string[]): Promise<CliRun> =>
  runHooklineInProcess(stateDir, args, { HOOKLINE_CONFIG: configFile });

describe('replay and redrive of large events in local mode', () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-large-replay-state-'));
    const configDir = join(process.cwd(), '.hookline', 'build', `large-replay-config-${process.pid}`);
    mkdirSync(configDir, { recursive: true });
    configFile = writeConfigModule(configDir);
    pipeline = await startTestPipeline(await readConfig(configFile), { stateDir });
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(dirname(configFile), { recursive: true, force: true });
  });

  it('replays three 400 KB events, which SQS takes one by one but not in one 1 MiB batch', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const ids = ['large-1', 'large-2', 'large-3'];
    for (const id of ids) {
      const answer = await pipeline.post('shop', { id, type: 'order.created', blob: 'x'.repeat(400_000) });
      expect(answer.status).toBe(202);
    }
    await pipeline.waitFor(() => pipeline.sideEffects().length >= 3, 60_000, 'the three events processed');

    const replayed = await cli('replay', '--source', 'shop', '--since', since, '--local', '--json');
    expect(replayed.stderr).not.toContain('BatchRequestTooLong');
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ matched: 3, sent: 3, failed: 0 });
    // A replay is new work for the consumer: each event runs once more.
    await pipeline.waitFor(() => pipeline.sideEffects().length >= 6, 60_000, 'the three replays processed');
    expect(
      pipeline
        .sideEffects()
        .map((s) => s.id)
        .sort(),
    ).toEqual([...ids, ...ids].sort());
  }, 180_000);

  it('redrives three 400 KB dead letters, which SQS takes one by one but not in one 1 MiB batch', async () => {
    const ids = ['poison-1', 'poison-2', 'poison-3'];
    for (const id of ids) {
      const answer = await pipeline.post('shop', { id, type: 'test.poison', blob: 'x'.repeat(400_000) });
      expect(answer.status).toBe(202);
    }
    const deadLettered = () =>
      new Set(pipeline.events.filter((e) => e.event === 'dead-lettered').map((e) => e.id));
    await pipeline.waitFor(
      () => ids.every((id) => deadLettered().has(id)),
      60_000,
      'the three dead-lettered',
    );
    // Paused, so the redriven copies stay in the queue rather than fail and come back while the run reads the DLQ.
    expect(await pipeline.local.pauseConsumer('events')).toBe(true);

    const redriven = await cli('redrive', 'events', '--local', '--json');
    expect(redriven.stderr).not.toContain('BatchRequestTooLong');
    expect(redriven.code).toBe(0);
    const result = JSON.parse(redriven.stdout) as { moved: number; failed: number; movedIds: string[] };
    expect(result).toMatchObject({ moved: 3, failed: 0 });
    expect([...result.movedIds].sort()).toEqual(ids);
  }, 180_000);
});
