/**
 * What the CLI operates on: the running local mode (from its state file) or a deployed stack (from its
 * CloudFormation outputs). Both resolve to the same {@link Target} shape, so every command is target-agnostic.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { AwsLocation } from '../../lambda/shared/aws-location';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { didYouMeanAside } from '../closest-name';
import type { ResolvedConfig } from '../config';
import {
  isProcessAlive,
  type LocalState,
  localModeStarting,
  localStatePath,
  parseLocalState,
  stateDirHolder,
} from '../local/state-file';
import type { LocalQueue } from '../local/topology';
import {
  BREAKER_SCHEDULES,
  FORMER_STACK_OUTPUTS,
  JOB_SCHEDULES,
  outputKey,
  SCHEDULE_DEAD_LETTER_QUEUE_PREFIX,
  STACK_OUTPUTS,
  scheduleDeadLetterQueueName,
} from '../stack-outputs';
import { CliError, StackNotFoundError, UnknownQueueError } from './errors';

export { BREAKER_SCHEDULES, JOB_SCHEDULES, localStatePath, scheduleDeadLetterQueueName };

/** What the one-time job schedules' dead-letter queue holds, as `status` says it. */
const JOB_SCHEDULES_HOLD = 'one-time jobs Scheduler could not deliver';

/** What the circuit breakers' schedules' dead-letter queue holds, as `status` says it. */
const BREAKER_SCHEDULES_HOLD = 'circuit breaker probes and closes Scheduler could not deliver';

/**
 * A dead-letter queue to read: a queue's (with `url`, the queue it belongs to), or one EventBridge Scheduler fills
 * with what it could not deliver: the one-time job schedules' one (jobs for several queues) or a configured
 * schedule's (deliveries to its one queue).
 */
export interface DeadLetterQueueTarget {
  readonly name: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
  /** The queue it is the dead-letter queue of; absent for the ones Scheduler fills. */
  readonly url?: string;
  /** What it holds, for the status of a dead-letter queue that belongs to no queue. */
  readonly holds?: string;
  /**
   * The one queue its messages were meant for, where there is one (a configured schedule's): a redrive sends
   * them there. Absent for the job schedules' one, whose jobs each name their own queue.
   */
  readonly redriveTo?: string;
}

/** One queue, its dead-letter queue and its consumer. */
export interface QueueTarget extends LocalQueue {
  /** The queue's oldest-message alarm threshold (seconds): its `oldestMessageAgeAlarm`. */
  readonly oldestMessageAgeAlarmSeconds?: number;
  /** A fair queue (`tenants` configured): SQS publishes its quiet tenants' backlog and age (deployed stacks). */
  readonly fair?: boolean;
  /**
   * Its consumer's idempotency, from the configuration ({@link idempotencyOf}).
   * @default - not known
   */
  readonly idempotency?: QueueIdempotency | null;
  /** Lambda event source mapping UUID (deployed stacks with a consumer). */
  readonly eventSourceMappingId?: string;
  readonly consumerFunctionName?: string;
  /**
   * The consumer has a circuit breaker configured: only then is not knowing whether it paused the consumer a part of
   * the status left unknown.
   */
  readonly breakerConfigured?: boolean;
  /**
   * The consumer's circuit breaker may probe it (`halfOpenAfter` configured): only then can a running consumer be
   * half-open, so only then does deployed `status` read a running consumer's mapping tag.
   */
  readonly breakerProbes?: boolean;
}

/**
 * A consumer's idempotency while it is on: for `expirySeconds` after an event's handler completed, a copy of that
 * event on its queue (a second delivery, or the same message redriven from the dead-letter queue) is skipped, not run
 * again; a copy of one that failed runs. A replay is a new event and runs.
 */
export interface QueueIdempotency {
  readonly expirySeconds: number;
}

/** A configured queue's idempotency: null when it has no consumer or its consumer's `idempotency` is off. */
export function idempotencyOf(queue: ResolvedConfig['queues'][number]): QueueIdempotency | null {
  const idempotency = queue.consumer?.idempotency;
  return idempotency ? { expirySeconds: idempotency.expiry.toSeconds() } : null;
}

