import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { runCli } from '../../lib/cli/program';
import { resolveConfig } from '../../lib/config';
import { costInputOf, estimateCost, renderCostTable } from '../../lib/cost-model';
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
    // Every line carries both columns the table shows, so a script need not redo the month's arithmetic.
    expect(printed.lines.length).toBe(expected.lines.length);
    for (const line of printed.lines as { usdPerMillion: number; usdPerMonth: number }[]) {
      expect(line.usdPerMonth).toBeCloseTo(line.usdPerMillion * 1.5, 9);
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
    // The monthly total leaves out what does not grow with webhooks: the reader is told what, not left to guess.
    expect(h.stdout()).toMatch(
      /assumes: charges that do not grow with webhooks excluded: each source's and forwarding queue's signing secret \(Secrets Manager, \$0\.40 a month, and \$0\.05 per 10,000 GetSecretValue calls: one per warm function environment and cache period\), the CloudWatch alarms and dashboard, the schedules, the archive's objects \(one per source and buffer interval with traffic, \$0\.005 per 1,000\)/,
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
    expect(expected).toMatch(
      /^\| Line \| Per 1M webhooks \| Per month \(10M\) \| Basis \|\n\|---\|---\|---\|---\|/,
    );
    expect(expected).toMatch(/\| \*\*Total\*\* \| \*\*\$[\d.]+\*\* \| \*\*\$[\d.]+\*\* \| \|/);
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
