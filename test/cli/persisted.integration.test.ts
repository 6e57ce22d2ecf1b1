/**
 * The real CLI (spawned `bin/hookline.ts`) against local mode on a data directory (`HOOKLINE_DATA_DIR`): what
 * it shows and does must be the same as in memory, and survive a restart of local mode.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { type ResolvedConfig, resolveConfig } from '../../lib/config';
import { localSqsClient } from '../../lib/local/clients';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { type LocalEvent, Reporter } from '../../lib/local/reporter';
import { runHookline, runHooklineInProcess } from '../helpers/local/cli';
import { waitFor } from '../helpers/wait-for';

const run = promisify(execFile);

let local: LocalMode | undefined;
let config: ResolvedConfig;
let stateDir: string;
let dataDir: string;
let sqs: SQSClient;
const buildDir = join(process.cwd(), '.hookline', 'build', `cli-persisted-${process.pid}`);
const events: LocalEvent[] = [];
const infos: string[] = [];

async function start(): Promise<LocalMode> {
  const reporter = new Reporter({
    json: true,
    color: false,
    write: (line) => {
      const parsed = JSON.parse(line) as { event: string; message?: string };
      if (parsed.event === 'info' && parsed.message) infos.push(parsed.message);
    },
  });
  reporter.subscribe((e) => events.push(e));
  local = await startLocalMode({
    config,
    port: 0,
    stateDir,
    dataDir,
    reporter,
    env: {},
    buildDir,
    waitTimeSeconds: 1,
  });
  sqs?.destroy();
  sqs = localSqsClient(local.emulators);
  return local;
}

/** The real `bin/hookline.ts` as a child process (slow on a busy machine: used where the process matters). */
const spawned = (...args: string[]) => runHookline(stateDir, args);

/** The same program in this process, with its terminal captured: the real commands, target and output. */
const cli = (...args: string[]) => runHooklineInProcess(stateDir, args);

const queue = (name: string) => {
  const q = local?.topology.queues[name];
  if (!q) throw new Error(`no queue ${name}`);
  return q;
};

async function depth(url: string) {
  const answer = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return {
    visible: Number(answer.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Dead letters as the consumer writes them: a new DLQ message with the reason and the attempt. */
async function seedDeadLetters(ids: readonly string[], type = 'invoice.paid', attempt = 3) {
  for (let i = 0; i < ids.length; i += 10) {
    const answer = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue('events').deadLetterUrl,
        Entries: ids.slice(i, i + 10).map((id, n) => ({
          Id: String(n),
          MessageBody: JSON.stringify({
            v: 1,
            id,
            source: 'stripe',
            type,
            receivedAt: new Date().toISOString(),
            headers: { 'content-type': 'application/json' },
            contentType: 'application/json',
            body: JSON.stringify({ id, type, data: { object: {} } }),
            bodyEncoding: 'utf8',
          }),
          MessageAttributes: {
            [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
            [MESSAGE_ATTRIBUTES.type]: { DataType: 'String', StringValue: type },
            [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
            [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: 'seeded' },
            [FAILURE_ATTRIBUTES.attempt]: { DataType: 'Number', StringValue: String(attempt) },
          },
        })),
      }),
    );
    expect(answer.Failed ?? []).toEqual([]);
  }
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'hookline-cli-pstate-'));
  dataDir = mkdtempSync(join(tmpdir(), 'hookline-cli-pdata-'));
  config = { ...resolveConfig({ ...exampleConfig, stackName: `CliPersisted${process.pid}` }), schedules: [] };
  await start();
}, 120_000);

