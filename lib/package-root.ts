/**
 * Where hookline's own files are. The same code runs from the repository (TypeScript sources, through tsx or
 * vitest) and from the installed package (bundled JavaScript under dist/), so nothing may assume the
 * repository layout: files of the package are found from its root, the folder whose package.json is hookline's.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'hookline';

/** The folder whose package.json names hookline, walking up from `from` (this module's folder). */
export function hooklinePackageRoot(from: string = import.meta.dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && readManifest(manifest).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find hookline's package.json above ${from}`);
  }
}

/** What hookline's package.json says of itself and of the versions it is built with. */
export interface HooklineManifest {
  readonly name?: string;
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

function readManifest(file: string): HooklineManifest {
  return JSON.parse(readFileSync(file, 'utf8')) as HooklineManifest;
}

/** The package.json of the hookline at `root` (the running one's by default). */
export function hooklineManifest(root: string = hooklinePackageRoot()): HooklineManifest {
  return readManifest(path.join(root, 'package.json'));
}

/** The installed hookline's peer dependencies (package.json), by package name. */
export function hooklinePeerDependencies(): Readonly<Record<string, string>> {
  return hooklineManifest().peerDependencies ?? {};
}

/** The installed hookline version (package.json). */
export function hooklineVersion(): string {
  return hooklineManifest().version ?? '0.0.0';
}

/** True when this code is the compiled package (dist/), false when it runs from the TypeScript sources. */
export function runningFromDist(from: string = import.meta.dirname): boolean {
  const relative = path.relative(hooklinePackageRoot(from), from);
  return relative === 'dist' || relative.startsWith(`dist${path.sep}`);
}

/**
 * A module of hookline by its source path (`lib/local/function-worker.ts`): that file when running from the
 * sources, its compiled JavaScript (`dist/lib/local/function-worker.js`) when running from the package.
 */
export function hooklineModulePath(sourcePath: string): string {
  const root = hooklinePackageRoot();
  return runningFromDist()
    ? path.join(root, 'dist', sourcePath.replace(/\.ts$/, '.js'))
    : path.join(root, sourcePath);
}

/** The prebuilt ingest Lambda (a folder with index.mjs), shipped in the package; undefined in the sources. */
export function prebuiltIngestDir(): string | undefined {
  if (!runningFromDist()) return undefined;
  const dir = path.join(hooklinePackageRoot(), 'dist', 'assets', 'ingest');
  return existsSync(path.join(dir, 'index.mjs')) ? dir : undefined;
}
