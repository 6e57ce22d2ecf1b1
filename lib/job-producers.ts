/**
 * Lets a grantee (a Lambda function, an ECS task's role, any IAM principal) send jobs to a pipeline queue
 * (`hookline/producer`): exactly `sqs:SendMessage` on that queue,
 * its own job records in the dedupe table (`job#*`), claim-checked payloads under `payloads/job/`, and, with
 * `delays`, one-time schedules under the stack's name prefix sent by a role that may only send to that queue and
 * to the dead-letter queue where Scheduler keeps a job it could not deliver.
 * The environment the producer reads (`lambda/shared/producer-config.ts`) is set from the same props, on the function
 * or the container that runs the producer, so the configuration and the permissions cannot disagree.
 */
import { type Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { JOB_RECORD_KEY_PREFIX, PAYLOAD_KEY_PREFIX } from '../lambda/shared/contracts';
import { JOB_SOURCE } from '../lambda/shared/job';
import {
  type GrantedQueue,
  JOB_SCHEDULE_GROUP,
  PRODUCER_CONFIG_ENV,
  PRODUCER_QUEUES_ENV,
  type ProducerQueuesVariable,
  type ProducerSettings,
} from '../lambda/shared/producer-config';
import { DEFAULTS } from './config';
import { checkEnvironmentSize } from './function-environment';
import { DEDUPE_CLAIM_ACTIONS, grantItemAccessByKey, grantSendMessage, JOB_RECORD_ACTIONS } from './grants';
import { STACK_LOCATION } from './runtime-wiring';
import { schedulerDeadLetterQueue } from './scheduler-dead-letter-queue';
import { defaultScheduleGroupArn, schedulerExecutionRole } from './scheduler-execution-role';
import { inlineLimitViolations } from './validation';
import { throwIfViolations, violation } from './violations';

/** Properties of {@link JobProducers}. */
export interface JobProducersProps {
  /** The dedupe table that holds job keys and records. @default - no job ids, status or cancel */
  readonly dedupeTable?: dynamodb.ITable;
  /** How long a job key is remembered. Required with `dedupeTable`. */
  readonly dedupeTtl?: Duration;
  /** The claim-check bucket for large payloads. @default - payloads must fit a message */
  readonly payloadBucket?: s3.IBucket;
  /**
   * Largest envelope sent inline, 1,024 to 1,032,192 bytes (the SQS limit less room for a dead-letter reason).
   * @default - `DEFAULTS.inlineLimitBytes` (1,032,192 bytes)
   */
  readonly inlineLimitBytes?: number;
  /**
   * How long `payloadBucket` keeps a payload (its lifecycle expiry): a delayed job whose payload would expire
   * first is refused. @default - no such check
   */
  readonly payloadExpiry?: Duration;
  /** Schedule names start with this (`jobScheduleNamePrefix(stackName)`); grants cover these names only. */
  readonly scheduleNamePrefix: string;
}

/**
 * Where the variables `createProducer()` reads are set: anything that takes environment variables by name, such as
 * a Lambda function or an ECS container definition (`ecs.ContainerDefinition`).
 */
export interface ProducerEnvironment extends IConstruct {
  /** Sets one variable; a second call with the same name replaces its value. */
  addEnvironment(name: string, value: string): unknown;
}

/**
 * The variables a grant gives its producer (`HOOKLINE_QUEUES` and `HOOKLINE_PRODUCER`), by name: deploy-time values
 * that list every queue granted to the same grantee so far, for a process whose environment CDK does not set (a
 * stack output a script reads).
 */
export interface ProducerVariables {
  /** Where the granted queues are, and each one's name (and scheduler role's, with delays). */
  readonly [PRODUCER_QUEUES_ENV]: string;
  /** The dedupe table, the payload bucket and the one-time schedules' settings. */
  readonly [PRODUCER_CONFIG_ENV]: string;
}

/** Options of {@link JobProducers.grantSend}. */
export interface GrantSendOptions {
  /**
   * Where to set the variables `createProducer()` reads, for a grantee that takes none itself: the container
   * definition whose task role is the grantee (`grantSend(taskDefinition.taskRole, 'events', { environment:
   * container })`).
   * @default - the grantee itself when it takes variables (a Lambda function); else none: the process reads them
   * from the variables `grantSend` returns (a stack output), or is given `createProducer({ queues, settings })`
   */
  readonly environment?: ProducerEnvironment;
  /**
   * Allow delays beyond 15 minutes: one-time EventBridge Scheduler schedules.
   * @default false
   */
  readonly delays?: boolean;
  /**
   * Allow flows (`producer.sendFlow`) on this queue: its consumer may send a flow's parent to every queue granted
   * with flows, and this queue's parents may be sent by their consumers. A producer refuses a flow with a job on a
   * queue granted without it.
   * @default false
   */
  readonly flows?: boolean;
  /**
   * Whether the function deletes one-time schedules: `producer.cancel` deletes a cancelled job's, and a debounced
   * send (`debounce` beyond 15 minutes) the one of the send it replaced. With delays, false grants
   * `scheduler:CreateSchedule` alone, for a function that never cancels or debounces jobs. A cancel or a debounced
   * send without it still takes effect: the schedule left in place delivers a message the consumer skips. Both need
   * the pipeline's job records (the dedupe table), so without them the delete is never granted.
   * @default true
   */
  readonly cancels?: boolean;
}

/** What a grant keeps of one producer: its queues, which its one `HOOKLINE_QUEUES` variable lists when synthesized. */
interface GrantedProducer {
  readonly queues: Map<string, GrantedQueue>;
  /** The settings as of its last grant (the schedules' dead-letter queue exists once a grant allowed delays). */
  settings: ProducerSettings;
  readonly variables: ProducerVariables;
}

/**
 * Grants producers (functions, task roles, any IAM principal) the right to send jobs; one scheduler role per queue,
 * created on first use, and one dead-letter queue for every one-time schedule.
 */
export class JobProducers extends Construct {
  readonly #schedulerRoles = new Map<string, iam.Role>();
  /** Each producer granted, by where its variables are set (else by its grantee). */
  readonly #producers = new Map<object, GrantedProducer>();
  #schedulerDeadLetterQueue?: sqs.Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: JobProducersProps,
  ) {
    super(scope, id);
    // The producers would otherwise send messages too large for a consumer to dead-letter with its reason.
    throwIfViolations(
      `JobProducers ${this.node.path}`,
      inlineLimitViolations('inlineLimitBytes', props.inlineLimitBytes),
    );
  }

  /** The role one-time schedules send to `queue` with, if one was created. */
  schedulerRole(queueName: string): iam.IRole | undefined {
    return this.#schedulerRoles.get(queueName);
  }

  /**
   * Where Scheduler puts the job of a one-time schedule it could not deliver (after its retries), once a grant
   * allowed delays; its dead-letter event names the target queue. Alarm on its depth.
   */
  get schedulerDeadLetterQueue(): sqs.IQueue | undefined {
    return this.#schedulerDeadLetterQueue;
  }

  /**
   * Lets `grantee` send jobs to `queue` (configured as `queueName`), sets the environment the producer reads on
   * `options.environment` (by default the grantee itself, when it takes variables), and returns those variables.
   */
  grantSend(
    grantee: iam.IGrantable,
    queueName: string,
    queue: sqs.IQueue,
    options: GrantSendOptions = {},
  ): ProducerVariables {
    const environment = producerEnvironmentOf(grantee, options);
    // A grantee without variables (a script's user) may send to two pipelines: each grant returns its own.
    if (environment) refuseSecondPipelineOf(environment, this, queueName);
    if (options.delays && queue.fifo) {
      // The producer refuses every delay on a FIFO queue, so the scheduler grants could never be used.
      throwIfViolations('grantSend options', [
        violation(
          'delays',
          `"${queueName}" is a FIFO queue, and SQS cannot delay a single FIFO message, so no job to it can be scheduled`,
          true,
          `grantSend(fn, '${queueName}') without { delays: true }, or send delayed jobs to a standard queue`,
        ),
      ]);
    }
    const role = options.delays ? this.schedulerRoleFor(queueName, queue) : undefined;
    this.grantProducerCalls(grantee, queue, role, options.cancels ?? true);
    const producer = this.producerOf(environment ?? grantee, environment);
    producer.settings = this.settings();
    const granted = producer.queues;
    granted.set(queueName, {
      queue: queue.queueName,
      ...(role ? { role: role.roleName } : {}),
      // A second grant of the same queue without flows keeps what an earlier one allowed.
      ...(options.flows || granted.get(queueName)?.flows ? { flows: true } : {}),
    });
    // Lambda caps a function's variables at 4 KB together; ECS documents no such cap on a container's (its 8,192
    // characters bound the overrides of one RunTask call, not a task definition), so the check is Lambda's alone.
    if (environment instanceof lambda.Function)
      checkEnvironmentSize(
        environment,
        "grant this function fewer queues (each grantSend adds the queue's name and, with delays, its scheduler role's name: about 19 to 23 fit with delays on a function without other variables, fewer the longer the stack's and queues' names): one producer function per group of queues, or shorten its own variables",
      );
    return producer.variables;
  }

  /**
   * Every call the producer makes for a job to `queue`, on the grantee's policy: the send, the job's id and record,
   * its claim-checked payload and, with a scheduler `role`, its one-time schedule.
   */
  private grantProducerCalls(
    grantee: iam.IGrantable,
    queue: sqs.IQueue,
    role: iam.IRole | undefined,
    cancels: boolean,
  ): void {
    grantSendMessage(queue, grantee);
    // A producer claims a job's id (the dedupe store) and writes its record; it never deletes either.
    if (this.props.dedupeTable)
      grantItemAccessByKey(this.props.dedupeTable, grantee, `${JOB_RECORD_KEY_PREFIX}*`, [
        ...new Set([...DEDUPE_CLAIM_ACTIONS, ...JOB_RECORD_ACTIONS]),
      ]);
    const payloadObjectArns = this.payloadObjectArns;
    if (payloadObjectArns) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [payloadObjectArns] }),
      );
    }
    // A producer deletes a schedule only to cancel a job or debounce a send, and both are refused without job
    // records (the dedupe table): granted there, the delete would be one nothing uses.
    if (role) this.grantScheduling(grantee, role, cancels && this.props.dedupeTable !== undefined);
  }

  /**
   * The producer whose variables `key` holds; the first grant sets them on `environment`. Both are computed when
   * synthesized, uncached: a grant after they were first resolved (a size check, a test) must still show.
   */
  private producerOf(key: object, environment: ProducerEnvironment | undefined): GrantedProducer {
    const existing = this.#producers.get(key);
    if (existing) return existing;
    const queues = new Map<string, GrantedQueue>();
    const stack = Stack.of(environment ?? this);
    const variables: ProducerVariables = {
      [PRODUCER_QUEUES_ENV]: Lazy.uncachedString({
        produce: () => {
          const variable: ProducerQueuesVariable = { ...STACK_LOCATION, queues: Object.fromEntries(queues) };
          return stack.toJsonString(variable);
        },
      }),
      [PRODUCER_CONFIG_ENV]: Lazy.uncachedString({ produce: () => stack.toJsonString(producer.settings) }),
    };
    const producer: GrantedProducer = { queues, settings: {}, variables };
    for (const [name, value] of Object.entries(variables)) environment?.addEnvironment(name, value);
    this.#producers.set(key, producer);
    return producer;
  }

  private settings(): ProducerSettings {
    const { dedupeTable, dedupeTtl, payloadBucket, payloadExpiry } = this.props;
    return {
      ...(dedupeTable && dedupeTtl
        ? { dedupe: { tableName: dedupeTable.tableName, ttlSeconds: dedupeTtl.toSeconds() } }
        : {}),
      ...(payloadBucket
        ? {
            payloads: {
              bucket: payloadBucket.bucketName,
              inlineLimitBytes: this.props.inlineLimitBytes ?? DEFAULTS.inlineLimitBytes,
              ...(payloadExpiry ? { expirySeconds: payloadExpiry.toSeconds() } : {}),
            },
          }
        : {}),
      scheduler: {
        namePrefix: this.props.scheduleNamePrefix,
        ...(this.#schedulerDeadLetterQueue
          ? { deadLetterQueueArn: this.#schedulerDeadLetterQueue.queueArn }
          : {}),
      },
    };
  }

  /** The ARN pattern of the stack's one-time job schedules: what a producer granted delays may create and delete. */
  get scheduleArns(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${JOB_SCHEDULE_GROUP}/${this.props.scheduleNamePrefix}*`,
    });
  }

  /** The claim-checked job payloads: what a producer may put. */
  get payloadObjectArns(): string | undefined {
    return this.props.payloadBucket?.arnForObjects(`${PAYLOAD_KEY_PREFIX}${JOB_SOURCE}/*`);
  }

  /**
   * Create (and, for a function that may cancel or debounce jobs, delete) the stack's job schedules, and hand
   * Scheduler the queue's role, nothing else.
   */
  private grantScheduling(grantee: iam.IGrantable, role: iam.IRole, cancels: boolean): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['scheduler:CreateSchedule', ...(cancels ? ['scheduler:DeleteSchedule'] : [])],
        resources: [this.scheduleArns],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
  }

  /**
   * Trusted only by Scheduler for this account's schedules in the default group; may only `sqs:SendMessage` to its
   * queue and its schedules' DLQ.
   */
  private schedulerRoleFor(queueName: string, queue: sqs.IQueue): iam.Role {
    const existing = this.#schedulerRoles.get(queueName);
    if (existing) return existing;
    // No path: the producer derives the role's ARN from its name and the stack's account and partition.
    // The producer creates its schedules in the default group (it names none).
    const role = schedulerExecutionRole(this, `SchedulerRole-${queueName}`, {
      description: `hookline one-time job schedules: send to the ${queueName} queue`,
      scheduleGroupArn: defaultScheduleGroupArn(this),
    });
    const deadLetterQueue = this.schedulerDeadLetterQueueOnce();
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn, deadLetterQueue.queueArn],
      }),
    );
    this.#schedulerRoles.set(queueName, role);
    return role;
  }

  /**
   * Scheduler drops a delivery it gave up on (185 retries or 24 hours) unless the schedule names a dead-letter
   * queue: this one keeps the job (in Scheduler's dead-letter event) for an operator.
   */
  private schedulerDeadLetterQueueOnce(): sqs.Queue {
    this.#schedulerDeadLetterQueue ??= schedulerDeadLetterQueue(this, 'SchedulerDeadLetterQueue', {
      schedules: 'every one-time job schedule',
    });
    return this.#schedulerDeadLetterQueue;
  }
}

