/**
 * Runs the emulators in their own worker thread (bundled by `emulator-thread.ts`), so fauxqs and dynalite do
 * not compete with the HTTP API and the event source mappings for the main thread's event loop.
 */
import nodeModule from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { type EmulatorOptions, type Emulators, startEmulators } from './emulators';
import { LocalStartProblem } from './start-problem';

/** What the thread starts with. */
export interface EmulatorWorkerData extends EmulatorOptions {
  /** Node's compile cache: fauxqs, fastify and dynalite are loaded from V8 code cached by the previous start. */
  readonly compileCacheDir?: string | undefined;
}

/** Worker -> main thread. */
export type EmulatorWorkerMessage =
  | {
      readonly type: 'ready';
      readonly region: string;
      readonly endpoints: { sqs: string; s3: string; dynamodb: string };
      readonly notStopped?: Emulators['notStopped'];
    }
  /** `problem`: the message says it all (a {@link LocalStartProblem}), to be shown without a stack. */
  | { readonly type: 'error'; readonly message: string; readonly problem?: boolean }
  | { readonly type: 'stopped' };

const port = parentPort;
if (port) {
  const { compileCacheDir, ...options } = workerData as EmulatorWorkerData;
  if (compileCacheDir) nodeModule.enableCompileCache(compileCacheDir);
  try {
    const emulators = await startEmulators(options);
    if (compileCacheDir) nodeModule.flushCompileCache();
    port.on('message', async (message: { type: string }) => {
      if (message.type !== 'stop') return;
      await emulators.stop();
      port.postMessage({ type: 'stopped' } satisfies EmulatorWorkerMessage);
    });
    port.postMessage({
      type: 'ready',
      region: emulators.region,
      endpoints: { ...emulators.endpoints },
      ...(emulators.notStopped ? { notStopped: emulators.notStopped } : {}),
    } satisfies EmulatorWorkerMessage);
  } catch (error) {
    port.postMessage({
      type: 'error',
      message: (error as Error).message,
      problem: error instanceof LocalStartProblem,
    } satisfies EmulatorWorkerMessage);
  }
}
