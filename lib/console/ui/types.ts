/**
 * The shapes the console API answers with, as the page reads them.
 */
export interface Rates {
  bucketSeconds: number;
  received: number[];
  processed: number[];
  failed: number[];
}

export interface QueueRow {
  queue: string;
  fifo: boolean;
  /** Null, as are the other counts, where the console's AWS identity may not read it (`unreadableNotes` say why). */
  visible: number | null;
  inFlight: number | null;
  delayed: number | null;
  deadLettered: number | null;
  oldestMessageAgeSeconds: number | null;
  oldestMessageAgeNote?: string;
  /** Null when the queue has no consumer; absent where its state may not be read. */
  consumer?: string | null;
  /** Where the consumer's state may not be read, why, as `hookline status` says it (`unknown: access denied (needs ...)`). */
  consumerNote?: string;
  /**
   * Why the consumer is paused when its circuit breaker paused it ("paused by circuit breaker at ..."), or that
   * its breaker is probing it ("half-open since ...").
   */
  pausedBy?: string;
  /**
   * Its consumer's idempotency (`hookline status`'s): `{ expirySeconds }` while on, null when off or without a
   * consumer; absent where the configuration is not known.
   */
  idempotency?: { expirySeconds: number } | null;
  /**
   * A fair queue's quiet tenants (`hookline status`'s), null where CloudWatch has no value; local mode's count
   * with `note`, what of SQS's noisy-tenant detection it leaves out.
   */
  quietTenants?: { visible: number | null; oldestMessageAgeSeconds: number | null; note?: string };
  /** Null where they are unknown (a deployed stack's CloudWatch gave none): shown as unknown, never as zero. */
  rates: Rates | null;
}

export interface FeedState {
  unavailable: string | null;
  error: string | null;
  /** Events neither the feed nor local mode's journal file had when the console read them: the rates undercount by this many. */
  missed: number;
  /** Runs of local mode whose last events the console could not read, an unknown number, or null. */
  unreadEnds: string | null;
}

/** A dead-letter queue that belongs to no queue: one EventBridge Scheduler fills (`hookline status` lists it). */
export interface DeadLetterQueueRow {
  name: string;
  /** What it holds. */
  holds: string;
  /** Null where it may not be read. */
  deadLettered: number | null;
}

export interface Overview {
  target: string;
  local: boolean;
  queues: QueueRow[];
  deadLetterQueues: DeadLetterQueueRow[];
  /** Configured schedules whose dead-letter queue the stack does not publish yet (an older deployment). */
  schedulesMissingOutputs: string[];
  /**
   * `hookline status`'s line on the jobs delayed beyond 15 minutes, waiting in one-time schedules: a count (`at
   * least` past the first 1,000 schedules of a deployed stack), why they are unknown (denied, throttled), or where
   * to look; a deployed stack's with its age, and a count of none too (a reused "none" must not look like no count);
   * null when there is nothing to say (none wait in local mode, or no producer may delay jobs).
   */
  scheduledJobs: { text: string; tone: 'count' | 'unknown' | 'hint' } | null;
  /** `hookline status`'s line on queues the data directory holds that the configuration does not have. */
  unconfiguredQueuesNote: string | null;
  /** `hookline status`'s lines on the parts the console's AWS identity may not read, one each. */
  unreadableNotes: string[];
  /** `hookline status`'s last line when a part could not be read: the permissions missing, once each. */
  missingPermissions: string | null;
  /** A source's rates; null for a deployed stack, whose feed cannot count them exactly (`ratesNote` says why). */
  sources: { name: string; type: string; rates: Rates | null }[];
  feed: FeedState;
  /**
   * Where the rates come from when it is not the live feed (a deployed stack: CloudWatch), or why there are none,
   * with how old that is (reused for a minute).
   */
  ratesNote: string | null;
  replay: string | null;
  /** The sources `replay` takes: the configured ones, scheduled events and jobs. */
  replaySources: string[];
}

export interface FeedEvent {
  seq: number;
  at: string;
  event: string;
  id?: string;
  source?: string;
  type?: string;
  queue?: string;
  /** The tenant it was queued under in its fair queues (distinct values, comma-separated). */
  tenant?: string;
  attempt?: number;
  status?: number;
  latencyMs?: number;
  reason?: string;
  /** The run of local mode that wrote it (a restart starts another); absent for a deployed stack. */
  run?: string;
}

export interface DeadLetterSummary {
  messageId: string;
  id: string | null;
  source: string | null;
  type: string | null;
  receivedAt: string | null;
  receiveCount: number | null;
  /**
   * When SQS deletes it (`failed list`'s `deletedBySqsAt`): its send time plus the DLQ's retention; null when either
   * is unknown.
   */
  deletedBySqsAt?: string | null;
  /** A fair queue's tenant, from the message's tenant attribute. */
  tenant: string | null;
  error: string | null;
  /**
   * In a dead-letter queue Scheduler fills: what the delivery it gave up on is (`circuit breaker probe of the events
   * queue, due ...`), as `failed list` says it; null elsewhere.
   */
  scheduled?: { description: string } | null;
  failure: {
    errorName?: string;
    errorMessage?: string;
    attempt?: string;
    consumer?: string;
    failedAt?: string;
  };
}

export interface Job {
  id: string;
  kind: string;
  label: string;
  state: 'running' | 'done' | 'failed';
  progress: { done: number; total: number | null; label: string } | null;
  notes: string[];
  result: Record<string, unknown> | null;
  /** The command's own summary, as the terminal prints it, or null where the page words the result. */
  summary: string[] | null;
  error: string | null;
}
