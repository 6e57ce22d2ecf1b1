/**
 * The shape of a consumer's idempotency keys, shared by the consumer runtime (which writes them) and the stack
 * (which lets each consumer's role touch only its own): Powertools idempotency stores the partition key as
 * `<keyPrefix>#<hash of the work key>`, and hookline's key prefix is the consumer's name.
 */
import { JOB_DEBOUNCE_HEADER } from './job';

/** Powertools idempotency puts this between the key prefix and the hash. */
const POWERTOOLS_KEY_SEPARATOR = '#';

/** The `keyPrefix` a consumer hands Powertools idempotency: its name, which is unique and never holds a `#`. */
export function idempotencyKeyPrefix(consumerName: string): string {
  return consumerName;
}

/** An IAM `StringLike` pattern matching every idempotency key of one consumer and no other consumer's. */
export function idempotencyKeyPattern(consumerName: string): string {
  return `${idempotencyKeyPrefix(consumerName)}${POWERTOOLS_KEY_SEPARATOR}*`;
}

/**
 * The key of one piece of consumer work: the envelope's source and id (an id is only unique within its source:
 * two senders, or a sender and a job, may use the same one, as the ingest's dedupe keys say too), plus a job's
 * generation when it has one, plus the replay run's id for a replayed event. So a job id enqueued again after
 * the producer's dedupe window, and a replay, run again (new work), while a redelivery of the same enqueue or
 * replay (a retry) finds the key already done. Webhooks carry no generation: their keys are source and id. A
 * debounced job's key names its send too: each send of it is a message of its own, of which the record lets one run,
 * so a send it skips never holds the key of the one it runs.
 */
export function idempotencyWorkKey(
  consumerName: string,
  envelope: {
    readonly source: string;
    readonly id: string;
    readonly generation?: string | undefined;
    readonly replay?: { readonly id: string } | undefined;
    readonly headers?: Readonly<Record<string, string>>;
  },
): string {
  const parts = [consumerName, envelope.source, envelope.id];
  if (envelope.generation !== undefined) parts.push(`generation:${envelope.generation}`);
  const debounced = envelope.headers?.[JOB_DEBOUNCE_HEADER];
  if (debounced !== undefined) parts.push(`debounce:${debounced}`);
  if (envelope.replay) parts.push(`replay:${envelope.replay.id}`);
  return parts.join(POWERTOOLS_KEY_SEPARATOR);
}

/**
 * The consumer's rate-limit windows share its table and its key prefix, under a segment no Powertools hash (hex
 * digits) can spell: `<consumer>#rate-limit#<window index>`.
 */
const RATE_LIMIT_SEGMENT = 'rate-limit';

/** The key of one rate-limit window of a consumer. */
export function rateLimitWindowKey(consumerName: string, window: number): string {
  return `${idempotencyKeyPrefix(consumerName)}${POWERTOOLS_KEY_SEPARATOR}${RATE_LIMIT_SEGMENT}${POWERTOOLS_KEY_SEPARATOR}${window}`;
}

/** An IAM `StringLike` pattern matching every rate-limit window key of one consumer and nothing else. */
export function rateLimitKeyPattern(consumerName: string): string {
  return `${idempotencyKeyPrefix(consumerName)}${POWERTOOLS_KEY_SEPARATOR}${RATE_LIMIT_SEGMENT}${POWERTOOLS_KEY_SEPARATOR}*`;
}
