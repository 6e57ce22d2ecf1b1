/**
 * The names a consumer entry file exports, read at `cdk synth` and `npm start` so that a consumer's `handler` naming
 * none of them, or an entry written in CommonJS, is a configuration error there, not `Runtime.HandlerNotFound` on
 * every message after a deploy. esbuild bundles the entry as the consumer's function is bundled (ES module), with
 * packages left out, and its metafile lists the bundle's exports, `export *` of the project's own files included.
 */
import * as path from 'node:path';
import type * as Esbuild from 'esbuild';
import { esbuildApi } from './esbuild-api';

/**
 * What an entry exports: its export names; `'commonjs'` for a module that assigns its exports CommonJS-style
 * (`module.exports`, `exports.handler`), whose bundle as an ES module exports only `default`; undefined where the
 * names cannot be known without running it: an `export *` from a package (its names are in node_modules, not
 * bundled), or a file esbuild cannot build (the bundling at synth says why).
 */
export type EntryExports = readonly string[] | 'commonjs' | undefined;

/** The exports of the entry `file` ({@link EntryExports}). */
export function entryExportNames(file: string): EntryExports {
  let result: Esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = esbuildApi().buildSync({
      entryPoints: [file],
      absWorkingDir: path.dirname(file),
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node24',
      mainFields: ['module', 'main'],
      write: false,
      metafile: true,
      outdir: 'out',
      logLevel: 'silent',
    });
  } catch {
    return undefined;
  }
  const [output] = Object.values(result.metafile.outputs);
  const text = result.outputFiles[0]?.text ?? '';
  if (!output?.entryPoint) return undefined;
  if (result.metafile.inputs[output.entryPoint]?.format === 'cjs') return 'commonjs';
  // `exports.handler =` in a `.js` file its package.json (`"type": "module"`) makes an ES module: esbuild lists no
  // exports, the file meant CommonJS's, and the bundle would throw that `exports` is not defined.
  if (output.exports.length === 0 && /\b(module\.exports|exports\s*[.[])/.test(text)) return 'commonjs';
  if (/^export \* from "/m.test(text)) return undefined;
  return output.exports;
}
