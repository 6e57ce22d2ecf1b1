/**
 * Upgrade safety: a stack deployed with an earlier hookline, deployed again with this one, keeps every resource
 * that holds state. CloudFormation replaces a resource whose logical id changes, or whose replacement-requiring
 * property changes; replacing a queue drops its messages, a table its dedupe and idempotency records, a bucket its
 * claim checks and archive, a secret the value the operator stored (senders' signatures stop verifying), the HTTP
 * API its URL (senders post to a dead endpoint), the alarm topic its confirmed email subscription. A changed
 * `GenerateSecretString` is as bad as a replacement: CloudFormation generates a new value over the stored one.
 *
 * The ids and properties of a configuration with every feature on are pinned in upgrade-safety.snapshot.json.
 * When a change is intended, document it under "Upgrading" in the README and rewrite the snapshot with
 * `UPDATE_STATEFUL_SNAPSHOT=1 npx vitest run test/lib/upgrade-safety.test.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { maximalConfig } from '../helpers/maximal-config';

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

/**
 * Each resource type that holds state (or an address others hold), with the properties whose change replaces it
 * ("Update requires: Replacement" in the CloudFormation reference) or, for a secret, regenerates its value.
 */
const STATEFUL_TYPES: Readonly<Record<string, readonly string[]>> = {
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue'],
  'AWS::DynamoDB::Table': ['TableName', 'KeySchema', 'AttributeDefinitions', 'LocalSecondaryIndexes'],
  'AWS::S3::Bucket': ['BucketName', 'ObjectLockEnabled'],
  'AWS::SecretsManager::Secret': ['Name', 'GenerateSecretString', 'SecretString'],
  'AWS::ApiGatewayV2::Api': ['ProtocolType'],
  'AWS::ApiGatewayV2::Stage': ['ApiId', 'StageName'],
  'AWS::Scheduler::ScheduleGroup': ['Name'],
  'AWS::Scheduler::Schedule': ['Name', 'GroupName'],
  'AWS::KinesisFirehose::DeliveryStream': ['DeliveryStreamName', 'DeliveryStreamType'],
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::SNS::Subscription': ['TopicArn', 'Protocol', 'Endpoint'],
  'AWS::KMS::Key': [],
};

type Pinned = {
  type: string;
  properties: Record<string, unknown>;
  deletionPolicy: string | null;
  updateReplacePolicy: string | null;
};

const SNAPSHOT = path.join(import.meta.dirname, 'upgrade-safety.snapshot.json');

/** The rich pipeline as the hookline app builds it, or as `new HooklinePipeline(stack, pipelineId)` in an app's own stack. */
function richResources(
  overrides: Partial<HooklineConfig> = {},
  ownStack?: { pipelineId: string },
): Record<string, Resource> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig(maximalConfig(overrides));
  const stack = ownStack
    ? new Stack(app, config.stackName)
    : new WebhookPipelineStack(app, config.stackName, { config });
  const pipeline =
    stack instanceof WebhookPipelineStack
      ? stack.pipeline
      : new HooklinePipeline(stack, ownStack?.pipelineId ?? 'Default', { config });
  // An app's own producer, granted jobs with delays: the one-time job schedules' resources exist too.
  const producer = new lambda.Function(stack, 'AppProducer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
  pipeline.grantSend(producer, 'events', { delays: true });
  return Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
}

/** The logical id, replacement-requiring properties and policies of every stateful resource. */
function statefulResources(resources: Record<string, Resource>): Record<string, Pinned> {
  const pinned: Record<string, Pinned> = {};
  for (const [id, resource] of Object.entries(resources).sort(([a], [b]) => a.localeCompare(b))) {
    const properties = STATEFUL_TYPES[resource.Type];
    if (!properties) continue;
    pinned[id] = {
      type: resource.Type,
      properties: Object.fromEntries(
        properties
          .filter((p) => resource.Properties?.[p] !== undefined)
          .map((p) => [p, resource.Properties?.[p]]),
      ),
      deletionPolicy: resource.DeletionPolicy ?? null,
      updateReplacePolicy: resource.UpdateReplacePolicy ?? null,
    };
  }
  return pinned;
}

/** What a deploy of `now` over a stack deployed as `before` replaces, loses or leaves unpinned, one line each. */
function upgradeEffects(before: Record<string, Pinned>, now: Record<string, Pinned>): string[] {
  const advice = 'if intended, document it under Upgrading in the README and update the snapshot';
  const effects: string[] = [];
  for (const [id, was] of Object.entries(before)) {
    const is = now[id];
    if (!is) {
      effects.push(
        `this replaces ${id} (${was.type}) on upgrade: its logical id is gone (renamed or removed); ${advice}`,
      );
      continue;
    }
    if (was.type !== is.type) {
      effects.push(
        `this replaces ${id} (${was.type}) on upgrade: its type becomes ${is.type}, and CloudFormation refuses to change a resource's type (the deploy fails; a new id would replace it); ${advice}`,
      );
      continue;
    }
    for (const property of new Set([...Object.keys(was.properties), ...Object.keys(is.properties)])) {
      const from = JSON.stringify(was.properties[property]);
      const to = JSON.stringify(is.properties[property]);
      if (from !== to)
        effects.push(
          `this replaces ${id} (${was.type}) on upgrade: ${property} changes from ${from ?? 'unset'} to ${to ?? 'unset'}; ${advice}`,
        );
    }
    if (was.deletionPolicy !== is.deletionPolicy || was.updateReplacePolicy !== is.updateReplacePolicy)
      effects.push(
        `${id} (${was.type}) changes what deleting or replacing it does: DeletionPolicy ${was.deletionPolicy} -> ${is.deletionPolicy}, UpdateReplacePolicy ${was.updateReplacePolicy} -> ${is.updateReplacePolicy}; ${advice}`,
      );
  }
  for (const [id, is] of Object.entries(now))
    if (!before[id])
      effects.push(`${id} (${is.type}) is a new stateful resource: pin it by updating the snapshot`);
  return effects;
}

