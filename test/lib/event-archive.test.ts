import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { ARCHIVE_ERROR_PREFIX, ARCHIVE_KEY_PREFIX } from '../../lambda/shared/archive';
import { ARCHIVE_USD_PER_MILLION_4KB, archiveCost } from '../../lib/archive-cost';
import { DEFAULTS, resolveConfig } from '../../lib/config';
import { EventArchive } from '../../lib/event-archive';
import { ViolationsError } from '../../lib/violations';
import { exampleResolved, pipelineTemplate } from '../helpers/cdk';

type Json = ReturnType<Template['toJSON']>;
type Resource = { Type: string; Properties?: Json };
type Resources = Record<string, Resource>;

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);
const refersTo = (value: unknown, logicalId: string) => JSON.stringify(value).includes(`"${logicalId}"`);

function archiveParts(resources: Resources) {
  const [streamId, stream] = ofType(resources, 'AWS::KinesisFirehose::DeliveryStream')[0] ?? [];
  if (!streamId || !stream) throw new Error('no delivery stream');
  const destination = stream.Properties?.ExtendedS3DestinationConfiguration;
  const bucketId = destination.BucketARN['Fn::GetAtt'][0] as string;
  const roleId = destination.RoleARN['Fn::GetAtt'][0] as string;
  return { streamId, stream, destination, bucketId, roleId };
}

/** Every statement of the identity policies attached to a role. */
function statementsOfRole(resources: Resources, roleId: string) {
  return ofType(resources, 'AWS::IAM::Policy')
    .filter(([, p]) => list(p.Properties?.Roles).some((r) => refersTo(r, roleId)))
    .flatMap(([, p]) => list(p.Properties?.PolicyDocument.Statement) as Json[]);
}

