/**
 * Local mode's stand-in for the quiet-tenant metrics SQS publishes for a fair queue
 * (`ApproximateNumberOfMessagesVisibleInQuietGroups`, `ApproximateAgeOfOldestMessageInQuietGroups`), which
 * deployed `hookline status` reads from CloudWatch. Pure: the emulator counts each tenant's messages, the fair
 * event source mapping says which of those it holds waiting in its tenant lanes.
 *
 * SQS marks a tenant noisy when either holds: it has more than 10% of the queue's messages in flight and at least
 * 30 of its own in flight (concurrency share), or more than 10% of the consumers' recent processing time
 * (processing-time share); it stays noisy until its backlog is drained or it sent nothing for 5 minutes. Every
 * other tenant is quiet. Local mode knows what is in flight, but keeps no record of processing time or of past
 * detections, so it applies the concurrency share only, to the messages being processed now.
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues-detailed.html
 */

/** One tenant's messages in a queue, as the emulator counts them. */
export interface TenantBacklog {
  /** Waiting to be received. */
  ready: number;
  /** Received and not deleted: being processed, or waiting in a fair mapping's tenant lanes. */
  inflight: number;
  /** When its oldest message the age counts entered the queue (epoch ms), null when none counts. */
  sentAt: number | null;
}

/** A tenant with more than this share of the messages in flight (and {@link NOISY_MIN_IN_FLIGHT}) is noisy. */
const NOISY_SHARE = 0.1;
/** The fewest messages of its own in flight a tenant is noisy with. */
const NOISY_MIN_IN_FLIGHT = 30;

/** What local mode cannot know of SQS's noisy-tenant detection, said wherever it shows the quiet tenants. */
export const LOCAL_QUIET_TENANTS_NOTE =
  "local mode: noisy means over 10% of the messages being processed and at least 30 of them; SQS also counts a tenant's share of processing time and keeps a tenant noisy until its backlog drains, which local mode does not track";

/** The quiet tenants' waiting messages and the age of their oldest, as SQS's two metrics count them. */
export interface QuietTenants {
  readonly visible: number;
  /** Undefined when no quiet tenant has a message the age counts. */
  readonly oldestAgeSeconds: number | undefined;
}

/**
 * The quiet tenants of a queue whose tenants hold `backlogs`, of which a fair mapping holds `held` (by tenant)
 * waiting in its lanes: those are visible to SQS, not in flight.
 */
export function quietTenants(
  backlogs: Readonly<Record<string, TenantBacklog>>,
  held: ReadonlyMap<string, number>,
  now: number,
): QuietTenants {
  const tenants = Object.entries(backlogs).map(([tenant, backlog]) => {
    const waitingInLanes = Math.min(held.get(tenant) ?? 0, backlog.inflight);
    return {
      visible: backlog.ready + waitingInLanes,
      processing: backlog.inflight - waitingInLanes,
      sentAt: backlog.sentAt,
    };
  });
  const processing = tenants.reduce((sum, t) => sum + t.processing, 0);
  const quiet = tenants.filter(
    (t) => !(t.processing > processing * NOISY_SHARE && t.processing >= NOISY_MIN_IN_FLIGHT),
  );
  const oldest = quiet.reduce<number | undefined>(
    (min, t) => (t.sentAt !== null && (min === undefined || t.sentAt < min) ? t.sentAt : min),
    undefined,
  );
  return {
    visible: quiet.reduce((sum, t) => sum + t.visible, 0),
    oldestAgeSeconds: oldest === undefined ? undefined : Math.max(0, Math.floor((now - oldest) / 1000)),
  };
}
