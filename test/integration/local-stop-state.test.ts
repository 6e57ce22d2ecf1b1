/**
 * What the CLI finds in local mode's state directory while local mode stops: its state file (`local.json`) and the
 * lock it holds the directory with go together, as the stop begins, so a command run during the rest of the stop
 * (draining, the emulators closing) says local mode is not running, not that it is starting.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLocalTarget } from '../../lib/cli/target';
import { recordingQueue, startTestPipeline, type TestPipeline, testConfig } from '../helpers/local/pipeline';

const stateDir = mkdtempSync(join(tmpdir(), 'hookline-stop-state-'));
let pipeline: TestPipeline | undefined;

afterAll(async () => {
  await pipeline?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('local mode stopping', () => {
  it('removes the state directory lock with the state file, before the rest of the stop', async () => {
    pipeline = await startTestPipeline(testConfig({ events: recordingQueue() }), { stateDir });
    const stateFile = join(stateDir, 'local.json');
    expect([existsSync(stateFile), existsSync(`${stateFile}.lock`)]).toEqual([true, true]);

    const stopping = pipeline.local.stop();
    while (existsSync(stateFile)) await new Promise((resolve) => setImmediate(resolve));
    // The stop goes on (the emulators close after this): a CLI command now reads no local mode at all.
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
    expect(() => readLocalTarget(stateFile)).toThrow(
      'local mode is not running: start it with npm start or npx hookline dev',
    );
    await stopping;
  });
});
