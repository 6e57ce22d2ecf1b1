/**
 * `npm start`: runs the pipeline of hookline.config.ts (or HOOKLINE_CONFIG) on this machine (`hookline dev`).
 */
import { compileCacheDirOf, enableCompileCache, projectCacheRoot } from '../lib/cache-dir';
import { untilStoppedOrUnread } from '../lib/cli/output';

// First of all: a Ctrl-C while the rest loads and starts stops local mode cleanly once its start ends. So does the
// reader of its output going away (npm start | head), rather than an EPIPE's stack trace with the lock still held.
const signalled = untilStoppedOrUnread();

// Before local mode loads: the next start takes V8's code for it from the cache its worker threads use too.
enableCompileCache(compileCacheDirOf(projectCacheRoot(process.cwd())));
// The emulator thread starts first, from a module with few imports: its start overlaps loading the rest of
// local mode and the configuration on the main thread.
const { startDefaultEmulators } = await import('../lib/local/local-dirs');
const emulators = startDefaultEmulators();
const { runLocalMode } = await import('../lib/local/dev');

runLocalMode(undefined, emulators, signalled).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
