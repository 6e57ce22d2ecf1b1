import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PAYLOAD_KEY_PREFIX } from '../lambda/shared/contracts';
import { acknowledgeWildcardResource } from './nag-acknowledgements';

/** What Powertools idempotency sends: it puts, reads, updates and (after a failed handler) deletes its records. */
export const IDEMPOTENCY_ITEM_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

/** What the dedupe store (`lambda/shared/dedupe-store.ts`) sends: it claims with a put, confirms and releases with updates, reads a lost claim. */
export const DEDUPE_CLAIM_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];

/** What job records (`lambda/shared/job-record.ts`) send: reads and conditional updates, never a put or a delete. */
export const JOB_RECORD_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

/**
 * Single-item `actions` on a table (no scans, queries or batch calls), on the items whose partition key matches
 * `keyPattern` or one of several (IAM `StringLike` patterns, e.g. `events#*`), so one tenant of a shared table
 * cannot read or overwrite another's items. Only single-item actions may be given: every such request names its
 * key, whereas a keyless one (a scan) would satisfy `ForAllValues` vacuously.
 */
export function grantItemAccessByKey(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  keyPattern: string | readonly string[],
  actions: readonly string[],
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...actions],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [keyPattern].flat() } },
    }),
  );
}

/**
 * One S3 action on claim-checked bodies only (ingest puts them, consumers get them), acknowledged to cdk-nag on
 * the grantee's role, where the grant puts it, so a construct used on its own stays as clean as the pipeline.
 */
export function grantPayloadObjects(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  action: 's3:PutObject' | 's3:GetObject',
): void {
  const objects = bucket.arnForObjects(`${PAYLOAD_KEY_PREFIX}*`);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [action], resources: [objects] }),
  );
  const role = grantee.grantPrincipal;
  if (role instanceof Construct)
    acknowledgeWildcardResource(
      role,
      Stack.of(role).resolve(objects),
      `Claim-check objects have one key per event, so this function may ${action === 's3:PutObject' ? 'put' : 'get'} any object under ${PAYLOAD_KEY_PREFIX} and nothing else.`,
    );
}

/**
 * `sqs:SendMessage` (which SendMessageBatch needs too) on one queue, the only SQS call a sender makes: it knows the
 * queue's URL, so it never asks for it or for the queue's attributes. A queue encrypted with a customer managed key
 * also needs that key to encrypt (`kms:GenerateDataKey`) and to check the data key (`kms:Decrypt`).
 */
export function grantSendMessage(queue: sqs.IQueue, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
  );
  queue.encryptionMasterKey?.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
}

/**
 * `secretsmanager:GetSecretValue` on one secret, the only call its reader makes (never DescribeSecret). A secret
 * referenced by name has a partial ARN, so the grant covers the six characters Secrets Manager appends. A secret
 * with a customer managed key also needs that key to decrypt, through Secrets Manager only.
 */
export function grantSecretValue(secret: secretsmanager.ISecret, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    }),
  );
  secret.encryptionKey?.grant(
    new kms.ViaServicePrincipal(
      `secretsmanager.${Stack.of(secret).region}.amazonaws.com`,
      grantee.grantPrincipal,
    ),
    'kms:Decrypt',
  );
}
