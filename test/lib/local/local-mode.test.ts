/**
 * What `startLocalMode` checks before it starts anything: a state directory in use by another running local mode.
 * Each start here stops at a checkpoint before the emulators (a data directory whose paused-consumers file is
 * unreadable), so the test runs no pipeline: refusing for the state file, or getting past it to that checkpoint.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localModeHints } from '../../../lib/local/command-hints';
import {
  alarmingAtStartNotices,
  discardedMessagesNotice,
  oneTimeScheduleFired,
  pollErrorReporter,
  startLocalMode,
} from '../../../lib/local/local-mode';
import { pausedConsumersPath } from '../../../lib/local/paused-consumers';
import { Reporter } from '../../../lib/local/reporter';
import { LocalStartProblem } from '../../../lib/local/start-problem';
import { localStatePath } from '../../../lib/local/state-file';
import { recordingQueue, testConfig } from '../../helpers/local/pipeline';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with a data directory whose paused-consumers file stops any start that reaches it. */
function project(): { projectDir: string; dataDir: string } {
  const projectDir = mkdtempSync(join(tmpdir(), 'hookline-local-mode-'));
  dirs.push(projectDir);
  const dataDir = join(projectDir, 'data');
  mkdirSync(dataDir);
  writeFileSync(pausedConsumersPath(dataDir), 'not json');
  return { projectDir, dataDir };
}

/** The state file a running local mode with this pid writes. */
function stateOf(pid: number): string {
  const url = 'http://127.0.0.1:3000';
  return JSON.stringify({
    pid,
    webhookBaseUrl: url,
    controlUrl: `${url}/_hookline`,
    region: 'us-east-1',
    endpoints: { sqs: 'http://127.0.0.1:4566' },
    queues: {},
    consumers: {},
  });
}

