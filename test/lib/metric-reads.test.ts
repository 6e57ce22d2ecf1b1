/**
 * From the emitted line to the alarm and the widget: every hookline metric the template's alarms and dashboard
 * read is one the functions really write, in the same namespace, under the same name and with the same dimension
 * set (CloudWatch keeps a metric per dimension set: a read of another set finds nothing, never fires and shows an
 * empty graph), the circuit breaker alarms' metric math inputs included; and every such line is one CloudWatch
 * extracts metrics from. The EMF lines are those the real consumer runtime and the ingest's core and telemetry write.
 */
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineConsumer, PermanentError } from '../../lambda/consumer/index';
import { handleWebhook, type MetricName } from '../../lambda/ingest/core';
import { createTelemetry } from '../../lambda/ingest/telemetry';
import { runtimeMetricsNamespace } from '../../lambda/shared/contracts';
import { JOB_SOURCE } from '../../lambda/shared/job';
import { CONSUMER_CONFIG_ENV } from '../../lambda/shared/runtime-config';
import { resolveConfig } from '../../lib/config';
import { sourceNeedsSecret } from '../../lib/runtime-wiring';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { renderIntrinsics } from '../helpers/cdk';
import { maximalConfig } from '../helpers/maximal-config';
import { envelope, record, runtimeConfig, sqsEvent } from '../lambda/consumer/fakes';
import { apiEvent, harness, SECRETS, signedEvent, testConfig } from '../lambda/ingest/fakes';

/** One metric as CloudWatch keys it: namespace, name, dimension names, and the dimension values a read fixes. */
interface MetricKey {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: readonly string[];
  readonly values: Readonly<Record<string, string>>;
}

const config = resolveConfig(maximalConfig());
const stack = new WebhookPipelineStack(
  new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
  config.stackName,
  {
    config,
  },
);
const template = Template.fromStack(stack).toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
/** The namespace the stack gives its functions to write metrics in: the one they use at run time. */
const namespaces = new Set(
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map(
      (r) =>
        (r.Properties as { Environment?: { Variables?: Record<string, string> } }).Environment?.Variables,
    )
    .map((variables) => variables?.POWERTOOLS_METRICS_NAMESPACE)
    .filter((value) => value !== undefined),
);
const [namespace = ''] = namespaces;
const consumerNames = config.queues.filter((q) => q.consumer).map((q) => q.name);
const breakerNames = new Set(config.queues.filter((q) => q.consumer?.circuitBreaker).map((q) => q.name));

/** The hookline metrics a SEARCH expression reads: `{"ns",dims} MetricName="X" key="value"`. */
function searchReads(expression: string): MetricKey[] {
  return [...expression.matchAll(/SEARCH\('\{"([^"]+)",([^}]+)\}([^']*)'/g)].flatMap((m) => {
    const filter = m[3] ?? '';
    const values = Object.fromEntries(
      [...filter.matchAll(/(\w+)="([^"]*)"/g)].filter((p) => p[1] !== 'MetricName').map((p) => [p[1], p[2]]),
    );
    return [...filter.matchAll(/MetricName="([^"]+)"/g)].map((n) => ({
      namespace: m[1] ?? '',
      name: n[1] ?? '',
      dimensions: (m[2] ?? '').split(',').sort(),
      values,
    }));
  });
}

/** The hookline metrics a Metrics Insights query reads: `SELECT SUM(X) FROM SCHEMA("ns", dims)`. */
function insightsReads(expression: string): MetricKey[] {
  return [...expression.matchAll(/SELECT \w+\((\w+)\) FROM SCHEMA\("([^"]+)",\s*([^)]+)\)/g)].map((m) => ({
    namespace: m[2] ?? '',
    name: m[1] ?? '',
    dimensions: (m[3] ?? '')
      .split(',')
      .map((d) => d.trim())
      .sort(),
    values: {},
  }));
}

