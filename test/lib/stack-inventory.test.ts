import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { fixedMonthlyCost, PRICES_US_EAST_1, renderFixedTable } from '../../lib/cost-model';
import { customMetricsOf, synthesizedInventory } from '../../lib/stack-inventory';
import { pipelineTemplate } from '../helpers/cdk';

const P = PRICES_US_EAST_1;
const resolved = (overrides: Partial<HooklineConfig> = {}) =>
  resolveConfig({ ...exampleConfig, ...overrides });
const fixedOf = (config: ReturnType<typeof resolved>) =>
  fixedMonthlyCost(synthesizedInventory(config), customMetricsOf(config));
const named = (prefix: string, alarms: readonly { name: string; metrics?: number }[]) =>
  alarms.filter((a) => a.name.startsWith(prefix));

describe('the fixed part of the bill, counted in the synthesized stack', () => {
  it('counts every alarm the stack deploys, each by the metrics it reads', () => {
    const config = resolved();
    const { alarms, dashboards, secrets } = synthesizedInventory(config);
    const { template } = pipelineTemplate(config);
    expect(alarms.length).toBe(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length);
    expect(dashboards).toBe(Object.keys(template.findResources('AWS::CloudWatch::Dashboard')).length);
    expect(secrets).toBe(Object.keys(template.findResources('AWS::SecretsManager::Secret')).length);
    // A signing-secret alarm reads SignatureMismatch twice (its Minimum and its SampleCount): billed as two metrics.
    const signing = named('SigningSecret-', alarms);
    expect(signing.map((a) => a.name).sort()).toEqual(
      Object.keys(exampleConfig.sources)
        .map((s) => `SigningSecret-${s}`)
        .sort(),
    );
    for (const alarm of signing) expect(alarm.metrics).toBe(2);
    // The expiry alarms read one age metric per dead-letter queue, whichever alarm groups it.
    const expiring = named('DeadLettersExpiring', alarms);
    const dlqAlarms = alarms.filter((a) => /^DeadLetters-/.test(a.name));
    expect(expiring.reduce((n, a) => n + (a.metrics ?? 0), 0)).toBe(dlqAlarms.length);
    // The failed-archive and failed-delete alarms are Metrics Insights queries, billed by what they analyze: left
    // unpriced, and said so, each by name.
    expect(named('ArchiveFailed', alarms)).toEqual([{ name: 'ArchiveFailed' }]);
    expect(named('DeleteFailed', alarms)).toEqual([{ name: 'DeleteFailed' }]);
    expect(fixedOf(config).lines[0]?.basis).toMatch(
      /not priced: (DeleteFailed, ArchiveFailed|ArchiveFailed, DeleteFailed), Metrics Insights query alarms billed by the metrics they analyze$/,
    );
  });

  it('bills a dead-letter expiry alarm for each of the up to 10 queues it reads', () => {
    const consumer = { entry: 'lambda/consumers/events.ts', timeout: Duration.seconds(30) };
    const queues = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`q${i}`, { consumer }]));
    const { alarms } = synthesizedInventory(
      resolved({ queues, routes: [], defaultRoute: { queues: ['q0'] }, schedules: [] }),
    );
    const expiring = named('DeadLettersExpiring', alarms);
    expect(Math.max(...expiring.map((a) => a.metrics ?? 0))).toBe(10);
    expect(expiring.reduce((n, a) => n + (a.metrics ?? 0), 0)).toBe(named('DeadLetters-', alarms).length);
  });

  it('adds, for each verifying source, a two-metric alarm, a secret and a custom metric written with traffic', () => {
    const before = fixedOf(resolved());
    const after = fixedOf(resolved({ sources: { ...exampleConfig.sources, gitlab: { type: 'github' } } }));
    expect(after.usdPerMonth - before.usdPerMonth).toBeCloseTo(
      2 * P.cloudWatchAlarmMetricMonth + P.cloudWatchCustomMetricMonth + P.secretsManagerPerSecretMonth,
      9,
    );
  });

  it("grows a consumer's metrics with each event type its routes name under metricTypes 'each', and a circuit breaker's by its two totals", () => {
    const count = (config: ReturnType<typeof resolved>, written: 'hourly' | 'when') =>
      customMetricsOf(config)
        .filter((m) => m.written === written)
        .reduce((n, m) => n + m.count, 0);
    const each = withMetricTypes('each');
    const base = resolved({ queues: each });
    // Two named types to the orders queue (its `orders/*` pattern named none): one more than its one at least.
    const typed = resolved({
      queues: each,
      routes: [
        { source: 'shopify', type: 'orders/create', queues: ['orders'] },
        { source: 'shopify', type: 'orders/paid', queues: ['orders'] },
      ],
    });
    expect(count(typed, 'hourly') - count(base, 'hourly')).toBe(2);
    expect(count(typed, 'when') - count(base, 'when')).toBe(8);
    const events = exampleConfig.queues.events;
    if (!events?.consumer) throw new Error('the example has an events consumer');
    const guarded = resolved({
      queues: {
        ...exampleConfig.queues,
        events: { ...events, consumer: { ...events.consumer, circuitBreaker: {} } },
      },
    });
    expect(count(guarded, 'hourly') - count(resolved(), 'hourly')).toBe(2);
    // The type dimension has no bound the configuration knows: the notes say so, and what each type adds.
    expect(fixedOf(base).notes.join(' ')).toMatch(/unbounded: a consumer with metricTypes 'each' writes/);
  });

  it("bounds a consumer's metrics by its metricTypes: one type value a queue by default, the listed types and other with a list", () => {
    const consumerMetrics = (config: ReturnType<typeof resolved>) =>
      customMetricsOf(config).filter((m) => m.what.startsWith("consumers' Processed"));
    const routes = ['create', 'paid', 'cancelled'].map((type) => ({
      source: 'shopify',
      type: `orders/${type}`,
      queues: ['orders'],
    }));
    const consumers = Object.values(exampleConfig.queues).filter((q) => q.consumer).length;
    // By default, however many types the routes name: `other` alone, per queue, and no unbounded note.
    const bounded = resolved({ routes });
    expect(consumerMetrics(bounded).map((m) => m.count)).toStrictEqual([2 * consumers]);
    expect(fixedOf(bounded).notes.join(' ')).not.toMatch(/unbounded/);
    expect(fixedOf(bounded).notes.join(' ')).toMatch(/the type dimension \(each consumer's metricTypes/);
    // Two types listed on one queue: those and `other` there.
    const listed = resolved({
      routes,
      queues: withMetricTypes('none', { orders: ['shopify.orders/create', 'shopify.orders/paid'] }),
    });
    expect(consumerMetrics(listed).map((m) => m.count)).toStrictEqual([2 * (consumers + 2)]);
    expect(fixedOf(listed).notes.join(' ')).not.toMatch(/unbounded/);
  });
});