/**
 * The consumer state `status` shows for a queue whose event source mapping, named by the stack outputs, Lambda
 * does not have (deleted outside the stack): nothing consumes the queue.
 */
export const MAPPING_MISSING = 'Missing';

interface TargetBase {
  /** `local mode` or `stack Hookline in us-east-1`, for messages. */
  readonly description: string;
  readonly region: string;
  readonly queues: Readonly<Record<string, QueueTarget>>;
  /** The event archive's bucket, when the pipeline archives. */
  readonly archiveBucket?: string;
  /**
   * The claim-check bucket, where the ingest and the job producers put a body too large for SQS (`failed restore`
   * uploads saved bodies there again).
   * @default - not known (a state file or a stack from before it was published): a saved body goes back to its bucket
   */
  readonly payloadBucket?: string;
  /**
   * The names of the configured sources: a stack's from its configuration, local mode's from its state file.
   * @default - not known (a state file written by a local mode that did not list them)
   */
  readonly sources?: readonly string[];
}

/** The running local mode. */
export interface LocalTarget extends TargetBase {
  readonly kind: 'local';
  readonly controlUrl: string;
  readonly webhookBaseUrl: string;
  readonly endpoints: { readonly sqs: string; readonly s3?: string; readonly dynamodb?: string };
  /** Consumer states as written in the state file. */
  readonly consumers: Readonly<Record<string, { readonly state: string }>>;
  /** Each forwarding queue's destination and the file keeping its signing secret. */
  readonly forwards?: LocalState['forwards'];
  /**
   * The configured schedules local mode fires, from its state file.
   * @default - not known (a state file written by a local mode that did not list them): any `schedule:<name>` is
   * taken for a schedule
   */
  readonly schedules?: readonly string[];
}

/** A deployed stack. */
export interface StackTarget extends TargetBase {
  readonly kind: 'stack';
  readonly stackName: string;
  /** Queues that are configured but whose outputs are absent (an older deployment). */
  readonly queuesMissingOutputs: readonly string[];
  /** Webhook URL per source name. */
  readonly webhookUrls: Readonly<Record<string, string>>;
  /** The ingest function (its configuration names each source's signing secret). */
  readonly ingestFunctionName?: string;
  /** Secrets Manager id (ARN or name) of each verifying source's signing secret, from the stack outputs. */
  readonly signingSecretIds?: Readonly<Record<string, string>>;
  /** Secrets Manager id of each forwarding queue's signing secret, from the stack outputs. */
  readonly forwardSecretIds?: Readonly<Record<string, string>>;
  /** Log groups of the ingest function and of each queue's consumer (`trace`). */
  readonly logGroups?: {
    readonly ingest?: string;
    /** Only once a stack with a jobs endpoint publishes it. */
    readonly jobsEndpoint?: string;
    readonly consumers: Readonly<Record<string, string>>;
  };
  /** The one-time job schedules' dead-letter queue, once a producer may delay jobs. */
  readonly jobSchedulesDeadLetterQueue?: DeadLetterQueueTarget;
  /** The circuit breakers' probe and close schedules' dead-letter queue, once a breaker has `halfOpenAfter`. */
  readonly breakerSchedulesDeadLetterQueue?: DeadLetterQueueTarget;
  /** Each configured schedule's dead-letter queue, in the order of the configuration. */
  readonly scheduleDeadLetterQueues?: readonly DeadLetterQueueTarget[];
  /** Configured schedules whose dead-letter queue outputs are absent (an older deployment). */
  readonly schedulesMissingOutputs?: readonly string[];
  /**
   * True for a nested stack (CloudFormation names its parent): its job schedules are named after its top-level
   * stack's name and its construct path there, not its own name, so the CLI cannot tell their prefix.
   */
  readonly nested?: true;
}

export type Target = LocalTarget | StackTarget;

const NOT_RUNNING = `local mode is not running: start it with ${START_LOCAL_MODE}`;

/**
 * Why there is no local mode to act on: it is not running, or it is starting and has not written its state file
 * yet (the lock it takes on the state directory from its first moment names it), when following "start it" would
 * only be refused.
 */
