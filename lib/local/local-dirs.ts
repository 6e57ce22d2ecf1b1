/**
 * Where local mode keeps its files by default, and the emulator thread it starts with them. Light on imports on
 * purpose: `npm start` starts the emulator thread from here before it loads the rest of local mode and the
 * configuration, so the thread's start overlaps that loading (see `bin/local.ts`).
 */
import { join, resolve } from 'node:path';
import { compileCacheDirOf, projectCacheRoot } from '../cache-dir';
import { type EmulatorThreadOptions, startEmulatorsInThread } from './emulator-thread';
import type { Emulators } from './emulators';

type Env = Readonly<Record<string, string | undefined>>;

/** A project's default build folder, `<project>/.hookline/build`. */
export function defaultBuildDir(projectDir: string): string {
  return join(projectDir, '.hookline', 'build');
}

/** The bundle cache's folder in a cache root. */
export function bundleCacheDirOf(cacheRoot: string): string {
  return join(cacheRoot, 'bundles');
}

/** The emulators' persistent state: the option, else `HOOKLINE_DATA_DIR`, absolute; undefined keeps them in memory. */
export function localDataDir(env: Env, dataDir?: string): string | undefined {
  const dir = dataDir ?? env.HOOKLINE_DATA_DIR;
  return dir ? resolve(dir) : undefined;
}

/** What the emulator thread starts with, from local mode's folders (`cacheRoot` undefined: no caches). */
export function emulatorThreadOptions(settings: {
  readonly dataDir: string | undefined;
  readonly region?: string | undefined;
  readonly buildDir: string;
  readonly cacheRoot: string | undefined;
}): EmulatorThreadOptions {
  const { dataDir, region, buildDir, cacheRoot } = settings;
  return {
    ...(dataDir ? { dataDir } : {}),
    ...(region ? { region } : {}),
    buildDir,
    bundleCacheDir: cacheRoot && bundleCacheDirOf(cacheRoot),
    compileCacheDir: cacheRoot && compileCacheDirOf(cacheRoot),
  };
}

/**
 * Starts the emulator thread exactly as `startLocalMode` with default options would for the project in
 * `projectDir`; hand the promise to it (`LocalModeOptions.emulators`). A failure surfaces where it is awaited.
 */
export function startDefaultEmulators(
  projectDir: string = process.cwd(),
  env: Env = process.env,
): Promise<Emulators> {
  const root = resolve(projectDir);
  const starting = startEmulatorsInThread(
    emulatorThreadOptions({
      dataDir: localDataDir(env),
      buildDir: defaultBuildDir(root),
      cacheRoot: projectCacheRoot(root, env),
    }),
  );
  starting.catch(() => undefined);
  return starting;
}
