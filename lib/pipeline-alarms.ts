import { ArnFormat, Duration, Lazy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGEST_SERVICE, METRIC_DIMENSIONS, SIGNATURE_MISMATCH_METRIC } from '../lambda/shared/contracts';
import {
  DELETE_FAILED_PERIODS,
  deadLetterExpiryAlarmAge,
  deadLettersExpiringText,
  deleteFailedText,
  type ExpiryAlarmQueue,
} from './alarm-conditions';
import { DEFAULT_HOLD_SECONDS } from './cli/dead-letter-notes';
import { DEFAULTS, OLDEST_MESSAGE_ALARM_WINDOW } from './config';
import { propShapeViolations } from './config/parse-shape';
import { saveDeadLettersArgs } from './console/ui/dead-letter-expiry';
import { fairQueueMetric } from './pipeline-queue';
import { LOG_GROUP_OUTPUT_MARK } from './stack-outputs';
import { oldestMessageAgeFloorViolations } from './validation';
import { prefixViolations, throwIfViolations, type Violation } from './violations';

/**
 * A `hookline` command as the on-call engineer types it for the stack holding `scope`: with `--stack` and `--region`,
 * since at 3 a.m. the shell is rarely in the project folder, and a stack in a CDK Stage (`Prod-Hookline`) is not the
 * configuration's `stackName` the CLI would otherwise read.
 */
export function hooklineCommand(scope: Construct, command: string): string {
  const stack = Stack.of(scope);
  return `\`hookline ${command} --stack ${stack.stackName} --region ${stack.region}\``;
}

/** The AWS CLI command that prints a log group's last lines, those matching `filter` when given. */
function logsTail(scope: Construct, logGroup: logs.ILogGroup, since: string, filter?: string): string {
  const match = filter === undefined ? '' : ` --filter-pattern '${filter}'`;
  return `\`aws logs tail ${logGroup.logGroupName} --since ${since}${match} --region ${Stack.of(scope).region}\``;
}

/**
 * The AWS CLI commands that run a Logs Insights query over every function log group the stack `scope` is in
 * publishes as an output (`LOG_GROUP_OUTPUT_MARK`), over the last `sinceSeconds`, and print its answer. One
 * command whatever the number of consumers: listing each log group would outgrow an alarm description's 1,024
 * characters in a stack with many queues.
 */
export function stackLogsQuery(scope: Construct, sinceSeconds: number, query: string): string {
  const stack = Stack.of(scope);
  const region = `--region ${stack.region}`;
  const groups = `$(aws cloudformation describe-stacks --stack-name ${stack.stackName} --query "Stacks[0].Outputs[?contains(OutputKey,'${LOG_GROUP_OUTPUT_MARK}')].OutputValue" --output text ${region})`;
  return (
    `\`aws logs start-query --log-group-names ${groups} --start-time $(($(date +%s)-${sinceSeconds})) --end-time $(date +%s) --query-string '${query}' --query queryId --output text ${region}\`` +
    `, then \`aws logs get-query-results --query-id <the id it printed> ${region}\``
  );
}

/**
 * How many periods in a row a dead-letter alarm must read no visible message before it returns to OK (it fires on
 * the first). A dead letter a reader holds (`hookline failed summary` or a redrive hold each one they scan for up
 * to {@link DEFAULT_HOLD_SECONDS}) is in flight, not visible: one period of 0 during that hold would send an OK
 * while nothing was fixed, and the end of the hold would page again.
 */
export const DEAD_LETTER_RECOVERY_PERIODS =
  Math.ceil(DEFAULT_HOLD_SECONDS / DEFAULTS.queueAlarmPeriod.toSeconds()) + 1;

/** A queue to watch. */
export interface MonitoredQueue {
  /** Queue name from the configuration, used in alarm names and descriptions. */
  readonly name: string;
  /** The queue. */
  readonly queue: sqs.IQueue;
  /** Its dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Alarm when the oldest message is older than this, at least 1 minute. */
  readonly oldestMessageAge: Duration;
  /**
   * A fair queue (messages carry their tenant as group id): also alarm when the quiet tenants' oldest message
   * is older than `oldestMessageAge`, which a noisy tenant's expected backlog must not trigger.
   *
   * @default false
   */
  readonly fair?: boolean;
  /**
   * Whether a consumer of this stack reads the queue (it can be paused and resumed), or something outside it.
   * @default true
   */
  readonly consumed?: boolean;
  /**
   * The shortest time a dead letter stays in `deadLetterQueue` before SQS deletes it, as the queue's
   * `ApproximateAgeOfOldestMessage` counts it (see `deadLetterLifetime` in `./alarm-conditions`): dead letters older than
   * {@link deadLetterExpiryAlarmAge} of it are alarmed on before they are lost.
   *
   * @default - their expiry is not watched
   */
  readonly deadLetterLifetime?: Duration;
}

