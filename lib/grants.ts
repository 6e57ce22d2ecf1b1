import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** Key prefix of claim-checked bodies in the payload bucket. */
export const PAYLOAD_PREFIX = 'payloads/';

/**
 * Single-item read/write on a table, and nothing else (no scans, queries or batch calls): all that the dedupe
 * store and Powertools idempotency use.
 */
export function grantItemAccess(table: dynamodb.ITable, grantee: iam.IGrantable): void {
  table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
}

/** One S3 action on claim-checked bodies only (ingest puts them, consumers get them). */
export function grantPayloadObjects(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  action: 's3:PutObject' | 's3:GetObject',
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [action], resources: [bucket.arnForObjects(`${PAYLOAD_PREFIX}*`)] }),
  );
}
