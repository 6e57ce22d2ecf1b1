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
 * esbuild with `require`, which does not), one importer's URL a line in the file given as `data.log`. A `require` of
 * esbuild is recorded by {@link ESBUILD_REQUIRERS}.
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

/**
 * Records which of the project's own modules `require` esbuild (lib/esbuild-api.ts loads it so, on first use), as the
 * hook does for `import`: tsx's own `require` of it comes from node_modules, which is left out.
 */
const ESBUILD_REQUIRERS = `
  const Module = createRequire(import.meta.url)('node:module');
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    const from = parent?.filename ?? '';
    if (/^esbuild(\\/|$)/.test(request) && from !== '' && !/[\\\\/]node_modules[\\\\/]/.test(from)) {
      appendFileSync(LOG, pathToFileURL(from).href + '\\n');
    }
    return load.call(this, request, parent, ...rest);
  };
`;

const scratch = mkdtempSync(join(ROOT, 'node_modules', '.tmp-start-modules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The project's modules that import esbuild while a fresh Node process runs `script` (an ES module body). */
function esbuildImportersWhile(script: string): string[] {
  const log = join(scratch, `esbuild-importers-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(log, '');
  const hook = `data:text/javascript,${encodeURIComponent(ESBUILD_IMPORTERS_HOOK)}`;
  const registered = `
    import { appendFileSync } from 'node:fs';
    import { createRequire, register } from 'node:module';
    import { pathToFileURL } from 'node:url';
    const LOG = ${JSON.stringify(log)};
    register(${JSON.stringify(hook)}, { data: { log: LOG } });
    ${ESBUILD_REQUIRERS}
    ${script}
  `;
  // In the environment a person runs the CLI in: not the suite's, which turns the stack's template validation off.
  const { CDK_VALIDATION: _, ...env } = process.env;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', registered], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
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

  // `hookline cost` synthesizes the stack without bundling (no stack is marked for it), so the ingest's bundler,
  // which synthesizing reaches, is no load for it either; nor is CloudFormation's template validation, whose engine
  // takes seconds to start: the template is counted, not deployed.
  it('neither imports esbuild nor starts template validation to price a JavaScript configuration with hookline cost', () => {
    const config = join(scratch, 'hookline.config.mjs');
    writeFileSync(
      config,
      "export default { sources: { github: { type: 'github' } }, queues: { events: {} } };\n",
    );
    const backend = pathToFileURL(join(ROOT, 'lib', 'cli', 'backend.ts')).href;
    const cost = pathToFileURL(join(ROOT, 'lib', 'cli', 'cost.ts')).href;
    const importers = esbuildImportersWhile(`
      const { loadConfig } = await import(${JSON.stringify(backend)});
      const { costOf } = await import(${JSON.stringify(cost)});
      const estimate = await costOf(await loadConfig(${JSON.stringify(config)}), { perMonth: 1_000_000 });
      if (!estimate.fixed) throw new Error('the stack was not synthesized: ' + estimate.assumptions.at(-1));
      const validating = Object.keys(createRequire(import.meta.url).cache).find((path) =>
        /[\\\\/]@aws[\\\\/]cloudformation-validate[\\\\/]/.test(path),
      );
      if (validating) throw new Error('the stack was validated: ' + validating + ' was loaded');
    `);
    expect(importers).toEqual([]);
  }, 120_000);

  it('sees an import of esbuild, as it would from a module the CLI loads', () => {
    const loader = pathToFileURL(join(ROOT, 'lib', 'local', 'function-runtime.ts')).href;
    expect(esbuildImportersWhile(`await import(${JSON.stringify(loader)});`)).toContain(
      'lib/local/function-runtime.ts',
    );
  }, 60_000);

  it('sees a require of esbuild on first use, as the modules that load it lazily make', () => {
    const entry = join(scratch, 'entry.mjs');
    writeFileSync(entry, 'export const handler = () => {};\n');
    const exportsModule = pathToFileURL(join(ROOT, 'lib', 'entry-exports.ts')).href;
    const importers = esbuildImportersWhile(`
      const { entryExportNames } = await import(${JSON.stringify(exportsModule)});
      if (entryExportNames(${JSON.stringify(entry)})?.[0] !== 'handler') throw new Error('no exports read');
    `);
    expect(importers).toEqual(['lib/esbuild-api.ts']);
  }, 60_000);
});
