/** The pipeline-wide sections: `ingest`, `dedupe`, `payloads`, `logRetentionDays` and `alarms`. */
import { Duration } from 'aws-cdk-lib/core';
import { credentialHeadersOfSources } from '../senders';
import {
  archiveRetentionViolations,
  ingestViolations,
  inlineLimitViolations,
  oldestMessageAgeFloorViolations,
  topicArnViolations,
} from '../validation';
import type { ViolationList } from '../violations';
import { seconds } from './common';
import { DEFAULTS, LONGEST_SENDER_RETRY_WINDOW } from './defaults';
import type {
  ResolvedAlarms,
  ResolvedConfig,
  ResolvedIngest,
  ResolvedQueue,
  ResolvedSource,
} from './resolved';
import { LOG_RETENTION_DAYS, type ParsedConfig } from './schema';

/** The ingest function and API, checked, with every default filled. */
export function resolveIngest(problems: ViolationList, config: ParsedConfig): ResolvedIngest {
  const ingest = config.ingest ?? {};
  const rateLimit = ingest.rateLimit ?? DEFAULTS.ingestRateLimit;
  const burstLimit = ingest.burstLimit ?? DEFAULTS.ingestBurstLimit;
  const timeout = ingest.timeout ?? DEFAULTS.ingestTimeout;
  const memorySize = ingest.memorySize ?? DEFAULTS.ingestMemorySize;
  const secretCache = ingest.secretCache ?? DEFAULTS.secretCache;
  problems.addAll(
    'ingest',
    ingestViolations({ rateLimit, burstLimit, timeout, memorySize, secretCache }, 'ingest.'),
  );
  return {
    rateLimit,
    burstLimit,
    timeout,
    memorySize,
    keepHeaders: ingest.keepHeaders?.map((h) => h.toLowerCase()) ?? DEFAULTS.keepHeaders,
    secretCache,
  };
}

/**
 * Rule: `ingest.keepHeaders` names no credential header (a signature, a session, an API key, a source's own token
 * header: the ingest's list, `credentialHeadersOf`). The ingest never copies one into an envelope, so one listed
 * would be dropped while its writer expects it kept.
 */
export function checkKeptHeaders(
  problems: ViolationList,
  config: ParsedConfig,
  sources: readonly ResolvedSource[],
): void {
  const credentials = credentialHeadersOfSources(sources);
  config.ingest?.keepHeaders?.forEach((header, i) => {
    if (!credentials.has(header.toLowerCase())) return;
    problems.add(
      `ingest.keepHeaders.${i}`,
      'is a credential header (a signature, session, API key or token): hookline never keeps one, or the envelope, the archive, dead letters and every view of them would hold the secret',
      header,
      'remove it: the ingest verifies the request with it before the event is queued',
    );
  });
}

/** Deduplication, checked: a delivery id outlives the longest sender retry window. Undefined when disabled. */
export function resolveDedupe(problems: ViolationList, config: ParsedConfig): ResolvedConfig['dedupe'] {
  if (!(config.dedupe?.enabled ?? DEFAULTS.dedupeEnabled)) return undefined;
  const ttl = config.dedupe?.ttl ?? DEFAULTS.dedupeTtl;
  if (seconds(ttl) < seconds(LONGEST_SENDER_RETRY_WINDOW)) {
    problems.add(
      'dedupe.ttl',
      `must be at least ${LONGEST_SENDER_RETRY_WINDOW.toHumanString()}, the longest sender retry window (Stripe, Standard Webhooks)`,
      ttl,
      'use Duration.days(3) or more',
    );
  }
  return { ttl };
}

/**
 * Rule: a stored body outlives every message that points at it. A message can wait in its queue up to the queue's
 * retention, and the copy a consumer dead-letters is a new message whose DLQ retention starts when it is sent, so
 * a body must last the queue's retention plus its dead-letter retention.
 */