afterAll(async () => {
  await local?.stop();
  sqs?.destroy();
  for (const dir of [stateDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
}, 60_000);

describe('hookline CLI against local mode on a data directory', () => {
  it('failed list, failed show, status and redrive report exactly what is there and leave the rest in place', async () => {
    const paused = await cli('pause', 'events', '--local');
    expect(paused).toMatchObject({ code: 0, stdout: 'events consumer: Disabled\n' });
    const ids = [1, 2, 3].map((n) => `persisted-${n}-${randomUUID()}`);
    await seedDeadLetters(ids);

    for (const read of [spawned, cli]) {
      const listed = await read('failed', 'list', 'events', '--local', '--json');
      expect(listed.stderr).not.toMatch(/SQLITE|NOT NULL/);
      expect(listed.code).toBe(0);
      const result = JSON.parse(listed.stdout);
      expect(result.approximateDepth).toBe(3);
      expect(result.messages.map((m: { id: string }) => m.id).sort()).toEqual([...ids].sort());
      // Each read leaves every message visible in the running emulator, and TRIES stays the consumer's count.
      expect(result.messages.map((m: { receiveCount: number }) => m.receiveCount)).toEqual([3, 3, 3]);
      expect(await depth(queue('events').deadLetterUrl)).toEqual({ visible: 3, inFlight: 0 });
    }
    const human = await cli('failed', 'list', 'events', '--local');
    expect(human.stdout).toMatch(/TRIES[\s\S]*invoice\.paid\s+\S+\s+3\s+PermanentError: seeded/);

    const shown = await cli('failed', 'show', 'events', ids[1] ?? '', '--local');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^tries\s+3$/m);
    const statusRun = await cli('status', 'events', '--local', '--json');
    expect(JSON.parse(statusRun.stdout).queues[0]).toMatchObject({ deadLettered: 3, consumer: 'Disabled' });

    const blank = await spawned('redrive', 'events', '--type', '', '--local');
    // A flag given no value is the command line's fault: a usage error.
    expect(blank.code).toBe(2);
    expect(blank.stderr).toMatch(/^error: --type must not be empty/m);
    const nothing = await cli('redrive', 'events', '--type', 'invoice.*.*', '--local');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(
      /^error: no message in the events dead-letter queue matches --type "invoice\.\*\.\*"/m,
    );
    const unknown = await cli('redrive', 'events', '--id', 'nope', '--local');
    expect(unknown.code).toBe(1);
    expect(await depth(queue('events').deadLetterUrl)).toEqual({ visible: 3, inFlight: 0 });

    const one = await cli('redrive', 'events', '--id', ids[0] ?? '', '--local');
    expect(one.code).toBe(0);
    const summaries = `${one.stdout}${one.stderr}`.split('\n').filter((l) => /moved 1\b/.test(l));
    expect(summaries).toHaveLength(1);
    expect(await depth(queue('events').deadLetterUrl)).toEqual({ visible: 2, inFlight: 0 });
    expect(await depth(queue('events').url)).toEqual({ visible: 1, inFlight: 0 });

    const deleted = await cli(
      'failed',
      'delete',
      'events',
      '--id',
      ids[1] ?? '',
      '--yes',
      '--local',
      '--json',
    );
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ deletedEvents: 1, deletedMessages: 1, skipped: 1 });
    const left = JSON.parse((await cli('failed', 'list', 'events', '--local', '--json')).stdout);
    expect([left.approximateDepth, left.messages.map((m: { id: string }) => m.id)]).toEqual([1, [ids[2]]]);
    const after = JSON.parse((await cli('status', 'events', '--local', '--json')).stdout);
    expect(after.queues[0]).toMatchObject({ deadLettered: 1 });
  }, 300_000);

  it('a pause survives a restart: the consumer starts paused, says so, and processes only after resume', async () => {
    expect(JSON.parse(readFileSync(join(dataDir, 'paused-consumers.json'), 'utf8'))).toEqual({
      paused: ['events'],
    });
    await local?.stop();
    infos.length = 0;
    await start();
    expect(infos.join('\n')).toMatch(/consumer events is paused .*hookline resume events --local/);
    const statusRun = await cli('status', '--local', '--json');
    const states = JSON.parse(statusRun.stdout).queues.map((q: { queue: string; consumer: string }) => [
      q.queue,
      q.consumer,
    ]);
    expect(states).toEqual([
      ['events', 'Disabled'],
      ['orders', 'Enabled'],
    ]);
    // The redriven message and the dead letter are still there, nothing was consumed while paused, and the one
    // failed delete removed stays removed.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await depth(queue('events').url)).toEqual({ visible: 1, inFlight: 0 });
    const listed = JSON.parse((await cli('failed', 'list', 'events', '--local', '--json')).stdout);
    expect(listed.messages.map((m: { receiveCount: number }) => m.receiveCount)).toEqual([3]);

    const resumed = await cli('resume', 'events', '--local');
    expect(resumed.stdout).toBe('events consumer: Enabled\n');
    await waitFor(
      async () => (await depth(queue('events').url)).visible === 0,
      20_000,
      'drained after resume',
    );
    expect(JSON.parse(readFileSync(join(dataDir, 'paused-consumers.json'), 'utf8'))).toEqual({ paused: [] });
  }, 300_000);

  it('a closed pipe ends the CLI quietly, with the status of a unix tool cut off by its reader', async () => {
    await seedDeadLetters(
      Array.from({ length: 300 }, (_, n) => `pipe-${n}-${randomUUID()}`),
      'invoice.paid',
    );
    const { stdout, stderr } = await run(
      'bash',
      [
        '-c',
        'node_modules/.bin/tsx bin/hookline.ts failed list events --local --json --limit 300 | head -c 10; status=$PIPESTATUS; echo; echo "cli=$status"',
      ],
      { env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' }, timeout: 120_000 },
    );
    expect(stdout).toMatch(/^cli=141$/m);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(await depth(queue('events').deadLetterUrl)).toMatchObject({ inFlight: 0 });
  }, 300_000);

  it('--version prints the package version', async () => {
    const version = await spawned('--version');
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(version).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  }, 120_000);
});
