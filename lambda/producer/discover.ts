/**
 * Where a producer finds its queues: explicit options first, then the environment that the stack's
 * `grantSend(fn, queue)` sets, then the running local mode's state file (`.hookline/local.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { regionOfQueueUrl } from '../shared/aws-location';
import { START_LOCAL_MODE } from '../shared/local-mode-command';
import {
  isProcessAlive,
  type LocalState,
  localModeStarting,
  localStatePath,
  parseLocalState,
  stateDirHolder,
} from '../shared/local-state';
import {
  PRODUCER_CONFIG_ENV,
  PRODUCER_QUEUES_ENV,
  type ProducerQueue,
  type ProducerSettings,
  producerQueuesOf,
  producerQueuesSchema,
  producerSettingsSchema,
} from '../shared/producer-config';
import { ProducerConfigError } from './producer';

/** Where the producer's queues, table, bucket and scheduler are, and how to reach them. */
export interface ResolvedProducer {
  readonly source: 'options' | 'environment' | 'local';
  readonly queues: Readonly<Record<string, ProducerQueue>>;
  readonly settings: ProducerSettings;
  readonly region?: string;
  readonly endpoints?: {
    readonly sqs?: string;
    readonly s3?: string;
    readonly dynamodb?: string;
    readonly scheduler?: string;
  };
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Explicit queues: name -> URL (and, for delays beyond 15 minutes, ARN). */
export interface ExplicitQueue {
  /** The queue's URL. */
  readonly url: string;
  /**
   * The queue's ARN, the target of one-time schedules.
   * @default - none: delays beyond 15 minutes are refused for this queue
   */
  readonly arn?: string;
  /** @default - true when the URL ends in `.fifo` */
  readonly fifo?: boolean;
  /**
   * The queue's `maxReceiveCount`: a job asking for more `attempts` is refused at send.
   * @default - not checked at send; the consumer caps a job's attempts at the queue's limit
   */
  readonly maxReceiveCount?: number;
}

/** How to find the queues. */
export interface DiscoveryOptions {
  /**
   * Explicit queues, by the name jobs address them with: a URL, or an {@link ExplicitQueue}. With them, neither
   * the environment nor local mode is read, and `settings` are used as given.
   * @default - the queues the environment (`grantSend`) or the running local mode names
   */
  readonly queues?: Readonly<Record<string, string | ExplicitQueue>>;
  /**
   * With explicit `queues`: the dedupe table (job ids, `status`, `waitFor`, `cancel`), the payload bucket and the
   * scheduler settings, in the form `grantSend` writes them to the function's `HOOKLINE_PRODUCER` variable.
   * @default - none: no job ids or records, every payload must fit a message, and no delay beyond 15 minutes
   */
  readonly settings?: ProducerSettings;
  /**
   * `true`: only the running local mode; a path: that state file; `false`: never local mode.
   * @default - the environment (`grantSend`), else the running local mode
   */
  readonly local?: boolean | string;
  /**
   * The variables read instead of `process.env`: `HOOKLINE_QUEUES` and `HOOKLINE_PRODUCER` (what `grantSend`
   * sets), `HOOKLINE_STATE_DIR` (where local mode's state file is) and, with explicit `queues`, `AWS_REGION` (when
   * unset, the region the queues' URLs name is used).
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Credentials the local emulators accept (the same as local mode's; never valid in AWS). */
const LOCAL_CREDENTIALS = { accessKeyId: 'hookline-local', secretAccessKey: 'hookline-local' } as const;

/** Resolves the producer's targets; throws {@link ProducerConfigError} saying how to give them. */
export function discoverProducer(options: DiscoveryOptions = {}): ResolvedProducer {
  const env = options.env ?? process.env;
  if (options.queues) return fromOptions(options.queues, options.settings ?? {}, env);
  if (options.local === undefined || options.local === false) {
    const fromEnv = fromEnvironment(env);
    if (fromEnv) return fromEnv;
  }
  // Never local mode: whether its state file exists is beside the point, and saying it is missing may be untrue.
  if (options.local === false) {
    throw new ProducerConfigError(
      `no queues found: ${PRODUCER_QUEUES_ENV} names none (pipeline.grantSend(fn, '<queue>') sets it), and local: false leaves local mode out: grant this function send, pass createProducer({ queues }), or drop local: false to use the running local mode`,
      { code: 'NOT_GRANTED' },
    );
  }
  const stateFile = typeof options.local === 'string' ? options.local : localStatePath(env);
  if (existsSync(stateFile)) return fromLocalState(stateFile);
  throwIfStarting(stateFile);
  throw new ProducerConfigError(
    `no queues found: grant this function send with pipeline.grantSend(fn, '<queue>'), pass createProducer({ queues }), or start local mode (${START_LOCAL_MODE}; its state file ${stateFile} is missing)`,
    { code: 'NOT_GRANTED' },
  );
}

function fromOptions(
  queues: NonNullable<DiscoveryOptions['queues']>,
  settings: ProducerSettings,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedProducer {
  const region = env.AWS_REGION ? undefined : regionOfQueues(queues);
  return {
    source: 'options',
    settings,
    ...(region ? { region } : {}),
    queues: Object.fromEntries(
      Object.entries(queues).map(([name, q]) => {
        const queue = typeof q === 'string' ? { url: q } : q;
        return [
          name,
          {
            name,
            url: queue.url,
            fifo: queue.fifo ?? queue.url.endsWith('.fifo'),
            ...(queue.arn ? { arn: queue.arn } : {}),
            ...(queue.maxReceiveCount !== undefined ? { maxReceiveCount: queue.maxReceiveCount } : {}),
          },
        ];
      }),
    ),
  };
}

/**
 * The one region explicit queues' URLs name (`https://sqs.<region>.amazonaws.com/...`), for a process that sets no
 * `AWS_REGION`: a script given only a queue URL failed every send for want of a region its URL already said.
 * Refuses queues of two regions, since one producer's clients sign for one region.
 */
function regionOfQueues(queues: NonNullable<DiscoveryOptions['queues']>): string | undefined {
  const byRegion = new Map<string, string[]>();
  for (const [name, q] of Object.entries(queues)) {
    const region = regionOfQueueUrl(typeof q === 'string' ? q : (q?.url ?? ''));
    if (region) byRegion.set(region, [...(byRegion.get(region) ?? []), name]);
  }
  if (byRegion.size > 1) {
    const named = [...byRegion].map(([region, names]) => `${names.join(', ')} in ${region}`).join('; ');
    throw new ProducerConfigError(
      `createProducer: the queues' URLs name more than one region (${named}) and AWS_REGION is not set: a producer sends in one region, so create one producer per region, or set AWS_REGION to the one to send in`,
    );
  }
  return [...byRegion.keys()][0];
}

function parseJsonVariable<T>(name: string, raw: string, parse: (value: unknown) => T): T {
  try {
    return parse(JSON.parse(raw));
  } catch (error) {
    throw new ProducerConfigError(
      `${name} is invalid (${(error as Error).message.split('\n')[0]}): redeploy so the stack writes it again`,
    );
  }
}

function fromEnvironment(env: Readonly<Record<string, string | undefined>>): ResolvedProducer | undefined {
  const rawQueues = env[PRODUCER_QUEUES_ENV];
  if (!rawQueues) return undefined;
  const variable = parseJsonVariable(PRODUCER_QUEUES_ENV, rawQueues, (v) => producerQueuesSchema.parse(v));
  const queues = producerQueuesOf(variable);
  if (Object.keys(queues).length === 0) return undefined;
  const raw = env[PRODUCER_CONFIG_ENV];
  const settings = raw
    ? parseJsonVariable(PRODUCER_CONFIG_ENV, raw, (v) => producerSettingsSchema.parse(v))
    : {};
  // The queues, table, bucket and scheduler are all in the pipeline's region, which the grant wrote: a script
  // given the stack's outputs may run with no region set, or with a profile's default region elsewhere.
  return { source: 'environment', region: variable.region, queues, settings };
}

/**
 * Throws when a local mode holds the state directory of `stateFile` and has not written that file yet: it is
 * starting, and its queues are named there once it is running.
 */
function throwIfStarting(stateFile: string): void {
  const starting = stateDirHolder(stateFile);
  if (!starting) return;
  throw new ProducerConfigError(
    `${localModeStarting(starting)}: its state file ${stateFile} names its queues once it is running; retry once local mode says it is running`,
  );
}

function fromLocalState(path: string): ResolvedProducer {
  let state: LocalState;
  try {
    state = parseLocalState(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    throw new ProducerConfigError(
      `local mode state file ${path} is unreadable: restart local mode with ${START_LOCAL_MODE}`,
    );
  }
  // A local mode that ended without removing its file (killed): its emulators' ports are closed or someone else's.
  // Another may be starting over it, and writes its own file once it is running.
  if (!isProcessAlive(state.pid)) {
    throwIfStarting(path);
    throw new ProducerConfigError(
      `local mode is not running: its state file ${path} names process ${state.pid}, which has ended; start it with ${START_LOCAL_MODE}`,
    );
  }
  const { scheduler, ...claims } = state.jobs ?? {};
  return {
    source: 'local',
    region: state.region,
    endpoints: state.endpoints,
    credentials: LOCAL_CREDENTIALS,
    queues: Object.fromEntries(
      Object.entries(state.queues).map(([name, q]) => [
        name,
        {
          name,
          url: q.url,
          arn: q.arn,
          fifo: q.fifo,
          ...(q.maxReceiveCount !== undefined ? { maxReceiveCount: q.maxReceiveCount } : {}),
        },
      ]),
    ),
    // Delays beyond 15 minutes need the scheduler stand-in, which only a local mode with it advertises.
    settings: { ...claims, ...(scheduler && state.endpoints.scheduler ? { scheduler } : {}) },
  };
}
