import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTelemetry,
  emfDocument,
  metricsDisabledByEnv,
  type TelemetryOptions,
} from '../../../lambda/ingest/telemetry';
import { infoEnabledAt, logLine, traceIdOf, writtenAt } from '../../../lambda/shared/log-line';
import { parseOutcomeLine } from '../../../lib/local/reporter';

const NOW = Date.UTC(2026, 10, 25, 12, 30, 45, 123);
const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1';

function telemetryWith(overrides: Partial<TelemetryOptions> = {}) {
  const lines: string[] = [];
  const telemetry = createTelemetry({
    service: 'ingest',
    namespace: 'Hookline',
    infoEnabled: true,
    metricsEnabled: true,
    write: (line) => lines.push(line),
    now: () => NOW,
    traceHeader: () => undefined,
    ...overrides,
  });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { telemetry, lines, parsed };
}

/** Lines Powertools writes to stdout while `fn` runs. */
function powertoolsLines(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of [
    'POWERTOOLS_LOG_LEVEL',
    'POWERTOOLS_METRICS_DISABLED',
    'POWERTOOLS_DEV',
    '_X_AMZN_TRACE_ID',
    'AWS_LAMBDA_INITIALIZATION_TYPE',
  ]) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

describe('the webhook outcome log line', () => {
  const queued = {
    outcome: 'queued',
    id: 'd-1',
    source: 'github',
    type: 'issues.opened',
    queues: ['events'],
    status: 202,
  };

  it('is one JSON line with level, message, UTC timestamp, service, then the attributes', () => {
    const line = logLine('INFO', 'webhook outcome', 'ingest', NOW, queued);
    expect(line).not.toContain('\n');
    expect(Object.keys(JSON.parse(line))).toEqual([
      'level',
      'message',
      'timestamp',
      'service',
      'outcome',
      'id',
      'source',
      'type',
      'queues',
      'status',
    ]);
    expect(JSON.parse(line)).toEqual({
      level: 'INFO',
      message: 'webhook outcome',
      timestamp: '2026-11-25T12:30:45.123Z',
      service: 'ingest',
      ...queued,
    });
  });

  it('leaves out undefined attributes, keeps the reason, and never lets an attribute replace a standard key', () => {
    const line = JSON.parse(
      logLine('INFO', 'webhook outcome', 'ingest', NOW, {
        outcome: 'rejected',
        id: undefined,
        source: 'github',
        type: undefined,
        queues: [],
        status: 401,
        reason: 'bad_signature',
        level: 'DEBUG',
        message: 'spoofed',
        timestamp: 'spoofed',
        service: 'spoofed',
        xray_trace_id: 'spoofed',
      }),
    ) as Record<string, unknown>;
    expect(line).toEqual({
      level: 'INFO',
      message: 'webhook outcome',
      timestamp: '2026-11-25T12:30:45.123Z',
      service: 'ingest',
      outcome: 'rejected',
      source: 'github',
      queues: [],
      status: 401,
      reason: 'bad_signature',
    });
  });

  it('carries the X-Ray trace id (the Root field) when the function is traced', () => {
    expect(traceIdOf(TRACE)).toBe('1-5759e988-bd862e3fe1be46a994272793');
    expect(traceIdOf('Parent=1;Root=1-abc')).toBe('1-abc');
    expect(traceIdOf('Parent=557abcec3ee5a047')).toBeUndefined();
    expect(traceIdOf('Root=;Parent=1')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
    const { telemetry, parsed } = telemetryWith({ traceHeader: () => TRACE });
    telemetry.info('webhook outcome', queued);
    expect(parsed()[0]).toMatchObject({ xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793', id: 'd-1' });
  });

  it('is what the local-mode reporter reads as the outcome event', () => {
    const event = parseOutcomeLine(logLine('INFO', 'webhook outcome', 'ingest', NOW, queued), 'stack-ingest');
    expect(event).toEqual({
      event: 'queued',
      id: 'd-1',
      source: 'github',
      type: 'issues.opened',
      queue: 'events',
      status: 202,
      function: 'stack-ingest',
      // The line's own time: local mode orders an event's lines by when they were written, not when they were read.
      at: new Date(NOW).toISOString(),
    });
    const rejected = parseOutcomeLine(
      logLine('INFO', 'webhook outcome', 'ingest', NOW, {
        outcome: 'rejected',
        source: 'github',
        queues: [],
        status: 401,
        reason: 'missing_signature',
      }),
    );
    expect(rejected).toEqual({
      event: 'rejected',
      source: 'github',
      status: 401,
      reason: 'missing_signature',
      at: new Date(NOW).toISOString(),
    });
  });

  it('has the same content as the Powertools Logger line (apart from the timestamp and sampling_rate)', () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    process.env._X_AMZN_TRACE_ID = TRACE;
    const [powertools] = powertoolsLines(() =>
      new Logger({ serviceName: 'ingest' }).info('webhook outcome', { ...queued, reason: undefined }),
    );
    const { telemetry, parsed } = telemetryWith({ traceHeader: () => process.env._X_AMZN_TRACE_ID });
    telemetry.info('webhook outcome', { ...queued, reason: undefined });
    const { timestamp: _a, sampling_rate: _b, ...expected } = powertools ?? {};
    const { timestamp, ...ours } = parsed()[0] ?? {};
    expect(ours).toEqual(expected);
    expect(timestamp).toBe('2026-11-25T12:30:45.123Z');
  });

  const lambdaContext = (requestId: string) => ({
    awsRequestId: requestId,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:stack-ingest',
    memoryLimitInMB: '256',
    functionName: 'stack-ingest',
  });

  it('carries the Lambda and API request ids exactly as Powertools does after addContext and appendKeys', () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    process.env._X_AMZN_TRACE_ID = TRACE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const logger = new Logger({ serviceName: 'ingest' });
    const { telemetry, parsed } = telemetryWith({ traceHeader: () => process.env._X_AMZN_TRACE_ID });
    const powertools: Record<string, unknown>[] = [];
    for (const [lambdaId, apiId] of [
      ['lambda-req-1', 'api-req-1'],
      ['lambda-req-2', 'api-req-2'],
    ] as const) {
      powertools.push(
        ...powertoolsLines(() => {
          logger.addContext(lambdaContext(lambdaId) as Parameters<Logger['addContext']>[0]);
          logger.appendKeys({ apiRequestId: apiId });
          logger.info('webhook outcome', queued);
          logger.resetKeys();
        }),
      );
      telemetry.addContext(lambdaContext(lambdaId));
      telemetry.appendKeys({ apiRequestId: apiId });
      telemetry.info('webhook outcome', queued);
      telemetry.resetKeys();
    }

    const withoutTimestamps = (line: Record<string, unknown> | undefined) => {
      const { timestamp: _t, sampling_rate: _s, ...rest } = line ?? {};
      return rest;
    };
    const ours = parsed();
    for (const i of [0, 1]) {
      expect(Object.keys(withoutTimestamps(ours[i]))).toEqual(Object.keys(withoutTimestamps(powertools[i])));
      expect(withoutTimestamps(ours[i])).toEqual(withoutTimestamps(powertools[i]));
    }
    expect(ours.map((l) => [l.function_request_id, l.apiRequestId, l.cold_start])).toEqual([
      ['lambda-req-1', 'api-req-1', true],
      ['lambda-req-2', 'api-req-2', false],
    ]);
  });

  it('reports a cold start only in an on-demand environment, and the tenant id when the function is tenant-isolated', () => {
    const lines = (initializationType: string) => {
      const { telemetry, parsed } = telemetryWith({ initializationType });
      telemetry.addContext({ ...lambdaContext('lambda-req-1'), tenantId: 'tenant-a' });
      telemetry.info('webhook outcome', queued);
      return parsed();
    };
    expect(lines('on-demand')[0]).toMatchObject({ cold_start: true, tenant_id: 'tenant-a' });
    expect(lines('provisioned-concurrency')[0]).toMatchObject({ cold_start: false, tenant_id: 'tenant-a' });
  });

  it('drops the request keys after resetKeys and the Lambda fields without a Lambda context', () => {
    const { telemetry, parsed } = telemetryWith();
    telemetry.addContext(lambdaContext('lambda-req-1'));
    telemetry.appendKeys({ apiRequestId: 'api-req-1' });
    telemetry.resetKeys();
    telemetry.info('webhook outcome', queued);
    telemetry.addContext(undefined);
    telemetry.info('webhook outcome', queued);
    const [afterReset, withoutContext] = parsed();
    expect(afterReset).toMatchObject({ function_request_id: 'lambda-req-1' });
    expect(afterReset).not.toHaveProperty('apiRequestId');
    expect(Object.keys(withoutContext ?? {})).toEqual(
      Object.keys(JSON.parse(logLine('INFO', 'webhook outcome', 'ingest', NOW, queued))),
    );
  });

  it('is written only when INFO is enabled, following the Powertools log level', () => {
    expect(['TRACE', 'DEBUG', 'INFO', 'info'].map(infoEnabledAt)).toEqual([true, true, true, true]);
    expect(['WARN', 'ERROR', 'CRITICAL', 'SILENT'].map(infoEnabledAt)).toEqual([false, false, false, false]);
    process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
    expect(infoEnabledAt(new Logger({ serviceName: 'ingest' }).getLevelName())).toBe(false);
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    expect(infoEnabledAt(new Logger({ serviceName: 'ingest' }).getLevelName())).toBe(true);
    const { telemetry, lines } = telemetryWith({ infoEnabled: false });
    telemetry.info('webhook outcome', queued);
    expect(lines).toEqual([]);
  });
});

describe('the EMF metrics document', () => {
  it('accepted: one document, namespace Hookline, dimension set [service], EnqueueLatency then Accepted', () => {
    const { telemetry, lines, parsed } = telemetryWith();
    telemetry.latency('EnqueueLatency', 7);
    telemetry.count('Accepted');
    expect(lines).toEqual([]);
    telemetry.flush();
    expect(parsed()).toEqual([
      {
        _aws: {
          Timestamp: NOW,
          CloudWatchMetrics: [
            {
              Namespace: 'Hookline',
              Dimensions: [['service']],
              Metrics: [
                { Name: 'EnqueueLatency', Unit: 'Milliseconds' },
                { Name: 'Accepted', Unit: 'Count' },
              ],
            },
          ],
        },
        service: 'ingest',
        EnqueueLatency: 7,
        Accepted: 1,
      },
    ]);
    telemetry.flush();
    expect(lines).toHaveLength(1);
  });

  it.each(['Duplicate', 'Ignored'])('%s: counted with the service dimension only', (name) => {
    const { telemetry, parsed } = telemetryWith();
    telemetry.count(name);
    telemetry.flush();
    const [document] = parsed();
    expect(document).toMatchObject({ service: 'ingest', [name]: 1 });
    expect(document).not.toHaveProperty('reason');
    expect(document?._aws).toEqual({
      Timestamp: NOW,
      CloudWatchMetrics: [
        { Namespace: 'Hookline', Dimensions: [['service']], Metrics: [{ Name: name, Unit: 'Count' }] },
      ],
    });
  });

  it.each([
    ['Rejected', 'bad_signature'],
    ['Failed', 'enqueue_failed'],
  ])('%s (%s): written at once in its own document with the reason dimension', (name, reason) => {
    const { telemetry, parsed } = telemetryWith();
    telemetry.latency('EnqueueLatency', 3);
    telemetry.count(name, reason);
    expect(parsed()).toEqual([
      {
        _aws: {
          Timestamp: NOW,
          CloudWatchMetrics: [
            {
              Namespace: 'Hookline',
              Dimensions: [['service', 'reason']],
              Metrics: [{ Name: name, Unit: 'Count' }],
            },
          ],
        },
        service: 'ingest',
        reason,
        [name]: 1,
      },
    ]);
    // The stored latency does not get the reason dimension: it leaves in its own document.
    telemetry.flush();
    expect(parsed()[1]).toMatchObject({ service: 'ingest', EnqueueLatency: 3 });
    expect(parsed()[1]).not.toHaveProperty('reason');
  });

  it('a metric stored twice carries both values, as Powertools does', () => {
    const { telemetry, parsed } = telemetryWith();
    telemetry.latency('EnqueueLatency', 1);
    telemetry.latency('EnqueueLatency', 2);
    telemetry.latency('EnqueueLatency', 3);
    telemetry.flush();
    expect(parsed()[0]).toMatchObject({ EnqueueLatency: [1, 2, 3] });
    expect(parsed()[0]?._aws).toMatchObject({
      CloudWatchMetrics: [{ Metrics: [{ Name: 'EnqueueLatency', Unit: 'Milliseconds' }] }],
    });
  });

  it('emfDocument: dimension values at the top level, one definition per metric', () => {
    const document = JSON.parse(
      emfDocument(
        'Hookline',
        'ingest',
        NOW,
        [
          { name: 'Failed', unit: 'Count', value: 1 },
          { name: 'EnqueueLatency', unit: 'Milliseconds', value: [4, 6] },
        ],
        'enqueue_failed',
      ),
    ) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(['_aws', 'service', 'reason', 'Failed', 'EnqueueLatency']);
    expect(document).toMatchObject({
      service: 'ingest',
      reason: 'enqueue_failed',
      Failed: 1,
      EnqueueLatency: [4, 6],
    });
    expect(document._aws).toEqual({
      Timestamp: NOW,
      CloudWatchMetrics: [
        {
          Namespace: 'Hookline',
          Dimensions: [['service', 'reason']],
          Metrics: [
            { Name: 'Failed', Unit: 'Count' },
            { Name: 'EnqueueLatency', Unit: 'Milliseconds' },
          ],
        },
      ],
    });
  });

  it('matches what Powertools Metrics writes for the same metrics (apart from the timestamp)', () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_DEV;
    const powertools = powertoolsLines(() => {
      const metrics = new Metrics({ namespace: 'Hookline', serviceName: 'ingest' });
      metrics.addMetric('EnqueueLatency', MetricUnit.Milliseconds, 5);
      metrics.addMetric('Accepted', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      const single = metrics.singleMetric();
      single.addDimension('reason', 'stale_timestamp');
      single.addMetric('Rejected', MetricUnit.Count, 1);
    });
    const { telemetry, parsed } = telemetryWith();
    telemetry.latency('EnqueueLatency', 5);
    telemetry.count('Accepted');
    telemetry.flush();
    telemetry.count('Rejected', 'stale_timestamp');
    const withoutTimestamp = (doc: Record<string, unknown>) => ({
      ...doc,
      _aws: { ...(doc._aws as Record<string, unknown>), Timestamp: 0 },
    });
    expect(parsed().map(withoutTimestamp)).toEqual(powertools.map(withoutTimestamp));
  });

  it('writes nothing when metrics are disabled', () => {
    const { telemetry, lines } = telemetryWith({ metricsEnabled: false });
    telemetry.latency('EnqueueLatency', 5);
    telemetry.count('Accepted');
    telemetry.count('Rejected', 'bad_signature');
    telemetry.flush();
    expect(lines).toEqual([]);
  });

  it('is disabled by the same environment rule as Powertools Metrics', () => {
    expect(metricsDisabledByEnv({})).toBe(false);
    expect(metricsDisabledByEnv({ POWERTOOLS_METRICS_DISABLED: 'true' })).toBe(true);
    expect(metricsDisabledByEnv({ POWERTOOLS_METRICS_DISABLED: 'Yes' })).toBe(true);
    expect(metricsDisabledByEnv({ POWERTOOLS_METRICS_DISABLED: 'false' })).toBe(false);
    expect(metricsDisabledByEnv({ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' })).toBe(
      false,
    );
    expect(metricsDisabledByEnv({ POWERTOOLS_DEV: '1' })).toBe(true);
    expect(metricsDisabledByEnv({ POWERTOOLS_DEV: 'off' })).toBe(false);
    for (const truthy of ['1', 'y', 'yes', 't', 'true', 'on', 'ON']) {
      expect(metricsDisabledByEnv({ POWERTOOLS_METRICS_DISABLED: truthy }), truthy).toBe(true);
    }
    for (const env of [{ POWERTOOLS_METRICS_DISABLED: 'true' }, { POWERTOOLS_DEV: 'true' }, {}]) {
      delete process.env.POWERTOOLS_METRICS_DISABLED;
      delete process.env.POWERTOOLS_DEV;
      Object.assign(process.env, env);
      const written = powertoolsLines(() => {
        const metrics = new Metrics({ namespace: 'Hookline', serviceName: 'ingest' });
        metrics.addMetric('Accepted', MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
      });
      expect(metricsDisabledByEnv(process.env)).toBe(written.length === 0);
    }
  });
});

describe('the default trace header', () => {
  it('is the Lambda environment variable, read at each line, so each request carries its own trace id', () => {
    const { telemetry, parsed } = telemetryWith({ traceHeader: undefined });
    process.env._X_AMZN_TRACE_ID = TRACE;
    telemetry.info('webhook outcome', { outcome: 'queued', status: 202 });
    process.env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000002';
    telemetry.info('webhook outcome', { outcome: 'queued', status: 202 });
    expect(parsed().map((line) => line.xray_trace_id)).toEqual([
      '1-5759e988-bd862e3fe1be46a994272793',
      '1-00000000-000000000000000000000002',
    ]);
  });
});

describe('the default writer', () => {
  it('writes each line with its newline to process.stdout, looked up at write time', () => {
    const telemetry = createTelemetry({
      service: 'ingest',
      namespace: 'Hookline',
      infoEnabled: true,
      metricsEnabled: true,
      now: () => NOW,
      traceHeader: () => undefined,
    });
    const chunks: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      chunks.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      telemetry.info('webhook outcome', { outcome: 'ignored', status: 202 });
      telemetry.count('Ignored');
      telemetry.flush();
    } finally {
      process.stdout.write = write;
    }
    expect(chunks).toHaveLength(2);
    expect(chunks.every((chunk) => chunk.endsWith('}\n') && chunk.indexOf('\n') === chunk.length - 1)).toBe(
      true,
    );
    expect(JSON.parse(chunks[0] ?? '')).toMatchObject({ message: 'webhook outcome', outcome: 'ignored' });
    expect(JSON.parse(chunks[1] ?? '')).toMatchObject({ Ignored: 1 });
  });
});

describe('a line of work that outlived its request', () => {
  it("carries the ids and trace id captured at its request's start, not the next request's", () => {
    let trace = 'Root=1-aaaaaaaa-111111111111111111111111';
    const { telemetry, parsed } = telemetryWith({ traceHeader: () => trace });
    telemetry.addContext({ awsRequestId: 'lambda-req-1', functionName: 'stack-ingest' });
    telemetry.appendKeys({ apiRequestId: 'api-req-1' });
    const first = telemetry.capture();
    telemetry.resetKeys();
    trace = 'Root=1-bbbbbbbb-222222222222222222222222';
    telemetry.addContext({ awsRequestId: 'lambda-req-2', functionName: 'stack-ingest' });
    telemetry.appendKeys({ apiRequestId: 'api-req-2' });

    telemetry.writeFor(first, 'ERROR', 'enqueue failed', { id: 'evt-1' });

    expect(parsed()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'enqueue failed',
        function_request_id: 'lambda-req-1',
        apiRequestId: 'api-req-1',
        xray_trace_id: '1-aaaaaaaa-111111111111111111111111',
        id: 'evt-1',
      }),
    ]);
  });

  it('is written at the levels Powertools writes at', () => {
    expect(['INFO', 'WARN', 'ERROR'].map((level) => writtenAt('WARN', level as 'INFO'))).toEqual([
      false,
      true,
      true,
    ]);
    expect(writtenAt('SILENT', 'ERROR')).toBe(false);
    expect(writtenAt('unknown', 'ERROR')).toBe(false);
  });
});