/**
 * Where `grantee`'s producer reads its variables: `options.environment`, else the grantee itself when it takes
 * variables (a Lambda function), else nowhere CDK sets.
 */
function producerEnvironmentOf(
  grantee: iam.IGrantable,
  options: GrantSendOptions,
): ProducerEnvironment | undefined {
  if (options.environment) return options.environment;
  return takesVariables(grantee) ? grantee : undefined;
}

const takesVariables = (grantee: object): grantee is ProducerEnvironment =>
  Construct.isConstruct(grantee) &&
  typeof (grantee as Partial<ProducerEnvironment>).addEnvironment === 'function';

/** The grants of each producer's variables (a function's, a container's): they hold one pipeline's. */
const grantsOfProducer = new WeakMap<ProducerEnvironment, JobProducers>();

/**
 * Refuses a grantee whose stack is in another region or account than the pipeline's (both known at synth): a
 * producer sends to the pipeline's queues, table and bucket by their generated names, which CDK cannot hand to a
 * stack of another environment; left to CDK, the app fails later with a chain of resolution errors naming a queue,
 * not the grant. An environment-agnostic stack, on either side, is deployed where the other is, and passes.
 */
export function refuseOtherEnvironment(
  grantee: iam.IGrantable,
  pipeline: Construct,
  queueName: string,
): void {
  if (!Construct.isConstruct(grantee)) return;
  const [theirs, ours] = [Stack.of(grantee), Stack.of(pipeline)];
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (!differs(theirs.region, ours.region) && !differs(theirs.account, ours.account)) return;
  const where = (stack: Stack) => `${stack.stackName} (account ${stack.account}, region ${stack.region})`;
  throwIfViolations(`grantSend ${grantee.node.path}`, [
    violation(
      grantee.node.path,
      `is in stack ${where(theirs)}, and the pipeline in stack ${where(ours)}: a producer sends to the pipeline's queues, dedupe table and payload bucket, which a stack of another account or region cannot reference`,
      queueName,
      `define the producer in a stack with the pipeline's env ({ account: '${ours.account}', region: '${ours.region}' }), such as the pipeline's own`,
    ),
  ]);
}

/**
 * A producer granted by a second pipeline would keep both pipelines' permissions but read the second's queues,
 * dedupe table, bucket and schedule prefix only, its variables rewritten: the first pipeline's queues vanish from
 * it, and a queue both configure (`events`) would take the first's jobs into the second.
 */
function refuseSecondPipelineOf(
  producer: ProducerEnvironment,
  grants: JobProducers,
  queueName: string,
): void {
  const first = grantsOfProducer.get(producer);
  if (first && first !== grants) {
    const pipelineOf = (g: JobProducers) =>
      `${g.node.scope?.node.path ?? g.node.path} (stack ${Stack.of(g).stackName})`;
    const path = producer.node.path;
    throwIfViolations(`grantSend ${path}`, [
      violation(
        path,
        `already sends jobs to the pipeline ${pipelineOf(first)}: a producer reads one pipeline's queues, dedupe table and bucket from its environment, so a grant of the pipeline ${pipelineOf(grants)} would replace them`,
        queueName,
        'give each pipeline a producer (a function, or a container) of its own, and grant each only by its own pipeline',
      ),
    ]);
  }
  grantsOfProducer.set(producer, grants);
}
