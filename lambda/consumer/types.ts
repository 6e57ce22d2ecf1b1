/**
 * Public types of the consumer runtime: what a handler receives and what `defineConsumer` accepts.
 */
import type { SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import type { WebhookEnvelope } from '../shared/envelope';
import type { JobDefinition, JobPayload } from '../shared/job';
import type { JobProgress } from './progress';

/** Extra log input: attributes to merge into the line, or an error. */
export type LogExtra = Record<string, unknown> | Error | string;

/** The logger a handler gets: a Powertools `Logger` at run time (structured JSON, one line per call). */
export interface ConsumerLogger {
  debug(message: string, ...extra: LogExtra[]): void;
  info(message: string, ...extra: LogExtra[]): void;
  warn(message: string, ...extra: LogExtra[]): void;
  error(message: string, ...extra: LogExtra[]): void;
}

/**
 * The event a handler receives: the envelope plus its body parsed by content type (and schema, if any).
 * `body` is always there, encoded as `bodyEncoding` says, also when the body was claim-checked to S3
 * (`payloadRef` set): the runtime fetched it, so inline and claim-checked events look the same.
 */
export type ConsumerEvent<Payload = unknown> = WebhookEnvelope & {
  readonly body: string;
  readonly payload: Payload;
};

/** Per-record context. */
export interface HandlerContext {
  /** The record's ApproximateReceiveCount: 1 on the first delivery. */
  readonly attempt: number;
  /** Logger whose lines carry the event id, type and attempt. */
  readonly logger: ConsumerLogger;
  /** Milliseconds left before the Lambda invocation times out. */
  remainingTimeMs(): number;
  /** The raw SQS record, for anything the envelope does not carry. */
  readonly record: SQSRecord;
  /** The consumer (queue) name. */
  readonly consumer: string;
  /**
   * Reports a job's progress (BullMQ's `job.updateProgress`): a percentage from 0 to 100, or a JSON value of at
   * most 1 KiB (`{ step: 2, of: 5 }`); anything else throws an `InvalidProgressError`. Kept in the job's record
   * (`producer.status(id)`, `hookline jobs show`): writes are coalesced to at most one per second, the last value
   * is written before the attempt's outcome, and a failed write is logged, never failing the job. Does nothing
   * for a job without a record (no dedupe table, or its record expired) and for a webhook.
   */
  progress(value: JobProgress): void;
  /**
   * A flow parent's children's results (what each child's handler returned), by child id; undefined for a job
   * that is no flow parent (`producer.sendFlow`).
   */
  readonly children?: Readonly<Record<string, unknown>>;
  /**
   * A flow parent's children sent with `ignoreDependencyOnFailure` that were dead-lettered: why, by child id (as
   * BullMQ's `getIgnoredChildrenFailures`); they are not in `children`. Empty when none failed; undefined for a job
   * that is no flow parent.
   */
  readonly failedChildren?: Readonly<Record<string, string>>;
}

/**
 * A handler: resolve to succeed; throw to retry; throw a `PermanentError` to dead-letter at once. A job handler's
 * resolved value is kept as the job's result (`producer.status(id)`); other handlers' values are ignored.
 */
export type EventHandler<Payload = unknown, Result = unknown> = (
  event: ConsumerEvent<Payload>,
  ctx: HandlerContext,
) => Promise<Result> | Result;

/** Any job's handler, its payload type erased (the list of `defineConsumer({ jobs })` mixes jobs). */
export interface AnyJobHandler {
  /** The job it handles, under the handler key `job.<type>`. */
  readonly job: JobDefinition;
  /** The handler, its payload type erased. */
  readonly handle: (event: never, ctx: HandlerContext) => unknown;
}

/** A job's handler, made by `handleJob(job, handle)`: the payload typed and validated by the job's schema. */
export interface JobHandler<J extends JobDefinition = JobDefinition> {
  /** The job it handles, under the handler key `job.<type>`. */
  readonly job: J;
  /** Runs with the payload validated by the job's schema; what it returns is the job's result. */
  readonly handle: EventHandler<JobPayload<J>>;
}

/** A handler whose payload is validated (and typed) by a zod schema; a schema failure is permanent. */
export interface SchemaHandler<Schema extends z.ZodType = z.ZodType> {
  /** Parses the payload; a failure dead-letters the record at once as an `InvalidPayloadError`. */
  readonly schema: Schema;
  /** Runs with `event.payload` as the schema's output. */
  readonly handle: EventHandler<z.output<Schema>>;
}

/** What a handler key maps to: a plain handler or a schema-validated one. */
export type HandlerSpec = EventHandler<unknown> | SchemaHandler<z.ZodType>;

/**
 * The definition passed to `defineConsumer`. `Schemas` is inferred: for each key written as
 * `{ schema, handle }`, `handle` gets the schema's output type as `event.payload`. A key written as a plain
 * function infers nothing (`unknown`), which is why the constraint is `unknown` per key and not a schema: with a
 * schema constraint one plain handler would make the whole inference fall back, and every schema's payload with it.
 */
export interface ConsumerDefinition<Schemas extends Record<string, unknown> = Record<string, z.ZodType>> {
  /**
   * Handlers by `${source}.${type}` key: exact (`github.push`) or a pattern where `*` matches one or more
   * characters other than `.` and `**` matches anything. The most specific match wins (exact, then most literal
   * characters, then fewer `**`, then first declared).
   */
  readonly handlers: {
    readonly [K in keyof Schemas]: EventHandler<unknown> | SchemaHandler<Schemas[K] & z.ZodType>;
  };
  /**
   * Job handlers (`handleJob(job, handle)`), each under the key `job.<type>`.
   * @default []
   */
  readonly jobs?: readonly AnyJobHandler[];
  /**
   * Runs for events no key matches.
   * @default - none: such events are dead-lettered as `UnknownEventTypeError`
   */
  readonly default?: EventHandler<unknown>;
}
