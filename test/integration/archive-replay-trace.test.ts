/**
 * Archive, replay and trace end to end in local mode, through real HTTP, the real handlers, the local Firehose
 * stand-in writing GZIP objects to the local S3, and the real CLI program: a consumer
 * bug processes some events wrongly, the bug is fixed, `replay` re-processes exactly the selected ones, and
 * `trace` shows a retried, dead-lettered and redriven event's whole timeline.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../lib/load-config';
import { localS3Client, localSqsClient } from '../../lib/local/clients';
import { type CliRun, runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline } from '../helpers/local/pipeline';

const BUGGY_CONSUMER = fileURLToPath(new URL('../helpers/local/buggy-consumer.ts', import.meta.url));
const SOURCES = ['shop', 'billing', 'crm'] as const;
const TYPES: Record<(typeof SOURCES)[number], readonly string[]> = {
  shop: ['order.created', 'order.discounted'],
  billing: ['invoice.paid'],
  crm: ['contact.updated'],
};
const FRAGILE_ID = 'crm-fragile-1';

/**
 * The pipeline's configuration as a module in the project (so its imports resolve), read by the test and by
 * the CLI (`HOOKLINE_CONFIG`) alike.
 */
function writeConfigModule(dir: string): string {
  const hmac = `{ type: 'hmac', header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', idPath: 'id', typePath: 'type' }`;
  const file = join(dir, 'hookline.config.ts');
  writeFileSync(
    file,
    `import { Duration } from 'aws-cdk-lib';
export default {
  stackName: 'ArchiveTest${process.pid}',
  sources: { shop: ${hmac}, billing: ${hmac}, crm: ${hmac}, slack: { type: 'slack' } },
  queues: {
    actions: {
      fifo: true,
      fifoGrouping: { path: 'user.id' },
      consumer: { entry: ${JSON.stringify(BUGGY_CONSUMER)}, timeout: Duration.seconds(5) },
    },
    events: {
      maxReceiveCount: 3,
      consumer: {
        entry: ${JSON.stringify(BUGGY_CONSUMER)},
        timeout: Duration.seconds(5),
        retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) },
        idempotency: { enabled: true },
      },
    },
  },
  routes: [{ source: 'slack', queues: ['actions'] }],
  defaultRoute: { queues: ['events'] },
};
`,
  );
  return file;
}

let configFile: string;
let pipeline: TestPipeline;
let stateDir: string;
let startedAt: string;
const sent: { source: string; id: string; type: string }[] = [];

function cli(...args: string[]): Promise<CliRun> {
  return runHooklineInProcess(stateDir, args, { HOOKLINE_CONFIG: configFile });
}

/** `<id> <verdict> <replay>` lines the consumer recorded. */
function recorded(): { id: string; verdict: string; replay: string }[] {
  let text = '';
  try {
    text = readFileSync(pipeline.recordFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', verdict = '', replay = ''] = line.split(' ');
      return { id, verdict, replay };
    });
}

