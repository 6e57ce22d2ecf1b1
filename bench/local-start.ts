/**
 * How long `npm start` (its script in package.json, on the example configuration) takes until local mode is ready, against
 * `node -e 0` measured in the same run:
 *
 * - first start: an empty bundle cache, an empty build folder and tsx's transform cache off (a fresh clone);
 * - warm start: the cache the previous start filled, nothing edited.
 *
 * Each start is a separate process timed from spawn to the "local mode is running" line; medians over ROUNDS
 * rounds, the baseline interleaved with them so load on the machine hits both alike. Each start's own phase
 * breakdown (`HOOKLINE_VERBOSE=1`) is kept for the median run.
 * Usage: npx tsx bench/local-start.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, ROOT, writeResults } from './_shared';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TSX_CLI = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const READY = /local mode is running/;

/** `npm start`'s script as node's arguments (without npm itself, whose own start is not local mode's). */
function startArguments(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = pkg.scripts.start.split(/\s+/);
  if (command === 'node') return args;
  if (command === 'tsx') return [TSX_CLI, ...args];
  throw new Error(`cannot run the start script ${pkg.scripts.start}`);
}

interface Start {
  readonly ms: number;
  /** The start's own breakdown, `name from-to` in ms from the call of startLocalMode. */
  readonly phases: string;
}

/** Milliseconds from spawning `node -e 0` to its exit. */
function nodeBaseline(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - started));
  });
}

/** Spawns `npm start`'s command and resolves once it reports ready; the process is stopped afterwards. */
async function timeStart(env: Record<string, string>): Promise<Start> {
  const started = performance.now();
  const child = spawn(process.execPath, startArguments(), {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOOKLINE_LOG: 'json', HOOKLINE_VERBOSE: '1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const phases = await readyLine(child);
    return { ms: performance.now() - started, phases };
  } finally {
    await stop(child);
  }
}

/** Resolves with the start's phase line once the ready line arrives; rejects if the process exits first. */
function readyLine(child: ChildProcess): Promise<string> {
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!READY.test(output)) return;
      const message = (prefix: string) => {
        const line = output.split('\n').find((l) => l.includes(`"${prefix}`));
        return line ? (JSON.parse(line) as { message: string }).message.slice(prefix.length) : '';
      };
      resolve([message('before start: '), message('start: ')].filter(Boolean).join('; startLocalMode: '));
    });
    child.once('exit', (code) => reject(new Error(`npm start exited ${code} before ready:\n${errors}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** The start whose time is the median (lower middle for an even count). */
function medianStart(starts: readonly Start[]): Start {
  const sorted = [...starts].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor((sorted.length - 1) / 2)] as Start;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'hookline-bench-start-'));
  const cacheDir = join(work, 'cache');
  const buildDir = join(ROOT, '.hookline', 'build');
  const env = { HOOKLINE_CACHE_DIR: cacheDir, HOOKLINE_STATE_DIR: join(work, 'state') };
  const baseline: number[] = [];
  const first: Start[] = [];
  const warm: Start[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(await nodeBaseline());
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(buildDir, { recursive: true, force: true });
      first.push(await timeStart({ ...env, TSX_DISABLE_CACHE: '1' }));
      baseline.push(await nodeBaseline());
      warm.push(await timeStart(env));
      process.stdout.write('.');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  report(median(baseline), first, warm);
}

function report(nodeMs: number, first: readonly Start[], warm: readonly Start[]): void {
  const row = (name: string, starts: readonly Start[]) => {
    const ms = median(starts.map((s) => s.ms));
    return {
      name,
      ms: Math.round(ms),
      ratio: Math.round((ms / nodeMs) * 10) / 10,
      phases: medianStart(starts).phases,
    };
  };
  const rows = [row('first start (empty caches)', first), row('warm start', warm)];
  console.log(`\n\`node -e 0\`: ${Math.round(nodeMs)} ms (median of ${ROUNDS * 2})`);
  console.log('| npm start until ready | ms | x `node -e 0` |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.ms} | ${r.ratio} |`);
  for (const r of rows)
    console.log(`${r.name}, phases (ms; before start from the process start): ${r.phases}`);
  const file = writeResults(
    'local-start',
    {
      rounds: ROUNDS,
      nodeBaselineMs: Math.round(nodeMs),
      firstStart: rows[0],
      warmStart: rows[1],
      samples: { firstMs: first.map((s) => Math.round(s.ms)), warmMs: warm.map((s) => Math.round(s.ms)) },
    },
    { biomeLayout: true },
  );
  console.log(`results: ${file}`);
}

await main();
