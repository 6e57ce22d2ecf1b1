/**
 * A handler's `ctx` for a test that calls a handler directly, and the logger that records what was logged: plain
 * data a test reads with any assertion library (no test framework is imported).
 */
import type { SQSRecord } from 'aws-lambda';
import type { RootLogger } from '../consumer/core';
import { type JobProgress, progressJson } from '../consumer/progress';
import type { ConsumerLogger, HandlerContext, LogExtra } from '../consumer/types';
import { CONSUMER_RUNTIME_DEFAULTS } from '../shared/consumer-config';
import { sqsRecordOf, type TestEvent, webhookEvent } from './events';

/** An invocation's length in the kit: a consumer's default timeout. */
export const INVOCATION_MS = CONSUMER_RUNTIME_DEFAULTS.timeoutSeconds * 1000;

/** One line a handler (or the runtime) logged. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  /**
   * The line's attributes: the logger's keys (a record's `id`, `source`, `type`, `attempt`), then each extra
   * argument merged in, an `Error` as `error` (its message) and a string as `extra`.
   */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** A logger that keeps each line in `lines`; its children add their keys and keep theirs in `childLines`. */
export class RecordingLogger implements RootLogger {
  /**
   * @param keys attributes of every line
   * @param lines where this logger's lines go
   * @param childLines where its children's lines go: the same list unless told
   */
  constructor(
    private readonly keys: Readonly<Record<string, unknown>> = {},
    readonly lines: LogLine[] = [],
    private readonly childLines: LogLine[] = lines,
  ) {}

  debug(message: string, ...extra: LogExtra[]): void {
    this.#log('debug', message, extra);
  }
  info(message: string, ...extra: LogExtra[]): void {
    this.#log('info', message, extra);
  }
  warn(message: string, ...extra: LogExtra[]): void {
    this.#log('warn', message, extra);
  }
  error(message: string, ...extra: LogExtra[]): void {
    this.#log('error', message, extra);
  }

  child(keys: Record<string, unknown>): ConsumerLogger {
    return new RecordingLogger({ ...this.keys, ...keys }, this.childLines);
  }

  #log(level: LogLine['level'], message: string, extra: readonly LogExtra[]): void {
    const attributes: Record<string, unknown> = { ...this.keys };
    for (const item of extra) {
      if (typeof item === 'string') attributes.extra = item;
      else if (item instanceof Error) attributes.error = item.message;
      else Object.assign(attributes, item);
    }
    this.lines.push({ level, message, attributes });
  }
}

/** What a test may set of a handler's `ctx`. */
export interface HandlerContextOptions {
  /**
   * The event the handler is called with: `ctx.record` carries it, and `ctx.attempt` is its `attempt`.
   * @default - a `test.event` webhook with an empty payload
   */
  readonly event?: TestEvent;
  /**
   * The consumer (queue) name.
   * @default 'test-consumer'
   */
  readonly consumer?: string;
  /**
   * What `ctx.remainingTimeMs()` answers.
   * @default 30000 - a consumer's default timeout
   */
  readonly remainingTimeMs?: number;
  /**
   * A flow parent's children's results, by child id (`ctx.children`).
   * @default - none: the job is no flow parent
   */
  readonly children?: Readonly<Record<string, unknown>>;
  /**
   * A flow parent's ignored children's failures, by child id (`ctx.failedChildren`).
   * @default - none: the job is no flow parent
   */
  readonly failedChildren?: Readonly<Record<string, string>>;
}

/** A handler's `ctx` whose logger records its lines and whose `progress` keeps what was reported. */
export interface TestHandlerContext extends HandlerContext {
  readonly logger: RecordingLogger;
  /** Each value the handler reported with `ctx.progress`, in order (checked as the runtime checks them). */
  readonly progressReports: readonly JobProgress[];
}

/**
 * A `ctx` to call a handler with directly.
 *
 * @example
 * const event = webhookEvent('github.push', { ref: 'refs/heads/main' });
 * const ctx = handlerContext({ event });
 * await onGithubPush(event, ctx);
 * ctx.logger.lines; // [{ level: 'info', message: 'push received', attributes: { ... } }]
 */
export function handlerContext(options: HandlerContextOptions = {}): TestHandlerContext {
  const event = options.event ?? webhookEvent('test.event', {});
  const record: SQSRecord = sqsRecordOf(event);
  const progressReports: JobProgress[] = [];
  const remainingTimeMs = options.remainingTimeMs ?? INVOCATION_MS;
  return {
    attempt: event.attempt,
    consumer: options.consumer ?? 'test-consumer',
    logger: new RecordingLogger({
      id: event.id,
      source: event.source,
      type: event.type,
      attempt: event.attempt,
    }),
    record,
    remainingTimeMs: () => remainingTimeMs,
    progress(value: JobProgress) {
      progressJson(value);
      progressReports.push(value);
    },
    progressReports,
    ...(options.children ? { children: options.children } : {}),
    ...(options.failedChildren ? { failedChildren: options.failedChildren } : {}),
  };
}