function noLocalMode(path: string): CliError {
  const starting = stateDirHolder(path);
  if (!starting) return new CliError(NOT_RUNNING);
  return new CliError(
    `${localModeStarting(starting)}: run this again once local mode (${START_LOCAL_MODE}) says it is running`,
  );
}

/**
 * Reads the state file of the running local mode; a missing, unreadable or stale file means it is not running, or
 * still starting.
 */
export function readLocalTarget(path: string, alive: (pid: number) => boolean = isProcessAlive): LocalTarget {
  if (!existsSync(path)) throw noLocalMode(path);
  let parsed: LocalState;
  try {
    parsed = parseLocalState(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new CliError(
      `local mode state file ${path} is unreadable: restart local mode with ${START_LOCAL_MODE}`,
    );
  }
  if (!alive(parsed.pid)) throw noLocalMode(path);
  const base = parsed.webhookBaseUrl.replace(/\/+$/, '');
  return {
    kind: 'local',
    description: 'local mode',
    region: parsed.region,
    controlUrl: parsed.controlUrl.replace(/\/+$/, ''),
    webhookBaseUrl: base,
    endpoints: parsed.endpoints,
    consumers: parsed.consumers,
    ...(parsed.forwards ? { forwards: parsed.forwards } : {}),
    ...(parsed.archive ? { archiveBucket: parsed.archive.bucket } : {}),
    ...(parsed.jobs?.payloads ? { payloadBucket: parsed.jobs.payloads.bucket } : {}),
    ...(parsed.sources ? { sources: parsed.sources } : {}),
    ...(parsed.schedules ? { schedules: parsed.schedules } : {}),
    queues: Object.fromEntries(Object.entries(parsed.queues).map(([name, q]) => [name, { name, ...q }])),
  };
}

/** Finds a deployed pipeline's resources from its stack outputs (names in `lib/stack-outputs.ts`). */
export async function describeStackTarget(
  cloudformation: CloudFormationClient,
  stackName: string,
  region: string,
  config: ResolvedConfig,
): Promise<StackTarget> {
  // Loaded here, not at the top: the local target needs no CloudFormation.
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const answer = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = answer.Stacks?.[0];
  if (!stack) throw new StackNotFoundError(stackName, region);
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  // Loaded here, not at the top: it brings zod, which `status --local` must not pay for.
  const location = await import('../../lambda/shared/aws-location');
  const queueArnOf = queueArns(outputs, stack.StackId, location);
  const queues: Record<string, QueueTarget> = {};
  const missing: string[] = [];
  for (const queue of config.queues) {
    const url = outputs.get(outputKey('QueueUrl', queue.name));
    const arn = queueArnOf(outputKey('QueueArn', queue.name), url);
    const deadLetterUrl = outputs.get(outputKey('DeadLetterQueueUrl', queue.name));
    const deadLetterArn = queueArnOf(outputKey('DeadLetterQueueArn', queue.name), deadLetterUrl);
    if (!url || !arn || !deadLetterUrl || !deadLetterArn) {
      missing.push(queue.name);
      continue;
    }
    const mappingId = outputs.get(outputKey('EventSourceMappingId', queue.name));
    const functionName = outputs.get(outputKey('ConsumerFunctionName', queue.name));
    queues[queue.name] = {
      name: queue.name,
      url,
      arn,
      deadLetterUrl,
      deadLetterArn,
      fifo: queue.fifo,
      oldestMessageAgeAlarmSeconds: queue.oldestMessageAgeAlarm.toSeconds(),
      idempotency: idempotencyOf(queue),
      ...(queue.tenants !== undefined ? { fair: true } : {}),
      ...(queue.consumer?.circuitBreaker ? { breakerConfigured: true } : {}),
      ...(queue.consumer?.circuitBreaker?.halfOpenAfter ? { breakerProbes: true } : {}),
      ...(mappingId ? { eventSourceMappingId: mappingId } : {}),
      ...(functionName ? { consumerFunctionName: functionName } : {}),
    };
  }
  const apiUrl = outputs.get(STACK_OUTPUTS.apiUrl)?.replace(/\/+$/, '');
  const webhookUrls: Record<string, string> = {};
  for (const source of config.sources) {
    const url =
      outputs.get(outputKey('WebhookUrl', source.name)) ??
      (apiUrl ? `${apiUrl}/webhooks/${source.name}` : undefined);
    if (url) webhookUrls[source.name] = url;
  }
  const schedules = scheduleDeadLetterQueuesOf(outputs, queueArnOf, config);
  const ingestFunctionName = outputs.get(STACK_OUTPUTS.ingestFunctionName);
  const { signingSecretIds, forwardSecretIds } = secretIdsOf(outputs, config);
  return {
    kind: 'stack',
    description: `stack ${stackName} in ${region}`,
    stackName,
    region,
    queues,
    queuesMissingOutputs: missing,
    sources: config.sources.map((s) => s.name),
    webhookUrls,
    ...(ingestFunctionName ? { ingestFunctionName } : {}),
    signingSecretIds,
    forwardSecretIds,
    ...archiveAndLogsOf(outputs, config),
    ...sharedDeadLetterQueuesOf(outputs, queueArnOf),
    ...schedules,
    ...(stack.ParentId ? { nested: true } : {}),
  };
}

/** How many pages of `DescribeStacks` {@link stacksOfConfiguration} reads at most: an account has few stacks. */
const STACK_PAGES = 10;

/**
 * The stacks in the client's region deployed from this configuration (the outputs of one of its queues),
 * by name: what the operator may have meant when the stack they named, or the configuration's `stackName`, is
 * not there (dev and prod stages named `Dev-Hookline`, `Prod-Hookline`). Read only then, and only to name them:
 * none when they cannot be listed (no permission to list every stack), so the error stays the one it was.
 */
export async function stacksOfConfiguration(
  cloudformation: CloudFormationClient,
  config: ResolvedConfig,
): Promise<string[]> {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  // A configured queue's URL and its dead-letter queue's, as the pipeline publishes them.
  const queueOutputs = config.queues.map((q) => [
    outputKey('QueueUrl', q.name),
    outputKey('DeadLetterQueueUrl', q.name),
  ]);
  const names: string[] = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < STACK_PAGES; page++) {
      const answer = await cloudformation.send(
        new DescribeStacksCommand(nextToken ? { NextToken: nextToken } : {}),
      );
      for (const stack of answer.Stacks ?? []) {
        const keys = new Set((stack.Outputs ?? []).map((o) => o.OutputKey));
        const ofConfiguration = queueOutputs.some((pair) => pair.every((key) => keys.has(key)));
        if (ofConfiguration && stack.StackName) names.push(stack.StackName);
      }
      nextToken = answer.NextToken;
      if (!nextToken) break;
    }
  } catch {
    return [];
  }
  return names.sort();
}

