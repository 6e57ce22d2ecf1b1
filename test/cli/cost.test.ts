import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { runCli } from '../../lib/cli/program';
import { resolveConfig } from '../../lib/config';
import { costInputOf, estimateCost } from '../../lib/cost-model';
import { cliHarness } from './helpers';

const run = promisify(execFile);

describe('hookline cost', () => {
  it('prices the configuration given by --config with the real CLI, as JSON', async () => {
    const { stdout } = await run(
      'npx',
      ['tsx', 'bin/hookline.ts', 'cost', '--per-month', '1.5M', '--json', '--config', 'hookline.config.ts'],
      { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
    );
    const printed = JSON.parse(stdout);
    const expected = estimateCost(costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 1_500_000 }));
    expect(printed.eventsPerMonth).toBe(1_500_000);
    expect(printed.usdPerMonth).toBeCloseTo(expected.usdPerMonth, 9);
    expect(printed.exactlyOnceUsdPerMonth).toBeCloseTo(expected.exactlyOnceUsdPerMonth, 9);
  }, 90_000);

  it('prints the table, the assumptions and how to turn exactly-once off', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '250k', '--body-kb', '8', '--record-ms', '5'], h.deps)).toBe(
      0,
    );
    expect(h.stdout()).toMatch(/\| Line \| Basis \| Per 1M webhooks \| Per month \(250k\) \|/);
    expect(h.stdout()).toMatch(/exactly-once \(dedupe \+ idempotency\): what turning it off saves/);
    expect(h.stdout()).toMatch(/\+ 5 ms of handler per record/);
    expect(h.stdout()).toMatch(/turn off: dedupe: \{ enabled: false \}/);
  });

  it('refuses a count it cannot read, with the accepted forms', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', 'lots'], h.deps)).not.toBe(0);
    expect(h.stderr()).toMatch(/expected a count such as 10M, 1\.5M, 250k or 2500/);
  });
});
