/**
 * The one test for "a DynamoDB conditional write was refused": every store that writes with a condition (job
 * records, dedupe claims, held receives, rate-limit windows) tells a refusal from a fault with it.
 */

/**
 * A conditional write refused because its condition did not hold (`ConditionalCheckFailedException`). Matched by
 * name, not by class: an error thrown by another copy of the SDK (a bundle, a test's client) is the same refusal.
 */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
