/**
 * The names a consumer entry file exports, read at configuration load (`cdk synth`, `npm start`, the CLI) so that a
 * consumer's `handler` naming none of them is a configuration error there, not `Runtime.HandlerNotFound` on every
 * message after a deploy. esbuild bundles the entry as the consumer's function is bundled (ES module), with packages
 * left out, and its metafile lists the bundle's exports, `export *` of the project's own files included.
 */
import * as path from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The entry's export names, or undefined where they cannot be known without running it: a CommonJS module (its
 * exports are whatever it assigns at run time, or `exports` used in an ES module), an `export *` from a package (its names are in node_modules, not
 * bundled), or a file esbuild cannot build (the bundling at synth says why).
 */
export function entryExportNames(file: string): readonly string[] | undefined {
  let result: ReturnType<typeof buildSync>;
  try {
    result = buildSync({
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
  const [output] = Object.values(result.metafile?.outputs ?? {});
  const text = result.outputFiles?.[0]?.text ?? '';
  if (!output?.entryPoint || /^export \* from "/m.test(text)) return undefined;
  if (result.metafile?.inputs[output.entryPoint]?.format === 'cjs') return undefined;
  // `exports.handler =` in a `.js` file its package.json (`"type": "module"`) makes an ES module: esbuild lists no
  // exports, and the file meant CommonJS's.
  if (output.exports.length === 0 && /\b(module\.exports|exports\s*[.[])/.test(text)) return undefined;
  return output.exports;
}