/** The id of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  if (child.pid === undefined) throw new Error('could not run node');
  return child.pid;
}

function start(
  projectDir: string,
  dataDir: string,
  env: Record<string, string | undefined>,
  port: { port?: number } = { port: 0 },
) {
  return startLocalMode({
    config: testConfig({ events: recordingQueue() }),
    projectDir,
    dataDir,
    env,
    ...port,
    cacheDir: false,
    reporter: new Reporter({ write: () => {} }),
  });
}

const PAST_THE_STATE_FILE = /paused-consumers\.json is unreadable/;

describe('startLocalMode and the state directory', () => {
  it.each([
    ['unset', undefined],
    ['set empty', ''],
  ])(
    'refuses a start when a running local mode holds the state file the CLI reads, HOOKLINE_STATE_DIR %s',
    async (_, stateDir) => {
      const { projectDir, dataDir } = project();
      const env = { HOOKLINE_STATE_DIR: stateDir };
      const stateFile = join(projectDir, '.hookline', 'local.json');
      // Where the CLI looks for it.
      expect(localStatePath(env, projectDir)).toBe(stateFile);
      mkdirSync(join(projectDir, '.hookline'));
      // The parent of this test process: alive, and not this process.
      writeFileSync(stateFile, stateOf(process.ppid));
      const started = start(projectDir, dataDir, env);
      await expect(started).rejects.toBeInstanceOf(LocalStartProblem);
      await expect(started).rejects.toThrow(
        `local mode is already running with state file ${stateFile} (pid ${process.ppid})`,
      );
    },
  );

  it.each([
    ['a process that is gone (killed with -9)', () => stateOf(deadPid())],
    ['this process (a local mode stopped in it)', () => stateOf(process.pid)],
    ['half written', () => stateOf(process.ppid).slice(0, 40)],
  ])('takes over a state file left by %s', async (_, content) => {
    const { projectDir, dataDir } = project();
    const env = { HOOKLINE_STATE_DIR: join(projectDir, 'state') };
    mkdirSync(join(projectDir, 'state'));
    writeFileSync(localStatePath(env), content());
    await expect(start(projectDir, dataDir, env)).rejects.toThrow(PAST_THE_STATE_FILE);
    // The failed start lets go of the state directory: the CLI would take a lock left by this live process for a start.
    expect(existsSync(`${localStatePath(env)}.lock`)).toBe(false);
  });
});

describe('startLocalMode and PORT', () => {
  it.each(['65536', '99999', '-1', '', ' 3000', '3000.0', '0x50'])(
    'refuses PORT=%j with the fix, listed with any unusable secret',
    async (value) => {
      const { projectDir, dataDir } = project();
      const started = start(projectDir, dataDir, { PORT: value, HOOKLINE_SECRET_GITHUB: ' ' }, {});
      await expect(started).rejects.toBeInstanceOf(LocalStartProblem);
      await expect(started).rejects.toThrow(
        `PORT=${JSON.stringify(value)} is not a port: set PORT to a number from 0 to 65535 (0 picks a free one), or unset it for 3000\nunusable signing secret in the environment:\n  - HOOKLINE_SECRET_GITHUB`,
      );
    },
  );

  it('refuses an unusable HOOKLINE_JOURNAL_MAX, listed with the other problems', async () => {
    const { projectDir, dataDir } = project();
    const started = start(projectDir, dataDir, { PORT: 'x', HOOKLINE_JOURNAL_MAX: '100' }, {});
    await expect(started).rejects.toBeInstanceOf(LocalStartProblem);
    await expect(started).rejects.toThrow(
      /is not a port.*\nHOOKLINE_JOURNAL_MAX="100" is not a size: set it to a size with its unit from 16KB up/s,
    );
  });

  it('refuses an unusable HOOKLINE_JOBS_TOKEN when the jobs endpoint is on, listed with the other problems', async () => {
    const { projectDir, dataDir } = project();
    const started = startLocalMode({
      config: testConfig({ events: recordingQueue() }, { jobs: { endpoint: { queues: ['events'] } } }),
      projectDir,
      dataDir,
      env: { PORT: 'x', HOOKLINE_JOBS_TOKEN: '' },
      cacheDir: false,
      reporter: new Reporter({ write: () => {} }),
    });
    await expect(started).rejects.toBeInstanceOf(LocalStartProblem);
    await expect(started).rejects.toThrow(
      /is not a port.*\nunusable jobs endpoint token in the environment: HOOKLINE_JOBS_TOKEN: the secret is empty/s,
    );
  });

  it("refuses a queue named as another queue's dead-letter queue is locally, listed with the other problems", async () => {
    const { projectDir, dataDir } = project();
    const started = startLocalMode({
      config: testConfig({ events: recordingQueue(), 'events-dlq': recordingQueue() }),
      projectDir,
      dataDir,
      env: { PORT: 'x' },
      cacheDir: false,
      reporter: new Reporter({ write: () => {} }),
    });
    await expect(started).rejects.toBeInstanceOf(LocalStartProblem);
    await expect(started).rejects.toThrow(
      /is not a port.*\nqueues\.events-dlq: local mode names this queue \S+-events-dlq, the name it gives queue "events"'s dead-letter queue, so the two would be one queue\. Fix: rename queue "events-dlq"/s,
    );
  });

  it.each(['0', '65535'])('takes PORT=%s', async (value) => {
    const { projectDir, dataDir } = project();
    // Past the environment check: the start stops at the data directory's checkpoint (or finds 65535 taken).
    await expect(start(projectDir, dataDir, { PORT: value }, {})).rejects.toThrow(
      new RegExp(`${PAST_THE_STATE_FILE.source}|port ${value} .*in use`),
    );
  });
});

describe('the line of a one-time job schedule that sends its job', () => {
  const queueNamesByArn = { 'arn:aws:sqs:us-east-1:000000000000:Play-work': 'work' };
  const schedule = (input: string) => ({
    name: 'Play-job-0bdee4318a407569ebc4e73906f4e8adbd5137c423ab5b7bc77e443',
    targetArn: 'arn:aws:sqs:us-east-1:000000000000:Play-work',
    input,
  });

  it("names the job by its own id, type and queue, not by the schedule's hashed name", () => {
    const envelope = JSON.stringify({
      v: 1,
      id: 'remind-u42',
      source: 'job',
      type: 'email.reminder',
      receivedAt: '2026-12-01T21:10:36.470Z',
      headers: {},
      contentType: 'application/json',
      body: '{}',
      bodyEncoding: 'utf8',
      generation: 'gen-1',
    });
    expect(oneTimeScheduleFired(schedule(envelope), queueNamesByArn)).toEqual({
      event: 'scheduled',
      id: 'remind-u42',
      source: 'job',
      type: 'email.reminder',
      queue: 'work',
      generation: 'gen-1',
    });
  });

  it('names by its schedule an input that is no envelope', () => {
    expect(oneTimeScheduleFired(schedule('not json'), queueNamesByArn)).toEqual({
      event: 'scheduled',
      id: schedule('').name,
      source: 'job',
      queue: 'work',
    });
  });
});

describe('what a data directory holds at start that would page once deployed', () => {
  const row = (queue: string, deadLettered: number, oldestMessageAgeSeconds: number | null) => ({
    queue,
    oldestMessageAgeAlarmSeconds: queue === 'events' ? 900 : 1800,
    fifo: false,
    visible: oldestMessageAgeSeconds === null ? 0 : 1,
    inFlight: 0,
    delayed: 0,
    deadLettered,
    oldestMessageAgeSeconds,
    consumer: 'Enabled',
  });

  it('names each queue whose dead-letter queue holds messages, with the command that reads why', () => {
    expect(alarmingAtStartNotices([row('events', 2, null), row('orders', 0, null)])).toStrictEqual([
      "events: 2 dead-lettered in the data directory, which a deployed stack's dead-letter alarm pages for; read why with hookline failed list events --local",
    ]);
  });

  it('names a queue whose oldest message is older than its own alarm age, and no queue under it', () => {
    expect(alarmingAtStartNotices([row('events', 0, 901), row('orders', 0, 901)])).toStrictEqual([
      "events: its oldest message has waited 15m 1s, longer than the 15m 0s threshold of a deployed stack's oldest-message alarm; see hookline status events --local",
    ]);
  });

  it('names its commands with the configuration local mode was started with', () => {
    const hints = localModeHints('staging config.ts');
    expect(
      alarmingAtStartNotices([row('events', 2, 901)], hints).map((n) => n.replace(/^.*; /, '')),
    ).toStrictEqual([
      "read why with hookline failed list events --local --config 'staging config.ts'",
      "see hookline status events --local --config 'staging config.ts'",
    ]);
  });

  it('says nothing of queues holding no dead letter and no old message', () => {
    expect(alarmingAtStartNotices([row('events', 0, 900), row('orders', 0, null)])).toStrictEqual([]);
  });
});

describe('what stopping an in-memory local mode discards', () => {
  const queue = (
    name: string,
    counts: { visible?: number; inFlight?: number; delayed?: number; dead?: number },
  ) => ({
    queue: name,
    fifo: false,
    visible: counts.visible ?? 0,
    inFlight: counts.inFlight ?? 0,
    delayed: counts.delayed ?? 0,
    deadLettered: counts.dead ?? 0,
    oldestMessageAgeSeconds: null,
    consumer: 'Enabled',
  });

  it('counts waiting, retrying and delayed messages and dead letters of each queue that holds any', () => {
    expect(
      discardedMessagesNotice([
        queue('events', { visible: 1, inFlight: 2, delayed: 3, dead: 1 }),
        queue('idle', {}),
        queue('orders', { dead: 1 }),
      ]),
    ).toBe(
      'discarding 8 messages kept only in memory (events: 6 queued, 1 dead-lettered; orders: 0 queued, 1 dead-lettered); ' +
        'to keep messages across a restart, start with HOOKLINE_DATA_DIR set (HOOKLINE_DATA_DIR=.hookline/data npm start)',
    );
  });

  it('counts the delayed jobs waiting for their time, which the stop loses too', () => {
    expect(discardedMessagesNotice([queue('events', { visible: 1 })], 2)).toMatch(
      /^discarding 3 messages kept only in memory \(events: 1 queued; 2 delayed jobs not yet due\); /,
    );
    expect(discardedMessagesNotice([queue('events', {})], 1)).toMatch(
      /^discarding 1 message kept only in memory \(1 delayed job not yet due\); /,
    );
  });

  it('says nothing when every queue is empty', () => {
    expect(discardedMessagesNotice([queue('events', {})])).toBeUndefined();
  });

  it('writes one message in the singular', () => {
    expect(discardedMessagesNotice([queue('events', { inFlight: 1 })])).toMatch(/^discarding 1 message kept/);
  });
});

describe("a consumer's failed poll", () => {
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:4566');

  it('is not reported when the emulators turn out to have ended just after it (their notice says it all)', async () => {
    const problems: string[] = [];
    let end: (why: string) => void = () => undefined;
    const failed = new Promise<string>((resolve) => {
      end = resolve;
    });
    const report = pollErrorReporter(
      { problem: (line) => problems.push(line) },
      { failed },
      'events',
      () => false,
      1_000,
    );
    const reported = report(refused);
    // The thread's exit reaches the main thread after the poll it refused has failed.
    setTimeout(() => end('Error: the thread crashed'), 50);
    await reported;
    expect(problems).toEqual([]);
  });

  it('is reported once the emulators are still running after the grace, with the queue and the error', async () => {
    const problems: string[] = [];
    const report = pollErrorReporter(
      { problem: (line) => problems.push(line) },
      { failed: new Promise<string>(() => undefined) },
      'events',
      () => false,
      20,
    );
    await report(refused);
    expect(problems).toEqual(['consumer events: connect ECONNREFUSED 127.0.0.1:4566']);
  });

  it('is not reported once local mode began to stop during its grace (the stop cut the poll)', async () => {
    const problems: string[] = [];
    let stopping = false;
    const report = pollErrorReporter(
      { problem: (line) => problems.push(line) },
      { failed: new Promise<string>(() => undefined) },
      'events',
      () => stopping,
      50,
    );
    const reported = report(refused);
    stopping = true;
    await reported;
    expect(problems).toEqual([]);
  });

  it('is not reported after the emulators ended', async () => {
    const problems: string[] = [];
    const report = pollErrorReporter(
      { problem: (line) => problems.push(line) },
      { failure: 'Error: the thread crashed', failed: Promise.resolve('Error: the thread crashed') },
      'events',
      () => false,
    );
    await report(refused);
    expect(problems).toEqual([]);
  });
});
