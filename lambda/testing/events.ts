/**
 * Events for a consumer's tests: what a handler receives for a webhook or a job, built as the ingest function and
 * the producer build their envelopes, and the SQS record that carries one to the runtime.
 */
import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { ConsumerEvent } from '../consumer/types';
import { ENVELOPE_VERSION, MESSAGE_ATTRIBUTES, type WebhookEnvelope } from '../shared/envelope';
import { JOB_SOURCE, type JobDefinition, type JobInput, jobEnvelope } from '../shared/job';
import { jobRetryHeaders } from '../shared/job-retry';
import { isSqsGroupId } from '../shared/safe-ids';

/**
 * An event as a handler receives it, with the delivery it comes on: pass it to a handler directly, or to a
 * runner's `run`, which delivers it to the consumer in an SQS record.
 */
export type TestEvent<Payload = unknown> = ConsumerEvent<Payload> & {
  /** The delivery this is (the record's `ApproximateReceiveCount`, `ctx.attempt`): 1 on the first. */
  readonly attempt: number;
  /**
   * The FIFO message group it was given (`MessageGroupId`); without one, a FIFO runner sends it in hookline's
   * default group (a webhook's source, a job's type).
   */
  readonly group?: string;
};

/** A FIFO message group, as an event builder takes it. */
interface GroupOption {
  /**
   * The FIFO message group the event is sent in (the record's `MessageGroupId`): a runner with `fifo: true` runs
   * a group's events in order and holds back the rest of a group after a failure, as a FIFO queue's consumer does.
   * 1 to 128 printable ASCII characters, no spaces (what SQS accepts).
   * @default - what hookline sends: a webhook's source (a FIFO queue's default `fifoGrouping`), a job's type
   */
  readonly group?: string;
}

/** What a test may set of a webhook event; the rest is what the ingest function writes. */
export interface WebhookEventOptions extends GroupOption {
  /**
   * The event id (the sender's delivery id): idempotency runs one id once per source.
   * @default - a new id
   */
  readonly id?: string;
  /**
   * Request headers the ingest kept, names lower-cased.
   * @default - `content-type` alone
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * When the ingest function accepted the request.
   * @default - now
   */
  readonly receivedAt?: Date;
  /**
   * The delivery: `maxReceiveCount` makes it the last one, where a failure is dead-lettered.
   * @default 1
   */
  readonly attempt?: number;
  /**
   * The body's content type, which decides how the runtime parses it into `payload`.
   * @default - `application/json`, `text/plain` for a string payload, `application/octet-stream` for bytes
   */
  readonly contentType?: string;
}

/** What a test may set of a job event; the rest is what the producer writes. */
export interface JobEventOptions extends GroupOption {
  /**
   * The job's id (`send(..., { id })`).
   * @default - a new id
   */
  readonly id?: string;
  /**
   * The delivery: `maxReceiveCount`, or the job's own `attempts`, makes it the last one.
   * @default 1
   */
  readonly attempt?: number;
  /**
   * The job's own attempts (`send(..., { attempts })`): a failure on the last of them is dead-lettered with
   * `AttemptsExhaustedError`.
   * @default - its queue's `maxReceiveCount`
   */
  readonly attempts?: number;
  /**
   * When the producer sent it.
   * @default - now
   */
  readonly enqueuedAt?: Date;
}

/**
 * A webhook event for the handler key `<source>.<type>` (the source is the part before the first dot), its body the
 * payload as the sender sent it: an object as JSON, a string as text, bytes as they are.
 *
 * @example
 * const push = webhookEvent('github.push', { ref: 'refs/heads/main', commits: [] });
 */
export function webhookEvent<Payload>(
  key: string,
  payload: Payload,
  options: WebhookEventOptions = {},
): TestEvent<Payload> {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) {
    throw new TypeError(
      `webhookEvent: ${JSON.stringify(key)} is not a <source>.<type> key: pass one such as 'github.push'`,
    );
  }
  const { body, bodyEncoding, contentType } = bodyOf(payload, options.contentType);
  const envelope: WebhookEnvelope = {
    v: ENVELOPE_VERSION,
    id: options.id ?? randomUUID(),
    source: key.slice(0, dot),
    type: key.slice(dot + 1),
    receivedAt: (options.receivedAt ?? new Date()).toISOString(),
    headers: { 'content-type': contentType, ...options.headers },
    contentType,
    body,
    bodyEncoding,
  };
  return {
    ...envelope,
    body,
    payload,
    attempt: options.attempt ?? 1,
    ...groupField('webhookEvent', options),
  };
}

