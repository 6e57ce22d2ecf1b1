/**
 * The event archive: an Amazon Data Firehose delivery stream (Direct PUT) that batches archive records into
 * GZIP objects in a private bucket, partitioned by source and UTC hour, expiring after the retention.
 *
 * Why Firehose and not an S3 PUT per event: a PUT is $5 per million; Firehose bills ingestion per GB in 5 KB
 * steps and writes one object per partition and buffer (lib/archive-cost.ts has the figures). Why dynamic
 * partitioning: one stream serves every source, schedules and job producers, and a replay of one source and
 * time range lists only that range's prefixes.
 */

import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ARCHIVE_ERROR_PREFIX,
  ARCHIVE_KEY_PREFIX,
  ARCHIVE_PARTITION_QUERY,
  ARCHIVE_STREAM_ERROR_PREFIX,
  ARCHIVE_STREAM_PREFIX,
} from '../lambda/shared/archive';
import { ARCHIVE_FAILED_METRIC, METRIC_DIMENSIONS } from '../lambda/shared/contracts';
import { DEFAULTS } from './config';
import { propShapeViolations, propsWithout } from './config/parse-shape';
import { isTokenProp, propTokenViolations } from './config/tokens';
import { acknowledgeWildcardResource } from './nag-acknowledgements';
import { archiveRetentionViolations } from './validation';
import { throwIfViolations, type Violation, ViolationList } from './violations';

/** Properties of an {@link EventArchive}. */
export interface EventArchiveProps {
  /**
   * How long archived events are kept (lifecycle expiry of the archive objects), at least one day.
   *
   * @default DEFAULTS.archiveRetention (90 days)
   */
  readonly retention?: Duration;

  /**
   * How long the stream buffers before it writes an object (60 to 900 seconds): longer means fewer, larger objects.
   *
   * @default Duration.seconds(300)
   */
  readonly bufferingInterval?: Duration;

  /**
   * What deleting the stack does to the archive bucket. CloudFormation deletes only an empty bucket: with
   * DESTROY, deleting a stack whose archive holds objects fails until the bucket is emptied by hand. RETAIN or
   * DESTROY (the configuration's `removalPolicy` options) or RETAIN_ON_UPDATE_OR_DELETE.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Firehose requires a 64 MiB buffer with dynamic partitioning; the interval is what bounds an object's age. */
const BUFFER_SIZE_MIB = 64;
const DEFAULT_BUFFER_SECONDS = 300;
/** The buffer intervals Firehose takes with dynamic partitioning, which has no zero buffering. */
const MIN_BUFFER_SECONDS = 60;
const MAX_BUFFER_SECONDS = 900;
/**
 * A healthy stream's oldest record is at most about one buffer interval old (plus the write); twice that means it
 * cannot write to the bucket, which it retries for 24 hours before it drops the records.
 */
const STALE_DELIVERY_INTERVALS = 2;

/**
 * What Firehose and S3 would refuse only at deploy (a buffer interval outside 60 to 900 whole seconds) or what
 * an S3 lifecycle cannot express (a retention under a day), every problem at once with its value and fix.
 */
function archivePropsViolations(given: EventArchiveProps): Violation[] {
  // A prop of the wrong kind is reported and left out, so the rules below compute with the rest.
  const shape = propShapeViolations({
    retention: ['days', given.retention],
    bufferingInterval: ['duration', given.bufferingInterval],
    removalPolicy: ['removalPolicy', given.removalPolicy],
  });
  const props = propsWithout(given, shape);
  // Both are computed with: the lifecycle's whole days, and the staleness alarm's threshold.
  const problems = new ViolationList();
  problems.violations.push(
    ...shape,
    ...propTokenViolations({ retention: props.retention, bufferingInterval: props.bufferingInterval }),
  );
  problems.violations.push(
    ...archiveRetentionViolations('retention', props.retention ?? DEFAULTS.archiveRetention),
  );
  const interval = props.bufferingInterval;
  if (interval && isTokenProp(interval)) return problems.violations;
  const seconds = interval ? interval.toMilliseconds() / 1000 : DEFAULT_BUFFER_SECONDS;
  if (!Number.isInteger(seconds) || seconds < MIN_BUFFER_SECONDS || seconds > MAX_BUFFER_SECONDS)
    problems.add(
      'bufferingInterval',
      `is not a whole number of seconds from ${MIN_BUFFER_SECONDS} to ${MAX_BUFFER_SECONDS}, which Firehose requires with dynamic partitioning`,
      `${seconds} seconds`,
      `use Duration.seconds(${MIN_BUFFER_SECONDS}) to Duration.seconds(${MAX_BUFFER_SECONDS}) (default ${DEFAULT_BUFFER_SECONDS})`,
    );
  return problems.violations;
}

/** The archive bucket, its delivery stream, and the grant that lets a producer put records. */
export class EventArchive extends Construct {
  /** The private, encrypted, TLS-only archive bucket. */
  public readonly bucket: s3.Bucket;
  /** The delivery stream every archive record is put to. */
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  /** The role Firehose assumes to write the bucket. */
  public readonly deliveryRole: iam.Role;
  /** Where the stream logs why it could not write to the bucket (or partition a record). */
  public readonly deliveryErrors: logs.LogGroup;
  /** How long the stream buffers before it writes an object. */
  public readonly bufferingInterval: Duration;

