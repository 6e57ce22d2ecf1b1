/**
 * A structured log line in Powertools Logger's layout, written whole to stdout by the functions that keep
 * Powertools off their hot path (the ingest's per-request line) or out of their bundle (the jobs endpoint, the
 * circuit breaker): under Lambda's JSON log format a line passed to `console.log` would be wrapped as an escaped
 * `message` string, which log filters and `hookline trace` cannot read.
 */

/** Powertools' log levels, lowest first: a line is written at its own level and the ones below it. */
const LEVEL_ORDER = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** Keys of every log line that attributes cannot replace. */
const STANDARD_LOG_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'xray_trace_id']);

/** The part of the Lambda context Powertools' `Logger#addContext` logs. */
export interface LambdaContextFields {
  readonly awsRequestId: string;
  readonly invokedFunctionArn?: string;
  readonly memoryLimitInMB?: string | number;
  readonly functionName?: string;
  readonly tenantId?: string;
}

/**
 * Per-line context, written in Powertools' order: the Lambda context fields after `service`, the trace id, then
 * the appended keys before the line's own attributes.
 */
export interface LineContext {
  /** `cold_start`, `function_arn`, `function_memory_size`, `function_name`, `function_request_id`. */
  readonly lambda?: Readonly<Record<string, unknown>>;
  readonly traceId?: string;
  readonly keys?: Readonly<Record<string, unknown>>;
}

/**
 * True when INFO lines are written at the given Powertools log level name (what `Logger#getLevelName()`
 * returns), so the lean line obeys `POWERTOOLS_LOG_LEVEL` / `AWS_LAMBDA_LOG_LEVEL` like Powertools would.
 */
export function infoEnabledAt(levelName: string): boolean {
  return writtenAt(levelName, 'INFO');
}

/** True when a line of `level` is written at the given Powertools log level name, as Powertools decides. */
export function writtenAt(levelName: string, level: LineLevel): boolean {
  const at = LEVEL_ORDER.indexOf(levelName.toUpperCase());
  return at !== -1 && at <= LEVEL_ORDER.indexOf(level);
}

/** The levels of the lines the ingest writes. */
export type LineLevel = 'INFO' | 'WARN' | 'ERROR';

/** The X-Ray trace id (`Root=` field) of an `_X_AMZN_TRACE_ID` value, as Powertools logs it. */
export function traceIdOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const start = header.indexOf('Root=');
  if (start === -1) return undefined;
  const end = header.indexOf(';', start);
  const id = header.slice(start + 5, end === -1 ? undefined : end);
  return id === '' ? undefined : id;
}

/** The fields Powertools' `Logger#addContext` puts on every line, named as Powertools names them. */
export function lambdaContextFields(
  context: LambdaContextFields,
  coldStart: boolean,
): Record<string, unknown> {
  return {
    cold_start: coldStart,
    function_arn: context.invokedFunctionArn,
    function_memory_size: context.memoryLimitInMB,
    function_name: context.functionName,
    function_request_id: context.awsRequestId,
    tenant_id: context.tenantId,
  };
}

/**
 * One structured log line in Powertools Logger's layout: `level`, `message`, `timestamp` (ISO 8601, UTC),
 * `service`, the Lambda context fields and `xray_trace_id` when known, the appended keys, then the attributes.
 * Keys whose value is `undefined` are left out (as JSON.stringify and Powertools do); an attribute cannot
 * override the four standard keys.
 */
export function logLine(
  level: LineLevel,
  message: string,
  service: string,
  timestampMs: number,
  attributes: Readonly<Record<string, unknown>>,
  context: LineContext = {},
): string {
  const line: Record<string, unknown> = {
    level,
    message,
    timestamp: new Date(timestampMs).toISOString(),
    service,
  };
  const { tenant_id: tenantId, ...lambda } = context.lambda ?? {};
  Object.assign(line, lambda);
  if (context.traceId !== undefined) line.xray_trace_id = context.traceId;
  if (tenantId !== undefined) line.tenant_id = tenantId;
  for (const extra of [context.keys, attributes]) {
    for (const key in extra) {
      if (!STANDARD_LOG_KEYS.has(key)) line[key] = extra[key];
    }
  }
  return JSON.stringify(line);
}