/**
 * A job's event, as `producer.send(job, payload)` sends it with its dedupe table (so its record keeps its result):
 * the handler key `job.<type>`. The payload is what the producer is given; the runner validates it with the job's
 * schema, as the runtime does, before the handler sees it.
 *
 * @example
 * const welcome = jobEvent(welcomeEmail, { userId: 'u1' });
 */
export function jobEvent<J extends JobDefinition>(
  job: J,
  payload: JobInput<J>,
  options: JobEventOptions = {},
): TestEvent<JobInput<J>> {
  const body = JSON.stringify(payload);
  if (body === undefined) throw new TypeError(`jobEvent: the payload of job ${job.type} is not JSON`);
  const envelope = jobEnvelope(job, body, options.id ?? randomUUID(), options.enqueuedAt ?? new Date(), true);
  const headers = { ...envelope.headers, ...jobRetryHeaders({ attempts: options.attempts }) };
  return {
    ...envelope,
    headers,
    body,
    payload,
    attempt: options.attempt ?? 1,
    ...groupField('jobEvent', options),
  };
}

/** The `group` an event builder was given, checked as SQS checks a `MessageGroupId`. */
function groupField(builder: string, options: GroupOption): { group?: string } {
  if (options.group === undefined) return {};
  if (!isSqsGroupId(options.group)) {
    throw new TypeError(
      `${builder}: group ${JSON.stringify(options.group)} is not a FIFO message group: pass 1 to 128 printable ASCII characters, no spaces`,
    );
  }
  return { group: options.group };
}

/**
 * The message group an event is sent in on a FIFO queue: the one it was given, else what hookline sends by
 * default (the ingest groups a webhook by its source, the producer a job by its type).
 */
export function groupOf(event: TestEvent): string {
  return event.group ?? (event.source === JOB_SOURCE ? event.type : event.source);
}

/** Where a record is received from: a FIFO queue gives it its group, deduplication id and sequence number. */
export interface RecordQueue {
  readonly fifo: boolean;
  /** The record's sequence number in its queue (FIFO). */
  readonly sequence?: number;
}

/**
 * The SQS record the consumer's event source hands the runtime for an event, as the ingest function or the
 * producer sent it: its envelope as the body, its source, type and id as message attributes; from a FIFO queue,
 * or for an event given a group, its message group too.
 */
export function sqsRecordOf(
  event: TestEvent,
  messageId: string = randomUUID(),
  queue: RecordQueue = { fifo: false },
): SQSRecord {
  const { attempt, payload: _payload, group: _group, ...envelope } = event;
  const sentMs = Date.now();
  const fifo =
    queue.fifo || event.group !== undefined
      ? {
          MessageGroupId: groupOf(event),
          MessageDeduplicationId: messageId,
          SequenceNumber: String(queue.sequence ?? 1),
        }
      : {};
  return {
    messageId,
    receiptHandle: `testing-${messageId}`,
    body: JSON.stringify(envelope),
    attributes: {
      ApproximateReceiveCount: String(attempt),
      SentTimestamp: String(sentMs),
      SenderId: 'hookline-testing',
      ApproximateFirstReceiveTimestamp: String(sentMs),
      ...fifo,
    },
    messageAttributes: {
      [MESSAGE_ATTRIBUTES.source]: { dataType: 'String', stringValue: event.source },
      [MESSAGE_ATTRIBUTES.type]: { dataType: 'String', stringValue: event.type },
      [MESSAGE_ATTRIBUTES.eventId]: { dataType: 'String', stringValue: event.id },
    },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:hookline-testing',
    awsRegion: 'us-east-1',
  };
}

function bodyOf(
  payload: unknown,
  contentType: string | undefined,
): { body: string; bodyEncoding: 'utf8' | 'base64'; contentType: string } {
  if (payload instanceof Uint8Array) {
    const body = Buffer.from(payload).toString('base64');
    return { body, bodyEncoding: 'base64', contentType: contentType ?? 'application/octet-stream' };
  }
  if (typeof payload === 'string') {
    return { body: payload, bodyEncoding: 'utf8', contentType: contentType ?? 'text/plain' };
  }
  const body = JSON.stringify(payload);
  if (body === undefined)
    throw new TypeError('webhookEvent: the payload is not JSON (undefined or a function)');
  return { body, bodyEncoding: 'utf8', contentType: contentType ?? 'application/json' };
}
