/**
 * The dead-letter queue of EventBridge Scheduler schedules: where Scheduler puts what it could not deliver after
 * its retries (185 attempts or 24 hours), which it otherwise drops. Scheduler takes a standard queue only, sends to it
 * with the schedule's own role (which needs `sqs:SendMessage` there), and with SQS-managed encryption that role needs
 * no key grant. Every schedule hookline creates, configured or one-time, names one of these.
 */
import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULTS } from './config';

/** Properties of {@link schedulerDeadLetterQueue}. */
export interface SchedulerDeadLetterQueueProps {
  /** Whose schedules name it, as the cdk-nag acknowledgement says it: `every one-time job schedule`. */
  readonly schedules: string;
  /** @default DEFAULTS.scheduleDeadLetterRetentionPeriod (14 days, the SQS maximum) */
  readonly retentionPeriod?: Duration;
  /** @default DEFAULTS.scheduleDeadLetterRemovalPolicy (destroy: it holds only failed deliveries) */
  readonly removalPolicy?: RemovalPolicy;
}

/** A standard, SQS-encrypted, TLS-only queue for `Target.DeadLetterConfig`, acknowledged as a DLQ to cdk-nag. */
export function schedulerDeadLetterQueue(
  scope: Construct,
  id: string,
  props: SchedulerDeadLetterQueueProps,
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: props.retentionPeriod ?? DEFAULTS.scheduleDeadLetterRetentionPeriod,
    removalPolicy: props.removalPolicy ?? DEFAULTS.scheduleDeadLetterRemovalPolicy,
  });
  // cdk-nag recognises a DLQ only through another queue's RedrivePolicy, not Scheduler's DeadLetterConfig.
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${props.schedules} (Target.DeadLetterConfig).`,
  });
  return queue;
}