describe("a source's signature verdict", () => {
  it("rides in the request's one document as a second directive under service and source, 0 when it verified", () => {
    const { telemetry, parsed } = telemetryWith();
    telemetry.latency('EnqueueLatency', 12);
    telemetry.signatureChecked('github', true);
    telemetry.count('Accepted');
    telemetry.flush();
    expect(parsed()).toStrictEqual([
      {
        _aws: {
          Timestamp: NOW,
          CloudWatchMetrics: [
            {
              Namespace: 'Hookline',
              Dimensions: [['service']],
              Metrics: [
                { Name: 'EnqueueLatency', Unit: 'Milliseconds' },
                { Name: 'Accepted', Unit: 'Count' },
              ],
            },
            {
              Namespace: 'Hookline',
              Dimensions: [['service', 'source']],
              Metrics: [{ Name: 'SignatureMismatch', Unit: 'Count' }],
            },
          ],
        },
        service: 'ingest',
        source: 'github',
        SignatureMismatch: 0,
        EnqueueLatency: 12,
        Accepted: 1,
      },
    ]);
  });

  it('is written alone, 1, for a request rejected for its signature, and forgotten after the flush', () => {
    const { telemetry, parsed } = telemetryWith();
    telemetry.signatureChecked('stripe', false);
    telemetry.count('Rejected', 'bad_signature');
    telemetry.flush();
    telemetry.flush();
    const [rejected, verdict, ...rest] = parsed();
    expect(rejected).toMatchObject({ reason: 'bad_signature', Rejected: 1 });
    expect(verdict).toStrictEqual({
      _aws: {
        Timestamp: NOW,
        CloudWatchMetrics: [
          {
            Namespace: 'Hookline',
            Dimensions: [['service', 'source']],
            Metrics: [{ Name: 'SignatureMismatch', Unit: 'Count' }],
          },
        ],
      },
      service: 'ingest',
      source: 'stripe',
      SignatureMismatch: 1,
    });
    expect(rest).toStrictEqual([]);
  });

  it('is not written when metrics are disabled', () => {
    const { telemetry, lines } = telemetryWith({ metricsEnabled: false });
    telemetry.signatureChecked('github', false);
    telemetry.flush();
    expect(lines).toStrictEqual([]);
  });
});
