/**
 * Where a stack's resources are (partition, region, account, SQS domain), written once in a function's
 * environment so each resource costs only its name: Lambda allows 4 KB of variables for a whole function, and a
 * full URL or ARN per resource fills it quickly. The producer's queues and the ingest function's queues and
 * secrets are addressed from it.
 */
// zod/mini, imported as a namespace: the bundler then keeps only the parts used (`import { z }` re-exports the
// whole namespace, locales included, into every function that reads its location).
import * as z from 'zod/mini';

export const awsLocationSchema = z.object({
  partition: z.string().check(z.minLength(1)),
  region: z.string().check(z.minLength(1)),
  account: z.string().check(z.minLength(1)),
  /** `amazonaws.com`, or `amazonaws.com.cn` in China: the domain of the SQS endpoint. */
  urlSuffix: z.string().check(z.minLength(1)),
  /** Local mode: the SQS emulator's origin, instead of `https://sqs.<region>.<urlSuffix>`. */
  sqsEndpoint: z.optional(z.string().check(z.minLength(1))),
});
export type AwsLocation = z.infer<typeof awsLocationSchema>;

/** SQS's queue URL: `https://sqs.<region>.<url suffix>/<account>/<name>` (the emulator's origin locally). */
export function queueUrlOf(where: AwsLocation, queueName: string): string {
  const sqsEndpoint = where.sqsEndpoint ?? `https://sqs.${where.region}.${where.urlSuffix}`;
  return `${sqsEndpoint}/${where.account}/${queueName}`;
}

/**
 * An ARN of this location: `arn:<partition>:<service>:<region>:<account>:<resource>`, with no region for a global
 * service (IAM).
 */
export function arnOf(
  where: AwsLocation,
  service: string,
  resource: string,
  options: { readonly global?: boolean } = {},
): string {
  return `arn:${where.partition}:${service}:${options.global ? '' : where.region}:${where.account}:${resource}`;
}

/** A FIFO queue's name ends in `.fifo`, as SQS requires, and only a FIFO queue's does. */
export const isFifoQueueName = (queueName: string): boolean => queueName.endsWith('.fifo');
