import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'hookline-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The files import aws-cdk-lib as a user's would, from the project's packages.
symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));

/**
 * A configuration with eleven problems of every kind: unknown keys, a wrong type, ranges, a missing entry file, a
 * bad cron, a name that is not configured, a combination AWS refuses.
 */
const badConfig = join(dir, 'bad.config.ts');
writeFileSync(
  badConfig,
  `import { Duration } from 'aws-cdk-lib';
export default {
  stackNmae: 'Hooks',
  sources: { github: { type: 'github' } },
  queues: {
    events: {
      maxRecieveCount: 3,
      maxReceiveCount: 0,
      retentionPeriod: 345600,
      consumer: { entry: 'lambda/consumers/nope.ts', memorySize: 64 },
    },
    orders: { fifo: true, tenants: { github: { path: 'account' } } },
  },
  routes: [{ source: 'gitlab', queues: ['events'] }],
  ingest: { timeout: Duration.seconds(60) },
  logRetentionDays: 31,
  schedules: [{ name: 'nightly', expression: 'cron(99 3 * * ? *)', queue: 'events', type: 'x' }],
};
`,
);

const EXPECTED = [
  'stackNmae: is not a known setting here: did you mean stackName? (got "Hooks"). Fix: rename stackNmae to stackName',
  'queues.events.maxRecieveCount: is not a known setting here: did you mean maxReceiveCount? (got 3). Fix: rename maxRecieveCount to maxReceiveCount',
  'queues.events.maxReceiveCount: must be between 1 and 1000 (got 0). Fix: use 5',
  'queues.events.retentionPeriod: expected a Duration, e.g. Duration.seconds(30) (got 345600). Fix: use a Duration, e.g. Duration.seconds(345600)',
  'queues.events.consumer.entry: the consumer entry file does not exist (got "lambda/consumers/nope.ts"). Fix: create the file',
  'queues.events.consumer.memorySize: Lambda memory is between 128 and 10240 MB (got 64). Fix: use e.g. 512',
  'queues.orders.tenants: tenant fairness is for standard queues',
  'routes.0.source: names a source that is not configured (got "gitlab"). Fix: use one of: github',
  'ingest.timeout: between 1 and 29 seconds (senders give up after 3 to 10 seconds) (got 1 minute). Fix: use Duration.seconds(10)',
  'logRetentionDays: CloudWatch Logs accepts only certain retention periods (got 31). Fix: use one of 1, 3',
  'schedules.0.expression: "99" is out of range in the minutes field (0-59) (got "cron(99 3 * * ? *)"). Fix: cron(minutes hours',
];

/** A user's own CDK app (ES module, run as `cdk synth` runs it) that builds a HooklinePipeline from the bad file. */
const userApp = join(dir, 'app.ts');
writeFileSync(
  userApp,
  `import { App, Stack } from 'aws-cdk-lib';
import { HooklinePipeline } from ${JSON.stringify(join(process.cwd(), 'lib', 'index.ts'))};
import config from ${JSON.stringify(badConfig)};
const app = new App();
new HooklinePipeline(new Stack(app, 'Mine'), 'Webhooks', { config });
app.synth();
`,
);

/** Runs a command of the project as a user would, with HOOKLINE_CONFIG naming the bad file (or `config`). */
function run(
  command: string,
  args: string[],
  config = badConfig,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, HOOKLINE_CONFIG: config, HOOKLINE_LOG: 'text', NO_COLOR: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

function expectEveryProblemWithoutStackTrace(output: string): void {
  expectEveryProblemWithoutFrames(output);
  expect(output).not.toMatch(/esbuild|HooklineConfigError:/);
}

/** Every problem, listed at once, and no frame of a stack trace. */
function expectEveryProblemWithoutFrames(output: string): void {
  for (const text of EXPECTED) expect(output).toContain(text);
  expect(output).toMatch(/Invalid hookline configuration \(11 problems\)/);
  expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('a bad configuration fails every entry point with one listing and no stack trace', () => {
  it('npx cdk synth prints every problem and exits 1', async () => {
    const { code, output } = await run('npx', ['cdk', 'synth', '--quiet', '--output', join(dir, 'cdk.out')]);
    expect(code).toBe(1);
    expectEveryProblemWithoutStackTrace(output);
  }, 120_000);

  it('npm start prints every problem and exits 1', async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', 'bin/local.ts']);
    expect(code).toBe(1);
    expectEveryProblemWithoutStackTrace(output);
  }, 60_000);

  it("a user's CDK app that builds a HooklinePipeline from it fails with every problem and no frame", async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', userApp]);
    expect(code).toBe(1);
    // Node prints the line an uncaught error was thrown at above it; what follows is the listing alone.
    expectEveryProblemWithoutFrames(output);
  }, 60_000);

  it('the CLI reads HOOKLINE_CONFIG with the same loader and prints every problem', async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', 'bin/hookline.ts', 'status']);
    expect(code).toBe(1);
    expectEveryProblemWithoutStackTrace(output);
  }, 60_000);
});