/** The example's queues, each consumer's `metricTypes` set to `all`, or to `some`'s for the queues it names. */
function withMetricTypes(
  all: 'each' | 'none',
  some: Readonly<Record<string, readonly string[]>> = {},
): typeof exampleConfig.queues {
  return Object.fromEntries(
    Object.entries(exampleConfig.queues).map(([name, q]) => [
      name,
      q.consumer ? { ...q, consumer: { ...q.consumer, metricTypes: some[name] ?? all } } : q,
    ]),
  );
}

describe('README fixed-part table', () => {
  const readmePath = join(__dirname, '..', '..', 'README.md');
  const START =
    '<!-- fixed-cost-table:start (generated by test/lib/stack-inventory.test.ts; UPDATE_README=1 rewrites it) -->';
  const END = '<!-- fixed-cost-table:end -->';

  it('is the fixed part of the example configuration, as hookline cost prints it', () => {
    const table = renderFixedTable(fixedOf(resolved()));
    const readme = readFileSync(readmePath, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, 'README.md has the fixed-part table markers').toBeGreaterThan(-1);
    const current = readme.slice(start + START.length, end).trim();
    if (process.env.UPDATE_README === '1' && current !== table) {
      writeFileSync(readmePath, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
      return;
    }
    expect(current).toBe(table);
  });
});