async function postAll(events: typeof sent, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next++];
      if (!event) return;
      const answer = await pipeline.post(event.source, { id: event.id, type: event.type, n: next });
      expect(answer.status).toBe(202);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('archive, replay and trace in local mode', () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-archive-state-'));
    const configDir = join(process.cwd(), '.hookline', 'build', `archive-config-${process.pid}`);
    mkdirSync(configDir, { recursive: true });
    configFile = writeConfigModule(configDir);
    const config = await readConfig(configFile);
    pipeline = await startTestPipeline(config, { stateDir, consumerConcurrency: 4 });
    writeFileSync(`${pipeline.recordFile}.bug`, 'on');
    for (let i = 0; i < 500; i++) {
      const source = SOURCES[i % 3] ?? 'shop';
      const types = TYPES[source];
      sent.push({ source, id: `${source}-${i}`, type: types[Math.floor(i / 3) % types.length] ?? '' });
    }
    sent.push({ source: 'crm', id: FRAGILE_ID, type: 'test.fragile' });
    startedAt = new Date(Date.now() - 1000).toISOString();
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(dirname(configFile), { recursive: true, force: true });
  });

  it('archives every accepted event, processes them (some wrongly), and dead-letters the fragile one', async () => {
    await postAll(sent, 16);
    await pipeline.waitFor(() => recorded().length >= 500, 180_000, '500 events processed');
    await pipeline.waitFor(
      () => pipeline.events.some((e) => e.event === 'dead-lettered' && e.id === FRAGILE_ID),
      60_000,
      'the fragile event dead-lettered',
    );
    const wrong = recorded().filter((r) => r.verdict === 'wrong');
    expect(wrong.length).toBe(sent.filter((e) => e.type === 'order.discounted').length);

    await pipeline.local.archive?.flush();
    const s3 = localS3Client(pipeline.local.emulators);
    const bucket = pipeline.local.status().archive?.bucket ?? '';
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'archive/source=shop/' }),
    );
    s3.destroy();
    expect(listed.Contents?.length ?? 0).toBeGreaterThan(0);
    // Batched: an object holds every record of its partition's buffer interval, not one event each.
    expect(listed.Contents?.length ?? 0).toBeLessThan(sent.filter((e) => e.source === 'shop').length / 2);
    expect(listed.Contents?.every((o) => /dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/.+\.gz$/.test(o.Key ?? ''))).toBe(
      true,
    );
  }, 300_000);

  it('refuses a selection that matches nothing, and sends nothing', async () => {
    const before = recorded().length;
    const answer = await cli(
      'replay',
      '--source',
      'shop',
      '--type',
      'refund.*',
      '--since',
      startedAt,
      '--local',
    );
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(/no archived shop event of type "refund\.\*"/);
    expect(recorded().length).toBe(before);
  }, 120_000);

  it('after the fix, redrive and replay re-process exactly the selected events, once each', async () => {
    rmSync(`${pipeline.recordFile}.bug`);
    const redriven = await cli('redrive', 'events', '--local', '--json');
    expect(redriven.code).toBe(0);
    await pipeline.waitFor(
      () => recorded().some((r) => r.id === FRAGILE_ID && r.verdict === 'right'),
      60_000,
      'the redriven fragile event processed',
    );

    const discounted = sent.filter((e) => e.type === 'order.discounted').map((e) => e.id);
    const dry = await cli(
      'replay',
      '--source',
      'shop',
      '--type',
      'order.discounted',
      '--since',
      startedAt,
      '--local',
      '--dry-run',
      '--json',
    );
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ matched: discounted.length, sent: 0, dryRun: true });

    const answer = await cli(
      'replay',
      '--source',
      'shop',
      '--type',
      'order.discounted',
      '--since',
      startedAt,
      '--local',
      '--json',
    );
    expect(answer.code).toBe(0);
    const result = JSON.parse(answer.stdout) as {
      matched: number;
      sent: number;
      replayId: string;
      byQueue: Record<string, number>;
    };
    expect(result).toMatchObject({
      matched: discounted.length,
      sent: discounted.length,
      byQueue: { events: discounted.length },
    });
    expect(answer.stderr).toMatch(new RegExp(`${discounted.length} archived shop events match`));
    // The summary is the result on stdout; the progress bar closes without repeating it.
    expect(answer.stderr).not.toMatch(/\bsent\b/);

    const replayed = () => recorded().filter((r) => r.replay === result.replayId);
    await pipeline.waitFor(
      () => replayed().length >= discounted.length,
      120_000,
      'every replayed event processed',
    );
    // Nothing replayed is left to run once the queue is empty.
    await pipeline.settled('events', 60_000);
    expect(
      replayed()
        .map((r) => r.id)
        .sort(),
    ).toEqual([...discounted].sort());
    expect(replayed().every((r) => r.verdict === 'right')).toBe(true);

    // Trace shows the replay as the journal recorded it, before the attempt it caused, not guessed from it. The
    // consumer logs the attempt's outcome line after its side effect, and the journal keeps what is logged.
    await pipeline.waitFor(
      () =>
        pipeline.events.some(
          (e) => e.id === discounted[0] && e.event === 'processed' && e.replayId === result.replayId,
        ),
      20_000,
      'the replayed attempt in the journal',
    );
    const traced = await cli('trace', discounted[0] ?? '', '--local', '--json');
    const { steps } = JSON.parse(traced.stdout) as {
      steps: { step: string; replayId?: string; inferred?: boolean }[];
    };
    const replayStep = steps.findIndex((s) => s.step === 'replayed');
    expect(steps[replayStep]).toMatchObject({ replayId: result.replayId, queues: ['events'] });
    expect(steps[replayStep]?.inferred).toBeUndefined();
    expect(
      steps.slice(replayStep + 1).some((s) => s.step === 'attempt' && s.replayId === result.replayId),
    ).toBe(true);
  }, 300_000);

  it('traces the retried, dead-lettered and redriven event from reception to its last attempt', async () => {
    const answer = await cli('trace', FRAGILE_ID, '--local', '--json');
    expect(answer.code).toBe(0);
    const timeline = JSON.parse(answer.stdout) as {
      source: string;
      steps: {
        step: string;
        outcome?: string;
        status?: number;
        error?: string;
        latencyMs?: number;
        durationMs?: number;
      }[];
    };
    expect(timeline.source).toBe('crm');
    const steps = timeline.steps.map((s) => (s.step === 'attempt' ? `attempt:${s.outcome}` : s.step));
    expect(steps).toEqual([
      'received',
      'queued',
      'attempt:retried',
      'attempt:retried',
      'attempt:dead-lettered',
      'dead-lettered',
      'redriven',
      'attempt:processed',
    ]);
    expect(timeline.steps[0]).toMatchObject({ status: 202 });
    expect(timeline.steps[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(timeline.steps[2]?.error).toMatch(/bug: cannot handle/);
    expect(timeline.steps[2]?.durationMs).toBeGreaterThanOrEqual(0);

    const human = await cli('trace', FRAGILE_ID, '--local');
    expect(human.stdout).toMatch(/dead-lettered/);
    const unknown = await cli('trace', 'no-such-event', '--local');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no event with id no-such-event/);
  }, 120_000);

  it('replays a Slack interactivity post to the FIFO group the ingest read from its payload field, not its source', async () => {
    // GIVEN the actions consumer paused, so the messages stay in the queue to be read
    const slackSince = new Date(Date.now() - 1000).toISOString();
    expect((await cli('pause', 'actions', '--local')).code).toBe(0);
    const action = { type: 'block_actions', user: { id: 'U0042' }, trigger_id: 't-1' };
    const form = new URLSearchParams({ payload: JSON.stringify(action) }).toString();
    const posted = await pipeline.post('slack', form, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    // Slack's interactivity wants an empty 200 as its acknowledgement.
    expect(posted.status).toBe(200);
    const sqs = localSqsClient(pipeline.local.emulators);
    const queueUrl = pipeline.local.topology.resources.queueUrls.actions ?? '';
    const takeGroup = async () => {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MessageSystemAttributeNames: ['MessageGroupId'],
          WaitTimeSeconds: 5,
        }),
      );
      const [message] = answer.Messages ?? [];
      if (message?.ReceiptHandle)
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      return message?.Attributes?.MessageGroupId;
    };
    expect(await takeGroup()).toBe('U0042');

    // WHEN it is replayed from the archive by the real CLI
    const answer = await cli('replay', '--source', 'slack', '--since', slackSince, '--local', '--json');

    // THEN it goes back to that group
    expect(answer.code).toBe(0);
    expect(JSON.parse(answer.stdout)).toMatchObject({ matched: 1, sent: 1, byQueue: { actions: 1 } });
    expect(await takeGroup()).toBe('U0042');
    sqs.destroy();
  }, 120_000);
});
