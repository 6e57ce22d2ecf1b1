/**
 * The metrics SQS publishes (AWS/SQS, by QueueName) for a fair queue: a standard queue whose messages carry a
 * message group id (the tenant). While one tenant has a backlog it is "noisy", and SQS serves the quiet ones
 * first; these say whether the quiet tenants still wait.
 *
 * Free of CDK imports: the CLI's `status` reads them too.
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues.html
 */
export const FAIR_QUEUE_METRICS = {
  /** Messages of the quiet tenants waiting to be received. */
  quietBacklog: 'ApproximateNumberOfMessagesVisibleInQuietGroups',
  /** Age of the oldest message of a quiet tenant: the delay fairness is meant to keep low. */
  quietOldestAge: 'ApproximateAgeOfOldestMessageInQuietGroups',
  /** Tenants SQS currently treats as noisy. */
  noisyGroups: 'ApproximateNumberOfNoisyGroups',
} as const;
