import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** The aws-cdk-lib modules a fresh Node process has loaded after importing `module` (as `npm start` does). */
function cdkModulesLoadedBy(module: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(pathToFileURL(join(ROOT, module)).href)});
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((path) => /aws-cdk-lib[\\\\/](aws-[^\\\\/]+[\\\\/])?index\\.js$/.test(path))));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as string[];
}

describe('what npm start loads', () => {
  // aws-cdk-lib's root loads all its service modules when imported as an ES module (about a second), and the
  // construct modules are for synth only: local mode needs Duration and friends from aws-cdk-lib/core.
  it('loads neither the root of aws-cdk-lib nor any of its service modules with local mode', () => {
    expect(cdkModulesLoadedBy('lib/local/dev.ts')).toEqual([]);
  }, 60_000);
});
