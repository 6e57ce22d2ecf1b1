/**
 * esbuild's JS API, loaded on its first use rather than with the module that uses it: the CLI reaches the modules
 * that bundle (the ingest's bundler, through the stack `hookline cost` synthesizes without bundling; the loader of a
 * TypeScript configuration) and those that read a consumer entry's exports, and a command that does none of these
 * should not load esbuild. `require`, because most callers are synchronous (esbuild is CommonJS, so this is the
 * instance an `import` would give).
 */
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';

/** esbuild's JS API, loaded on the first call (Node caches it for the later ones). */
export function esbuildApi(): typeof Esbuild {
  return createRequire(import.meta.url)('esbuild') as typeof Esbuild;
}
