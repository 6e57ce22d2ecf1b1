/**
 * Where the user's project is: the app's root and its lockfile. Kept apart from the constructs so that the
 * configuration loader (local mode, the CLI) does not load the Lambda construct library to find a folder.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The app's root, against which relative function entries resolve: `explicit`, else the working directory
 * (where `cdk.json` is: the CDK app, `hookline dev` and the CLI all run there).
 */
export function projectRootOf(explicit?: string): string {
  return path.resolve(explicit ?? process.cwd());
}

/** Lockfiles NodejsFunction understands (npm, yarn, pnpm, bun), in the order they are looked for. */
const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];

/** The app's own lockfile: the nearest one in `root` or a folder above it (a workspace), if any. */
export function findLockFile(root: string): string | undefined {
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    const found = LOCK_FILES.map((name) => path.join(dir, name)).find((file) => existsSync(file));
    if (found) return found;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The folder the project's lockfile was looked for from, when there is none in it or a folder above it, else
 * undefined: `cdk synth` bundles consumers with NodejsFunction, which cannot bundle without one.
 */
export function lockFileMissing(root: string): string | undefined {
  return findLockFile(root) === undefined ? path.resolve(root) : undefined;
}

/**
 * The folder a function is bundled from: the lockfile's (the workspace root, when the app is a workspace
 * package), else the project root. NodejsFunction refuses an entry outside it.
 */
export function bundleRootOf(root: string): string {
  const lockFile = findLockFile(root);
  return lockFile ? path.dirname(lockFile) : path.resolve(root);
}

/**
 * The folder an entry must be under when it resolves (against `root`) outside it, else undefined: the rule
 * NodejsFunction applies while it builds the stack, checked with the configuration instead.
 */
export function entryOutsideBundleRoot(entry: string, root: string): string | undefined {
  const bundleRoot = bundleRootOf(root);
  const relative = path.relative(bundleRoot, path.resolve(root, entry));
  const escapes = path.isAbsolute(relative) || relative === '..' || relative.startsWith(`..${path.sep}`);
  return escapes ? bundleRoot : undefined;
}