/**
 * A configuration with a wrong value in every field of the schema (test/helpers/config-audit.ts): the two entry points
 * a user meets list the same problems.
 */
const everyFieldWrongConfig = join(dir, 'every-field-wrong.config.ts');
writeFileSync(
  everyFieldWrongConfig,
  `import { everyFieldWrong } from ${JSON.stringify(join(process.cwd(), 'test', 'helpers', 'config-audit.ts'))};
export default everyFieldWrong().config;
`,
);

/** The listed problems of an output, one a line. */
const problemLines = (output: string): string[] => output.split('\n').filter((line) => /^\s+- /.test(line));

describe('a configuration with every field wrong fails cdk synth and npm start alike', () => {
  it('lists the same problems, every one, with no stack trace, and exits 1 from both', async () => {
    const [synth, start] = await Promise.all([
      run('npx', ['cdk', 'synth', '--quiet', '--output', join(dir, 'cdk-every.out')], everyFieldWrongConfig),
      run(process.execPath, ['--import', 'tsx', 'bin/local.ts'], everyFieldWrongConfig),
    ]);
    expect(synth.code).toBe(1);
    expect(start.code).toBe(1);
    const listed = problemLines(synth.output);
    const count = Number(/Invalid hookline configuration \((\d+) problems\)/.exec(synth.output)?.[1]);
    expect(listed.length).toBe(count);
    expect(count).toBeGreaterThan(100);
    expect(problemLines(start.output)).toEqual(listed);
    for (const { output } of [synth, start]) {
      expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(output).not.toMatch(/Invalid input|expected \w+, received|HooklineConfigError:/);
    }
  }, 180_000);
});

/**
 * A consumer whose handler names no export of its entry file, which Lambda would find only at the first message, and
 * one whose entry is CommonJS, whose bundle would export only `default`. The CommonJS file is under the project
 * root, where consumers are bundled from.
 */
const commonJsDir = mkdtempSync(join(process.cwd(), 'node_modules', '.tmp-config-errors-'));
afterAll(() => rmSync(commonJsDir, { recursive: true, force: true }));
writeFileSync(join(commonJsDir, 'legacy.cjs'), 'exports.handler = async () => {};\n');
const commonJsEntry = relative(process.cwd(), join(commonJsDir, 'legacy.cjs'));
const wrongHandlerConfig = join(dir, 'wrong-handler.config.ts');
writeFileSync(
  wrongHandlerConfig,
  `export default {
  sources: { github: { type: 'github' } },
  queues: {
    events: { consumer: { entry: 'lambda/consumers/events.ts', handler: 'handlr' } },
    legacy: { consumer: { entry: ${JSON.stringify(commonJsEntry)} } },
  },
};
`,
);

