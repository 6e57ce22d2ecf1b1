import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'hookline-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A configuration with four problems: an unknown key, a range error, a missing entry file and a bad cron. */
const badConfig = join(dir, 'bad.config.ts');
writeFileSync(
  badConfig,
  `export default {
  sources: { github: { type: 'github' } },
  queues: {
    events: { maxRecieveCount: 3, maxReceiveCount: 0, consumer: { entry: 'lambda/consumers/nope.ts' } },
  },
  schedules: [{ name: 'nightly', expression: 'cron(99 3 * * ? *)', queue: 'events', type: 'x' }],
};
`,
);

const EXPECTED = [
  'queues.events.maxRecieveCount: is not a known setting here: did you mean maxReceiveCount? (got 3). Fix: rename maxRecieveCount to maxReceiveCount',
  'queues.events.maxReceiveCount: must be between 1 and 1000 (got 0). Fix: use 5',
  'queues.events.consumer.entry: the consumer entry file does not exist (got "lambda/consumers/nope.ts"). Fix: create the file',
  'schedules.0.expression: "99" is out of range in the minutes field (0-59) (got "cron(99 3 * * ? *)"). Fix: cron(minutes hours',
];

/** Runs a command of the project as a user would, with HOOKLINE_CONFIG naming the bad file. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, HOOKLINE_CONFIG: badConfig, HOOKLINE_LOG: 'text', NO_COLOR: '1', CI: 'true' },
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
  for (const text of EXPECTED) expect(output).toContain(text);
  expect(output).toMatch(/Invalid hookline configuration \(4 problems\)/);
  expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(output).not.toMatch(/esbuild|HooklineConfigError:/);
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

  it('the CLI reads HOOKLINE_CONFIG with the same loader and prints every problem', async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', 'bin/hookline.ts', 'status']);
    expect(code).toBe(1);
    expectEveryProblemWithoutStackTrace(output);
  }, 60_000);
});
