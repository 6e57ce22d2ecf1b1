/**
 * The console keeps telling the truth when local mode is restarted under it (the README's way of working with a
 * persisted data dir): the real `hookline console --local` process against a real local mode that is stopped
 * and started again on the same data dir, with new emulator ports and a journal numbered from 1 again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { connect } from '../../lib/cli/backend';
import { sendWebhook } from '../../lib/cli/send';
import { type ResolvedConfig, resolveConfig } from '../../lib/config';
import { localSqsClient } from '../../lib/local/clients';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { type LocalEvent, Reporter } from '../../lib/local/reporter';
import { recordingOutput } from '../cli/helpers';
import { type ConsoleProcess, startConsoleProcess, stopConsoleProcess } from '../helpers/console-process';
import { runHooklineInProcess } from '../helpers/local/cli';
import { waitFor } from '../helpers/wait-for';

const stateDir = mkdtempSync(join(tmpdir(), 'hookline-console-restart-'));
const dataDir = join(stateDir, 'data');
const buildDir = join(process.cwd(), '.hookline', 'build', `console-restart-${process.pid}`);
const config: ResolvedConfig = {
  ...resolveConfig({ ...exampleConfig, stackName: `ConsoleRestart${process.pid}` }),
  schedules: [],
};
const events: LocalEvent[] = [];
let local: LocalMode | undefined;
let consoleProcess: ConsoleProcess | undefined;
let consoleUrl: URL;

async function startLocal(): Promise<LocalMode> {
  const reporter = new Reporter({ json: true, color: false, write: () => {} });
  reporter.subscribe((e) => events.push(e));
  return startLocalMode({
    config,
    port: 0,
    stateDir,
    dataDir,
    reporter,
    env: {},
    buildDir,
    waitTimeSeconds: 1,
  });
}

/** A console API read with this run's token: its status and JSON. */
async function api<T>(path: string): Promise<{ status: number; body: T }> {
  const answer = await fetch(new URL(path, consoleUrl.origin), {
    headers: { 'x-hookline-token': consoleUrl.searchParams.get('token') ?? '' },
  });
  return { status: answer.status, body: (await answer.json()) as T };
}

interface EventsAnswer {
  events: { seq: number; event: string; id?: string }[];
  feed: { error: string | null };
}

/** Sends a signed sample GitHub push through the running local mode; its id. */
async function sendPush(): Promise<string> {
  const env = { HOOKLINE_STATE_DIR: stateDir };
  const connected = await connect({ local: true }, recordingOutput(), env);
  const sent = await sendWebhook(connected.backend, connected.target, config, { source: 'github' }, env);
  expect(sent.status).toBe(202);
  return sent.id ?? '';
}

const listed = async (id: string) =>
  (await api<EventsAnswer>('/api/events')).body.events.some((e) => e.id === id && e.event === 'processed');

beforeAll(async () => {
  local = await startLocal();
  consoleProcess = startConsoleProcess(stateDir);
  consoleUrl = await consoleProcess.url;
}, 180_000);

afterAll(async () => {
  stopConsoleProcess(consoleProcess);
  await local?.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
}, 60_000);

describe('hookline console across a restart of local mode', () => {
  it('follows the restarted local mode: its queues, and the events it journals from 1 again', async () => {
    const before = await Promise.all([sendPush(), sendPush()]);
    for (const id of before) await waitFor(() => listed(id), 30_000, `event ${id} in the console`);

    await local?.stop();
    local = undefined;
    // While it is down the page says so, rather than showing the last numbers as if they were current.
    await waitFor(
      async () => /not running/.test((await api<EventsAnswer>('/api/events')).body.feed.error ?? ''),
      10_000,
      'the feed reporting local mode down',
    );
    local = await startLocal();

    const overview = await waitFor(
      async () => {
        const answer = await api<{ queues?: { queue: string }[] }>('/api/overview');
        return answer.status === 200 ? answer.body : undefined;
      },
      20_000,
      'the overview of the restarted local mode',
    );
    expect(overview.queues?.map((q) => q.queue)).toEqual(config.queues.map((q) => q.name));

    const after = await sendPush();
    await waitFor(() => listed(after), 30_000, `event ${after} (sent after the restart) in the console`);
    const { body } = await api<EventsAnswer>('/api/events');
    expect(body.feed.error).toBeNull();
    // Every event is listed once, each under its own number.
    const seqs = body.events.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const id of [...before, after]) {
      expect(body.events.filter((e) => e.id === id && e.event === 'processed')).toHaveLength(1);
    }
  }, 180_000);

  it("keeps each dead letter's deletion time across a restart, the console agreeing with failed list; a saved letter restored after it counts its retention from the restore, as SQS does", async () => {
    const running = local;
    if (!running) throw new Error('local mode is not running');
    const id = `dead-${process.pid}`;
    const sqs = localSqsClient(running.emulators);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: running.topology.queues.events?.deadLetterUrl ?? '',
        MessageBody: JSON.stringify({ v: 1, id, source: 'github', type: 'push', body: '{}' }),
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
          [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'Error' },
          [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: 'gave up' },
        },
      }),
    );
    sqs.destroy();
    const hookline = async (...args: string[]) => {
      const run = await runHooklineInProcess(stateDir, [...args, '--local']);
      expect(run.code, run.stderr).toBe(0);
      return run.stdout;
    };
    /** When SQS deletes the letter, as failed list and the console's failures page each say. */
    const deletionTimes = async () => {
      const listed = JSON.parse(await hookline('failed', 'list', 'events', '--json')) as {
        messages: { id: string; deletedBySqsAt: string | null }[];
      };
      const page = await api<{ groups: { messages: { id: string; deletedBySqsAt: string | null }[] }[] }>(
        '/api/failures/events',
      );
      expect(page.status).toBe(200);
      const cli = listed.messages.filter((m) => m.id === id).map((m) => m.deletedBySqsAt);
      const shown = page.body.groups.flatMap((g) => g.messages).filter((m) => m.id === id);
      expect(shown.map((m) => m.deletedBySqsAt)).toEqual(cli);
      return cli;
    };

    const before = await deletionTimes();
    expect(before).toEqual([expect.any(String)]);
    const saved = join(stateDir, 'events-dead-letters.jsonl');
    await hookline('failed', 'save', 'events', '--out', saved);

    await running.stop();
    local = undefined;
    local = await startLocal();
    await waitFor(async () => (await api('/api/overview')).status === 200, 20_000, 'the console to follow');
    expect(await deletionTimes()).toEqual(before);

    await hookline('purge', 'events', '--dlq', '--yes');
    expect(await deletionTimes()).toEqual([]);
    const restoredAt = Date.now();
    await hookline('failed', 'restore', 'events', saved);
    const [restored] = await deletionTimes();
    // A restore sends the letter again: SQS counts its 14 days of retention from then, not from the saved letter's.
    const fourteenDays = 14 * 86_400_000;
    expect(Date.parse(restored ?? '')).toBeGreaterThanOrEqual(
      Math.floor(restoredAt / 1000) * 1000 + fourteenDays,
    );
    expect(Date.parse(restored ?? '')).toBeLessThanOrEqual(Date.now() + fourteenDays);
  }, 180_000);
});