/** Every hookline metric the dashboard's widgets and the alarms read. */
function templateReads(): MetricKey[] {
  const reads: MetricKey[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      const body = JSON.parse(renderIntrinsics(resource.Properties.DashboardBody)) as {
        widgets: { properties: { metrics?: unknown[][] } }[];
      };
      for (const row of body.widgets.flatMap((w) => w.properties.metrics ?? [])) {
        const [first, name, ...rest] = row;
        if (typeof first === 'object' && first !== null && 'expression' in first) {
          const expression = String((first as { expression: string }).expression);
          reads.push(...searchReads(expression), ...insightsReads(expression));
        } else if (typeof first === 'string' && first.startsWith('Hookline')) {
          const pairs = rest.filter((v): v is string => typeof v === 'string');
          const values = Object.fromEntries(
            pairs.flatMap((v, i) => (i % 2 === 0 ? [[v, pairs[i + 1] ?? '']] : [])),
          );
          reads.push({
            namespace: first,
            name: String(name),
            dimensions: Object.keys(values).sort(),
            values,
          });
        }
      }
    }
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const p = resource.Properties as {
        Namespace?: string;
        MetricName?: string;
        Dimensions?: { Name: string; Value: unknown }[];
        Metrics?: {
          Expression?: string;
          MetricStat?: {
            Metric: {
              Namespace: string;
              MetricName: string;
              Dimensions?: { Name: string; Value: unknown }[];
            };
          };
        }[];
      };
      if (p.Namespace?.startsWith('Hookline')) {
        const values = Object.fromEntries(
          (p.Dimensions ?? []).map((d) => [d.Name, renderIntrinsics(d.Value)]),
        );
        reads.push({
          namespace: p.Namespace,
          name: p.MetricName ?? '',
          dimensions: Object.keys(values).sort(),
          values,
        });
      }
      for (const m of p.Metrics ?? []) {
        reads.push(...insightsReads(m.Expression ?? ''), ...searchReads(m.Expression ?? ''));
        // A metric math alarm's inputs (the circuit breakers' ended and failed records).
        const metric = m.MetricStat?.Metric;
        if (metric?.Namespace.startsWith('Hookline')) {
          const values = Object.fromEntries(
            (metric.Dimensions ?? []).map((d) => [d.Name, renderIntrinsics(d.Value)]),
          );
          reads.push({
            namespace: metric.Namespace,
            name: metric.MetricName,
            dimensions: Object.keys(values).sort(),
            values,
          });
        }
      }
    }
  }
  return reads;
}

/** The metrics one EMF document writes: each of its metrics under each of its dimension sets. */
function emfKeys(line: string): (MetricKey & { readonly valuesWritten: Record<string, unknown> })[] {
  const doc = JSON.parse(line) as Record<string, unknown> & {
    _aws?: {
      CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
    };
  };
  return (doc._aws?.CloudWatchMetrics ?? []).flatMap((directive) =>
    directive.Dimensions.flatMap((set) =>
      directive.Metrics.map((metric) => ({
        namespace: directive.Namespace,
        name: metric.Name,
        dimensions: [...set].sort(),
        values: Object.fromEntries(set.map((d) => [d, String(doc[d])])),
        valuesWritten: doc,
      })),
    ),
  );
}

const context = {
  getRemainingTimeInMillis: () => 20_000,
  awsRequestId: 'req-1',
  functionName: 'fn',
} as Context;

/**
 * The EMF lines the real consumer runtime writes for a batch that succeeds, retries, dead-letters (its own delete of
 * that record failing, as SQS throttling would), meets a key held elsewhere and fails to archive, and for one it has
 * no time left to start; its types kept as `metricTypes` says (the runtime's form: undefined for 'each').
 */