/** The ids of the sources' signing secrets and of the forwarding queues' secrets, from the stack outputs. */
function secretIdsOf(
  outputs: ReadonlyMap<string, string>,
  config: ResolvedConfig,
): Required<Pick<StackTarget, 'signingSecretIds' | 'forwardSecretIds'>> {
  const idsOf = (kind: 'SigningSecretId' | 'ForwardSecretId', names: readonly string[]) =>
    Object.fromEntries(
      names.flatMap((name) => {
        const id = outputs.get(outputKey(kind, name));
        return id ? [[name, id]] : [];
      }),
    );
  return {
    signingSecretIds: idsOf(
      'SigningSecretId',
      config.sources.map((s) => s.name),
    ),
    forwardSecretIds: idsOf(
      'ForwardSecretId',
      config.queues.filter((q) => q.consumer?.forward).map((q) => q.name),
    ),
  };
}

/** A queue's ARN: the output named `arnKey` (a former output, where there was one), or else derived from its URL. */
type QueueArnLookup = (arnKey: string | undefined, url: string | undefined) => string | undefined;

/**
 * A queue's ARN as the stack's outputs give it: the ARN output a stack deployed by an earlier version has (read
 * as it is, so nothing changes for that stack), else derived from the queue's URL in the partition and region of
 * the stack's own ARN, which are the queue's: a stack creates its resources in its own account and region.
 */
