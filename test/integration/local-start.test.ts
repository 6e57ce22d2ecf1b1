import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { discoverProducer } from '../../lambda/producer/discover';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { resolveConfig } from '../../lib/config';
import { localDynamoClient } from '../../lib/local/clients';
import { startEmulators } from '../../lib/local/emulators';
import { defaultDevSecret, secretEnvName } from '../../lib/local/secrets';
import { createTopology } from '../../lib/local/topology';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { runHooklineInProcess } from '../helpers/local/cli';
import { waitFor } from '../helpers/wait-for';

const dir = mkdtempSync(join(tmpdir(), 'hookline-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

/**
 * Runs `npm start`'s script (node --import tsx/esm bin/local.ts) as a separate process, as a user would;
 * `preload`: modules Node imports before it; `command`: another that runs local mode (`bin/hookline.ts dev`).
 */
function start(
  env: Record<string, string>,
  preload: readonly string[] = [],
  command: readonly string[] = ['bin/local.ts'],
): Run {
  const imports = ['tsx/esm', ...preload].flatMap((module) => ['--import', module]);
  const child = spawn(process.execPath, [...imports, ...command], {
    env: { ...process.env, HOOKLINE_LOG: 'json', HOOKLINE_STATE_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffer = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

const json = (line: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

describe('npm start (bin/local.ts)', () => {
  it('serves the example configuration: a signed request is processed, Ctrl-C drains and exits 0', async () => {
    const run = start({ PORT: '0' });
    try {
      const stateFile = join(dir, 'local.json');
      const state = await waitFor(
        () =>
          existsSync(stateFile)
            ? (JSON.parse(readFileSync(stateFile, 'utf8')) as {
                webhookBaseUrl: string;
                pid: number;
                consumers: Record<string, { state: string }>;
              })
            : undefined,
        60_000,
        'the state file',
      );
      expect(state.pid).toBe(run.child.pid);
      expect(state.consumers).toEqual({ events: { state: 'Enabled' }, orders: { state: 'Enabled' } });
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        repository: { full_name: 'acme/app' },
        commits: [],
      });
      const delivery = `start-${Date.now()}`;
      const headers = signWebhook(
        { type: 'github', secretId: 'env:HOOKLINE_SECRET_GITHUB' },
        'dev-secret-github',
        body,
        { id: delivery },
      );
      const response = await fetch(`${state.webhookBaseUrl}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers },
        body,
      });
      expect(response.status).toBe(202);
      const processed = await waitFor(
        () => run.lines.map(json).find((l) => l?.event === 'processed' && l.id === delivery),
        30_000,
        'the processed line',
      );
      expect(processed).toMatchObject({
        source: 'github',
        type: 'push',
        queue: 'events',
        latencyMs: expect.any(Number),
      });

      // Every other example source accepts a request signed with its documented development default secret.
      const config = resolveConfig(exampleConfig);
      const samples: Record<string, { body: unknown; headers?: Record<string, string> }> = {
        stripe: { body: { id: `evt_${Date.now()}`, type: 'invoice.paid', data: { object: {} } } },
        slack: {
          body: { type: 'event_callback', event_id: `Ev${Date.now()}`, event: { type: 'app_mention' } },
        },
        shopify: { body: { id: Date.now() }, headers: { 'x-shopify-topic': 'orders/create' } },
        standard: { body: { type: 'user.created', data: {} } },
        generic: { body: { id: `g-${Date.now()}`, type: 'thing.happened' } },
      };
      for (const [name, sample] of Object.entries(samples)) {
        const source = config.sources.find((s) => s.name === name);
        if (!source) throw new Error(`example config has no ${name}`);
        const text = JSON.stringify(sample.body);
        const signed = signWebhook(
          sourceRuntimeConfig(source, `env:${secretEnvName(name)}`),
          defaultDevSecret(source),
          text,
        );
        const accepted = await fetch(`${state.webhookBaseUrl}/webhooks/${name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...sample.headers, ...signed },
          body: text,
        });
        expect({ name, status: accepted.status }).toEqual({ name, status: 202 });
        await waitFor(
          () =>
            run.lines
              .map(json)
              .find((l) => l?.source === name && (l.event === 'queued' || l.event === 'ignored')),
          10_000,
          `the ${name} outcome line`,
        );
      }

      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);

  it('stops cleanly on a Ctrl-C while its modules still load, instead of dying at once', async () => {
    const dataDir = join(dir, 'interrupted-data');
    // The Ctrl-C lands as the entry point loads the module that starts the emulators: before local mode's own
    // module (and its handlers) loads, so only the entry point's first line catches it.
    const run = start(
      { PORT: '0', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_TEST_INTERRUPT_ON_LOAD: '/lib/local/local-dirs.ts' },
      ['./test/helpers/local/interrupt-on-load.ts'],
    );
    expect(await run.exited).toBe(0);
    const said = run.lines.map((line) => String(json(line)?.message ?? line));
    expect(said).toContain(
      'stopping: local mode stops as soon as its start ends (Ctrl-C again to quit at once)...',
    );
    expect(said.at(-1)).toBe('stopped');
    expect(said.some((line) => line.includes('is running'))).toBe(false);
    expect(existsSync(join(dataDir, 'local-mode.lock'))).toBe(false);
  }, 120_000);

  it.each([
    ['npm start', ['bin/local.ts']],
    ['hookline dev', ['bin/hookline.ts', 'dev']],
  ])(
    '%s stops cleanly once the reader of its output goes away (| head), quietly, with status 141',
    async (_name, command) => {
      const dataDir = join(dir, 'closed-pipe-data');
      const stateDir = join(dir, 'closed-pipe');
      const run = start({ PORT: '0', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_STATE_DIR: stateDir }, [], command);
      try {
        const stateFile = join(stateDir, 'local.json');
        const { webhookBaseUrl } = await waitFor(
          () =>
            existsSync(stateFile)
              ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { webhookBaseUrl: string })
              : undefined,
          60_000,
          'the state file',
        );
        // The reader goes away; local mode learns it at its next line, which a webhook's outcome writes. The stop
        // that follows may cut that request's answer short: only the line matters here.
        run.child.stdout?.destroy();
        const body = JSON.stringify({ ref: 'refs/heads/main', commits: [] });
        await fetch(`${webhookBaseUrl}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            ...signWebhook(
              { type: 'github', secretId: 'env:HOOKLINE_SECRET_GITHUB' },
              'dev-secret-github',
              body,
              { id: `closed-pipe-${Date.now()}` },
            ),
          },
          body,
        }).catch(() => undefined);
        expect(await run.exited).toBe(141);
        // Its stderr, still read: no EPIPE and no stack trace.
        expect(run.lines.join('\n')).not.toMatch(/EPIPE|\n\s+at /);
        // Stopped as Ctrl-C stops it: state file removed, data directory's lock released.
        expect(existsSync(stateFile)).toBe(false);
        expect(existsSync(join(dataDir, 'local-mode.lock'))).toBe(false);
      } finally {
        run.child.kill('SIGKILL');
      }
    },
    120_000,
  );

  it('explains a taken port and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = start({ PORT: String(port) });
      expect(await run.exited).toBe(1);
      // The blocker is this test's process, named where the system says who listens (Linux's /proc).
      const holder = existsSync('/proc/net/tcp') ? ` by pid ${process.pid} \\(.+\\)` : '';
      expect(
        run.lines
          .map(json)
          .some((l) =>
            new RegExp(
              `^port ${port} is in use${holder}: set PORT=\\d+ npm start \\(free when this was checked\\)$`,
            ).test(String(l?.message)),
          ),
      ).toBe(true);
    } finally {
      blocker.close();
    }
  }, 120_000);

  it('refuses a PORT that is not a port with the fix, with no stack trace, and exits 1', async () => {
    const run = start({ PORT: '30OO' });
    expect(await run.exited).toBe(1);
    const errors = run.lines.map(json).filter((l) => l?.event === 'error');
    expect(errors.map((l) => l?.message)).toEqual([
      'PORT="30OO" is not a port: set PORT to a number from 0 to 65535 (0 picks a free one), or unset it for 3000',
    ]);
  }, 60_000);

  it('refuses a second local mode on the same data directory with one line, and a kill -9 leaves none in the way', async () => {
    const dataDir = join(dir, 'shared-data');
    const first = start({ PORT: '0', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_STATE_DIR: join(dir, 'first') });
    try {
      await waitFor(() => first.lines.some((l) => l.includes('is running')), 60_000, 'the first start');
      const second = start({
        PORT: '0',
        HOOKLINE_DATA_DIR: dataDir,
        HOOKLINE_STATE_DIR: join(dir, 'second'),
      });
      expect(await second.exited).toBe(1);
      const errors = second.lines.map(json).filter((l) => l?.event === 'error');
      expect(errors).toHaveLength(1);
      const message = String(errors[0]?.message);
      expect(message).toContain(
        `data directory ${dataDir} is in use by another local mode (pid ${first.child.pid}`,
      );
      expect(message).toContain(`delete ${join(dataDir, 'local-mode.lock')}`);
      expect(message).not.toMatch(/\n\s+at /);

      first.child.kill('SIGKILL');
      await first.exited;
      const third = start({ PORT: '0', HOOKLINE_DATA_DIR: dataDir, HOOKLINE_STATE_DIR: join(dir, 'third') });
      try {
        await waitFor(
          () => third.lines.some((l) => l.includes('is running')),
          60_000,
          'the start after kill -9',
        );
        third.child.kill('SIGINT');
        expect(await third.exited).toBe(0);
      } finally {
        third.child.kill('SIGKILL');
      }
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses a second local mode on the same state directory, keeping the running one reachable', async () => {
    const stateDir = join(dir, 'shared-state');
    const stateFile = join(stateDir, 'local.json');
    const first = start({ PORT: '0', HOOKLINE_STATE_DIR: stateDir });
    try {
      await waitFor(() => first.lines.some((l) => l.includes('is running')), 60_000, 'the first start');
      const second = start({ PORT: '0', HOOKLINE_STATE_DIR: stateDir });
      try {
        const outcome = await Promise.race([
          second.exited.then((code) => `exited ${code}`),
          waitFor(
            () => second.lines.some((l) => l.includes('is running')) && 'running',
            60_000,
            'the second',
          ),
        ]);
        expect(outcome).toBe('exited 1');
        const errors = second.lines.map(json).filter((l) => l?.event === 'error');
        expect(errors.map((l) => l?.message)).toEqual([
          `local mode is already running with state file ${stateFile} (pid ${first.child.pid}): stop it first, or start this one with another HOOKLINE_STATE_DIR (the CLI then needs the same HOOKLINE_STATE_DIR to reach it)`,
        ]);
      } finally {
        second.child.kill('SIGKILL');
      }
      // The CLI still finds the first one.
      expect(JSON.parse(readFileSync(stateFile, 'utf8')).pid).toBe(first.child.pid);
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(0);
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 120_000);

  it('refuses the second of two local modes started at once on one state directory: one runs, the CLI reaches it', async () => {
    const stateDir = join(dir, 'raced-state');
    const stateFile = join(stateDir, 'local.json');
    // Neither has written its state file yet when the other checks for one: it is written once a start is complete.
    const runs = [
      start({ PORT: '0', HOOKLINE_STATE_DIR: stateDir }),
      start({ PORT: '0', HOOKLINE_STATE_DIR: stateDir }),
    ];
    try {
      const first = await waitFor(
        () =>
          runs.find((run) => run.child.exitCode !== null) ??
          (runs.every((run) => run.lines.some((l) => l.includes('is running'))) && 'both running'),
        60_000,
        'either start to end',
      );
      expect(first).not.toBe('both running');
      const refused = first as Run;
      const running = runs.find((run) => run !== refused) as Run;
      expect(await refused.exited).toBe(1);
      expect(
        refused.lines
          .map(json)
          .filter((l) => l?.event === 'error')
          .map((l) => l?.message),
      ).toEqual([
        `local mode is already running with state file ${stateFile} (pid ${running.child.pid}): stop it first, or start this one with another HOOKLINE_STATE_DIR (the CLI then needs the same HOOKLINE_STATE_DIR to reach it)`,
      ]);
      expect(refused.lines.some((l) => l.includes('is running'))).toBe(false);
      await waitFor(() => running.lines.some((l) => l.includes('is running')), 60_000, 'the other start');
      expect(JSON.parse(readFileSync(stateFile, 'utf8')).pid).toBe(running.child.pid);
      running.child.kill('SIGINT');
      expect(await running.exited).toBe(0);
      // The lock goes with the state file: a CLI finding it alone would say local mode is starting.
      expect([existsSync(stateFile), existsSync(`${stateFile}.lock`)]).toEqual([false, false]);
    } finally {
      for (const run of runs) run.child.kill('SIGKILL');
    }
  }, 120_000);

  it('a CLI command and a job producer while local mode starts say it is starting, not that it is not running, then reach it', async () => {
    const stateDir = join(dir, 'starting-state');
    mkdirSync(stateDir, { recursive: true });
    const lock = join(stateDir, 'local.json.lock');
    // Held still from the moment it takes the state directory, before it writes local.json.
    const taken = new Promise<void>((resolve) => {
      const watcher = watch(stateDir, () => {
        if (!existsSync(lock)) return;
        watcher.close();
        resolve();
      });
    });
    const run = start({ PORT: '0', HOOKLINE_STATE_DIR: stateDir });
    try {
      await taken;
      run.child.kill('SIGSTOP');
      expect(existsSync(join(stateDir, 'local.json'))).toBe(false);
      const early = await runHooklineInProcess(stateDir, ['status', '--local']);
      expect([early.code, early.stderr.trim().split('\n').at(-1)]).toEqual([
        1,
        expect.stringMatching(
          new RegExp(
            `^error: local mode is starting \\(pid ${run.child.pid}, since \\S+\\): run this again once local mode \\(npm start or npx hookline dev\\) says it is running$`,
          ),
        ),
      ]);
      const producer = () => discoverProducer({ env: { HOOKLINE_STATE_DIR: stateDir } });
      expect(producer).toThrow(
        new RegExp(
          `^local mode is starting \\(pid ${run.child.pid}, since \\S+\\): its state file .*; retry once local mode says it is running$`,
        ),
      );
      run.child.kill('SIGCONT');
      await waitFor(() => run.lines.some((l) => l.includes('is running')), 60_000, 'the start');
      expect((await runHooklineInProcess(stateDir, ['status', '--local'])).code).toBe(0);
      expect(producer().source).toBe('local');
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGCONT');
      run.child.kill('SIGKILL');
    }
  }, 120_000);

  it.each([
    ['schedules.json', '[{"name": "job-1", "groupName": "def', 'Repair it, or move it aside'],
    ['paused-consumers.json', '{"paused": ["eve', 'Repair it (e.g. {"paused": ["events"]}), or delete it'],
  ])(
    'explains a corrupt %s in the data directory and exits 1, leaving the file for repair',
    async (name, content, fix) => {
      const dataDir = join(dir, `corrupt-${name}`);
      const file = join(dataDir, name);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, content);
      const run = start({ PORT: '0', HOOKLINE_DATA_DIR: dataDir });
      try {
        expect(await run.exited).toBe(1);
        const errors = run.lines.map(json).filter((l) => l?.event === 'error');
        expect(errors).toHaveLength(1);
        const message = String(errors[0]?.message);
        expect(message).toContain(`${file} is unreadable (`);
        expect(message).toContain(fix);
        expect(message).not.toMatch(/\n\s+at /);
        expect(readFileSync(file, 'utf8')).toBe(content);
        // Nothing ran: no consumer was started, so nothing the pause held back was processed.
        expect(run.lines.some((l) => l.includes('is running'))).toBe(false);
      } finally {
        run.child.kill('SIGKILL');
      }
    },
    60_000,
  );

  it('refuses to start on a dedupe table whose stored items cannot be read, naming the data directory, the table and the fix, and exits 1', async () => {
    const dataDir = join(dir, 'damaged-table');
    const config = resolveConfig(exampleConfig);
    // Local mode's own tables, holding a few hundred delivery ids, as weeks of local webhooks leave them.
    const emulators = await startEmulators({ dataDir });
    const topology = await createTopology(config, emulators);
    const table = topology.dedupeTableName ?? '';
    expect(table).not.toBe('');
    const dynamo = localDynamoClient(emulators);
    for (let i = 0; i < 400; i += 25) {
      const items = Array.from({ length: 25 }, (_, j) => ({
        PutRequest: {
          Item: { pk: { S: `github#delivery-${i + j}` }, expiresAt: { N: String(2e9 + i + j) } },
        },
      }));
      await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
    }
    dynamo.destroy();
    await emulators.stop();
    // Opened again, LevelDB moves its log into a table file, the items' blocks first (their keys sort first).
    await (await startEmulators({ dataDir })).stop();
    const store = join(dataDir, 'dynalite');
    const files = readdirSync(store).filter((name) => name.endsWith('.ldb'));
    expect(files).toHaveLength(1);
    // Bytes of an items' block overwritten, as a bad sector or a write cut short leaves them: LevelDB still opens
    // the store and finds the table; only a read of those items fails.
    const file = join(store, files[0] ?? '');
    const bytes = readFileSync(file);
    bytes.fill(0xff, Math.floor(bytes.length * 0.2), Math.floor(bytes.length * 0.2) + 64);
    writeFileSync(file, bytes);

    const run = start({
      PORT: '0',
      HOOKLINE_DATA_DIR: dataDir,
      HOOKLINE_STATE_DIR: join(dir, 'damaged-table-state'),
    });
    try {
      const outcome = await Promise.race([
        run.exited.then((code) => ({ exited: code })),
        waitFor(
          () => run.lines.some((l) => l.includes('is running')) && { running: true },
          60_000,
          'the start',
        ),
      ]);
      expect(outcome).toEqual({ exited: 1 });
      const errors = run.lines.map(json).filter((l) => l?.event === 'error');
      expect(errors).toHaveLength(1);
      const message = String(errors[0]?.message);
      expect(message).toContain(
        `data directory ${dataDir}: the items of table ${table} in ${store} cannot be read (`,
      );
      expect(message).toContain(`move it aside (mv ${store} ${store}.damaged) to start with it empty`);
      expect(message).not.toMatch(/\n\s+at /);
      expect(readFileSync(file)).toEqual(bytes);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);

  it('names every consumer that does not build, at its line, with no stack trace, and exits 1', async () => {
    const broken = join(process.cwd(), '.hookline', `broken-consumer-${process.pid}.ts`);
    const unresolved = join(process.cwd(), '.hookline', `unresolved-consumer-${process.pid}.ts`);
    const config = join(process.cwd(), '.hookline', `broken-build-config-${process.pid}.ts`);
    writeFileSync(broken, 'export const handler = async () => {\n  const x = ;\n};\n');
    writeFileSync(
      unresolved,
      "import { gone } from './no-such-module';\nexport const handler = async () => gone;\n",
    );
    writeFileSync(
      config,
      `import { defineConfig } from '../lib/config';\nexport default defineConfig({ sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: ${JSON.stringify(broken)} } }, other: { consumer: { entry: ${JSON.stringify(unresolved)} } } } });\n`,
    );
    try {
      const run = start({ HOOKLINE_CONFIG: config, PORT: '0' });
      expect(await run.exited).toBe(1);
      const errors = run.lines.map(json).filter((l) => l?.event === 'error');
      expect(errors).toHaveLength(1);
      const message = String(errors[0]?.message);
      expect(message).toMatch(/function \S+-consumer-events \(.*broken-consumer-\d+\.ts\) does not build:/);
      expect(message).toMatch(/broken-consumer-\d+\.ts:2:\d+: Unexpected ";"/);
      expect(message).toMatch(
        /function \S+-consumer-other .* does not build:\n.*Could not resolve "\.\/no-such-module"/,
      );
      expect(message).toContain('Fix: correct the code');
      expect(message).not.toContain('    at ');
    } finally {
      for (const file of [broken, unresolved, config]) rmSync(file, { force: true });
    }
  }, 60_000);

  it('shows where a consumer threw at import, in its own file, and keeps serving', async () => {
    const throwing = join(process.cwd(), '.hookline', `throwing-consumer-${process.pid}.ts`);
    const config = join(process.cwd(), '.hookline', `throwing-config-${process.pid}.ts`);
    writeFileSync(
      throwing,
      "const table = process.env.MY_TABLE;\nif (!table) throw new Error('MY_TABLE is not set');\nexport const handler = async () => table;\n",
    );
    writeFileSync(
      config,
      `import { defineConfig } from '../lib/config';\nexport default defineConfig({ sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: ${JSON.stringify(throwing)} } } } });\n`,
    );
    const run = start({ HOOKLINE_CONFIG: config, PORT: '0' });
    try {
      const running = await waitFor(
        () =>
          run.lines.map(json).find((l) => String(l?.message).startsWith('hookline local mode is running')),
        60_000,
        'the running line',
      );
      expect(running).toBeDefined();
      const error = run.lines.map(json).find((l) => l?.event === 'error');
      const [first, ...rest] = String(error?.message).split('\n');
      expect(first).toMatch(
        /^function \S+-consumer-events failed to initialise: Error: MY_TABLE is not set$/,
      );
      expect(rest[0]).toMatch(/^ {4}at .*throwing-consumer-\d+\.ts:2:\d+\)?$/);
      expect(rest.join('\n')).not.toMatch(/node:internal|function-worker/);
      expect(rest.at(-1)).toContain('until the code is fixed and local mode is started again');
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      for (const file of [throwing, config]) rmSync(file, { force: true });
    }
  }, 60_000);

  it('says when a consumer file or the configuration changes or is deleted while running what a restart does', async () => {
    const consumer = join(process.cwd(), '.hookline', `edited-consumer-${process.pid}.ts`);
    const deleted = join(process.cwd(), '.hookline', `deleted-consumer-${process.pid}.ts`);
    const config = join(process.cwd(), '.hookline', `edited-config-${process.pid}.ts`);
    for (const file of [consumer, deleted])
      writeFileSync(file, 'export const handler = async () => ({ batchItemFailures: [] });\n');
    writeFileSync(
      config,
      `import { defineConfig } from '../lib/config';\nexport default defineConfig({ sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: ${JSON.stringify(consumer)} } }, other: { consumer: { entry: ${JSON.stringify(deleted)} } } } });\n`,
    );
    const run = start({ HOOKLINE_CONFIG: config, PORT: '0' });
    const notices = () =>
      run.lines
        .map(json)
        .filter((l) => l?.event === 'error')
        .map((l) => String(l?.message));
    try {
      await waitFor(
        () =>
          run.lines.map(json).find((l) => String(l?.message).startsWith('hookline local mode is running')),
        60_000,
        'the running line',
      );
      writeFileSync(consumer, "export const handler = async () => {\n  console.log('edited');\n};\n");
      await waitFor(
        () => notices().find((m) => m.includes('edited-consumer')),
        10_000,
        'the consumer notice',
      );
      writeFileSync(config, `${readFileSync(config, 'utf8')}// edited\n`);
      await waitFor(() => notices().find((m) => m.includes('edited-config')), 10_000, 'the config notice');
      rmSync(deleted);
      await waitFor(
        () => notices().find((m) => m.includes('deleted-consumer')),
        10_000,
        'the deleted notice',
      );
      expect(notices()).toEqual([
        `.hookline/edited-consumer-${process.pid}.ts changed: local mode still runs what it started with; stop it (Ctrl-C) and start it again to run the change`,
        `.hookline/edited-config-${process.pid}.ts changed: local mode still runs what it started with; stop it (Ctrl-C) and start it again to run the change`,
        `.hookline/deleted-consumer-${process.pid}.ts deleted: local mode still runs what it started with; it is the entry of consumer other, so the next start stops with a configuration problem at queues.other.consumer.entry (the file does not exist): restore it, or change the entry`,
      ]);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      for (const file of [consumer, deleted, config]) rmSync(file, { force: true });
    }
  }, 60_000);

  it('prints the configuration error and exits 1', async () => {
    const config = join(process.cwd(), '.hookline', `bad-config-${process.pid}.ts`);
    writeFileSync(
      config,
      `import { defineConfig } from '../lib/config';\nexport default defineConfig({ sources: { github: { type: 'github' } }, queues: { events: { maxReceiveCount: 0 } } });\n`,
    );
    try {
      const run = start({ HOOKLINE_CONFIG: config, PORT: '0' });
      expect(await run.exited).toBe(1);
      const error = run.lines.map(json).find((l) => l?.event === 'error');
      expect(String(error?.message)).toContain('queues.events.maxReceiveCount: must be between 1 and 1000');
    } finally {
      rmSync(config, { force: true });
    }
  }, 60_000);
  it('leaves no lock or state file behind when a second Ctrl-C quits at once while a batch runs', async () => {
    const slow = join(process.cwd(), '.hookline', `slow-consumer-${process.pid}.ts`);
    const config = join(process.cwd(), '.hookline', `slow-config-${process.pid}.ts`);
    writeFileSync(
      slow,
      "export const handler = async () => {\n  console.log('batch started');\n  await new Promise((resolve) => setTimeout(resolve, 60_000));\n};\n",
    );
    writeFileSync(
      config,
      `import { defineConfig } from '../lib/config';\nexport default defineConfig({ sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: ${JSON.stringify(slow)} } } } });\n`,
    );
    const stateDir = mkdtempSync(join(tmpdir(), 'hookline-forced-quit-state-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-forced-quit-data-'));
    const run = start({
      HOOKLINE_CONFIG: config,
      PORT: '0',
      HOOKLINE_STATE_DIR: stateDir,
      HOOKLINE_DATA_DIR: dataDir,
    });
    try {
      const stateFile = join(stateDir, 'local.json');
      const state = await waitFor(
        () =>
          existsSync(stateFile)
            ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { webhookBaseUrl: string })
            : undefined,
        60_000,
        'the state file',
      );
      const body = JSON.stringify({ ref: 'refs/heads/main', commits: [] });
      const headers = signWebhook(
        { type: 'github', secretId: 'env:HOOKLINE_SECRET_GITHUB' },
        'dev-secret-github',
        body,
        { id: `forced-${Date.now()}` },
      );
      const response = await fetch(`${state.webhookBaseUrl}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers },
        body,
      });
      expect(response.status).toBe(202);
      await waitFor(() => run.lines.find((l) => l.includes('batch started')), 30_000, 'the batch to start');
      run.child.kill('SIGINT');
      await waitFor(
        () => run.lines.find((l) => l.includes('stopping: waiting for 1 batch in flight')),
        10_000,
        'the stop to wait for the batch',
      );
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      expect(readdirSync(stateDir).sort()).toEqual(['journal.jsonl']);
      expect(readdirSync(dataDir).sort()).toEqual(['dynalite', 'fauxqs']);
    } finally {
      run.child.kill('SIGKILL');
      for (const path of [slow, config, stateDir, dataDir]) rmSync(path, { recursive: true, force: true });
    }
  }, 90_000);
});
