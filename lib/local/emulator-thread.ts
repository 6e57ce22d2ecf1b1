/**
 * {@link startEmulators} in a dedicated worker thread. Local mode uses it: with everything on one event loop,
 * the emulators saturated the main thread (event loop utilisation ~0.9 under load) and capped throughput.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { hooklineModulePath } from '../package-root';
import { releaseDataDirLock } from './data-dir-lock';
import type { EmulatorWorkerData, EmulatorWorkerMessage } from './emulator-worker';
import type { EmulatorOptions, Emulators } from './emulators';
import { assertNodeVersion } from './emulators';
import { bundle, workerExecArgv } from './function-runtime';
import { LocalStartProblem } from './start-problem';

/** Where the thread's bootstrap is bundled to (inside the project) and the bundle cache, if any. */
export interface EmulatorThreadOptions extends EmulatorOptions {
  readonly buildDir: string;
  readonly bundleCacheDir?: string | undefined;
  /** Node's compile cache for fauxqs and dynalite, loaded in the thread. */
  readonly compileCacheDir?: string | undefined;
}

/** Starts fauxqs and dynalite (127.0.0.1 only) in their own thread; `buildDir` must be inside the project. */
export async function startEmulatorsInThread(options: EmulatorThreadOptions): Promise<Emulators> {
  assertNodeVersion();
  const outFile = join(resolve(options.buildDir), '_runtime', 'emulator-worker.mjs');
  // Packages stay external: fauxqs and dynalite (with its native LevelDB) load from node_modules.
  await bundle(hooklineModulePath('lib/local/emulator-worker.ts'), outFile, {
    externalPackages: true,
    cacheDir: options.bundleCacheDir,
  });
  const { buildDir: _, bundleCacheDir: __, ...emulatorOptions } = options;
  const worker = new Worker(pathToFileURL(outFile), {
    workerData: emulatorOptions satisfies EmulatorWorkerData,
    execArgv: workerExecArgv(),
  });
  const exited = new Promise<number>((r) => worker.once('exit', r));
  const first = await new Promise<EmulatorWorkerMessage>((resolvePromise, reject) => {
    worker.once('message', resolvePromise);
    worker.once('error', reject);
    void exited.then((code) =>
      reject(new Error(`the emulator thread exited with status ${code} while starting`)),
    );
  });
  if (first.type !== 'ready') {
    await worker.terminate();
    if (first.type === 'error' && first.problem) throw new LocalStartProblem(first.message);
    throw new Error(first.type === 'error' ? first.message : 'the emulator thread failed to start');
  }
  let stopped: Promise<void> | undefined;
  let failure: string | undefined;
  const failed = new Promise<string>((resolveFailure) => {
    const fail = (why: string) => {
      if (stopped || failure) return;
      failure = why;
      resolveFailure(why);
    };
    // An error the thread did not catch (a damaged store read mid-run) ends it; so may a bug in an emulator.
    worker.on('error', (error) => fail(`${error.name}: ${error.message}`));
    void exited.then((code) => fail(`their thread exited with status ${code}`));
  });
  return {
    region: first.region,
    endpoints: first.endpoints,
    ...(first.notStopped ? { notStopped: first.notStopped } : {}),
    get failure() {
      return failure;
    },
    failed,
    stop() {
      stopped ??= (async () => {
        const done = new Promise<void>((r) => {
          worker.on('message', (message: EmulatorWorkerMessage) => {
            if (message.type === 'stopped') r();
          });
          void exited.then(() => r());
        });
        worker.postMessage({ type: 'stop' });
        await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
        await worker.terminate();
        // A thread terminated before it finished stopping left its lock: it was this process's.
        if (options.dataDir) releaseDataDirLock(options.dataDir);
      })();
      return stopped;
    },
  };
}