function queueArns(
  outputs: ReadonlyMap<string, string>,
  stackId: string | undefined,
  { locationOfArn, queueArnOfUrl }: typeof import('../../lambda/shared/aws-location'),
): QueueArnLookup {
  const where: Pick<AwsLocation, 'partition' | 'region'> | undefined = stackId
    ? locationOfArn(stackId)
    : undefined;
  return (arnKey, url) =>
    (arnKey ? outputs.get(arnKey) : undefined) || (url && where ? queueArnOfUrl(where, url) : undefined);
}

/** A dead-letter queue the stack's Scheduler schedules share, and where the stack's outputs name it. */
interface SharedScheduleDeadLetterQueue {
  readonly name: string;
  readonly holds: string;
  readonly urlOutput: string;
  /** The ARN output a stack deployed by an earlier version has, where there was one. */
  readonly formerArnOutput?: string;
}

/** The one-time job schedules' dead-letter queue (output once a grant allowed delays). */
const JOB_SCHEDULES_QUEUE: SharedScheduleDeadLetterQueue = {
  name: JOB_SCHEDULES,
  holds: JOB_SCHEDULES_HOLD,
  urlOutput: STACK_OUTPUTS.jobSchedulesDeadLetterQueueUrl,
  formerArnOutput: FORMER_STACK_OUTPUTS.jobSchedulesDeadLetterQueueArn,
};

/** The circuit breakers' probe and close schedules' dead-letter queue (output once a breaker probes). */
const BREAKER_SCHEDULES_QUEUE: SharedScheduleDeadLetterQueue = {
  name: BREAKER_SCHEDULES,
  holds: BREAKER_SCHEDULES_HOLD,
  urlOutput: STACK_OUTPUTS.breakerSchedulesDeadLetterQueueUrl,
};

/** The shared schedule dead-letter queues the stack's outputs name, each absent while the stack has none. */
function sharedDeadLetterQueuesOf(
  outputs: ReadonlyMap<string, string>,
  queueArnOf: QueueArnLookup,
): Pick<StackTarget, 'jobSchedulesDeadLetterQueue' | 'breakerSchedulesDeadLetterQueue'> {
  const jobSchedulesDeadLetterQueue = sharedDeadLetterQueueOf(JOB_SCHEDULES_QUEUE, outputs, queueArnOf);
  const breakerSchedulesDeadLetterQueue = sharedDeadLetterQueueOf(
    BREAKER_SCHEDULES_QUEUE,
    outputs,
    queueArnOf,
  );
  return {
    ...(jobSchedulesDeadLetterQueue ? { jobSchedulesDeadLetterQueue } : {}),
    ...(breakerSchedulesDeadLetterQueue ? { breakerSchedulesDeadLetterQueue } : {}),
  };
}

/** One of those queues, from the stack's outputs; undefined while the stack has none. */
function sharedDeadLetterQueueOf(
  queue: SharedScheduleDeadLetterQueue,
  outputs: ReadonlyMap<string, string>,
  queueArnOf: QueueArnLookup,
): DeadLetterQueueTarget | undefined {
  const deadLetterUrl = outputs.get(queue.urlOutput);
  const deadLetterArn = queueArnOf(queue.formerArnOutput, deadLetterUrl);
  return deadLetterUrl && deadLetterArn
    ? { name: queue.name, deadLetterUrl, deadLetterArn, holds: queue.holds }
    : undefined;
}

/** Each configured schedule's dead-letter queue, from its outputs, and the schedules whose outputs are absent. */
function scheduleDeadLetterQueuesOf(
  outputs: ReadonlyMap<string, string>,
  queueArnOf: QueueArnLookup,
  config: ResolvedConfig,
): Pick<StackTarget, 'scheduleDeadLetterQueues' | 'schedulesMissingOutputs'> {
  const found: DeadLetterQueueTarget[] = [];
  const missing: string[] = [];
  for (const schedule of config.schedules) {
    const deadLetterUrl = outputs.get(outputKey('ScheduleDeadLetterQueueUrl', schedule.name));
    const deadLetterArn = queueArnOf(outputKey('ScheduleDeadLetterQueueArn', schedule.name), deadLetterUrl);
    if (!deadLetterUrl || !deadLetterArn) {
      missing.push(schedule.name);
      continue;
    }
    found.push({
      name: scheduleDeadLetterQueueName(schedule.name),
      deadLetterUrl,
      deadLetterArn,
      holds: `deliveries of schedule ${schedule.name} to the ${schedule.queue} queue Scheduler gave up on`,
      redriveTo: schedule.queue,
    });
  }
  return {
    ...(found.length > 0 ? { scheduleDeadLetterQueues: found } : {}),
    ...(missing.length > 0 ? { schedulesMissingOutputs: missing } : {}),
  };
}