describe('a consumer handler that its entry does not export, or a CommonJS entry, fails cdk synth and npm start alike', () => {
  it('names the path, the value, what the entry exports and the fix, in the same words, and exits 1 from both', async () => {
    const [synth, start] = await Promise.all([
      run('npx', ['cdk', 'synth', '--quiet', '--output', join(dir, 'cdk-handler.out')], wrongHandlerConfig),
      run(process.execPath, ['--import', 'tsx', 'bin/local.ts'], wrongHandlerConfig),
    ]);
    const expected =
      'queues.events.consumer.handler: lambda/consumers/events.ts has no export named "handlr", the function Lambda calls (it exports "handler"): did you mean handler? (got "handlr"). Fix: set handler: \'handler\', or export the function as "handlr" from lambda/consumers/events.ts';
    const commonJs = `queues.legacy.consumer.entry: ${commonJsEntry} is a CommonJS module (module.exports, exports.handler), and consumers are bundled as ES modules: the bundle would export only "default"`;
    for (const { code, output } of [synth, start]) {
      expect(code).toBe(1);
      expect(output).toContain(expected);
      expect(output).toContain(commonJs);
      expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    }
    expect(problemLines(start.output)).toEqual(problemLines(synth.output));
  }, 180_000);
});

/** A configuration whose queues come from a file of its own folder that writes one queue twice. */
const importedRepeatConfig = join(dir, 'imported-repeat.config.ts');
mkdirSync(join(dir, 'parts'));
writeFileSync(
  join(dir, 'parts', 'queues.ts'),
  'export const queues = {\n  events: {},\n  events: { maxReceiveCount: 3 },\n};\n',
);
writeFileSync(
  importedRepeatConfig,
  `import { queues } from './parts/queues';
export default { sources: { github: { type: 'github' } }, queues };
`,
);

describe('a key written twice in a file the configuration imports fails cdk synth and npm start alike', () => {
  it("names that file's path from the configuration's folder, the line and the column, and exits 1 from both", async () => {
    const [synth, start] = await Promise.all([
      run('npx', ['cdk', 'synth', '--quiet', '--output', join(dir, 'cdk-repeat.out')], importedRepeatConfig),
      run(process.execPath, ['--import', 'tsx', 'bin/local.ts'], importedRepeatConfig),
    ]);
    for (const { code, output } of [synth, start]) {
      expect(code).toBe(1);
      expect(problemLines(output)).toEqual([
        '  - parts/queues.ts:3:3: repeats the key "events" of line 2, column 3: JavaScript keeps only the later one, so the earlier is silently dropped (got "events"). Fix: give each entry a name of its own, or remove the one you do not mean',
      ]);
      expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    }
  }, 180_000);
});

/** A one-time schedule whose time has passed: it would never fire, deployed or locally. */
const passedScheduleConfig = join(dir, 'passed-schedule.config.ts');
writeFileSync(
  passedScheduleConfig,
  `export default {
  sources: { github: { type: 'github' } },
  queues: { events: {} },
  schedules: [{ name: 'launch', expression: 'at(2020-01-31T09:00:00)', queue: 'events', type: 'launch.day' }],
};
`,
);

/** Starts `npm start`'s script on `config`; resolves with its output once a line matches `until`, then stops it. */
async function startUntil(config: string, until: RegExp): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    env: { ...process.env, HOOKLINE_CONFIG: config, HOOKLINE_LOG: 'text', NO_COLOR: '1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (until.test(output)) resolve();
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then(() => resolve());
  });
  child.kill('SIGINT');
  return { code: await exited, output };
}

const PASSED_WARNING =
  'schedule launch (schedules.0.expression): the time of the one-time schedule at(2020-01-31T09:00:00) has passed, so it will not fire again: deployed before that time, it has fired already; never deployed, EventBridge Scheduler may refuse to create it, or it never fires; local mode does not fire it. Remove the schedule from the configuration';

describe('a one-time schedule whose time has passed: cdk synth and npm start warn, and neither fails', () => {
  it('synthesizes the schedule with the warning, and starts local mode saying the same words', async () => {
    const [synth, start] = await Promise.all([
      run('npx', ['cdk', 'synth', '--quiet', '--output', join(dir, 'cdk-passed.out')], passedScheduleConfig),
      startUntil(passedScheduleConfig, /Remove the schedule from the configuration/),
    ]);
    expect(synth.code).toBe(0);
    expect(synth.output).toContain(`WARNING ${PASSED_WARNING}`);
    expect(synth.output).toMatch(/^\s+\S+\/Schedules\/launch\/Schedule$/m);
    expect(start.output).toContain(PASSED_WARNING);
    expect(start.output).not.toMatch(/Invalid hookline configuration/);
    expect(start.code).toBe(0);
  }, 180_000);
});