async function consumerEmf(name: string, metricTypes?: readonly string[]): Promise<string[]> {
  const sqs = mockClient(SQSClient);
  const firehose = mockClient(FirehoseClient);
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqs.on(DeleteMessageCommand).rejects(new Error('ThrottlingException'));
  firehose.on(PutRecordBatchCommand).rejects(new Error('ServiceUnavailableException'));
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', namespace);
  vi.stubEnv(
    CONSUMER_CONFIG_ENV,
    JSON.stringify(
      runtimeConfig({
        name,
        archive: { deliveryStream: 'archive' },
        ...(breakerNames.has(name) ? { circuitBreaker: true } : {}),
        ...(metricTypes ? { metricTypes: [...metricTypes] } : {}),
      }),
    ),
  );
  const lines: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(...String(chunk).split('\n'));
    return true;
  });
  try {
    const handler = defineConsumer({
      handlers: {
        'github.push': async () => {},
        'github.bad': async () => {
          throw new PermanentError('refused');
        },
        'github.flaky': async () => {
          throw new Error('down');
        }, // As Powertools' idempotency refuses a copy whose key another execution holds: no failure of the handler.
        'github.held': async () => {
          throw new IdempotencyAlreadyInProgressError('held by another execution');
        },
        '**': async () => {},
      },
    });
    await handler(
      sqsEvent([
        record(envelope()),
        record(envelope({ type: 'bad' })),
        record(envelope({ type: 'flaky' })),
        record(envelope({ type: 'held' })),
        record(envelope({ source: JOB_SOURCE, type: 'email.welcome' })),
        record(envelope({ type: 'commande.créée' })),
      ]),
      context,
    );
    // An invocation already within its deadline margin starts nothing: its record is deferred.
    await handler(sqsEvent([record(envelope({ type: 'late' }))]), {
      ...context,
      getRemainingTimeInMillis: () => 1_000,
    });
  } finally {
    stdout.mockRestore();
    sqs.restore();
    firehose.restore();
  }
  return lines.filter((l) => l.startsWith('{"_aws"'));
}

