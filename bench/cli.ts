/**
 * Start time of the compiled `hookline` CLI (dist/bin/hookline.js, what `npx hookline` runs), against
 * `node -e 0` (the floor: starting Node itself) measured in the same run, interleaved round by round:
 * - `hookline --help`: parsing and the command list, no AWS SDK;
 * - `hookline status --local`: loads the SDK clients and asks a running local mode (started here, in-process);
 * - the same `--help` through tsx from the TypeScript sources, as the CLI ran before it was compiled.
 *
 * Builds dist/ first when it is missing or older than its sources. Medians over ROUNDS rounds.
 * Usage: npx tsx bench/cli.ts
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exampleConfig from '../hookline.config';
import { resolveConfig } from '../lib/config';
import { startLocalMode } from '../lib/local/local-mode';
import { Reporter } from '../lib/local/reporter';
import { median, ROOT, writeResults } from './_shared';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CLI = join(ROOT, 'dist/bin/hookline.js');

/**
 * Wall-clock milliseconds of one run of `node <args>` (rejects when it exits non-zero). Asynchronous: local mode
 * answers `status --local` from this process's event loop.
 */
async function timed(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await promisify(execFile)(process.execPath, args, { cwd: ROOT, env });
  return performance.now() - started;
}

/** True when dist/ is missing or older than a source file it is built from (the bench times the compiled CLI). */
function distIsStale(): boolean {
  if (!existsSync(CLI)) return true;
  const built = statSync(CLI).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).some(
      (file) => file.endsWith('.ts') && statSync(join(ROOT, dir, file)).mtimeMs > built,
    );
  return ['bin', 'lib', 'lambda'].some(newer);
}

async function main(): Promise<void> {
  if (distIsStale()) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const stateDir = mkdtempSync(join(tmpdir(), 'hookline-bench-cli-'));
  const local = await startLocalMode({
    config: resolveConfig(exampleConfig),
    port: 0,
    stateDir,
    reporter: new Reporter({ write: () => {} }),
    env: {},
    buildDir: join(ROOT, '.hookline', 'bench-cli-build'),
  });
  const env = { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' };
  const cases: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'hookline --help': [CLI, '--help'],
    'hookline status --local': [CLI, 'status', '--local'],
    'tsx bin/hookline.ts --help (sources)': ['--import', 'tsx', join(ROOT, 'bin/hookline.ts'), '--help'],
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  try {
    for (const args of Object.values(cases)) await timed(args, env); // warm the file cache
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(cases)) samples[name]?.push(await timed(args, env));
    }
  } finally {
    await local.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  report(samples);
}

function report(samples: Record<string, number[]>): void {
  const floor = median(samples['node -e 0'] ?? []);
  const rows = Object.entries(samples).map(([command, values]) => ({
    command,
    medianMs: Math.round(median(values)),
    ratioToNode: Number((median(values) / floor).toFixed(1)),
  }));
  console.log(`CLI start, median of ${ROUNDS} rounds (ratio to node -e 0 in the same run):`);
  for (const row of rows) {
    console.log(`  ${row.command.padEnd(40)} ${String(row.medianMs).padStart(6)} ms  x${row.ratioToNode}`);
  }
  console.log(`results: ${writeResults('cli', { rounds: ROUNDS, rows }, { biomeLayout: true })}`);
}

await main();