/** A function to watch. */
export interface MonitoredFunction {
  /** Name used in alarm descriptions (`ingest`, or the consumer's queue name). */
  readonly name: string;
  /**
   * The alarms' construct id suffix (`Errors-<id>`); give the pipeline's own functions one no queue name can
   * take, so they never meet a consumer's.
   *
   * @default - the name
   */
  readonly id?: string;
  /** The function. */
  readonly fn: lambda.IFunction;
  /**
   * Its log group, which the alarms' descriptions name in the command that reads it.
   * @default - the descriptions name the function instead
   */
  readonly logGroup?: logs.ILogGroup;
  /**
   * The function consumes a queue (an SQS event source), whose maximum concurrency can be lowered when it is
   * throttled; a function behind the API can only be given more concurrency.
   * @default false
   */
  readonly consumesQueue?: boolean;
  /**
   * What a failure of this function leaves undone, and the command that tells, said in its errors alarm after
   * reading the log.
   * @default - nothing more than the log
   */
  readonly failureImpact?: string;
}

/** A further dead-letter queue to watch. */
export interface MonitoredDeadLetterQueue {
  /** Name used in the alarm's description. */
  readonly name: string;
  /**
   * The alarm's construct id suffix (`DeadLetters-<id>`), distinct from every queue's.
   *
   * @default - the name
   */
  readonly id?: string;
  /** The dead-letter queue. */
  readonly queue: sqs.IQueue;
  /**
   * The alarm's description: what waits there and how to read and resend it, naming the queue as the operator
   * types it (the pipeline's name the CLI commands for it).
   *
   * @default - a description that names the queue by `name`
   */
  readonly description?: string;
  /**
   * The shortest time a message stays in the queue before SQS deletes it, as its `ApproximateAgeOfOldestMessage`
   * counts it; with it, and `cliName`, its messages are alarmed on before they expire (as a queue's dead letters
   * are).
   *
   * @default - their expiry is not watched
   */
  readonly lifetime?: Duration;
  /**
   * The name the CLI reads and redrives the queue by (`schedule:<name>`), for the expiry alarm's commands.
   *
   * @default - the name
   */
  readonly cliName?: string;
  /**
   * Whether `hookline redrive` moves the queue's messages back, as the expiry alarm tells the operator to; false for
   * a queue whose messages are meant for several targets (one-time jobs) or for no queue (breaker probes), whose
   * `hookline failed summary` says what to do instead.
   *
   * @default true
   */
  readonly redrivable?: boolean;
}

/** Properties for {@link PipelineAlarms}. */
export interface PipelineAlarmsProps {
  /**
   * Queues whose dead-letter depth and oldest-message age are watched.
   */
  readonly queues: readonly MonitoredQueue[];

  /**
   * Functions whose errors and throttles are watched (the ingest function and every consumer).
   */
  readonly functions: readonly MonitoredFunction[];

  /**
   * Further dead-letter queues to alarm on when they hold any message (e.g. the schedules' DLQs).
   *
   * @default - none
   */
  readonly deadLetterQueues?: readonly MonitoredDeadLetterQueue[];

  /**
   * The HTTP API whose 5xx answers are watched.
   *
   * @default - no API alarm
   */
  readonly api?: apigw.IHttpApi;

  /**
   * The ingest function's log group: its `webhook outcome` lines say why a request failed, its ERROR lines which
   * event was not archived; the API and archive alarms' descriptions name it in the command that reads them.
   *
   * @default - the description names no log group
   */
  readonly ingestLogGroup?: logs.ILogGroup;

  /**
   * The jobs endpoint's log group, when the jobs endpoint answers on `api`: its 503s are among the API's 5xx, each
   * with an ERROR line there, which the API alarm's description names beside the ingest's.
   *
   * @default - the description names the ingest's log only
   */
  readonly jobsEndpointLogGroup?: logs.ILogGroup;

  /**
   * Count of events queued but not archived (the `ArchiveFailed` metric of the ingest and the consumers).
   *
   * @default - no archive alarm
   */
  readonly archiveFailures?: cloudwatch.IMetric;

