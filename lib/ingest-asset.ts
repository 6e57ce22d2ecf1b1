/**
 * How hookline's own ingest function is bundled, in one place for the stack (synth from the sources), the
 * package (`npm run build` prebuilds dist/assets/ingest with it) and local mode.
 *
 * The settings are HooklineFunction's (ESM, node24, minified, source maps, AWS SDK bundled, `module` before
 * `main`, a createRequire banner) plus code splitting: the clients the handler loads with `import()` on first
 * use (S3, DynamoDB, Secrets Manager, Firehose) become chunk files of their own. A single-file bundle keeps them
 * inline, and V8 reads and pre-parses every byte of the file at import even if the code never runs.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { esbuildApi } from './esbuild-api';
import { ESM_REQUIRE_BANNER } from './esm-require-banner';

/** Path of the ingest function's entry, relative to hookline's own root (its repository or package). */
export const INGEST_ENTRY = 'lambda/ingest/handler.ts';

/** The file Lambda loads (`index.handler`); the chunks sit in `chunks/` beside it and resolve relative to it. */
export const INGEST_ENTRY_FILE = 'index.mjs';

/**
 * esbuild options that bundle `entry` (absolute) into `outdir` as `<entryName>.mjs` plus `chunks/*.mjs`.
 */
export function splitBundleOptions(entry: string, outdir: string, entryName = 'index'): BuildOptions {
  return {
    entryPoints: [entry],
    outdir,
    entryNames: entryName,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'warning',
  };
}

/** Bundles the ingest function of hookline at `root` into `outdir` (emptied first); returns `outdir`. */
export function buildIngestAsset(root: string, outdir: string): string {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  esbuildApi().buildSync({
    ...splitBundleOptions(path.join(root, INGEST_ENTRY), outdir),
    absWorkingDir: root,
  });
  return outdir;
}
