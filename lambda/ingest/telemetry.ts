/**
 * The ingest function's per-request telemetry, written directly to stdout: the INFO `webhook outcome` log line
 * (of every request not answered 503: that one is ERROR, a Powertools line) and the CloudWatch Embedded Metric
 * Format (EMF) document.
 *
 * Why not Powertools on this path: measured in bench/ingest.ts (same run, see README "Performance"), the
 * Powertools Logger + Metrics pair costs a measurable share of the handler's throughput at concurrency 1; each
 * invocation-scoped store access re-reads `process.env.AWS_LAMBDA_MAX_CONCURRENCY` (~43 environment reads per
 * request, by design) and `console.log` formats its argument again. The two lines written here have the same
 * keys and the same metric definitions Powertools writes (level, message, timestamp, service, xray_trace_id;
 * `_aws` with namespace, dimension sets, metric names and units), so log queries, the local-mode reporter
 * (lib/local/reporter.ts) and CloudWatch see no difference. Powertools Logger stays for every other line
 * (warnings, errors, a 503's outcome line): they are rare, and its error formatting matters there.
 *
 * Per request, the handler gives both the same context: `addContext` (Powertools' Lambda context fields,
 * `function_request_id` among them) and `appendKeys` (the API Gateway request id), cleared by `resetKeys`, so
 * every line of a request, lean or Powertools, can be joined to the API access log and to the Lambda REPORT line.
 */

import { METRIC_DIMENSIONS, SIGNATURE_MISMATCH_METRIC } from '../shared/contracts';
import {
  infoEnabledAt,
  type LambdaContextFields,
  type LineContext,
  type LineLevel,
  lambdaContextFields,
  logLine,
  traceIdOf,
} from '../shared/log-line';

/** Powertools' reading of boolean environment values (`extendedParsing`). */
const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);

/** CloudWatch units used by the ingest metrics. */
export type MetricUnitName = 'Count' | 'Milliseconds';

/** One metric of an EMF document; a metric recorded twice in one document carries all its values. */
export interface MetricValue {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly value: number | readonly number[];
}

/**
 * Whether metrics are disabled, by Powertools Metrics' rule: `POWERTOOLS_METRICS_DISABLED` when set (truthy
 * values `1 y yes t true on`), otherwise `POWERTOOLS_DEV` being truthy.
 */
export function metricsDisabledByEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const disabled = env.POWERTOOLS_METRICS_DISABLED;
  if (disabled !== undefined) return TRUTHY.has(disabled.toLowerCase());
  const dev = env.POWERTOOLS_DEV;
  return dev !== undefined && TRUTHY.has(dev.toLowerCase());
}

/** Metrics of one source, written beside the request's others under the dimension set `service`, `source`. */
export interface SourceMetrics {
  readonly source: string;
  readonly metrics: readonly MetricValue[];
}

/**
 * One CloudWatch EMF document (what Powertools Metrics `publishStoredMetrics` writes): one metric directive in
 * `namespace` with the dimension set `service` (+ `reason` when given), the dimension values and the metric
 * values at the top level. With `bySource`, a second directive (EMF takes several in one document, each with its
 * own dimension sets) puts those metrics under `service` and `source`, so a request writes one line, not two;
 * with no `metrics`, only that directive.
 */
export function emfDocument(
  namespace: string,
  service: string,
  timestampMs: number,
  metrics: readonly MetricValue[],
  reason?: string,
  bySource?: SourceMetrics,
): string {
  const directives: {
    Namespace: string;
    Dimensions: string[][];
    Metrics: { Name: string; Unit: string }[];
  }[] = [];
  if (metrics.length > 0)
    directives.push({
      Namespace: namespace,
      Dimensions: [
        reason === undefined
          ? [METRIC_DIMENSIONS.service]
          : [METRIC_DIMENSIONS.service, METRIC_DIMENSIONS.reason],
      ],
      Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
    });
  if (bySource !== undefined)
    directives.push({
      Namespace: namespace,
      Dimensions: [[METRIC_DIMENSIONS.service, METRIC_DIMENSIONS.source]],
      Metrics: bySource.metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
    });
  const document: Record<string, unknown> = {
    _aws: { Timestamp: timestampMs, CloudWatchMetrics: directives },
    [METRIC_DIMENSIONS.service]: service,
  };
  if (reason !== undefined) document[METRIC_DIMENSIONS.reason] = reason;
  if (bySource !== undefined) {
    document[METRIC_DIMENSIONS.source] = bySource.source;
    for (const metric of bySource.metrics) document[metric.name] = metric.value;
  }
  for (const metric of metrics) document[metric.name] = metric.value;
  return JSON.stringify(document);
}

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  readonly service: string;
  readonly namespace: string;
  /** Whether INFO lines are written (see {@link infoEnabledAt}). */
  readonly infoEnabled: boolean;
  /** Whether EMF documents are written (see {@link metricsDisabledByEnv}). */
  readonly metricsEnabled: boolean;
  /** Writes one line (without its newline). Default: `process.stdout.write`, looked up at each call. */
  readonly write?: (line: string) => void;
  /** Epoch milliseconds. Default: Date.now. */
  readonly now?: () => number;
  /** The current X-Ray trace header. Default: `process.env._X_AMZN_TRACE_ID`. */
  readonly traceHeader?: () => string | undefined;
  /**
   * `AWS_LAMBDA_INITIALIZATION_TYPE`: like Powertools, only an `on-demand` environment reports a cold start.
   * Default: read from the environment.
   */
  readonly initializationType?: string;
}