const current = statefulResources(richResources());

describe('upgrading a deployed stack', () => {
  it('replaces no queue, table, bucket, secret, API, schedule, stream or topic of a configuration with every feature on', () => {
    if (process.env.UPDATE_STATEFUL_SNAPSHOT === '1')
      fs.writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 2)}\n`);
    const pinned = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as Record<string, Pinned>;
    expect(upgradeEffects(pinned, current)).toEqual([]);
  });

  it('pins every kind of stateful resource the pipeline creates', () => {
    const kinds = new Set(Object.values(current).map((r) => r.type));
    for (const kind of [
      'AWS::SQS::Queue',
      'AWS::DynamoDB::Table',
      'AWS::S3::Bucket',
      'AWS::SecretsManager::Secret',
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Stage',
      'AWS::Scheduler::Schedule',
      'AWS::KinesisFirehose::DeliveryStream',
      'AWS::SNS::Topic',
      'AWS::SNS::Subscription',
    ])
      expect(kinds, kind).toContain(kind);
  });

  it("keeps every logical id when the pipeline moves into an app's own stack of the same name under the id Default, and changes them under another id", () => {
    expect(upgradeEffects(current, statefulResources(richResources({}, { pipelineId: 'Default' })))).toEqual(
      [],
    );
    const moved = statefulResources(richResources({}, { pipelineId: 'Webhooks' }));
    expect(Object.keys(moved).filter((id) => id in current)).toEqual([]);
  });

  it('names the replaced resource and the way back when a logical id, a type or a replacing property changes', () => {
    const renamed = Object.fromEntries(
      Object.entries(current).map(([id, r]) => [
        id.startsWith('QueueEventsQueue') ? 'EventsQueueRenamed' : id,
        r,
      ]),
    );
    const queueId = Object.keys(current).find((id) => id.startsWith('QueueEventsQueue')) as string;
    expect(upgradeEffects(current, renamed)).toEqual([
      `this replaces ${queueId} (AWS::SQS::Queue) on upgrade: its logical id is gone (renamed or removed); if intended, document it under Upgrading in the README and update the snapshot`,
      'EventsQueueRenamed (AWS::SQS::Queue) is a new stateful resource: pin it by updating the snapshot',
    ]);
    const tableId = Object.keys(current).find((id) => id.startsWith('DedupeTable')) as string;
    const retyped = structuredClone(current);
    (retyped[tableId] as Pinned).type = 'AWS::DynamoDB::GlobalTable';
    expect(upgradeEffects(current, retyped)).toEqual([
      `this replaces ${tableId} (AWS::DynamoDB::Table) on upgrade: its type becomes AWS::DynamoDB::GlobalTable, and CloudFormation refuses to change a resource's type (the deploy fails; a new id would replace it); if intended, document it under Upgrading in the README and update the snapshot`,
    ]);
    const secretId = Object.keys(current).find((id) => id.startsWith('SecretGithub')) as string;
    const regenerated = structuredClone(current);
    (regenerated[secretId] as Pinned).properties.GenerateSecretString = { PasswordLength: 64 };
    expect(upgradeEffects(current, regenerated)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^this replaces ${secretId} \\(AWS::SecretsManager::Secret\\) on upgrade: GenerateSecretString changes`,
        ),
      ),
    ]);
  });
});

describe('what deleting the stack or replacing a resource does to its data', () => {
  const policies = (pinned: Record<string, Pinned>, type: string) =>
    Object.entries(pinned)
      .filter(([, r]) => r.type === type)
      .map(([id, r]) => [id, r.deletionPolicy, r.updateReplacePolicy]);

  it('keeps every secret, table and bucket by default', () => {
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket']) {
      const found = policies(current, type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const [id, deletion, replace] of found)
        expect([deletion, replace], id as string).toEqual(['Retain', 'Retain']);
    }
  });

  it("deletes every secret and table with the stack under removalPolicy: 'destroy', and keeps the buckets CloudFormation could not delete while they hold objects", () => {
    const destroy = statefulResources(richResources({ removalPolicy: 'destroy' }));
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::DynamoDB::Table']) {
      const found = policies(destroy, type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const [id, deletion, replace] of found)
        expect([deletion, replace], id as string).toEqual(['Delete', 'Delete']);
    }
    const buckets = policies(destroy, 'AWS::S3::Bucket');
    expect(buckets.map(([id]) => (id as string).replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'ArchiveBucket',
      'PayloadBucket',
    ]);
    for (const [id, deletion, replace] of buckets)
      expect([deletion, replace], id as string).toEqual(['Retain', 'Retain']);
  });
});
