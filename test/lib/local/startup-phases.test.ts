import { afterEach, describe, expect, it, vi } from 'vitest';
import { StartupPhases } from '../../../lib/local/startup-phases';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Makes `performance.now()` read `at()`, so each step's offsets are known. */
function clock(start: number): { at: number } {
  const time = { at: start };
  vi.spyOn(performance, 'now').mockImplementation(() => time.at);
  return time;
}

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('StartupPhases', () => {
  it('lists overlapping steps in the order they began, with offsets from the start in tenths of a ms', async () => {
    const time = clock(1_000);
    const phases = new StartupPhases();
    time.at = 1_000.04;
    const slow = deferred();
    const bundles = phases.time('bundles', () => slow.promise);
    time.at = 1_248.26;
    const emulators = phases.time('emulators', async () => 'ready');
    expect(await emulators).toBe('ready');
    time.at = 1_573.5;
    slow.resolve();
    await bundles;
    expect(phases.list()).toEqual([
      { name: 'bundles', startMs: 0, endMs: 573.5 },
      { name: 'emulators', startMs: 248.3, endMs: 248.3 },
    ]);
    expect(phases.describe()).toBe('bundles 0-574, emulators 248-248');
  });

  it('records a step that fails, and passes its error on', async () => {
    const time = clock(0);
    const phases = new StartupPhases();
    const failing = phases.time('topology', async () => {
      time.at = 12;
      throw new Error('emulator gone');
    });
    await expect(failing).rejects.toThrow('emulator gone');
    expect(phases.list()).toEqual([{ name: 'topology', startMs: 0, endMs: 12 }]);
  });
});