/** The per-request telemetry of one function instance. */
export interface Telemetry {
  /**
   * Puts the Lambda context fields on every later line, as Powertools' `Logger#addContext` does (the first call
   * of an on-demand environment is its cold start). `undefined` (no Lambda context) removes them.
   */
  addContext(context: LambdaContextFields | undefined): void;
  /** Puts keys on every later line until {@link Telemetry.resetKeys}, as Powertools' `appendKeys` does. */
  appendKeys(keys: Readonly<Record<string, unknown>>): void;
  /** Removes the keys added with {@link Telemetry.appendKeys}. */
  resetKeys(): void;
  /** Writes an INFO line now (when INFO is enabled). */
  info(message: string, attributes: Readonly<Record<string, unknown>>): void;
  /**
   * The current request's line context (its Lambda fields, keys and trace id), taken at its start, for the lines
   * of work that outlives it ({@link Telemetry.writeFor}).
   */
  capture(): LineContext;
  /**
   * Writes a line with a request's captured context rather than the current one: a line of work that outlived its
   * request (past its deadline) carries the ids of that request, not of the one running when it ends.
   */
  writeFor(
    captured: LineContext,
    level: LineLevel,
    message: string,
    attributes: Readonly<Record<string, unknown>>,
  ): void;
  /**
   * Counts one `name`. With a `reason`, the metric is written at once in its own document with the `reason`
   * dimension, so that dimension never reaches the request's other metrics; without one it is stored until
   * {@link Telemetry.flush}.
   */
  count(name: string, reason?: string): void;
  /** Stores a latency in milliseconds until {@link Telemetry.flush}. */
  latency(name: string, milliseconds: number): void;
  /**
   * Stores the request's signature verdict for its source ({@link SIGNATURE_MISMATCH_METRIC}: 1 mismatched, 0
   * verified) until {@link Telemetry.flush}, which writes it in the request's one document.
   */
  signatureChecked(source: string, matched: boolean): void;
  /**
   * Writes the stored metrics, and the stored signature verdict, as one EMF document (nothing when none are
   * stored) and forgets them.
   */
  flush(): void;
}

/** Creates the telemetry writer the handler uses for the `webhook outcome` line and the EMF metrics. */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const traceHeader = options.traceHeader ?? (() => process.env._X_AMZN_TRACE_ID);
  const { service, namespace } = options;
  let stored: { name: string; unit: MetricUnitName; value: number | number[] }[] = [];
  let verdict: SourceMetrics | undefined;
  let coldStart =
    (options.initializationType ?? process.env.AWS_LAMBDA_INITIALIZATION_TYPE)?.trim() === 'on-demand';
  let lambda: Record<string, unknown> | undefined;
  let keys: Record<string, unknown> = {};

  const store = (name: string, unit: MetricUnitName, value: number) => {
    if (!options.metricsEnabled) return;
    const existing = stored.find((m) => m.name === name);
    if (existing === undefined) stored.push({ name, unit, value });
    else
      existing.value = Array.isArray(existing.value) ? [...existing.value, value] : [existing.value, value];
  };

  return {
    addContext(context) {
      if (context === undefined) {
        lambda = undefined;
        return;
      }
      lambda = lambdaContextFields(context, coldStart);
      coldStart = false;
    },
    appendKeys(added) {
      keys = { ...keys, ...added };
    },
    resetKeys() {
      keys = {};
    },
    info(message, attributes) {
      if (!options.infoEnabled) return;
      const traceId = traceIdOf(traceHeader());
      write(logLine('INFO', message, service, now(), attributes, { lambda, traceId, keys }));
    },
    capture() {
      // The fields and keys are replaced, never changed in place: holding them keeps this request's.
      return { lambda, traceId: traceIdOf(traceHeader()), keys };
    },
    writeFor(captured, level, message, attributes) {
      write(logLine(level, message, service, now(), attributes, captured));
    },
    count(name, reason) {
      if (reason === undefined) {
        store(name, 'Count', 1);
        return;
      }
      if (!options.metricsEnabled) return;
      write(emfDocument(namespace, service, now(), [{ name, unit: 'Count', value: 1 }], reason));
    },
    latency(name, milliseconds) {
      store(name, 'Milliseconds', milliseconds);
    },
    signatureChecked(source, matched) {
      if (!options.metricsEnabled) return;
      verdict = {
        source,
        metrics: [{ name: SIGNATURE_MISMATCH_METRIC, unit: 'Count', value: matched ? 0 : 1 }],
      };
    },
    flush() {
      if (stored.length === 0 && verdict === undefined) return;
      const metrics = stored;
      const bySource = verdict;
      stored = [];
      verdict = undefined;
      write(emfDocument(namespace, service, now(), metrics, undefined, bySource));
    },
  };
}