describe('EventArchive in the pipeline stack', () => {
  const { stack, template } = pipelineTemplate();
  const resources = template.toJSON().Resources as Resources;
  const { stream, destination, bucketId, roleId, streamId } = archiveParts(resources);
  const bucket = resources[bucketId];

  it('writes GZIP objects partitioned by source and UTC hour, through an encrypted stream', () => {
    expect(stream.Properties?.DeliveryStreamType).toBe('DirectPut');
    expect(stream.Properties?.DeliveryStreamEncryptionConfigurationInput).toEqual({
      KeyType: 'AWS_OWNED_CMK',
    });
    expect(destination.CompressionFormat).toBe('GZIP');
    expect(destination.Prefix).toBe(
      `${ARCHIVE_KEY_PREFIX}source=!{partitionKeyFromQuery:source}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`,
    );
    expect(destination.ErrorOutputPrefix.startsWith(ARCHIVE_ERROR_PREFIX)).toBe(true);
    expect(destination.DynamicPartitioningConfiguration.Enabled).toBe(true);
    expect(JSON.stringify(destination.ProcessingConfiguration)).toContain('{source:.source}');
  });

  it('buffers within what Firehose accepts with dynamic partitioning: 64 to 128 MiB, 60 to 900 seconds', () => {
    const { SizeInMBs, IntervalInSeconds } = destination.BufferingHints;
    expect(SizeInMBs).toBeGreaterThanOrEqual(64);
    expect(SizeInMBs).toBeLessThanOrEqual(128);
    expect(IntervalInSeconds).toBeGreaterThanOrEqual(60);
    expect(IntervalInSeconds).toBeLessThanOrEqual(900);
  });

  it('refuses at synth a buffer interval Firehose would refuse at deploy, naming the value and the fix', () => {
    for (const seconds of [0, 30, 90.5, 1000]) {
      const stack = new Stack(new App(), 'Buffer');
      expect(
        () => new EventArchive(stack, 'Archive', { bufferingInterval: Duration.millis(seconds * 1000) }),
      ).toThrow(
        `bufferingInterval: is not a whole number of seconds from 60 to 900, which Firehose requires with dynamic partitioning (got "${seconds} seconds"). Fix: use Duration.seconds(60) to Duration.seconds(900) (default 300)`,
      );
    }
    const stack = new Stack(new App(), 'Buffer');
    new EventArchive(stack, 'Archive', { bufferingInterval: Duration.seconds(900) });
    const [, stream] =
      ofType(
        Template.fromStack(stack).toJSON().Resources as Resources,
        'AWS::KinesisFirehose::DeliveryStream',
      )[0] ?? [];
    expect(stream?.Properties?.ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds).toBe(900);
  });

  it('lists every problem of its props at once, as one error without a stack trace', () => {
    const stack = new Stack(new App(), 'Both');
    let thrown: unknown;
    try {
      new EventArchive(stack, 'Archive', {
        retention: Duration.hours(2),
        bufferingInterval: Duration.seconds(1),
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ViolationsError);
    const { message, stack: trace } = thrown as ViolationsError;
    expect(message.split('\n')).toEqual([
      'Invalid EventArchive Both/Archive:',
      '  - retention: is below one day (an S3 lifecycle expiry counts whole days) (got 2 hours). Fix: use Duration.days(1) or more',
      expect.stringContaining('  - bufferingInterval: is not a whole number of seconds from 60 to 900'),
    ]);
    expect(trace).not.toContain('    at ');
  });

  it('refuses a retention under a day in the words, value and fix the configuration uses for archive.retention', () => {
    const retention = Duration.hours(2);
    let construct: unknown;
    try {
      new EventArchive(new Stack(new App(), 'Short'), 'Archive', { retention });
    } catch (error) {
      construct = error;
    }
    let config: unknown;
    try {
      resolveConfig({ ...exampleConfig, archive: { retention } });
    } catch (error) {
      config = error;
    }
    const said = (error: unknown, path: string) => {
      const v = (error as ViolationsError).violations.find((p) => p.path === path);
      return v && { message: v.message, value: v.value, fix: v.fix };
    };
    expect(said(construct, 'retention')).toEqual(said(config, 'archive.retention'));
    expect(said(construct, 'retention')).toBeDefined();
  });

  it("creates the stream only once the delivery role's policy exists, which Firehose checks on creation", () => {
    const policyIds = ofType(resources, 'AWS::IAM::Policy')
      .filter(([, p]) => list(p.Properties?.Roles).some((r) => refersTo(r, roleId)))
      .map(([id]) => id);
    expect(policyIds).toHaveLength(1);
    expect((stream as { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining(policyIds));
  });

  it('keeps the archive bucket when the stack is deleted', () => {
    expect((bucket as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
  });

  it('keeps the archive in an encrypted, TLS-only bucket with no public access', () => {
    expect(bucket?.Properties?.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
    });
    expect(bucket?.Properties?.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const [, policy] =
      ofType(resources, 'AWS::S3::BucketPolicy').find(([, p]) => refersTo(p.Properties?.Bucket, bucketId)) ??
      [];
    const denyInsecure = list(policy?.Properties?.PolicyDocument.Statement).find(
      (s) =>
        (s as Json).Effect === 'Deny' && (s as Json).Condition?.Bool?.['aws:SecureTransport'] === 'false',
    ) as Json | undefined;
    expect(denyInsecure?.Action).toBe('s3:*');
    expect(denyInsecure?.Principal).toEqual({ AWS: '*' });
  });

  it('expires archived objects after the configured retention (90 days by default)', () => {
    const rules = bucket?.Properties?.LifecycleConfiguration.Rules as Json[];
    const byPrefix = (prefix: string) => rules.find((r) => r.Prefix === prefix);
    expect(byPrefix(ARCHIVE_KEY_PREFIX)).toMatchObject({ ExpirationInDays: 90, Status: 'Enabled' });
    expect(byPrefix(ARCHIVE_ERROR_PREFIX)).toMatchObject({ ExpirationInDays: 90, Status: 'Enabled' });
    const custom = pipelineTemplate(exampleResolved({ archive: { retention: Duration.days(400) } }));
    const customResources = custom.template.toJSON().Resources as Resources;
    const customBucket = customResources[archiveParts(customResources).bucketId];
    expect(JSON.stringify(customBucket?.Properties?.LifecycleConfiguration)).toContain(
      '"ExpirationInDays":400',
    );
  });

  const roleIdOf = (fn: { role?: { node: { defaultChild?: unknown } } }) => {
    if (!fn.role) throw new Error('the function has no role');
    return stack.resolve((fn.role.node.defaultChild as { logicalId: string }).logicalId) as string;
  };
  const consumerRoleIds = Object.values(stack.consumers).map((c) => roleIdOf(c.consumerFunction));

  /** The firehose statements of a role: exactly one, making the one put call its function makes, to this stream only. */
  function expectPutOnlyToStream(roleIdentifier: string, action: string) {
    const firehose = statementsOfRole(resources, roleIdentifier).filter((s) =>
      list(s.Action).some((a) => String(a).startsWith('firehose:')),
    );
    expect(firehose).toHaveLength(1);
    expect(list(firehose[0]?.Action)).toEqual([action]);
    expect(firehose[0]?.Resource).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
  }

  it('lets the ingest function put one record at a time to this stream only, and no role but it and the consumers touch it', () => {
    const ingestRoleId = roleIdOf(stack.ingest.ingestFunction);
    expectPutOnlyToStream(ingestRoleId, 'firehose:PutRecord');
    const allowed = [ingestRoleId, ...consumerRoleIds];
    const others = ofType(resources, 'AWS::IAM::Policy').filter(
      ([, p]) =>
        refersTo(p.Properties?.PolicyDocument, streamId) &&
        !list(p.Properties?.Roles).some((r) => allowed.some((id) => refersTo(r, id))),
    );
    expect(others).toEqual([]);
  });

  it('lets every consumer put record batches to this stream only (it archives jobs and scheduled events), and tells it the stream', () => {
    expect(consumerRoleIds.length).toBeGreaterThan(0);
    for (const roleIdentifier of consumerRoleIds)
      expectPutOnlyToStream(roleIdentifier, 'firehose:PutRecordBatch');
    for (const consumer of Object.values(stack.consumers)) {
      const fn = resources[stack.getLogicalId(consumer.consumerFunction.node.defaultChild as never)];
      expect(JSON.stringify(fn?.Properties?.Environment)).toContain(streamId);
    }
  });

  it('lets the delivery role write only under the archive prefixes, assumed only by Firehose for this account', () => {
    const role = resources[roleId];
    const trust = role?.Properties?.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Principal).toEqual({ Service: 'firehose.amazonaws.com' });
    expect(trust.Condition).toEqual({ StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } });
    const s3Statements = statementsOfRole(resources, roleId).filter((s) =>
      list(s.Action).some((a) => String(a).startsWith('s3:')),
    );
    for (const statement of s3Statements) {
      for (const resource of list(statement.Resource)) {
        const text = JSON.stringify(resource);
        expect(text).toContain(bucketId);
        if (text.includes('/')) {
          expect(text.includes(`/${ARCHIVE_KEY_PREFIX}*`) || text.includes(`/${ARCHIVE_ERROR_PREFIX}*`)).toBe(
            true,
          );
        }
      }
    }
    // What Firehose needs to deliver to S3: the bucket's location and listings, and multipart uploads of objects.
    expect(s3Statements.flatMap((s) => list(s.Action)).sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:GetBucketLocation',
      's3:GetObject',
      's3:ListBucket',
      's3:ListBucketMultipartUploads',
      's3:PutObject',
    ]);
    const writes = s3Statements.filter((s) => list(s.Action).includes('s3:PutObject'));
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.flatMap((s) => list(s.Resource)).every((r) => JSON.stringify(r).includes('archive'))).toBe(
      true,
    );
  });

  it('lets Firehose log failed deliveries to the log stream the stream names, and nowhere else', () => {
    const logging = destination.CloudWatchLoggingOptions;
    expect(logging.Enabled).toBe(true);
    const logGroupId = logging.LogGroupName.Ref as string;
    expect(resources[logGroupId]?.Type).toBe('AWS::Logs::LogGroup');
    expect(resources[logging.LogStreamName.Ref as string]?.Properties?.LogGroupName).toEqual({
      Ref: logGroupId,
    });
    const logStatements = statementsOfRole(resources, roleId).filter((s) =>
      list(s.Action).some((a) => String(a).startsWith('logs:')),
    );
    expect(logStatements.flatMap((s) => list(s.Action))).toContain('logs:PutLogEvents');
    expect(logStatements.flatMap((s) => list(s.Resource))).toEqual([{ 'Fn::GetAtt': [logGroupId, 'Arn'] }]);
  });

  it('alarms when events are queued but not archived, by the ingest or by any consumer (one query over all)', () => {
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties?.Metrics ?? []).includes('ArchiveFailed'),
    );
    expect(alarms).toHaveLength(1);
    const [[, alarm] = []] = alarms;
    const [query] = (alarm?.Properties?.Metrics ?? []) as {
      Expression: string;
      ReturnData?: boolean;
      Period: number;
    }[];
    // The metric both sides publish: the stack's namespace, dimension service only (ingest, or the queue's name).
    expect(query?.Expression).toBe(
      `SELECT SUM(ArchiveFailed) FROM SCHEMA("Hookline/${stack.stackName}", service)`,
    );
    // ... the namespace every function that archives writes its metrics in.
    const namespaceOf = (fn: { node: { defaultChild?: unknown } }) =>
      resources[stack.getLogicalId(fn.node.defaultChild as never)]?.Properties?.Environment?.Variables
        ?.POWERTOOLS_METRICS_NAMESPACE;
    for (const fn of [
      stack.ingest.ingestFunction,
      ...Object.values(stack.consumers).map((c) => c.consumerFunction),
    ])
      expect(namespaceOf(fn)).toBe(`Hookline/${stack.stackName}`);
    expect(query?.Period).toBe(DEFAULTS.functionAlarmPeriod.toSeconds());
    expect(alarm?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarm?.Properties?.AlarmActions).toHaveLength(1);
  });

  it('alarms when the stream holds records it cannot write to the bucket, which it drops after 24 hours, naming its error log', () => {
    // A put the stream took is not an archived event: Firehose retries writing to S3 for 24 hours, then drops the
    // records, and ArchiveFailed (the puts it refused) never counts them.
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) =>
        a.Properties?.Namespace === 'AWS/Firehose' &&
        a.Properties?.MetricName === 'DeliveryToS3.DataFreshness',
    );
    expect(alarms).toHaveLength(1);
    const [[, alarm] = []] = alarms;
    expect(alarm?.Properties?.Dimensions).toEqual([{ Name: 'DeliveryStreamName', Value: { Ref: streamId } }]);
    const interval = destination.BufferingHints.IntervalInSeconds as number;
    // Above what a healthy stream reaches (its buffer interval plus the write), far below the 24 hours.
    expect(alarm?.Properties).toMatchObject({
      Statistic: 'Maximum',
      Threshold: 2 * interval,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm?.Properties?.AlarmActions).toHaveLength(1);
    const errorLogId = destination.CloudWatchLoggingOptions.LogGroupName.Ref as string;
    expect(JSON.stringify(alarm?.Properties?.AlarmDescription)).toContain(`"${errorLogId}"`);
  });

  it('hands the ingest function the stream name', () => {
    const fn = resources[stack.getLogicalId(stack.ingest.ingestFunction.node.defaultChild as never)];
    expect(JSON.stringify(fn?.Properties?.Environment)).toContain(streamId);
  });
});