  /**
   * Count of records the consumers finished or dead-lettered but could not delete from their queue themselves (their
   * `DeleteFailed` metric, every consumer's summed), alarmed on when some fail in each of
   * {@link DELETE_FAILED_PERIODS} periods in a row: one failed delete is left to the batch response, a steady rate is
   * SQS throttling the deletes or a lost permission.
   *
   * @default - no such alarm
   */
  readonly deleteFailures?: cloudwatch.IMetric;

  /**
   * The command that reads the consumers' WARN lines of failed deletes (in every consumer's log group), named in
   * that alarm's description.
   *
   * @default - the description names no command
   */
  readonly deleteFailuresCommand?: string;

  /**
   * The archive's delivery stream: the age of its oldest record, above which it is not writing to the bucket, and
   * the log group where it says why.
   *
   * @default - no delivery alarm
   */
  readonly archiveDelivery?: {
    /** The age of the stream's oldest record (`EventArchive.staleDelivery`). */
    readonly staleness: cloudwatch.IMetric;
    /** The age above which the alarm fires. */
    readonly threshold: Duration;
    /** Where the stream logs why it could not write (`EventArchive.deliveryErrors`). */
    readonly errorLogGroup: logs.ILogGroup;
  };

  /**
   * The command that reads the archive failures' ERROR lines in every log group of a function that counts them
   * (the ingest and each consumer), named in the archive alarm's description.
   *
   * @default - the ingest log group's, when `ingestLogGroup` is given
   */
  readonly archiveFailuresCommand?: string;

  /**
   * The sources with a signing secret, each alarmed on when, in {@link ROTATED_SECRET_WINDOW}, at least
   * {@link ROTATED_SECRET_MIN_MISMATCHES} signed requests arrived and none verified (the ingest's
   * `SignatureMismatch` metric in `namespace`): the sender's secret and the stored one no longer match.
   *
   * @default - no such alarm
   */
  readonly signingSources?: {
    /** The namespace the ingest writes its metrics in. */
    readonly namespace: string;
    /** The sources' names. */
    readonly names: readonly string[];
  };

  /**
   * Topic every alarm notifies (on ALARM and on OK). Its access policy must let `cloudwatch.amazonaws.com`
   * publish (see {@link alarmPublishStatement}); an imported topic's policy cannot be changed from here.
   *
   * @default - a new topic that allows this account's alarms to publish
   */
  readonly topic?: sns.ITopic;

  /**
   * Email address subscribed to the new topic. Ignored when `topic` is given.
   *
   * @default - no subscription
   */
  readonly email?: string;
}

/** CloudWatch's most metrics in one metric math alarm (a hard limit). */
export const METRICS_PER_MATH_ALARM = 10;

/** The most characters CloudWatch takes in an alarm's description. */
export const ALARM_DESCRIPTION_MAX = 1024;

/** The window in which a source with only mismatched signatures is alarmed on. */
export const ROTATED_SECRET_WINDOW = Duration.minutes(15);

/**
 * The fewest signed requests, none verified, in {@link ROTATED_SECRET_WINDOW} that page: one or two forged
 * requests in a quiet quarter hour of a healthy source do not.
 */
export const ROTATED_SECRET_MIN_MISMATCHES = 3;

/** A dead-letter queue whose messages' expiry is watched. */
interface ExpiringQueue extends ExpiryAlarmQueue {
  readonly queue: sqs.IQueue;
}

/** The expiry-alarm side of a further dead-letter queue, when its messages' lifetime is given. */
function expiringOf(d: MonitoredDeadLetterQueue): ExpiringQueue[] {
  return d.lifetime
    ? [
        {
          cliName: d.cliName ?? d.name,
          queue: d.queue,
          lifetime: d.lifetime,
          redrivable: d.redrivable !== false,
        },
      ]
    : [];
}

/** The age at which an expiry alarm watching `q` fires: queues of one such age share alarms. */
const alarmAgeOf = (q: ExpiringQueue): number => deadLetterExpiryAlarmAge(q.lifetime).toSeconds();

/**
 * The expiring queues in groups one metric math alarm each can watch: queues of one alarm age together (the
 * alarm compares their highest age with it), each joining the last group of its age when it `fits` there, else
 * starting one, in the order given.
 */