  constructor(scope: Construct, id: string, props: EventArchiveProps = {}) {
    super(scope, id);
    throwIfViolations(`EventArchive ${this.node.path}`, archivePropsViolations(props));
    const retention = props.retention ?? DEFAULTS.archiveRetention;
    this.bucket = this.createBucket(retention, props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.deliveryRole = this.createDeliveryRole();
    const errorLogs = new logs.LogGroup(this, 'DeliveryErrors', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const errorStream = errorLogs.addStream('S3Delivery');
    errorLogs.grantWrite(this.deliveryRole);
    this.deliveryErrors = errorLogs;
    this.bufferingInterval = props.bufferingInterval ?? Duration.seconds(DEFAULT_BUFFER_SECONDS);
    this.deliveryStream = this.createStream(this.bufferingInterval.toSeconds(), errorLogs, errorStream);
  }

  /**
   * The age of the oldest record the stream holds (`DeliveryToS3.DataFreshness`, its maximum), and the age above
   * which the stream is not writing to the bucket: records it took but never wrote are dropped after 24 hours.
   */
  public staleDelivery(period: Duration): { staleness: cloudwatch.IMetric; threshold: Duration } {
    return {
      staleness: new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        dimensionsMap: { DeliveryStreamName: this.deliveryStreamName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period,
      }),
      threshold: Duration.seconds(this.bufferingInterval.toSeconds() * STALE_DELIVERY_INTERVALS),
    };
  }

  /** The stream's name, as producers address it. */
  public get deliveryStreamName(): string {
    return this.deliveryStream.ref;
  }

  /** The stream's ARN. */
  public get deliveryStreamArn(): string {
    return this.deliveryStream.attrArn;
  }

  /**
   * Lets a producer put records to the stream with the one call it makes, and nothing else: the ingest puts each
   * event on its own (`PutRecord`), a consumer a batch's arrivals at once (`PutRecordBatch`).
   */
  public grantPutRecords(
    grantee: iam.IGrantable,
    action: 'firehose:PutRecord' | 'firehose:PutRecordBatch',
  ): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [action], resources: [this.deliveryStreamArn] }),
    );
  }

  /**
   * Lets a reader (the replay command's role) list and read archive objects, and read the bucket's lifecycle
   * rules, which replay applies as the archive's retention; nothing else.
   */
  public grantRead(grantee: iam.IGrantable): void {
    this.bucket.grantRead(grantee, `${ARCHIVE_KEY_PREFIX}*`);
    // GetBucketLifecycleConfiguration's action, which grantRead's s3:GetBucket* does not match.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetLifecycleConfiguration'],
        resources: [this.bucket.bucketArn],
      }),
    );
  }

  private createBucket(retention: Duration, removalPolicy: RemovalPolicy): s3.Bucket {
    const expiration = retention;
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'ArchiveRetention', prefix: ARCHIVE_KEY_PREFIX, expiration },
        { id: 'ArchiveErrorRetention', prefix: ARCHIVE_ERROR_PREFIX, expiration },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The archive bucket is written only by its delivery stream and read by the roles granted it (grantRead); access is audited through CloudTrail rather than a second logging bucket.',
    });
    return bucket;
  }

  /** Firehose's role: write objects under the two archive prefixes, list the bucket, nothing more. */
  private createDeliveryRole(): iam.Role {
    const role = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } },
      }),
      description: `Lets the ${Stack.of(this).stackName} archive delivery stream write archive objects`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
    );
    const prefixes = [ARCHIVE_KEY_PREFIX, ARCHIVE_ERROR_PREFIX];
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    for (const prefix of prefixes)
      acknowledgeWildcardResource(
        role,
        Stack.of(this).resolve(this.bucket.arnForObjects(`${prefix}*`)),
        `Firehose names each archive object itself (per partition and buffer), so its role may write any object under ${prefix} and nothing else.`,
      );
    return role;
  }

  private createStream(
    interval: number,
    errorLogs: logs.LogGroup,
    errorStream: logs.LogStream,
  ): firehose.CfnDeliveryStream {
    const stream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: this.bucket.bucketArn,
        roleArn: this.deliveryRole.roleArn,
        prefix: ARCHIVE_STREAM_PREFIX,
        errorOutputPrefix: ARCHIVE_STREAM_ERROR_PREFIX,
        compressionFormat: 'GZIP',
        bufferingHints: { intervalInSeconds: interval, sizeInMBs: BUFFER_SIZE_MIB },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'MetadataExtraction',
              parameters: [
                {
                  parameterName: 'MetadataExtractionQuery',
                  parameterValue: `{source:${ARCHIVE_PARTITION_QUERY.source}}`,
                },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: errorLogs.logGroupName,
          logStreamName: errorStream.logStreamName,
        },
      },
    });
    // The role's policy must exist before Firehose validates the destination (the role itself is referenced).
    const policy = this.deliveryRole.node.tryFindChild('DefaultPolicy');
    if (policy) stream.node.addDependency(policy);
    return stream;
  }
}

/**
 * Events the archive did not take (each was queued all the same), counted by every function that archives: the
 * ingest (`service` = `ingest`) and the consumers, for the jobs and scheduled events they archive (`service` =
 * the queue's name). One Metrics Insights query sums them all, so a consumer added later is watched too.
 */
export function archiveFailedMetric(period: Duration, namespace: string): cloudwatch.IMetric {
  return new cloudwatch.MathExpression({
    expression: `SELECT SUM(${ARCHIVE_FAILED_METRIC}) FROM SCHEMA("${namespace}", ${METRIC_DIMENSIONS.service})`,
    label: ARCHIVE_FAILED_METRIC,
    period,
  });
}