describe('EventArchive.grantRead (a role that runs hookline replay)', () => {
  const stack = new Stack(new App(), 'Reader');
  const archive = new EventArchive(stack, 'Archive');
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  archive.grantRead(reader);
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const bucketId = stack.getLogicalId(archive.bucket.node.defaultChild as never);
  const statements = statementsOfRole(resources, stack.getLogicalId(reader.node.defaultChild as never));
  const actionsOn = (resource: (r: unknown) => boolean) =>
    statements.filter((st) => list(st.Resource).some(resource)).flatMap((st) => list(st.Action));
  const isBucket = (r: unknown) => JSON.stringify(r) === JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] });

  it("lets it read the bucket's lifecycle rules, which replay applies as the archive's retention", () => {
    // Without it, every replay notes that it could not read them and falls back to archive.retention.
    expect(actionsOn(isBucket)).toContain('s3:GetLifecycleConfiguration');
  });

  it('lets it list the bucket and read only the objects under archive/, and write nothing', () => {
    expect(actionsOn(isBucket)).toEqual(expect.arrayContaining(['s3:List*']));
    const objects = statements.flatMap((st) => list(st.Resource)).filter((r) => !isBucket(r));
    expect(objects.map((r) => JSON.stringify(r))).toEqual([
      expect.stringContaining(`/${ARCHIVE_KEY_PREFIX}*`),
    ]);
    const actions = statements.flatMap((st) => list(st.Action) as string[]);
    expect(actions.filter((a) => /Put|Delete|Abort|Restore/.test(a))).toEqual([]);
  });
});

