/**
 * `npm start`: runs the pipeline of hookline.config.ts (or HOOKLINE_CONFIG) on this machine (`hookline dev`).
 */
import { compileCacheDirOf, enableCompileCache, projectCacheRoot } from '../lib/cache-dir';

// Before local mode loads: the next start takes V8's code for it from the cache its worker threads use too.
enableCompileCache(compileCacheDirOf(projectCacheRoot(process.cwd())));
const { runLocalMode } = await import('../lib/local/dev');

runLocalMode().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
