import { execFile } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { runCli } from '../../lib/cli/program';
import { resolveConfig } from '../../lib/config';
import {
  costInputOf,
  estimateCost,
  fixedMonthlyCost,
  renderCostTable,
  renderFixedTable,
} from '../../lib/cost-model';
import { customMetricsOf, synthesizedInventory } from '../../lib/stack-inventory';
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
    // The fixed part, counted in the stack the configuration makes.
    const config = resolveConfig(exampleConfig);
    const fixed = fixedMonthlyCost(synthesizedInventory(config), customMetricsOf(config));
    expect(printed.fixed.usdPerMonth).toBeCloseTo(fixed.usdPerMonth, 9);
    expect(printed.fixed.lines.length).toBe(fixed.lines.length);
    expect(printed.flows.map((f: { queue: string }) => f.queue)).toEqual(['events']);
    // Every line carries both columns the table shows, so a script need not redo the month's arithmetic.
    expect(printed.lines.length).toBe(expected.lines.length);
    for (const line of printed.lines as { usdPerMillion: number; usdPerMonth: number }[]) {
      expect(line.usdPerMonth).toBeCloseTo(line.usdPerMillion * 1.5, 9);
    }
  }, 90_000);

  it('still prices each webhook where the stack cannot be built, and says why the fixed part is missing', async () => {
    // A folder without a lockfile: `cdk synth` (and so the count of alarms and metrics) cannot build the stack there.
    const project = mkdtempSync(path.join(tmpdir(), 'hookline-cost-nolock-'));
    try {
      // The example's packages and consumer entries, but no lockfile in the folder or above it.
      symlinkSync(path.resolve('node_modules'), path.join(project, 'node_modules'));
      symlinkSync(path.resolve('lambda'), path.join(project, 'lambda'));
      writeFileSync(
        path.join(project, 'hookline.config.ts'),
        `export { default } from ${JSON.stringify(path.resolve('hookline.config.ts'))};\n`,
      );
      const { stdout } = await run(
        path.resolve('node_modules/.bin/tsx'),
        [path.resolve('bin/hookline.ts'), 'cost', '--per-month', '1M', '--config', 'hookline.config.ts'],
        { cwd: project, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      );
      expect(stdout).toMatch(/^Total +\$\d/m);
      expect(stdout).not.toContain('Fixed part (whatever the traffic)');
      expect(stdout).toContain(
        `not priced: the fixed part (alarms, custom metrics, dashboard, secrets): the stack could not be built here: no lockfile in ${realpathSync(project)} or a folder above it`,
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 90_000);

  it('prints an aligned table, the assumptions and how to turn exactly-once off', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '250k', '--body-kb', '8', '--record-ms', '5'], h.deps)).toBe(
      0,
    );
    const lines = h.stdout().split('\n');
    const header = lines[0] ?? '';
    expect(header).toMatch(/^Line +Per 1M webhooks +Per month \(250k\) +Basis$/);
    expect(h.stdout()).not.toContain('|');
    const moneyColumn = header.indexOf('Per 1M webhooks');
    const total = lines.find((line) => line.startsWith('Total ')) ?? '';
    expect(total.slice(moneyColumn)).toMatch(/^\$\d/);
    expect(h.stdout()).toMatch(/\* Exactly-once: turning it off saves +\$[\d.]+ \(\d+ %\)/);
    expect(h.stdout()).toMatch(/\+ 5 ms of handler per record/);
    expect(h.stdout()).toMatch(/turn off: dedupe: \{ enabled: false \}/);
    // What does not grow with webhooks is priced apart, from the stack as it deploys; what is not, is named.
    const fixed = lines.findIndex((line) => line.startsWith('Fixed part (whatever the traffic)'));
    expect(fixed).toBeGreaterThan(lines.indexOf(total));
    for (const item of [
      'CloudWatch alarms',
      'Custom metrics, written with any traffic',
      'Secrets Manager secrets',
    ])
      expect(lines.slice(fixed).some((line) => line.startsWith(item))).toBe(true);
    expect(h.stdout()).toMatch(
      /^Total fixed +\$[\d.]+ +up to \$[\d.]+ with the metrics written only while it happens$/m,
    );
    // The consumers' metricTypes ('none' by default) bound the type dimension: the note says so, and no unbounded one.
    expect(h.stdout()).toMatch(
      /^fixed part: bounded by the configuration: .*the type dimension \(each consumer's metricTypes/m,
    );
    expect(h.stdout()).not.toMatch(/unbounded/);
    expect(h.stdout()).toMatch(
      /assumes: the per-month total counts webhooks; the fixed part \(alarms, custom metrics, dashboard, secrets\) is priced apart; not priced: Secrets Manager's calls \(\$0\.05 per 10,000 GetSecretValue: one per warm function environment and cache period\), the schedules, the archive's objects/,
    );
  });

  it('advises turning off only the exactly-once protections the configuration has on', async () => {
    const withoutDedupe = resolveConfig({ ...exampleConfig, dedupe: { enabled: false } });
    const h = cliHarness({ loadConfig: async () => withoutDedupe });
    expect(await runCli(['cost', '--per-month', '1M'], h.deps)).toBe(0);
    expect(h.stdout()).toMatch(/^turn off: idempotency: \{ enabled: false \} \(each consumer\)$/m);
    expect(h.stdout()).not.toMatch(/turn off: dedupe/);
  });

  it("prints the README's Markdown table with --markdown", async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '10M', '--markdown'], h.deps)).toBe(0);
    const expected = renderCostTable(
      estimateCost(costInputOf(resolveConfig(exampleConfig), { eventsPerMonth: 10_000_000 })),
    );
    expect(h.stdout().startsWith(`${expected}\n`)).toBe(true);
    const config = resolveConfig(exampleConfig);
    expect(h.stdout()).toContain(
      `\n${renderFixedTable(fixedMonthlyCost(synthesizedInventory(config), customMetricsOf(config)))}\n`,
    );
    expect(expected).toMatch(
      /^\| Line \| Per 1M webhooks \| Per month \(10M\) \| Basis \|\n\|---\|---\|---\|---\|/,
    );
    expect(expected).toMatch(/\| \*\*Total\*\* \| \*\*\$[\d.]+\*\* \| \*\*\$[\d.]+\*\* \| \|/);
  });

  it('refuses --markdown with --json, naming both, and prints no estimate', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '10M', '--markdown', '--json'], h.deps)).toBe(2);
    expect(h.stderr()).toContain("option '--markdown' cannot be used with option '--json'");
    // A script reading --json still gets a document to parse: the error, not an estimate.
    expect(JSON.parse(h.stdout())).toEqual({
      error: "option '--markdown' cannot be used with option '--json'",
    });
  });

  it.each([
    [
      '--body-kb',
      '1e99',
      /--body-kb.*expected a number from 0 to 4584 KB \(the largest webhook body hookline accepts\)/,
    ],
    ['--body-kb', '5000', /expected a number from 0 to 4584 KB/],
    ['--body-kb', '-1', /expected a number from 0 to 4584 KB/],
    ['--body-kb', '', /expected a number from 0 to 4584 KB/],
    [
      '--record-ms',
      '1e99',
      /--record-ms.*expected a number from 0 to 900000 ms \(the longest Lambda timeout\)/,
    ],
  ])('refuses %s %j, a size or time no webhook can have, saying the range', async (flag, value, error) => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '10M', flag, value], h.deps)).not.toBe(0);
    expect(h.stderr()).toMatch(error);
    expect(h.stdout()).toBe('');
  });

  it('prices the largest body the ingest accepts', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '10M', '--body-kb', '4584', '--json'], h.deps)).toBe(0);
    expect(JSON.parse(h.stdout()).bodyBytes).toBe(4584 * 1024);
  });

  it('refuses a count it cannot read, with the accepted forms', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', 'lots'], h.deps)).not.toBe(0);
    expect(h.stderr()).toMatch(
      /expected a whole, positive number of webhooks such as 10M, 1\.5M, 250k, 1e6 or 2500/,
    );
  });

  it('refuses a fraction of a webhook instead of pricing a rounded count', async () => {
    const h = cliHarness({ loadConfig: async () => resolveConfig(exampleConfig) });
    expect(await runCli(['cost', '--per-month', '1.5'], h.deps)).not.toBe(0);
    expect(h.stderr()).toMatch(/argument '1\.5' is invalid\. expected a whole, positive number of webhooks/);
    expect(h.stdout()).toBe('');
  });
});