/** The EMF lines the ingest writes for each outcome, its metrics named by its core and written by its telemetry. */
async function ingestEmf(): Promise<string[]> {
  const lines: string[] = [];
  const telemetry = createTelemetry({
    service: 'ingest',
    // As the handler reads it.
    namespace: runtimeMetricsNamespace({ POWERTOOLS_METRICS_NAMESPACE: namespace }),
    infoEnabled: false,
    metricsEnabled: true,
    write: (line) => lines.push(line),
  });
  const ingestConfig = testConfig({ archive: { deliveryStream: 'archive' } });
  // The stack's token source is `internal`, the ingest tests' `token`: the same source under both names.
  const sources = { ...ingestConfig.sources, internal: ingestConfig.sources.token };
  SECRETS.internal = SECRETS.token ?? '';
  const h = harness({ ...ingestConfig, sources } as typeof ingestConfig);
  const deps = {
    ...h.deps,
    archive: {
      put: async () => {
        throw new Error('ServiceUnavailableException');
      },
    },
    metrics: {
      count: (name: MetricName, reason?: string) => telemetry.count(name, reason),
      enqueueLatency: (ms: number) => telemetry.latency('EnqueueLatency', ms),
      signatureChecked: (source: string, matched: boolean) => telemetry.signatureChecked(source, matched),
    },
  };
  const push = JSON.stringify({ ref: 'refs/heads/main', commits: [] });
  // Each source with a signing secret: one delivery signed with its secret, and one signed with another.
  for (const source of config.sources.filter(sourceNeedsSecret)) {
    // Twilio signs form parameters.
    const form = source.type === 'twilio';
    const body = form ? 'MessageSid=SM1&MessageStatus=sent' : JSON.stringify({ id: 'e-1', type: 'ping' });
    const options = form ? { contentType: 'application/x-www-form-urlencoded' } : {};
    await handleWebhook(signedEvent(h.deps.config, source.name, body, { id: 'e-1', ...options }), deps);
    telemetry.flush();
    const forged = signedEvent(h.deps.config, source.name, body, { id: 'e-2', ...options });
    const { secretId = '' } = (sources[source.name as keyof typeof sources] ?? {}) as { secretId?: string };
    h.secrets[secretId] = ['rotated-at-the-sender'];
    await handleWebhook(forged, deps);
    telemetry.flush();
    h.secrets = {};
  }
  const requests = [
    signedEvent(h.deps.config, 'github', push, { id: 'd-1', headers: { 'x-github-event': 'push' } }),
    signedEvent(h.deps.config, 'github', push, { id: 'd-1', headers: { 'x-github-event': 'push' } }),
    signedEvent(h.deps.config, 'github', '{}', { id: 'd-2', headers: { 'x-github-event': 'ping' } }),
    apiEvent('github', { body: push, headers: { 'x-github-event': 'push' } }),
    // Let in by a source that opted out of verification.
    apiEvent('open', { body: push, headers: { 'x-event': 'push' } }),
    signedEvent(h.deps.config, 'github', push, { id: 'd-3', headers: { 'x-github-event': 'push' } }),
  ];
  for (const [i, event] of requests.entries()) {
    if (i === requests.length - 1) h.failingQueues.add('events');
    await handleWebhook(event, deps);
    telemetry.flush();
  }
  return lines;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/** A consumer's `metricTypes` in the runtime's form: 'each' (every type kept), a list, and 'none' (the default). */
const METRIC_TYPES: Readonly<Record<string, readonly string[] | undefined>> = {
  each: undefined,
  list: ['github.push', 'job.email.welcome'],
  none: [],
};

describe('every hookline metric the alarms and the dashboard read', () => {
  it.each(Object.keys(METRIC_TYPES))(
    'is written by the functions, in the stack namespace, under that name and dimension set (consumers with metricTypes %s)',
    async (mode) => {
      const metricTypes = METRIC_TYPES[mode];
      const consumerLines = (
        await Promise.all(consumerNames.map((name) => consumerEmf(name, metricTypes)))
      ).flat();
      const written = [...(await ingestEmf()), ...consumerLines].flatMap(emfKeys);
      // The type values each consumer wrote: every type its own, only those listed and `other`, or `other` alone.
      const types = new Set(
        consumerLines
          .flatMap(emfKeys)
          .map((w) => w.values.type)
          .filter(Boolean),
      );
      if (mode === 'none') expect([...types]).toStrictEqual(['other']);
      if (mode === 'list')
        expect([...types].sort()).toStrictEqual(['github.push', 'job.email.welcome', 'other']);
      if (mode === 'each') expect(types.size).toBeGreaterThan(3);
      expect([...namespaces]).toStrictEqual([`Hookline/${stack.stackName}`]);
      const reads = templateReads();
      // The ingest outcomes, its reasons, each consumer's retries, dead letters and copies whose key was held
      // elsewhere, the archive alarm, and each circuit breaker's ended and failed records.
      expect(breakerNames.size).toBeGreaterThan(0);
      expect(reads.length).toBeGreaterThanOrEqual(7 + 3 * consumerNames.length + 2 * breakerNames.size);
      for (const name of consumerNames) {
        expect(
          reads.filter((read) => read.values.service === name && read.name === 'KeyHeldElsewhere'),
        ).toHaveLength(1);
        expect(
          reads.filter((read) => read.values.service === name && read.name === 'DeleteFailed'),
        ).toHaveLength(1);
      }
      // The failed deletes of every consumer, summed by the alarm, and what the unverified source let in.
      expect(reads.filter((read) => read.name === 'DeleteFailed' && !read.values.service)).toHaveLength(1);
      expect(
        reads.filter((read) => read.name === 'Unverified' && read.values.service === 'ingest'),
      ).toHaveLength(1);
      for (const name of breakerNames)
        expect(
          reads.filter((read) => read.values.service === name && read.name.startsWith('Breaker')),
        ).toHaveLength(2);
      const same = (a: readonly string[], b: readonly string[]) => a.join(',') === b.join(',');
      for (const read of reads) {
        const found = written.some(
          (w) =>
            w.namespace === read.namespace &&
            w.name === read.name &&
            same(w.dimensions, read.dimensions) &&
            Object.entries(read.values).every(([d, v]) => w.values[d] === v),
        );
        expect(found, `nothing writes ${JSON.stringify(read)}`).toBe(true);
      }
    },
  );

  it('is written in documents CloudWatch extracts metrics from (the EMF specification and its dimension rules)', async () => {
    const lines = [
      ...(await ingestEmf()),
      ...(await Promise.all(consumerNames.map((name) => consumerEmf(name)))).flat(),
    ];
    expect(lines.length).toBeGreaterThan(consumerNames.length);
    for (const line of lines) expect(emfProblems(line), line).toStrictEqual([]);
  });
});

/** CloudWatch's units (the EMF `Unit` values). */
const UNITS = new Set(
  ['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes']
    .concat(['Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'None'])
    .concat(['Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second'])
    .concat(['Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second'])
    .concat(['Count/Second']),
);

/** What makes CloudWatch extract nothing from an EMF line: its structure, limits and dimension value rules. */
function emfProblems(line: string): string[] {
  const doc = JSON.parse(line) as Record<string, unknown>;
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws?.Timestamp !== 'number' || !Array.isArray(aws.CloudWatchMetrics)) return ['_aws'];
  const directives = aws.CloudWatchMetrics as {
    Namespace?: unknown;
    Dimensions?: unknown;
    Metrics?: { Name?: unknown; Unit?: unknown }[];
  }[];
  return directives.flatMap((d) => {
    const problems: string[] = [];
    if (typeof d.Namespace !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(d.Namespace))
      problems.push('Namespace');
    const sets = Array.isArray(d.Dimensions) ? (d.Dimensions as unknown[][]) : [];
    if (sets.length === 0) problems.push('Dimensions');
    for (const set of sets) {
      if (set.length > 30) problems.push('more than 30 dimensions');
      for (const name of set) {
        const value = doc[String(name)];
        const ok = typeof value === 'string' && /^[\x20-\x7e]{1,1024}$/.test(value) && value.trim() !== '';
        if (!ok) problems.push(`dimension ${String(name)}: ${JSON.stringify(value)}`);
      }
    }
    const metrics = d.Metrics ?? [];
    if (metrics.length === 0 || metrics.length > 100) problems.push(`${metrics.length} metrics`);
    for (const m of metrics) {
      const value = doc[String(m.Name)];
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.length > 100 || !values.every((v) => Number.isFinite(v)))
        problems.push(`value of ${String(m.Name)}`);
      if (m.Unit !== undefined && !UNITS.has(String(m.Unit))) problems.push(`unit of ${String(m.Name)}`);
    }
    return problems;
  });
}

/** The dashboard's widgets, every reference rendered as the tests read it. */
function dashboardWidgets(): { type: string; properties: Record<string, unknown> }[] {
  const dashboard = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  return (
    JSON.parse(renderIntrinsics(dashboard?.Properties.DashboardBody)) as {
      widgets: { type: string; properties: Record<string, unknown> }[];
    }
  ).widgets;
}

describe('every alarm of the stack', () => {
  const alarmIds = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id]) => id);

  it("shows its state on the dashboard, the circuit breakers' and the alarms a grant adds after the dashboard included", () => {
    const shown = dashboardWidgets()
      .filter((w) => w.type === 'alarm')
      .flatMap((w) => w.properties.alarms as string[]);
    expect(alarmIds.some((id) => id.includes('CircuitBreakers'))).toBe(true);
    expect(alarmIds.some((id) => id.includes('JobSchedules'))).toBe(true);
    expect(shown.toSorted()).toStrictEqual(alarmIds.map((id) => `resolved-${id}.Arn`).toSorted());
  });

  it('with a metric of the API has that metric graphed on the dashboard: the 5xx answers of the ingest and the jobs endpoint', () => {
    const graphed = dashboardWidgets()
      .flatMap((w) => (w.properties.metrics as unknown[][] | undefined) ?? [])
      .filter((row) => row[0] === 'AWS/ApiGateway')
      .map((row) => row.slice(0, 4).join(' '));
    const api = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(
        (r) => r.Properties as { Namespace?: string; MetricName?: string; Dimensions?: { Value: unknown }[] },
      )
      .filter((p) => p.Namespace === 'AWS/ApiGateway');
    expect(api).toHaveLength(1);
    for (const p of api) {
      expect(graphed).toContain(
        `AWS/ApiGateway ${p.MetricName} ApiId ${renderIntrinsics(p.Dimensions?.[0]?.Value)}`,
      );
    }
  });
});