describe('archive configuration', () => {
  it('is on by default and can be turned off, leaving no stream, bucket or grant', () => {
    const off = pipelineTemplate(resolveConfig({ ...exampleConfig, archive: { enabled: false } }));
    const resources = off.template.toJSON().Resources as Resources;
    expect(ofType(resources, 'AWS::KinesisFirehose::DeliveryStream')).toEqual([]);
    expect(JSON.stringify(resources)).not.toContain('firehose:PutRecord');
    expect(JSON.stringify(resources)).not.toContain('AWS/Firehose');
  });

  it('refuses a retention under one day, naming the field and the fix', () => {
    expect(() => resolveConfig({ ...exampleConfig, archive: { retention: Duration.hours(2) } })).toThrow(
      /archive\.retention[\s\S]*Duration\.days\(1\)/,
    );
  });
});

describe('archive cost', () => {
  it('stays under $0.30 per million 4 KB events, and a record is billed in 5 KB steps', () => {
    expect(ARCHIVE_USD_PER_MILLION_4KB).toBeLessThanOrEqual(0.3);
    expect(archiveCost(1, 1).ingest).toBe(archiveCost(1, 5120).ingest);
    expect(archiveCost(1, 5121).ingest).toBeCloseTo(2 * archiveCost(1, 5120).ingest, 12);
  });
});
