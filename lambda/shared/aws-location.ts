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
  where: Pick<AwsLocation, 'partition' | 'region' | 'account'>,
  service: string,
  resource: string,
  options: { readonly global?: boolean } = {},
): string {
  return `arn:${where.partition}:${service}:${options.global ? '' : where.region}:${where.account}:${resource}`;
}

/**
 * The partition, region and account an ARN names (`arn:<partition>:<service>:<region>:<account>:<resource>`), or
 * undefined for what is not an ARN.
 */
export function locationOfArn(
  arn: string,
): Pick<AwsLocation, 'partition' | 'region' | 'account'> | undefined {
  const [prefix, partition, service, region, account] = arn.split(':');
  if (prefix !== 'arn' || !partition || !service || region === undefined || account === undefined)
    return undefined;
  return { partition, region, account };
}

/**
 * A queue's account and name from its URL: the path is `/<account>/<name>` in every form SQS answers with
 * (`https://sqs.<region>.<url suffix>`, the legacy `https://<region>.queue.amazonaws.com` and
 * `https://queue.amazonaws.com`) and in the emulator's; undefined for a URL of another shape.
 */
export function queueOfUrl(
  url: string,
): { readonly account: string; readonly queueName: string } | undefined {
  const match = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)$/.exec(url);
  return match?.[1] && match[2] ? { account: match[1], queueName: match[2] } : undefined;
}

/**
 * The region a queue's URL names: its host is `sqs.<region>.amazonaws.com` (`.com.cn` in China), the dual-stack
 * `sqs.<region>.api.aws`, their FIPS forms `sqs-fips.<region>...`, an interface endpoint's
 * `vpce-<id>.sqs.<region>.vpce.amazonaws.com`, or the legacy `<region>.queue.amazonaws.com` (and
 * `queue.amazonaws.com`, us-east-1's). Undefined for any other host, an emulator's among them.
 */
export function regionOfQueueUrl(url: string): string | undefined {
  const host = /^https?:\/\/([^/:]+)/.exec(url)?.[1]?.toLowerCase();
  if (!host) return undefined;
  if (host === 'queue.amazonaws.com') return 'us-east-1';
  const match =
    /^(?:vpce-[a-z0-9-]+\.)?sqs(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?(?:amazonaws\.com(?:\.cn)?|api\.aws)$/.exec(
      host,
    ) ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return match?.[1];
}

/**
 * A queue's ARN from its URL (the inverse of {@link queueUrlOf}): the account and name from the URL, the partition
 * and region from `where` the queue is, since the host names no partition (`amazonaws.com` is also the GovCloud
 * domain) and a legacy host no region. Undefined for a URL that is not a queue's.
 */
export function queueArnOfUrl(
  where: Pick<AwsLocation, 'partition' | 'region'>,
  url: string,
): string | undefined {
  const queue = queueOfUrl(url);
  return queue ? arnOf({ ...where, account: queue.account }, 'sqs', queue.queueName) : undefined;
}

/**
 * An event source mapping's ARN (`...:lambda:<region>:<account>:event-source-mapping:<uuid>`), from any ARN of the
 * same account and region (a queue's, a function's own); undefined when `nearArn` is not an ARN.
 */
export function eventSourceMappingArnNear(nearArn: string, uuid: string): string | undefined {
  const where = locationOfArn(nearArn);
  return where ? arnOf(where, 'lambda', `event-source-mapping:${uuid}`) : undefined;
}