/**
 * Dead-letter queues the target has besides its queues' own, by CLI name: the one-time job schedules' one, the
 * circuit breakers' schedules' one and each configured schedule's. A deployed stack only: local mode keeps no
 * dead-letter queue for any of them.
 */
export function otherDeadLetterQueues(target: Target): DeadLetterQueueTarget[] {
  if (target.kind !== 'stack') return [];
  return [
    ...(target.jobSchedulesDeadLetterQueue ? [target.jobSchedulesDeadLetterQueue] : []),
    ...(target.breakerSchedulesDeadLetterQueue ? [target.breakerSchedulesDeadLetterQueue] : []),
    ...(target.scheduleDeadLetterQueues ?? []),
  ];
}

/**
 * The dead-letter queue `name` stands for: a queue's, with {@link JOB_SCHEDULES} the one-time job schedules' one,
 * with {@link BREAKER_SCHEDULES} the circuit breakers' schedules' one, or with `schedule:<name>` a configured
 * schedule's. Anything else is a one-line error listing the valid names.
 */
export function deadLetterQueueOf(target: Target, name: string): DeadLetterQueueTarget {
  const others = otherDeadLetterQueues(target);
  const other = others.find((d) => d.name === name);
  if (other) return other;
  if (name === JOB_SCHEDULES) {
    throw new CliError(
      target.kind === 'local'
        ? `local mode has no ${JOB_SCHEDULES} dead-letter queue: it sends a one-time job again until its queue takes it`
        : `${target.description} has no ${JOB_SCHEDULES} dead-letter queue in its outputs: it is made once a producer may delay jobs (grantSend with { delays: true }, or the jobs endpoint with delays); if one does, redeploy with npx cdk deploy so the stack publishes it`,
    );
  }
  if (name === BREAKER_SCHEDULES) {
    throw new CliError(
      target.kind === 'local'
        ? `local mode has no ${BREAKER_SCHEDULES} dead-letter queue: it runs each probe and close itself, on its own clock, and says so in its output`
        : `${target.description} has no ${BREAKER_SCHEDULES} dead-letter queue in its outputs: it is made once a consumer's circuit breaker has halfOpenAfter; if one does, redeploy with npx cdk deploy so the stack publishes it`,
    );
  }
  if (name.startsWith(SCHEDULE_DEAD_LETTER_QUEUE_PREFIX))
    throw noScheduleDeadLetterQueue(target, name, others);
  return queueOf(
    target,
    name,
    others.map((d) => d.name),
  );
}

/** Why `schedule:<name>` names no dead-letter queue of the target. */
function noScheduleDeadLetterQueue(
  target: Target,
  name: string,
  others: readonly DeadLetterQueueTarget[],
): CliError {
  const schedule = name.slice(SCHEDULE_DEAD_LETTER_QUEUE_PREFIX.length);
  if (target.kind === 'local' && (target.schedules === undefined || target.schedules.includes(schedule))) {
    return new CliError(
      `local mode has no ${name} dead-letter queue: it keeps none for schedules, and reports a delivery it could not make in its output`,
    );
  }
  if (target.kind === 'stack' && target.schedulesMissingOutputs?.includes(schedule)) {
    return new CliError(
      `schedule ${schedule} has no dead-letter queue outputs in ${target.description}: redeploy with npx cdk deploy so the stack publishes them`,
    );
  }
  const names =
    target.kind === 'local'
      ? (target.schedules ?? []).map((n) => `${SCHEDULE_DEAD_LETTER_QUEUE_PREFIX}${n}`)
      : others.map((d) => d.name).filter((n) => n.startsWith(SCHEDULE_DEAD_LETTER_QUEUE_PREFIX));
  const aside = didYouMeanAside(name, names, SCHEDULE_DEAD_LETTER_QUEUE_PREFIX);
  return new CliError(
    `unknown schedule "${schedule}" in ${target.description}${aside}: use one of ${names.length ? names.join(', ') : '(no schedule configured)'}`,
  );
}

