import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

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

/**
 * Records which of the project's own modules import esbuild (`import` resolves through this hook; tsx loads its own
 * esbuild with `require`, which does not), one importer's URL a line in the file given as `data.log`.
 */
const ESBUILD_IMPORTERS_HOOK = `
  import { appendFileSync } from 'node:fs';
  let log;
  export function initialize(data) { log = data.log; }
  export async function resolve(specifier, context, next) {
    if (/^esbuild(\\/|$)/.test(specifier) && !/[\\/]node_modules[\\/]/.test(context.parentURL ?? '')) {
      appendFileSync(log, (context.parentURL ?? '') + '\\n');
    }
    return next(specifier, context);
  }
`;

const scratch = mkdtempSync(join(ROOT, 'node_modules', '.tmp-start-modules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The project's modules that import esbuild while a fresh Node process runs `script` (an ES module body). */
function esbuildImportersWhile(script: string): string[] {
  const log = join(scratch, `esbuild-importers-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const hook = `data:text/javascript,${encodeURIComponent(ESBUILD_IMPORTERS_HOOK)}`;
  const registered = `
    import { register } from 'node:module';
    register(${JSON.stringify(hook)}, { data: { log: ${JSON.stringify(log)} } });
    ${script}
  `;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', registered], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((url) => url.slice(pathToFileURL(ROOT).href.length + 1));
}

describe('what the hookline CLI loads', () => {
  // The CLI checks no consumer's handler (synth and local start do), so esbuild's JS API, which that check and a
  // TypeScript configuration use, is no load for a command reading a JavaScript configuration.
  it('does not import esbuild to load a JavaScript configuration', () => {
    const config = join(scratch, 'hookline.config.mjs');
    writeFileSync(
      config,
      "export default { sources: { github: { type: 'github' } }, queues: { events: {} } };\n",
    );
    const backend = pathToFileURL(join(ROOT, 'lib', 'cli', 'backend.ts')).href;
    const program = pathToFileURL(join(ROOT, 'lib', 'cli', 'program.ts')).href;
    const importers = esbuildImportersWhile(`
      await import(${JSON.stringify(program)});
      const { loadConfig } = await import(${JSON.stringify(backend)});
      const config = await loadConfig(${JSON.stringify(config)});
      if (config.queues.length !== 1) throw new Error('the configuration did not load');
    `);
    expect(importers).toEqual([]);
  }, 60_000);

  it('sees an import of esbuild, as it would from a module the CLI loads', () => {
    const loader = pathToFileURL(join(ROOT, 'lib', 'local', 'function-runtime.ts')).href;
    expect(esbuildImportersWhile(`await import(${JSON.stringify(loader)});`)).toContain(
      'lib/local/function-runtime.ts',
    );
  }, 60_000);
});
