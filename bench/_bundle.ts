/**
 * Bundling and cold-import timing shared by the ingest and consumer benchmarks: the ingest function's deployed
 * asset (entry plus chunks, lib/ingest-asset.ts), and esbuild with the options CDK's NodejsFunction uses for
 * hookline's other functions (lib/hookline-function.ts: node24, ESM, minified, `module` before
 * `main`, a createRequire banner), and fresh-process import times.
 *
 * The leading underscore keeps `npm run bench` (bench/run.ts) from running it as a benchmark of its own.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { INGEST_ENTRY, INGEST_ENTRY_FILE, splitBundleOptions } from '../lib/ingest-asset';
import { median, ROOT } from './_shared';

export interface Bundled {
  readonly file: string;
  readonly bytes: number;
  /** Output bytes per npm package (or the project folder for project files), largest first. */
  readonly topPackages: Record<string, number>;
  /** Every output file's bytes, chunks loaded on first use included (split bundles only). */
  readonly assetBytes?: number;
}

/** An entry given as source text (resolved from the repository root). */
export const stdinEntry = (contents: string) => ({
  stdin: { contents, resolveDir: ROOT, loader: 'ts' as const },
});

/** Bundles `input` into `outfile` as CDK bundles a function. */
export async function bundleLikeCdk(
  input: Pick<BuildOptions, 'entryPoints' | 'stdin'>,
  outfile: string,
): Promise<Bundled> {
  const result = await build({
    ...input,
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    mainFields: ['module', 'main'],
    metafile: true,
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return { file: outfile, bytes: statSync(outfile).size, topPackages: bytesByPackage(result.metafile) };
}

/**
 * Bundles the ingest function exactly as it is deployed (lib/ingest-asset.ts: an entry plus chunks) into
 * `outdir`; `bytes` and `topPackages` count what the entry loads at import (itself and the chunks it imports
 * statically), `assetBytes` the whole asset.
 */
export async function bundleIngestAsDeployed(
  outdir: string,
  entryPoint: string = path.join(ROOT, INGEST_ENTRY),
): Promise<Bundled> {
  const result = await build({
    ...splitBundleOptions(entryPoint, outdir),
    sourcemap: false,
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'error',
  });
  const { outputs } = result.metafile;
  // Each `import()` target is an entry point of the split build too; the function's is index.mjs.
  const entry = Object.keys(outputs).find((file) => file.endsWith(`/${INGEST_ENTRY_FILE}`)) as string;
  const loaded = loadedAtImport(result.metafile, entry);
  const loadedOutputs = Object.fromEntries(loaded.map((file) => [file, outputs[file]]));
  return {
    file: path.resolve(ROOT, entry),
    bytes: loaded.reduce((sum, file) => sum + (outputs[file]?.bytes ?? 0), 0),
    topPackages: bytesByPackage({ ...result.metafile, outputs: loadedOutputs } as Metafile),
    assetBytes: Object.values(outputs).reduce((sum, output) => sum + output.bytes, 0),
  };
}

/** The output files an import of `entry` reads: it and the chunks it imports statically, transitively. */
function loadedAtImport(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  for (const pending = [entry]; pending.length > 0; ) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) pending.push(imported.path);
    }
  }
  return [...seen];
}

function bytesByPackage(metafile: Metafile): Record<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const file = input.replaceAll('\\', '/');
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
      const name = match?.[1] ?? path.dirname(file);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]).slice(0, 12));
}

/** One fresh-process import of `file`: wall milliseconds and the process's CPU milliseconds (user + system). */
function importOnce(file: string, env: NodeJS.ProcessEnv): { wallMs: number; cpuMs: number } {
  const script = `const t = performance.now(); const c = process.cpuUsage(); await import(${JSON.stringify(file)}); const u = process.cpuUsage(c); console.log(performance.now() - t, (u.user + u.system) / 1000);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  const [wallMs = Number.NaN, cpuMs = Number.NaN] = (out.trim().split('\n').at(-1) ?? '')
    .split(' ')
    .map(Number);
  return { wallMs, cpuMs };
}

export interface ImportTimes {
  readonly wallMs: number[];
  readonly cpuMs: number[];
}

/** Fresh-process imports of every file, `rounds` interleaved rounds (order rotated every round). */
export function measureImports(
  files: Record<string, string>,
  env: NodeJS.ProcessEnv,
  rounds: number,
): Record<string, ImportTimes> {
  const names = Object.keys(files);
  const times: Record<string, ImportTimes> = Object.fromEntries(
    names.map((n) => [n, { wallMs: [], cpuMs: [] }]),
  );
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length] as string;
      const { wallMs, cpuMs } = importOnce(files[name] as string, env);
      times[name]?.wallMs.push(wallMs);
      times[name]?.cpuMs.push(cpuMs);
    }
  }
  return times;
}

/** Medians of `times` and their ratios to the baseline's medians (2 decimals). */
export function importSummary(times: ImportTimes, baseline: ImportTimes) {
  const wall = median(times.wallMs);
  const cpu = median(times.cpuMs);
  return {
    medianImportMs: Number(wall.toFixed(1)),
    importRatio: Number((wall / median(baseline.wallMs)).toFixed(2)),
    medianImportCpuMs: Number(cpu.toFixed(1)),
    importCpuRatio: Number((cpu / median(baseline.cpuMs)).toFixed(2)),
  };
}
