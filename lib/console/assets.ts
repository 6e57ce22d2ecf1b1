/**
 * The console's browser bundle (`dist/console/app.js` and `app.css`), built by `npm run build:console` with
 * esbuild from `lib/console/ui/`. A checkout without the bundle builds it on first use (esbuild is a development
 * dependency); an installed package ships it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundle's files, as served. */
export interface ConsoleAssets {
  readonly js: Buffer;
  readonly css: Buffer;
}

/** The package root: the nearest folder above this module with a package.json (works from source and dist). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const bundleDir = (root = packageRoot()) => join(root, 'dist', 'console');
export const uiEntry = (root = packageRoot()) => join(root, 'lib', 'console', 'ui', 'main.ts');

/** Builds the bundle with esbuild (minified, one ES module, a separate stylesheet). */
export async function buildConsoleBundle(root = packageRoot()): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = join(bundleDir(root), 'app.js');
  await esbuild.build({
    entryPoints: [uiEntry(root)],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    outfile,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

/** True when the bundle is missing or older than a UI source file (development checkouts). */
function stale(root: string): boolean {
  const js = join(bundleDir(root), 'app.js');
  if (!existsSync(js) || !existsSync(join(bundleDir(root), 'app.css'))) return true;
  const uiDir = dirname(uiEntry(root));
  if (!existsSync(uiDir)) return false;
  const built = statSync(js).mtimeMs;
  return readdirSync(uiDir).some((f) => statSync(join(uiDir, f)).mtimeMs > built);
}

/** The bundle, built first when missing or older than its sources (and esbuild is installed). */
export async function loadConsoleAssets(root = packageRoot()): Promise<ConsoleAssets> {
  if (stale(root)) {
    try {
      await buildConsoleBundle(root);
    } catch (error) {
      if (!existsSync(join(bundleDir(root), 'app.js'))) {
        throw new Error(
          `the console bundle is missing and cannot be built (${(error as Error).message}): run npm run build:console`,
        );
      }
    }
  }
  return {
    js: readFileSync(join(bundleDir(root), 'app.js')),
    css: readFileSync(join(bundleDir(root), 'app.css')),
  };
}
