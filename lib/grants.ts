import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PAYLOAD_KEY_PREFIX } from '../lambda/shared/contracts';
import { acknowledgeWildcardResource } from './nag-acknowledgements';

const ITEM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/**
 * Single-item read/write on a table, and nothing else (no scans, queries or batch calls): all that the dedupe
 * store and Powertools idempotency use.
 */
export function grantItemAccess(table: dynamodb.ITable, grantee: iam.IGrantable): void {
  table.grant(grantee, ...ITEM_ACTIONS);
}

/**
 * {@link grantItemAccess} restricted to the items whose partition key matches `keyPattern` (an IAM `StringLike`
 * pattern, e.g. `events#*`), so one tenant of a shared table cannot read or overwrite another's items.
 * Only single-item actions are granted (all four, or the few `actions` given): every such request names its key, whereas a keyless one (a scan) would
 * satisfy `ForAllValues` vacuously.
 */
export function grantItemAccessByKey(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  keyPattern: string,
  actions: readonly string[] = ITEM_ACTIONS,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...actions],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [keyPattern] } },
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
