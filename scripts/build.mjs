/**
 * `npm run build` (also `prepack`): compiles the package into dist/.
 * - JavaScript: esbuild bundles every public entry point (the `exports` map), the CLI and the modules local mode
 *   starts by path, as ES modules with shared chunks; packages stay external (they are the app's own).
 * - Types: tsc emits declarations, whose relative imports then get the `.js` a Node ESM consumer resolves.
 * - The ingest Lambda: bundled once here (lib/ingest-asset.ts, entry plus chunks), so apps never rebuild it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * Modules loaded by path (`hooklineModulePath`: worker threads, the ingest and jobs-endpoint handlers), besides
 * the public entry points.
 */
const INTERNAL_ENTRIES = [
  'lib/local/emulator-worker.ts',
  'lib/local/function-worker.ts',
  'lambda/ingest/handler.ts',
  // Bundled by the user's CDK app (NodejsFunction) and by local mode, from the package.
  'lambda/jobs-endpoint/handler.ts',
  'lambda/breaker/handler.ts',
  'lambda/forward/handler.ts',
  'lib/ingest-asset.ts',
];
const CLI_ENTRY = 'bin/hookline.ts';

/** The TypeScript source of each `exports` target: ./dist/lib/index.js comes from lib/index.ts. */
function exportedSources() {
  return Object.values(manifest.exports)
    .map((target) => (typeof target === 'string' ? target : target.default))
    .filter((target) => target.startsWith('./dist/') && target.endsWith('.js'))
    .map((target) => target.slice('./dist/'.length).replace(/\.js$/, '.ts'));
}

async function buildModules() {
  await build({
    absWorkingDir: root,
    entryPoints: [...exportedSources(), CLI_ENTRY, ...INTERNAL_ENTRIES],
    outbase: '.',
    outdir: dist,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  const cli = join(dist, CLI_ENTRY.replace(/\.ts$/, '.js'));
  const code = readFileSync(cli, 'utf8').replace(/^#!.*\n/, '');
  writeFileSync(cli, `#!/usr/bin/env node\n${code}`);
  chmodSync(cli, 0o755);
}

/** The ingest Lambda, entry and chunks, with the compiled module the stack and local mode bundle it with. */
async function buildIngestAsset() {
  const { buildIngestAsset: bundleIngest } = await import(join(dist, 'lib', 'ingest-asset.js'));
  bundleIngest(root, join(dist, 'assets', 'ingest'));
}

function emitDeclarations() {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  for (const file of walk(dist)) if (file.endsWith('.d.ts')) withExtensions(file);
}

/** Rewrites `from './x'` to `from './x.js'` (or `./x/index.js`) so NodeNext and ESM apps resolve it. */
function withExtensions(file) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(
    /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)(['"])/g,
    (whole, head, spec, tail) => {
      const target = resolve(dirname(file), spec);
      if (existsSync(`${target}.d.ts`)) return `${head}${spec}.js${tail}`;
      if (existsSync(join(target, 'index.d.ts'))) return `${head}${spec}/index.js${tail}`;
      return whole;
    },
  );
  if (fixed !== text) writeFileSync(file, fixed);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

rmSync(dist, { recursive: true, force: true });
const started = performance.now();
await buildModules();
await buildIngestAsset();
emitDeclarations();
console.log(
  `built ${relative(process.cwd(), dist) || 'dist'} in ${Math.round(performance.now() - started)} ms`,
);
