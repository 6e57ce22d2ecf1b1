import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/cli/backend';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookline-cli-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('reports an invalid configuration with its problems and their fixes alone, not a hint to look for another file', async () => {
    // GIVEN a configuration that is found and loads, but breaks a rule
    const file = join(dir, 'hookline.config.ts');
    const lib = resolve('lib/config/index.ts');
    writeFileSync(
      file,
      `import { defineConfig } from ${JSON.stringify(lib)};\n` +
        `export default defineConfig({ sources: { github: { type: 'github' } }, queues: { events: {} },\n` +
        `  schedules: [{ name: 'beat', expression: 'rate( 5 minutes )', queue: 'events', type: 'beat' }] });\n`,
    );

    // WHEN the CLI loads it
    const error = await loadConfig(file, {}).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    // THEN the message is the problem list, ending with the fix of its last problem
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid hookline configuration \(1 problem\):/);
    expect(message.trimEnd().endsWith('Fix: write "rate(5 minutes)"')).toBe(true);
  });
});
