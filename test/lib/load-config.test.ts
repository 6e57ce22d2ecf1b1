import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Inside the repository, so the configuration resolves aws-cdk-lib as a project's would.
const dir = mkdtempSync(join(ROOT, 'node_modules', '.tmp-load-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
import * as cdk from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import { defineConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'config', 'index.ts')).href)};

export default defineConfig({
  stackName: 'LoadConfigTest',
  sources: { github: { type: 'github' } },
  queues: { events: { visibilityTimeout: Duration.seconds(45), retentionPeriod: cdk.Duration.days(3) } },
  defaultRoute: { queues: ['events'] },
});
`;

/** Reads the configuration in a fresh Node process; reports what it resolved and which CDK modules it loaded. */
function readInFreshProcess(file: string): {
  visibility: number;
  retentionDays: number;
  cdkModules: string[];
} {
  const script = `
    import { createRequire } from 'node:module';
    import { readConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'load-config.ts')).href)};
    const config = await readConfig(${JSON.stringify(file)}, ${JSON.stringify(dir)});
    const queue = config.queues.find((q) => q.name === 'events');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      visibility: queue.visibilityTimeout.toSeconds(),
      retentionDays: queue.retentionPeriod.toDays(),
      cdkModules: loaded.filter((path) => /aws-cdk-lib[\\\\/]aws-[^\\\\/]+[\\\\/]index\\.js$/.test(path)),
    }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
}

describe('readConfig', () => {
  it("gives a configuration aws-cdk-lib's root exports without loading its service modules", () => {
    const file = join(dir, 'hookline.config.ts');
    writeFileSync(file, CONFIG);
    const read = readInFreshProcess(file);
    expect(read.visibility).toBe(45);
    expect(read.retentionDays).toBe(3);
    expect(read.cdkModules).toEqual([]);
  }, 60_000);
});