function checkPayloadExpiry(
  problems: ViolationList,
  expiry: Duration,
  queues: readonly ResolvedQueue[],
): void {
  const longest = longestLived(queues);
  if (!longest || seconds(expiry) >= lifetimeOf(longest)) return;
  const days = Math.ceil(lifetimeOf(longest) / 86_400);
  problems.add(
    'payloads.expiry',
    `must outlast the longest a message can live: its queue's retention and then its dead-letter retention (queue ${longest.name}: ${longest.retentionPeriod.toHumanString()} + ${longest.deadLetterRetentionPeriod.toHumanString()}), or a message dead-lettered late, then redriven, points at a deleted payload`,
    expiry,
    `use Duration.days(${days}) or more`,
  );
}

/** Seconds a message and then its dead-lettered copy can live. */
function lifetimeOf(queue: ResolvedQueue): number {
  return seconds(queue.retentionPeriod) + seconds(queue.deadLetterRetentionPeriod);
}

/** The queue whose messages (with their dead-lettered copies) can live longest. */
function longestLived(queues: readonly ResolvedQueue[]): ResolvedQueue | undefined {
  return queues.reduce<ResolvedQueue | undefined>(
    (worst, q) => (worst && lifetimeOf(worst) >= lifetimeOf(q) ? worst : q),
    undefined,
  );
}

/** Unless set: long enough for every queue (whole days, as S3 expires objects), and never under the floor. */
function defaultPayloadExpiry(queues: readonly ResolvedQueue[]): Duration {
  const longest = longestLived(queues);
  const days = longest ? Math.ceil(lifetimeOf(longest) / 86_400) : 0;
  return Duration.days(Math.max(days, DEFAULTS.payloadExpiry.toDays()));
}

/** Large-body handling, checked against the SQS limit and the queues' dead-letter retention. */
export function resolvePayloads(
  problems: ViolationList,
  config: ParsedConfig,
  queues: readonly ResolvedQueue[],
): ResolvedConfig['payloads'] {
  const inlineLimitBytes = config.payloads?.inlineLimitBytes ?? DEFAULTS.inlineLimitBytes;
  problems.addAll('payloads', inlineLimitViolations('inlineLimitBytes', inlineLimitBytes));
  const expiry = config.payloads?.expiry ?? defaultPayloadExpiry(queues);
  checkPayloadExpiry(problems, expiry, queues);
  return { inlineLimitBytes, expiry };
}

/** The event archive: on unless disabled, kept at least one day (an S3 lifecycle expiry counts whole days). */
export function resolveArchive(problems: ViolationList, config: ParsedConfig): ResolvedConfig['archive'] {
  if (!(config.archive?.enabled ?? DEFAULTS.archiveEnabled)) return undefined;
  const retention = config.archive?.retention ?? DEFAULTS.archiveRetention;
  problems.addAll('archive', archiveRetentionViolations('retention', retention));
  return { retention };
}

/** Log retention, checked against the values CloudWatch Logs accepts. */
export function resolveLogRetentionDays(problems: ViolationList, config: ParsedConfig): number {
  const days = config.logRetentionDays ?? DEFAULTS.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(days)) {
    problems.add(
      'logRetentionDays',
      'CloudWatch Logs accepts only certain retention periods',
      days,
      `use one of ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  return days;
}

/** Alarm notifications, checked: a new topic with an email, or an existing topic, not both. */
export function resolveAlarms(problems: ViolationList, config: ParsedConfig): ResolvedAlarms {
  const alarms = config.alarms;
  if (alarms?.email && alarms.existingTopicArn) {
    problems.add(
      'alarms',
      'give either an email to subscribe to a new topic or an existing topic, not both',
      alarms,
      'remove email or existingTopicArn',
    );
  }
  problems.addAll('alarms', topicArnViolations('existingTopicArn', alarms?.existingTopicArn));
  if (alarms?.oldestMessageAge)
    problems.addAll('alarms', oldestMessageAgeFloorViolations('oldestMessageAge', alarms.oldestMessageAge));
  return {
    ...(alarms?.email ? { email: alarms.email } : {}),
    ...(alarms?.existingTopicArn ? { existingTopicArn: alarms.existingTopicArn } : {}),
    oldestMessageAge: alarms?.oldestMessageAge ?? DEFAULTS.oldestMessageAgeAlarm,
  };
}