/**
 * Whether `name` is the CLI's name of a dead-letter queue that belongs to no queue (`job_schedules`,
 * `breaker_schedules`, `schedule:<name>`): never a configured queue's name, which has neither `_` nor `:`.
 */
export function isOtherDeadLetterQueueName(name: string): boolean {
  return (
    name === JOB_SCHEDULES || name === BREAKER_SCHEDULES || name.startsWith(SCHEDULE_DEAD_LETTER_QUEUE_PREFIX)
  );
}

/**
 * What `failed` and the console say of a dead letter without a recorded reason, in the dead-letter queue of that
 * CLI name. In a queue's own, SQS moved it after maxReceiveCount receives; in one EventBridge Scheduler fills
 * (`job_schedules`, `breaker_schedules`, `schedule:<name>`) no receive count moves anything, and the message lacks
 * Scheduler's reason.
 */
export function noReasonRecorded(deadLetterQueue: string): string {
  return isOtherDeadLetterQueueName(deadLetterQueue)
    ? 'no reason recorded: it lacks the ERROR_CODE EventBridge Scheduler sets on what it puts here'
    : 'no reason recorded: SQS moved it after maxReceiveCount receives (a crash or a timeout)';
}

/** The archive and payload buckets and the functions' log groups, from the outputs that publish them. */
function archiveAndLogsOf(
  outputs: ReadonlyMap<string, string>,
  config: ResolvedConfig,
): Pick<StackTarget, 'archiveBucket' | 'payloadBucket' | 'logGroups'> {
  const archiveBucket = outputs.get(STACK_OUTPUTS.archiveBucketName);
  const payloadBucket = outputs.get(STACK_OUTPUTS.payloadBucketName);
  const ingest = outputs.get(STACK_OUTPUTS.ingestLogGroupName);
  const jobsEndpoint = outputs.get(STACK_OUTPUTS.jobsEndpointLogGroupName);
  const consumers: Record<string, string> = {};
  for (const queue of config.queues) {
    const group = outputs.get(outputKey('ConsumerLogGroupName', queue.name));
    if (group) consumers[queue.name] = group;
  }
  return {
    ...(archiveBucket ? { archiveBucket } : {}),
    ...(payloadBucket ? { payloadBucket } : {}),
    logGroups: { ...(ingest ? { ingest } : {}), ...(jobsEndpoint ? { jobsEndpoint } : {}), consumers },
  };
}

/** The named queue, or a one-line error listing the valid names (and `alsoValid`, where they are accepted too). */
export function queueOf(target: Target, name: string, alsoValid: readonly string[] = []): QueueTarget {
  // Own names only: a name such as `constructor` or `__proto__` is no queue, not one of Object's members.
  const queue = Object.hasOwn(target.queues, name) ? target.queues[name] : undefined;
  if (queue) return queue;
  if (target.kind === 'stack' && target.queuesMissingOutputs.includes(name)) {
    throw new CliError(
      `queue ${name} has no outputs in ${target.description}: redeploy with npx cdk deploy so the stack publishes them`,
    );
  }
  const names = [...Object.keys(target.queues), ...alsoValid];
  throw new UnknownQueueError(
    name,
    `unknown queue "${name}" in ${target.description}${didYouMeanAside(name, names)}: use one of ${names.length ? names.join(', ') : '(none configured)'}`,
  );
}

/** The URL a source's webhooks are posted to in this target. */
export function webhookUrlOf(target: Target, source: string): string {
  if (target.kind === 'local') return `${target.webhookBaseUrl}/webhooks/${source}`;
  const url = target.webhookUrls[source];
  if (!url) {
    throw new CliError(
      `source ${source} has no webhook URL in ${target.description}: redeploy with npx cdk deploy, or pass --url`,
    );
  }
  return url;
}
