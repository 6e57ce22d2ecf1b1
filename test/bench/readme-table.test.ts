import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_RECORD, recordedRun, tableHeading } from '../../bench/_readme-table';

const dirs: string[] = [];
const resultsDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-results-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the README's performance table heading", () => {
  it('states when the recorded run ended and the load then, whenever the table is rewritten from disk', () => {
    const dir = resultsDir();
    writeFileSync(
      join(dir, RUN_RECORD),
      JSON.stringify({ endedAt: '2026-12-03T09:11:47.123Z', loadAverage: [3.61, 2.08, 2.7] }),
    );
    expect(tableHeading(recordedRun(dir))).toBe(
      'One `npm run bench` run, 2026-12-03 09:11 UTC, 2 cores (load average at the end: 3.6, 2.1, 2.7):',
    );
  });

  it('refuses to name a run when no complete run was recorded, rather than stating the time of the rewrite', () => {
    const dir = resultsDir();
    expect(() => recordedRun(dir)).toThrow(/run\.json is missing: .*only npm run bench .* records one/);
  });
});
