/**
 * Dead letters grouped by why they failed: one line per distinct failure rather than one per message, so a DLQ
 * holding thousands of copies of three bugs reads as three bugs. Two failures are the same when their error
 * names match and their messages match once the parts that differ per event (ids, numbers, times) are masked.
 */
import { createHash } from 'node:crypto';
import { deletedBySqsAt } from '../console/ui/dead-letter-expiry';
import type { DeadLetter, DeadLetterSummary } from './dead-letters';
import { UsageError } from './errors';
import { type CommandHints, nextCommand } from './output';
import { noReasonRecorded } from './target';

/** How many example ids a group keeps: enough to `failed show` one and `redrive --id` a few. */
export const EXAMPLE_IDS_PER_GROUP = 5;

/** Masked messages are cut here: a longer one is the same failure by its first part. */
const MAX_PATTERN_LENGTH = 200;

/** How many event types a group names (the most frequent first); the rest are counted. */
const TYPES_PER_GROUP = 3;

/**
 * What varies between events that fail for the same reason, in the order masked: timestamps before the numbers in
 * them, UUIDs and long hex before other ids. An HTTP status stays (a 404 and a 503 are different failures), and so
 * do quoted names (`reading 'email'` names the bug). An id is a token with a digit that is long or joined by `_`/`-`
 * (`cus_1`, `ord-9Xk`, `a1b2c3d4`), not a short word such as `s3`, `utf8` or `OAuth2`.
 */
const MASKS: readonly (readonly [RegExp, string])[] = [
  [/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b/gi, '<hex>'],
  [/\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])(?:[\w-]{8,}|[A-Za-z0-9]*[_-][\w-]*)\b/g, '<id>'],
  [/(?<!\b(?:status|code|HTTP)\s?[:=]?\s?)\b\d+(?:\.\d+)?\b/gi, '<n>'],
];

/** A failure's message with what varies per event masked: `order 42 (ord_9Xk) not found` → `order <n> (<id>) not found`. */
export function maskedMessage(message: string): string {
  let masked = message.replace(/\s+/g, ' ').trim();
  for (const [pattern, mask] of MASKS) masked = masked.replace(pattern, mask);
  return masked.length > MAX_PATTERN_LENGTH ? `${masked.slice(0, MAX_PATTERN_LENGTH - 1)}…` : masked;
}

/**
 * The failure a dead letter is grouped under: `ErrorName: masked message`; `noReason` for one without a recorded
 * reason (SQS moved it after maxReceiveCount, or Scheduler left no code).
 */
export function failurePattern(letter: Pick<DeadLetter, 'failure'>, noReason: string): string {
  const { errorName, errorMessage } = letter.failure;
  if (errorName === undefined && errorMessage === undefined) return noReason;
  const message = errorMessage === undefined ? '' : maskedMessage(errorMessage);
  if (errorName === undefined) return message;
  return message === '' ? errorName : `${errorName}: ${message}`;
}

/** What a failure key looks like: {@link failureKey}'s 8 lower-case hex digits. */
export const FAILURE_KEY = /^[0-9a-f]{8}$/;

/**
 * A failure's short, stable name: the first 8 hex digits of the SHA-256 of its pattern, the same on every read and
 * every machine, so `failed summary` can print it and a selector can take it back (a pattern is too long to type).
 */
export function failureKey(pattern: string): string {
  return createHash('sha256').update(pattern).digest('hex').slice(0, 8);
}

/** One distinct failure of a dead-letter queue. */
export interface FailureGroup {
  /** {@link failureKey} of `pattern`. */
  readonly key: string;
  /** `ErrorName: message` with ids, numbers and times masked (`<id>`, `<n>`, `<time>`, `<uuid>`, `<hex>`, `<value>`). */
  readonly pattern: string;
  /** Dead letters in the group (each message once; two copies of one event are two). */
  readonly count: number;
  /** The first reason read in full, as `failed list` shows it. */
  readonly example: string;
  /** Up to five envelope ids (else SQS message ids), in the order read. */
  readonly exampleIds: readonly string[];
  /** Event types with their counts, most frequent first (at most three; `otherTypes` counts the rest). */
  readonly types: readonly { readonly type: string; readonly count: number }[];
  readonly otherTypes: number;
  /**
   * In a dead-letter queue Scheduler fills: what its deliveries concern (`circuit breaker probe of the events queue`),
   * with their counts, most frequent first (at most three, as `types`); absent elsewhere.
   */
  readonly subjects?: readonly { readonly subject: string; readonly count: number }[];
  /** Earliest and latest failure time: the consumer's record of it, else when the message was sent. */
  readonly firstFailedAt: string | null;
  readonly lastFailedAt: string | null;
  /**
   * When SQS deletes the group's oldest letter (`dead-letter-expiry`): its `SentTimestamp` plus the dead-letter
   * queue's retention; null when neither is known. Given where the retention was read (`failed summary`).
   */
  readonly oldestDeletedBySqsAt?: string | null;
}

/**
 * What grouping reads of a dead letter: the fields `failed list` summarizes it to ({@link DeadLetterSummary}), so
 * the console groups the letters its page read with the code `failed summary` groups a whole DLQ with.
 */
export type GroupedLetter = Pick<DeadLetterSummary, 'messageId' | 'id' | 'type' | 'sentAt' | 'failure'> & {
  /** What a delivery Scheduler gave up on concerns (`UndeliveredSchedule.subject`). */
  readonly subject?: string;
};