function expiryGroups(
  queues: readonly ExpiringQueue[],
  fits: (group: readonly ExpiringQueue[], q: ExpiringQueue) => boolean,
): ExpiringQueue[][] {
  const byAge = new Map<number, ExpiringQueue[][]>();
  for (const q of queues) {
    const groups = byAge.get(alarmAgeOf(q)) ?? [];
    const last = groups.at(-1);
    if (last && fits(last, q)) last.push(q);
    else groups.push([q]);
    byAge.set(alarmAgeOf(q), groups);
  }
  return [...byAge.values()].flat();
}

/**
 * What an expiry alarm of `group` reads, as CloudFormation takes it: each queue's `ApproximateAgeOfOldestMessage`
 * (1-minute maxima) and the highest of them, the only series returned. Written out rather than left to CDK, which
 * renders an alarm's metrics once, when it is made: a dead-letter queue watched later joins a group already made.
 */
function expiryQueries(group: readonly ExpiringQueue[]): cloudwatch.CfnAlarm.MetricDataQueryProperty[] {
  const ids = group.map((_, j) => `age${j}`);
  const ages = group.map((q, j) => {
    const stat = q.queue
      .metricApproximateAgeOfOldestMessage({
        period: DEFAULTS.queueAlarmPeriod,
        statistic: cloudwatch.Stats.MAXIMUM,
      })
      .toMetricConfig().metricStat;
    if (!stat) throw new Error(`PipelineAlarms: the age of ${q.cliName}'s oldest message is not one metric`);
    return {
      metricStat: {
        metric: { metricName: stat.metricName, namespace: stat.namespace, dimensions: stat.dimensions },
        period: stat.period.toSeconds(),
        stat: stat.statistic,
      },
      id: ids[j] as string,
      returnData: false,
    };
  });
  return [
    {
      expression: ids.length === 1 ? 'age0' : `MAX([${ids.join(', ')}])`,
      id: 'expr_1',
      label: EXPIRY_ALARM_LABEL,
      returnData: true,
    },
    ...ages,
  ];
}

/** What the expiry alarms' one returned series is called. */
const EXPIRY_ALARM_LABEL = 'Oldest dead letter age';

/**
 * The topic policy statement that lets CloudWatch alarms of this account and region (and no one else's, which
 * prevents the confused-deputy problem) publish to a topic.
 */
export function alarmPublishStatement(topic: sns.ITopic): iam.PolicyStatement {
  const stack = Stack.of(topic);
  return new iam.PolicyStatement({
    sid: 'AllowCloudWatchAlarmsToPublish',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  });
}

/**
 * The props of the wrong kind: an alarm's threshold is a Duration in whole seconds, a queue's name and the email
 * address are text. Every problem at once, before any alarm is computed with them.
 */
function alarmsPropsViolations(props: PipelineAlarmsProps): Violation[] {
  return [
    ...propShapeViolations({
      email: ['text', props.email],
      'archiveDelivery.threshold': ['seconds', props.archiveDelivery?.threshold],
    }),
    ...props.queues.flatMap((q, i) => prefixViolations(`queues[${i}]`, queueAlarmViolations(q))),
  ];
}

/** A queue's name and alarm threshold: of the right kind, and a threshold that tells a backlog from traffic. */
function queueAlarmViolations(q: MonitoredQueue): Violation[] {
  const shape = propShapeViolations({
    name: ['text', q.name],
    oldestMessageAge: ['seconds', q.oldestMessageAge],
  });
  if (shape.some((v) => v.path === 'oldestMessageAge')) return shape;
  return [...shape, ...oldestMessageAgeFloorViolations('oldestMessageAge', q.oldestMessageAge)];
}

/**
 * The pipeline's alarms, all notifying one SNS topic:
 * - a dead-letter queue holds any message (`ApproximateNumberOfMessagesVisible` > 0; `NumberOfMessagesSent`
 *   does not count messages moved by a redrive policy, so depth is the signal), back to OK after
 *   {@link DEAD_LETTER_RECOVERY_PERIODS} periods without one;
 * - a dead letter nears the age at which SQS deletes it (one metric math alarm per up to 10 dead-letter queues of
 *   one threshold, see {@link deadLetterExpiryAlarmAge});
 * - a source with a signing secret had only mismatched signatures for {@link ROTATED_SECRET_WINDOW};
 * - a queue's oldest message is older than its threshold (consumers are down or too slow);
 * - a function reports errors or throttles;
 * - the consumers' own deletes fail in {@link DELETE_FAILED_PERIODS} periods in a row;
 * - the API answers 5xx (senders will retry, GitHub will not).
 * Missing data is not breaching: idle queues and functions publish nothing.
 */
