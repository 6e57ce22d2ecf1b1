/**
 * `npm run bench`: runs every benchmark in bench/ one after another (never in parallel: they share 2 cores),
 * each in its own process. Each benchmark prints its table and writes bench/results/<name>.json.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { RUN_RECORD, writeReadmeTable } from './_readme-table';
import { writeResults } from './_shared';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => only.length === 0 || only.includes(name));

let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench/${name}.ts ===`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, `${name}.ts`)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  if (result.status !== 0) {
    failed += 1;
    console.error(`bench/${name}.ts failed (exit ${result.status})`);
  }
}
console.log(
  `\n${benches.length - failed} of ${benches.length} benchmarks completed; results in bench/results/`,
);
// The README shows one complete run: only a run of every benchmark, all completed, rewrites its table.
if (only.length === 0 && failed === 0) {
  // Kept beside the results, so a later rewrite from disk (bench/_readme-table.ts) states this run, not its own time.
  writeResults(RUN_RECORD.replace(/\.json$/, ''), {
    endedAt: new Date().toISOString(),
    loadAverage: loadavg(),
  });
  writeReadmeTable();
  console.log('README.md: performance table rewritten from this run');
}
process.exit(failed === 0 ? 0 : 1);