interface GroupState {
  pattern: string;
  count: number;
  example: string;
  exampleIds: string[];
  types: Map<string, number>;
  subjects: Map<string, number>;
  first?: string;
  last?: string;
  oldestSent?: string;
}

/**
 * Counts dead letters into failure groups as they are read, keeping a few examples per group and never the
 * letters themselves, so a DLQ of any size is summarized in bounded memory.
 */
export class FailureGroups {
  private readonly groups = new Map<string, GroupState>();
  private total = 0;

  /**
   * @param retentionSeconds the dead-letter queue's `MessageRetentionPeriod`: given, each group says when SQS deletes
   * its oldest letter. @default - groups without it
   */
  constructor(
    private readonly noReason: string,
    private readonly retentionSeconds?: number | null,
  ) {}

  add(letter: GroupedLetter): void {
    this.total++;
    const pattern = failurePattern(letter, this.noReason);
    let group = this.groups.get(pattern);
    if (!group) {
      group = {
        pattern,
        count: 0,
        example: reasonOf(letter, this.noReason),
        exampleIds: [],
        types: new Map(),
        subjects: new Map(),
      };
      this.groups.set(pattern, group);
    }
    group.count++;
    if (group.exampleIds.length < EXAMPLE_IDS_PER_GROUP) group.exampleIds.push(letter.id ?? letter.messageId);
    const type = letter.type ?? '(no type)';
    group.types.set(type, (group.types.get(type) ?? 0) + 1);
    if (letter.subject !== undefined)
      group.subjects.set(letter.subject, (group.subjects.get(letter.subject) ?? 0) + 1);
    const at = letter.failure.failedAt ?? letter.sentAt;
    if (at !== undefined && at !== null) {
      if (group.first === undefined || at < group.first) group.first = at;
      if (group.last === undefined || at > group.last) group.last = at;
    }
    if (letter.sentAt && (group.oldestSent === undefined || letter.sentAt < group.oldestSent))
      group.oldestSent = letter.sentAt;
  }

  /** How many dead letters were added. */
  get letters(): number {
    return this.total;
  }

  /** The groups, largest first (ties: the most recent failure first). */
  result(): FailureGroup[] {
    return [...this.groups.values()]
      .map((group) => toFailureGroup(group, this.retentionSeconds))
      .sort((a, b) => b.count - a.count || (b.lastFailedAt ?? '').localeCompare(a.lastFailedAt ?? ''));
  }
}

function reasonOf(letter: GroupedLetter, noReason: string): string {
  const { errorName, errorMessage } = letter.failure;
  if (errorName === undefined) return errorMessage ?? noReason;
  return `${errorName}: ${errorMessage ?? ''}`.trim();
}

/** Counted names, most frequent first (ties in name order). */
const mostFirst = (counts: Map<string, number>) =>
  [...counts.entries()].sort(([a, m], [b, n]) => n - m || a.localeCompare(b));

function toFailureGroup(group: GroupState, retentionSeconds: number | null | undefined): FailureGroup {
  const types = mostFirst(group.types).map(([type, count]) => ({ type, count }));
  const subjects = mostFirst(group.subjects).map(([subject, count]) => ({ subject, count }));
  return {
    key: failureKey(group.pattern),
    pattern: group.pattern,
    count: group.count,
    example: group.example,
    exampleIds: group.exampleIds,
    types: types.slice(0, TYPES_PER_GROUP),
    otherTypes: types.slice(TYPES_PER_GROUP).reduce((sum, t) => sum + t.count, 0),
    ...(subjects.length > 0 ? { subjects: subjects.slice(0, TYPES_PER_GROUP) } : {}),
    firstFailedAt: group.first ?? null,
    lastFailedAt: group.last ?? null,
    ...(retentionSeconds === undefined
      ? {}
      : { oldestDeletedBySqsAt: deletedBySqsAt(group.oldestSent, retentionSeconds ?? undefined) }),
  };
}

/** A `--failure` key as given, in the form `failed summary` prints keys (trimmed, lower case). */
export const failureKeyGiven = (key: string): string => key.trim().toLowerCase();

/** {@link failureSelector} of an optional `--failure`: undefined, every letter, when it was not given. */
export function optionalFailureSelector(
  key: string | undefined,
  listing: { readonly output: CommandHints; readonly queue: string },
): ((letter: DeadLetter) => boolean) | undefined {
  return key === undefined ? undefined : failureSelector(key, listing);
}

/**
 * The `--failure` key (as `hookline failed summary <queue>` prints it) as a test of a dead letter of the dead-letter
 * queue `listing.queue`, or a usage error (exit 2) for one that is not a key, naming that summary with the target flags
 * of `listing.output`.
 */
export function failureSelector(
  key: string,
  listing: { readonly output: CommandHints; readonly queue: string },
  leaveOut = 'or leave --failure out',
): (letter: DeadLetter) => boolean {
  const wanted = failureKeyGiven(key);
  if (!FAILURE_KEY.test(wanted)) {
    throw new UsageError(
      `--failure ${JSON.stringify(key)} is not a failure key: give the KEY column of ${nextCommand(listing.output, `failed summary ${listing.queue}`)} (8 hex digits, such as 0a78ca1c), ${leaveOut}`,
    );
  }
  const noReason = noReasonRecorded(listing.queue);
  return (letter) => failureKey(failurePattern(letter, noReason)) === wanted;
}
