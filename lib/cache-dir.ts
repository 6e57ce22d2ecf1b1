/**
 * Where hookline keeps what it caches between runs (local mode's bundles, Node's compile cache). Small and
 * dependency-free: the CLI and `npm start` read it before anything else loads.
 */
import { existsSync } from 'node:fs';
import nodeModule from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A project's cache folder: `HOOKLINE_CACHE_DIR`, else `<project>/node_modules/.cache/hookline` (where build
 * tools keep caches by convention: ignored by git with node_modules, and a fresh install starts empty), else
 * `<project>/.hookline/cache` without a node_modules folder.
 */
export function projectCacheRoot(projectDir: string, env: Env = process.env): string {
  if (env.HOOKLINE_CACHE_DIR) return resolve(env.HOOKLINE_CACHE_DIR);
  return existsSync(join(projectDir, 'node_modules'))
    ? join(projectDir, 'node_modules', '.cache', 'hookline')
    : join(projectDir, '.hookline', 'cache');
}

/**
 * The cache folder for the code of the hookline package at `packageRoot`, wherever the command runs from:
 * `HOOKLINE_CACHE_DIR`, else the `node_modules/.cache/hookline` of the node_modules the package is installed
 * in (the repository's own node_modules when it runs from a clone).
 */
export function packageCacheRoot(packageRoot: string, env: Env = process.env): string {
  if (env.HOOKLINE_CACHE_DIR) return resolve(env.HOOKLINE_CACHE_DIR);
  const parent = dirname(packageRoot);
  const nodeModules = basename(parent) === 'node_modules' ? parent : join(packageRoot, 'node_modules');
  return join(nodeModules, '.cache', 'hookline');
}

/** Node's compile cache inside a cache root (worker threads and entry points share it). */
export function compileCacheDirOf(cacheRoot: string): string {
  return join(cacheRoot, 'v8');
}

/**
 * Turns on Node's compile cache (Node >= 22.1; a no-op before) for the modules loaded from now on: later runs
 * take V8's code for them from `dir` instead of compiling them again. Never fails a run.
 */
export function enableCompileCache(dir: string): void {
  const enable = (nodeModule as { enableCompileCache?: (directory: string) => unknown }).enableCompileCache;
  try {
    enable?.(dir);
  } catch {
    // Only the start time depends on it.
  }
}
