#!/usr/bin/env -S npx tsx
/**
 * `hookline`: the operations CLI (status, failed, redrive, purge, send, pause, resume, console, replay, trace, cost) and the project commands
 * (init, dev). See lib/cli/README.md.
 */
import { compileCacheDirOf, enableCompileCache, packageCacheRoot } from '../lib/cache-dir';
import { exitQuietlyOnClosedPipes } from '../lib/cli/output';
import { hooklinePackageRoot } from '../lib/package-root';

/** The oldest Node the compiled CLI runs on (import.meta.dirname, require of ES modules, commander 14). */
const MINIMUM_NODE = [20, 19] as const;
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
  process.stderr.write(
    `error: hookline needs Node >= ${MINIMUM_NODE.join('.')} (found ${process.versions.node}): install a current Node, or run it through npm in a project that pins node@24\n`,
  );
  process.exit(1);
}

// Before anything heavy loads: the next run takes V8's code for commander, the SDK, ... from this cache.
enableCompileCache(compileCacheDirOf(packageCacheRoot(hooklinePackageRoot())));

exitQuietlyOnClosedPipes();
// Loaded after the version check: on an older Node, the line above is all the user sees.
const { runCli } = await import('../lib/cli/program');
process.exitCode = await runCli(process.argv.slice(2));