export class PipelineAlarms extends Construct {
  /** The topic every alarm notifies. */
  public readonly topic: sns.ITopic;
  /** Every alarm, for callers to extend (e.g. a composite alarm or a dashboard). */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * The queues of each dead-letter expiry alarm, in the order of their ids: read when the template is written, so
   * a dead-letter queue watched after the constructor (a grant's) joins the last alarm of its age it fits in.
   */
  readonly #expiryGroups: ExpiringQueue[][] = [];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    throwIfViolations(`PipelineAlarms ${this.node.path}`, alarmsPropsViolations(props));
    if (props.topic) {
      this.topic = props.topic;
    } else {
      const topic = new sns.Topic(this, 'Topic', { displayName: 'hookline alarms', enforceSSL: true });
      // enforceSSL gives the topic a policy, and a topic policy replaces SNS's default one: without this
      // statement nothing allows CloudWatch to publish and every notification fails silently.
      topic.addToResourcePolicy(alarmPublishStatement(topic));
      if (props.email) topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      this.topic = topic;
    }

    for (const q of props.queues) {
      this.add(`DeadLetters-${q.name}`, {
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: DEFAULTS.queueAlarmPeriod,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        evaluationPeriods: DEAD_LETTER_RECOVERY_PERIODS,
        description: `Messages are waiting in the dead-letter queue of "${q.name}": its consumer gave up on them. Read why with ${this.cli(`failed list ${q.name}`)}, fix the cause, then ${this.cli(`redrive ${q.name}`)}.`,
      });
      this.add(`OldestMessage-${q.name}`, {
        metric: q.queue.metricApproximateAgeOfOldestMessage({
          period: DEFAULTS.queueAlarmPeriod,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: q.oldestMessageAge.toSeconds(),
        evaluationPeriods: DEFAULTS.oldestMessageAgeAlarmPeriods,
        datapointsToAlarm: DEFAULTS.oldestMessageAgeAlarmPeriods,
        description: `The oldest message in "${q.name}" has waited more than ${q.oldestMessageAge.toHumanString()} for ${OLDEST_MESSAGE_ALARM_WINDOW.toHumanString()}: ${this.stuckQueueAdvice(q)}`,
      });
      if (q.fair) this.addQuietTenantsAlarm(q);
    }
    for (const d of props.deadLetterQueues ?? []) this.watchDeadLetterDepth(d);
    this.watchDeadLetterExpiry([
      ...props.queues.flatMap((q) =>
        q.deadLetterLifetime
          ? [{ cliName: q.name, queue: q.deadLetterQueue, lifetime: q.deadLetterLifetime, redrivable: true }]
          : [],
      ),
      ...(props.deadLetterQueues ?? []).flatMap(expiringOf),
    ]);
    const signing = props.signingSources;
    if (signing)
      for (const name of signing.names) this.watchSigningSource(name, signing, props.ingestLogGroup);
    for (const f of props.functions) this.watchFunction(f);
    if (props.deleteFailures) this.watchDeleteFailures(props.deleteFailures, props.deleteFailuresCommand);
    if (props.archiveFailures) {
      this.add('ArchiveFailed', {
        metric: props.archiveFailures,
        threshold: 0,
        description: `Events were queued but not archived (the delivery stream refused or timed out, or a record was too large): they are processed, but a replay of that time range will miss them. The ingest (webhooks) and each consumer (jobs, scheduled events) log them on an ERROR line ("archive put failed", "archive record too large")${this.archiveFailuresCommand(props)}.`,
      });
    }
    if (props.archiveDelivery) this.watchArchiveDelivery(props.archiveDelivery);
    if (props.api) this.watchApi(props.api, props.ingestLogGroup, props.jobsEndpointLogGroup);
  }

  /**
   * Dead letters near the age at which SQS deletes them, after which the dead-letter alarm returns to OK as if
   * they had been dealt with: one metric math alarm per group of queues of one alarm age (see {@link expiryGroups}),
   * fewer resources than one per queue.
   */
  private watchDeadLetterExpiry(queues: readonly ExpiringQueue[]): void {
    const fits = (group: readonly ExpiringQueue[], q: ExpiringQueue) => this.fitsExpiryGroup(group, q);
    for (const group of expiryGroups(queues, fits)) this.addExpiryAlarm(group);
  }

  /**
   * A dead-letter queue watched after the constructor: it joins the last expiry alarm of its age when it fits there
   * (no new resource), else gets one of its own.
   */
  private watchLateExpiry(q: ExpiringQueue): void {
    const last = this.#expiryGroups.findLast((group) => group[0] && alarmAgeOf(group[0]) === alarmAgeOf(q));
    if (last && this.fitsExpiryGroup(last, q)) last.push(q);
    else this.addExpiryAlarm([q]);
  }

  /**
   * Whether `q` may join `group` (queues of its alarm age): at most {@link METRICS_PER_MATH_ALARM} queues, and a
   * description within {@link ALARM_DESCRIPTION_MAX}. An unresolved region is measured by its placeholder
   * (`${Token[AWS.Region.n]}`), longer than any region's name.
   */
  private fitsExpiryGroup(group: readonly ExpiringQueue[], q: ExpiringQueue): boolean {
    return (
      group.length < METRICS_PER_MATH_ALARM &&
      this.expiryDescription([...group, q]).length <= ALARM_DESCRIPTION_MAX
    );
  }

  /**
   * The expiry alarm of `group` (queues of one alarm age, at least one). Its metrics and description are read from
   * the group when the template is written, so a queue that joins it later is watched and named too.
   */
  private addExpiryAlarm(group: ExpiringQueue[]): void {
    const [first] = group;
    if (!first) return;
    this.#expiryGroups.push(group);
    const alarm = this.add(`DeadLettersExpiring${this.#expiryGroups.length}`, {
      metric: new cloudwatch.MathExpression({
        expression: 'age0',
        usingMetrics: {
          age0: first.queue.metricApproximateAgeOfOldestMessage({
            period: DEFAULTS.queueAlarmPeriod,
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
        },
        label: EXPIRY_ALARM_LABEL,
        period: DEFAULTS.queueAlarmPeriod,
      }),
      threshold: alarmAgeOf(first),
      description: this.expiryDescription(group),
    });
    const resource = alarm.node.defaultChild as cloudwatch.CfnAlarm;
    resource.metrics = Lazy.any({ produce: () => expiryQueries(group) });
    resource.alarmDescription = Lazy.string({ produce: () => this.expiryDescription(group) });
  }

  /**
   * What an expiry alarm of `group` (queues of one alarm age) says: the queues, how long is left, why the age metric
   * may miss letters that were read, and the commands for its first queue, each ready to paste. Where a long stack
   * name leaves no room for the third command, it is described instead of given.
   */
  private expiryDescription(group: readonly ExpiringQueue[]): string {
    const { said, subject } = deadLettersExpiringText(group, (command) => this.cli(command));
    const full = `${said}${this.cli(saveDeadLettersArgs(subject))}.`;
    return full.length <= ALARM_DESCRIPTION_MAX
      ? full
      : `${said}hookline ${saveDeadLettersArgs(subject, '<file>')}, same --stack and --region.`;
  }

  /**
   * A source whose signed requests all fail verification: the sender's secret was rotated, or the wrong one was
   * stored. Every delivery is answered 401, which GitHub never retries. Forged requests alone rarely page: they
   * come without a signature or with a malformed one (not counted), and a healthy source's verified deliveries in
   * the window keep its `Minimum` at 0.
   */
  private watchSigningSource(
    source: string,
    { namespace }: NonNullable<PipelineAlarmsProps['signingSources']>,
    logGroup: logs.ILogGroup | undefined,
  ): void {
    const metric = (statistic: string) =>
      new cloudwatch.Metric({
        namespace,
        metricName: SIGNATURE_MISMATCH_METRIC,
        dimensionsMap: { [METRIC_DIMENSIONS.service]: INGEST_SERVICE, [METRIC_DIMENSIONS.source]: source },
        statistic,
        period: ROTATED_SECRET_WINDOW,
      });
    this.add(`SigningSecret-${source}`, {
      // Each signed request counts 0 (verified) or 1: the lowest is 1 only when none verified, and then times
      // their number is that number, else 0. Plain arithmetic, compared with the alarm's threshold.
      metric: new cloudwatch.MathExpression({
        expression: 'lowest * signed',
        usingMetrics: {
          lowest: metric(cloudwatch.Stats.MINIMUM),
          signed: metric(cloudwatch.Stats.SAMPLE_COUNT),
        },
        label: 'Signed requests, none verified',
        period: ROTATED_SECRET_WINDOW,
      }),
      threshold: ROTATED_SECRET_MIN_MISMATCHES - 1,
      description: `Source "${source}" received ${ROTATED_SECRET_MIN_MISMATCHES} or more signed webhooks in ${ROTATED_SECRET_WINDOW.toHumanString()} and none verified: each was answered 401, and GitHub does not retry. Likely the sender's signing secret was rotated, or the wrong secret was stored. ${logGroup ? `See them with ${logsTail(this, logGroup, '30m', `{ $.source = "${source}" && $.reason = "bad_signature" }`)}. ` : ''}Store the secret the sender shows with ${this.cli(`secrets set ${source}`)} (with --add the old one stays active while senders move), then redeliver the refused deliveries from the sender.`,
    });
  }

  /**
   * Consumers failing to delete what they finished, period after period: each record is still deleted by the batch
   * response, but one whose invocation then times out comes back (a FIFO record that ran, a letter already in the
   * DLQ), and the early deletes that keep a slow FIFO batch from replaying its finished records are off.
   */
  private watchDeleteFailures(metric: cloudwatch.IMetric, command: string | undefined): void {
    const { metricStat, mathExpression } = metric.toMetricConfig();
    const periodSeconds = metricStat?.period.toSeconds() ?? mathExpression?.period ?? 0;
    const said = deleteFailedText(Duration.seconds(periodSeconds));
    // The query selects every log group the stack publishes; with a long stack name it is described instead.
    const full = `${said}${command}.`;
    this.add('DeleteFailed', {
      metric,
      threshold: 0,
      evaluationPeriods: DELETE_FAILED_PERIODS,
      datapointsToAlarm: DELETE_FAILED_PERIODS,
      description:
        command && full.length <= ALARM_DESCRIPTION_MAX
          ? full
          : `${said}their WARN lines "DeleteMessage failed" (Logs Insights over the consumers' log groups).`,
    });
  }

  /** Records the archive stream took but cannot write: they would be dropped after 24 hours, uncounted. */
  private watchArchiveDelivery(delivery: NonNullable<PipelineAlarmsProps['archiveDelivery']>): void {
    this.add('ArchiveDelivery', {
      metric: delivery.staleness,
      threshold: delivery.threshold.toSeconds(),
      description: `The event archive's delivery stream holds records older than ${delivery.threshold.toHumanString()}: it cannot write them to the archive bucket (a changed bucket policy or encryption, a deleted bucket). It retries for 24 hours, then drops them, and a replay of that time range will miss them; the events themselves were processed. Read why with ${logsTail(this, delivery.errorLogGroup, '1h')}.`,
    });
  }

  /** Where the description sends the operator to read which events were not archived. */
  private archiveFailuresCommand(props: PipelineAlarmsProps): string {
    if (props.archiveFailuresCommand) return `: list them with ${props.archiveFailuresCommand}`;
    return props.ingestLogGroup
      ? `: ${logsTail(this, props.ingestLogGroup, '1h', '"archive put failed"')} for the webhooks, the same in each consumer's log group for jobs and scheduled events`
      : '';
  }

  /** Why a queue's oldest message is old, and the first command to run. */
  private stuckQueueAdvice(q: MonitoredQueue): string {
    const status = this.cli(`status ${q.name}`);
    if (q.consumed === false) {
      return `no consumer of this stack reads it, so the application that does is stopped, failing or too slow. Run ${status} for its depth.`;
    }
    return `its consumer is failing, paused or too slow. Run ${status}: it says whether the consumer is paused (then ${this.cli(`resume ${q.name}`)}) and how many messages were dead-lettered (then ${this.cli(`failed list ${q.name}`)}).`;
  }

  /** `hookline <command>` for this stack. */
  private cli(command: string): string {
    return hooklineCommand(this, command);
  }

  /** Errors and throttles of one function, each with the first command to run (one made after the alarms too). */
  watchFunction(f: MonitoredFunction): void {
    const region = Stack.of(this).region;
    const readLog = f.logGroup
      ? `Read its log with ${logsTail(this, f.logGroup, '30m')}`
      : `Read the log of function ${f.fn.functionName}`;
    this.add(`Errors-${f.id ?? f.name}`, {
      metric: f.fn.metricErrors({ period: DEFAULTS.functionAlarmPeriod, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      description: `The "${f.name}" function failed (an unhandled error or a timeout). ${readLog}.${f.failureImpact ? ` ${f.failureImpact}` : ''}`,
    });
    const lower = f.consumesQueue ? ", or lower the queue's consumer maxConcurrency" : '';
    this.add(`Throttles-${f.id ?? f.name}`, {
      metric: f.fn.metricThrottles({ period: DEFAULTS.functionAlarmPeriod, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      description: `The "${f.name}" function was throttled: Lambda had no concurrency left for it. Compare its reserved concurrency (\`aws lambda get-function-concurrency --function-name ${f.fn.functionName} --region ${region}\`) and the account's (\`aws lambda get-account-settings --region ${region}\`) with its load, then raise the one it reached${lower}.`,
    });
  }

  /** Server errors of the API: the ingest's answers to webhooks and, with the jobs endpoint, its answers to jobs. */
  private watchApi(
    api: apigw.IHttpApi,
    logGroup: logs.ILogGroup | undefined,
    jobsLogGroup: logs.ILogGroup | undefined,
  ): void {
    const jobs = jobsLogGroup
      ? `, and for POST /jobs with ${logsTail(this, jobsLogGroup, '30m', '{ $.level = "ERROR" }')}`
      : '';
    const readWhy = logGroup
      ? ` Read why with ${logsTail(this, logGroup, '30m', '{ $.outcome = "failed" }')} (\`reason\`: which dependency failed; \`in_progress\` is a sender's retry that met its first try still being enqueued, nothing to fix)${jobs}; none there means ${jobsLogGroup ? 'that' : 'the'} function itself failed or was throttled (its own alarms).`
      : '';
    const answered = jobsLogGroup
      ? 'The API answered 5xx: to a webhook, senders that retry will retry, GitHub will not (redeliver from its UI); to POST /jobs, the caller is asked to send again.'
      : 'The webhook API answered 5xx: senders that retry will retry, GitHub will not (redeliver from its UI).';
    this.add('Api5xx', {
      metric: api.metricServerError({
        period: DEFAULTS.functionAlarmPeriod,
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      description: `${answered}${readWhy}`,
    });
  }

  /**
   * Alarms when a further dead-letter queue holds any message (one made after the alarms, e.g. by a grant) and, with
   * its `lifetime`, when its oldest message nears the age at which SQS deletes it, in the last expiry alarm of that
   * age when it fits there.
   */
  watchDeadLetterQueue(d: MonitoredDeadLetterQueue): void {
    this.watchDeadLetterDepth(d);
    for (const q of expiringOf(d)) this.watchLateExpiry(q);
  }

  /** Alarms when a further dead-letter queue holds any message. */
  private watchDeadLetterDepth(d: MonitoredDeadLetterQueue): void {
    this.add(`DeadLetters-${d.id ?? d.name}`, {
      metric: d.queue.metricApproximateNumberOfMessagesVisible({
        period: DEFAULTS.queueAlarmPeriod,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      evaluationPeriods: DEAD_LETTER_RECOVERY_PERIODS,
      description:
        d.description ??
        `Deliveries are waiting in the dead-letter queue "${d.name}": the sender gave up on them. Inspect them, fix the cause, then send them again.`,
    });
  }

  /** Fairness is failing: tenants without a backlog of their own wait too (consumers too slow for everyone). */
  private addQuietTenantsAlarm(q: MonitoredQueue): void {
    this.add(`QuietTenantsOldestMessage-${q.name}`, {
      metric: fairQueueMetric(q.queue, 'quietOldestAge', { period: DEFAULTS.queueAlarmPeriod }),
      threshold: q.oldestMessageAge.toSeconds(),
      evaluationPeriods: DEFAULTS.oldestMessageAgeAlarmPeriods,
      datapointsToAlarm: DEFAULTS.oldestMessageAgeAlarmPeriods,
      description: `Quiet tenants of "${q.name}" (those without a backlog) have waited more than ${q.oldestMessageAge.toHumanString()} for ${OLDEST_MESSAGE_ALARM_WINDOW.toHumanString()}: fairness cannot help, the consumer is too slow or failing for everyone. Run ${this.cli(`status ${q.name}`)} (paused? dead-lettering?), then raise its concurrency or fix its errors.`,
    });
  }

  private add(
    id: string,
    options: {
      metric: cloudwatch.IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): cloudwatch.Alarm {
    if (this.node.tryFindChild(id)) {
      throw new Error(
        `PipelineAlarms: two watched resources both need the alarm id "${id}"; give one of them a distinct \`id\``,
      );
    }
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm ?? 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
