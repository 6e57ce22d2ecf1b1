/**
 * A deployed pipeline the real CLI can be pointed at without an AWS account: one HTTP server that is SQS
 * (local-aws-sqs, which has move tasks), CloudFormation's `DescribeStacks` (the stack outputs the CLI finds the
 * resources by), Lambda's event source mappings, CloudWatch's `GetMetricData` and CloudWatch Logs' `FilterLogEvents`
 * (the log lines of `logGroups`, a few per page) and EventBridge Scheduler's `ListSchedules` (the `schedules`, as
 * few a page as asked). The CLI reaches it through the
 * SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables, so every line of its deployed code path runs as against AWS.
 * A test can make the SQS answers of one action fail (`fail`), as AWS does when it throttles or has a fault.
 * {@link stackWithLogGroups} and the outcome line builders set up the stack whose log lines `hookline tail` and the
 * console's live feed read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { outputKey, STACK_OUTPUTS } from '../../lib/stack-outputs';
import { type CliRun, runHooklineWith } from './local/cli';

const ACCOUNT = '123456789012';

/** How the SQS answers of one action fail: with this error code and HTTP status, after `after` good answers. */
export interface SqsFault {
  readonly code: string;
  readonly status: number;
  /** Answers that succeed before the failures start. @default 0 */
  readonly after?: number;
  /** How many answers fail. @default every one */
  readonly times?: number;
}

export interface StandInQueue {
  readonly url: string;
  readonly arn: string;
}

/** A Lambda event source mapping's state, its transitions included. */
export type MappingState = 'Enabled' | 'Disabled' | 'Enabling' | 'Disabling';

/** One line of a log group, as CloudWatch Logs keeps it. */
export interface StandInLogLine {
  readonly timestamp: number;
  readonly message: string;
}

/** A schedule EventBridge Scheduler has, as `ListSchedules` summarises it. */
export interface StandInSchedule {
  readonly name: string;
  /** @default 'default' */
  readonly group?: string;
  /** @default 'ENABLED' */
  readonly state?: 'ENABLED' | 'DISABLED';
  /** The ARN of what it sends to (a queue's). */
  readonly targetArn: string;
}

/** How many lines one `FilterLogEvents` page holds: few, so a reader of them must follow `nextToken`. */
const LOG_LINES_PER_PAGE = 2;

export interface DeployedStandIn {
  readonly endpoint: string;
  /** The lines of each log group CloudWatch Logs has; any other name is a log group that does not exist. */
  readonly logGroups: Map<string, StandInLogLine[]>;
  /** Answers every CloudWatch Logs call with an access denial, as to an identity without the logs permissions. */
  denyLogs(denied: boolean): void;
  /** Makes CloudWatch Logs' answers fail as `fault` says (throttling, a fault of AWS's), from now on. */
  failLogs(fault: SqsFault): void;
  /**
   * Answers the next `answered` CloudWatch Logs calls, then holds every later one unanswered (a slow page) until
   * `release`; `held` is how many wait.
   */
  holdLogs(answered: number): { held(): number; release(): void };
  /** Starts the real `bin/hookline.ts` against this stand-in, and leaves it running. */
  spawn(args: readonly string[]): ChildProcess;
  readonly sqs: SQSClient;
  /** The schedules EventBridge Scheduler has, in every group. */
  readonly schedules: StandInSchedule[];
  /** The query of every `ListSchedules` request Scheduler got, in order. */
  readonly scheduleListings: Record<string, string>[];
  /**
   * The stack outputs `DescribeStacks` answers for each stack name (every stack, asked for none); any other name is a
   * stack that does not exist.
   */
  readonly stacks: Map<string, Record<string, string>>;
  /** Event source mapping UUIDs Lambda has, with their state; any other UUID is one Lambda does not have. */
  readonly mappings: Map<string, MappingState>;
  /**
   * Mappings whose update answers its transition (`Disabling`, `Enabling`) and stays in it until a test sets the
   * state, as Lambda takes a while to settle one; any other mapping settles at once.
   */
  readonly settling: Set<string>;
  /** Makes the SQS action `action` (`ReceiveMessage`, `GetQueueAttributes`, ...) fail as `fault` says. */
  fail(action: string, fault: SqsFault): void;
  /** Makes every SQS answer succeed again. */
  heal(): void;
  /**
   * Creates the configured queue `name` (`fifo`: a FIFO one) and its dead-letter queue as the stack `stack` would
   * (default `Hookline`), and the outputs the stack publishes for them.
   */
  queueWithDeadLetters(
    name: string,
    options?: { fifo?: boolean; stack?: string },
  ): Promise<{ outputs: Record<string, string>; queue: StandInQueue; deadLetters: StandInQueue }>;
  /** Sends `count` hookline dead letters of the given types (in turn) to a queue. */
  deadLetter(url: string, count: number, types: readonly string[]): Promise<string[]>;
  /** Receives `count` messages of a queue and holds them for `seconds`, as another reader would. */
  hold(url: string, count: number, seconds: number): Promise<number>;
  /** Visible and in-flight messages of a queue, as SQS counts them. */
  depth(url: string): Promise<{ visible: number; inFlight: number }>;
  /** Runs the real `bin/hookline.ts` against this stand-in. */
  run(args: readonly string[]): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startDeployedStandIn(): Promise<DeployedStandIn> {
  const stacks = new Map<string, Record<string, string>>();
  const mappings = new Map<string, MappingState>();
  const settling = new Set<string>();
  const faults = new Map<string, { fault: SqsFault; seen: number; failed: number }>();
  const logGroups = new Map<string, StandInLogLine[]>();
  const schedules: StandInSchedule[] = [];
  const scheduleListings: Record<string, string>[] = [];
  const logs: {
    denied: boolean;
    fault?: { fault: SqsFault; seen: number; failed: number };
    hold?: { answered: number; waiting: (() => void)[] };
  } = {
    denied: false,
  };
  let sqsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (body.includes('Action=DescribeStacks')) return describeStacks(stacks, body, res);
      if (req.method === 'GET' && req.url?.startsWith('/schedules'))
        return listSchedules(schedules, scheduleListings, req.url, res);
      if (req.url?.startsWith('/2015-03-31/event-source-mappings/'))
        return eventSourceMapping(mappings, settling, req, body, res);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target === 'Logs_20140328.FilterLogEvents') {
        const answer = () => {
          if (logs.fault && injectedFault(logs.fault, res)) return;
          filterLogEvents(logGroups, logs.denied, body, res);
        };
        if (logs.hold && logs.hold.answered-- <= 0) return void logs.hold.waiting.push(answer);
        return answer();
      }
      if (target.startsWith('GraniteServiceVersion20100801.')) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        return res.end(JSON.stringify({ MetricDataResults: [] }));
      }
      const action = target.split('.')[1] ?? '';
      const injected = faults.get(action);
      if (injected) {
        injected.seen++;
        const { fault } = injected;
        if (
          injected.seen > (fault.after ?? 0) &&
          injected.failed < (fault.times ?? Number.POSITIVE_INFINITY)
        ) {
          injected.failed++;
          res.writeHead(fault.status, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-query-error': `${fault.code};${fault.status >= 500 ? 'Receiver' : 'Sender'}`,
          });
          return res.end(
            JSON.stringify({
              __type: `com.amazonaws.sqs#${fault.code}`,
              message: `${fault.code} (stand-in)`,
            }),
          );
        }
      }
      // local-aws-sqs reads the request body itself: hand it a request that replays what was read.
      const replay = Object.assign(Readable.from([Buffer.from(body)]), {
        headers: req.headers,
        method: req.method,
        url: req.url,
      });
      sqsHandler?.(replay as unknown as IncomingMessage, res);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  sqsHandler = (
    createRequestHandler({
      port,
      hostname: '127.0.0.1',
      accountId: ACCOUNT,
      emulateQueueCreationLifecycle: false,
    } as never) as unknown as { requestHandler: (req: IncomingMessage, res: ServerResponse) => void }
  ).requestHandler;
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
  });

  const create = async (name: string, attributes: Record<string, string> = {}): Promise<StandInQueue> => {
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    const answer = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl, arn: answer.Attributes?.QueueArn ?? '' };
  };

  return {
    endpoint,
    sqs,
    schedules,
    scheduleListings,
    stacks,
    mappings,
    settling,
    logGroups,
    denyLogs: (denied) => {
      logs.denied = denied;
    },
    failLogs: (fault) => {
      logs.fault = { fault, seen: 0, failed: 0 };
    },
    holdLogs: (answered) => {
      const hold = { answered, waiting: [] as (() => void)[] };
      logs.hold = hold;
      return {
        held: () => hold.waiting.length,
        release: () => {
          if (logs.hold === hold) logs.hold = undefined;
          for (const answer of hold.waiting.splice(0)) answer();
        },
      };
    },
    spawn: (args) => spawnDeployedHookline(endpoint, args),
    fail: (action, fault) => faults.set(action, { fault, seen: 0, failed: 0 }),
    heal: () => faults.clear(),
    async queueWithDeadLetters(name, { fifo = false, stack = 'Hookline' } = {}) {
      const suffix = fifo ? '.fifo' : '';
      const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
      const deadLetters = await create(`${stack}-${name}-dlq${suffix}`, fifoAttributes);
      const queue = await create(`${stack}-${name}${suffix}`, {
        ...fifoAttributes,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: 5 }),
      });
      const outputs = {
        [outputKey('QueueUrl', name)]: queue.url,
        [outputKey('DeadLetterQueueUrl', name)]: deadLetters.url,
      };
      return { outputs, queue, deadLetters };
    },
    async deadLetter(url, count, types) {
      const ids: string[] = [];
      for (let i = 0; i < count; i += 10) {
        const entries: SendMessageBatchRequestEntry[] = [];
        for (let n = i; n < Math.min(count, i + 10); n++) {
          const type = types[n % types.length] ?? 'event';
          const id = `evt_${n}`;
          ids.push(id);
          entries.push({
            Id: String(n - i),
            MessageBody: JSON.stringify({
              v: 1,
              id,
              source: 'stripe',
              type,
              receivedAt: new Date().toISOString(),
              headers: {},
              body: '{}',
              bodyEncoding: 'utf8',
            }),
            MessageAttributes: {
              [MESSAGE_ATTRIBUTES.eventId]: { DataType: 'String', StringValue: id },
              [MESSAGE_ATTRIBUTES.type]: { DataType: 'String', StringValue: type },
              [FAILURE_ATTRIBUTES.errorName]: { DataType: 'String', StringValue: 'PermanentError' },
              [FAILURE_ATTRIBUTES.errorMessage]: { DataType: 'String', StringValue: `${type} failed` },
            },
          });
        }
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
      }
      return ids;
    },
    async hold(url, count, seconds) {
      let held = 0;
      while (held < count) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, count - held),
            VisibilityTimeout: seconds,
          }),
        );
        if (Messages.length === 0) break;
        held += Messages.length;
      }
      return held;
    },
    async depth(url) {
      const answer = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    },
    run: (args) => runDeployedHookline(endpoint, args),
    async close() {
      sqs.destroy();
      await new Promise((closed) => server.close(closed));
    },
  };
}

/**
 * `DescribeStacks` as CloudFormation answers it (AWS query protocol, XML): the named stack, or without a name every
 * stack (one page).
 */
function describeStacks(
  stacks: ReadonlyMap<string, Record<string, string>>,
  body: string,
  res: ServerResponse,
) {
  const named = /StackName=([^&]*)/.exec(body)?.[1];
  const name = decodeURIComponent(named ?? '');
  const outputs = stacks.get(name);
  if (named !== undefined && !outputs) {
    res.writeHead(400, { 'content-type': 'text/xml' });
    return res.end(
      `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${xml(name)} does not exist</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`,
    );
  }
  const listed = named === undefined ? [...stacks] : [[name, outputs ?? {}] as const];
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(
    `<DescribeStacksResponse><DescribeStacksResult><Stacks>${listed.map(([n, o]) => stackMember(n, o)).join('')}</Stacks></DescribeStacksResult>` +
      `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  );
}

/** One stack of a `DescribeStacks` answer, with its outputs. */
function stackMember(name: string, outputs: Readonly<Record<string, string>>): string {
  const members = Object.entries(outputs)
    .map(
      ([key, value]) =>
        `<member><OutputKey>${xml(key)}</OutputKey><OutputValue>${xml(value)}</OutputValue></member>`,
    )
    .join('');
  return (
    `<member><StackName>${xml(name)}</StackName>` +
    `<StackId>arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${xml(name)}/0a1b2c3d</StackId>` +
    `<StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-01T00:00:00Z</CreationTime>` +
    `<Outputs>${members}</Outputs></member>`
  );
}

/**
 * EventBridge Scheduler's `ListSchedules` (REST JSON): the schedules of the group, name prefix and state asked for, at
 * most `MaxResults` a page, the next page's offset as its token; each request's query is recorded.
 */
function listSchedules(
  schedules: readonly StandInSchedule[],
  listings: Record<string, string>[],
  url: string,
  res: ServerResponse,
) {
  const query = Object.fromEntries(new URL(url, 'http://stand-in').searchParams);
  listings.push(query);
  const matching = schedules.filter(
    (s) =>
      (query.ScheduleGroup === undefined || (s.group ?? 'default') === query.ScheduleGroup) &&
      (query.NamePrefix === undefined || s.name.startsWith(query.NamePrefix)) &&
      (query.State === undefined || (s.state ?? 'ENABLED') === query.State),
  );
  const from = Number(query.NextToken ?? 0);
  const size = Number(query.MaxResults ?? 100);
  const more = from + size < matching.length;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      Schedules: matching.slice(from, from + size).map((s) => ({
        Arn: `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/${s.group ?? 'default'}/${s.name}`,
        Name: s.name,
        GroupName: s.group ?? 'default',
        State: s.state ?? 'ENABLED',
        CreationDate: 1_780_000_000,
        LastModificationDate: 1_780_000_000,
        Target: { Arn: s.targetArn },
      })),
      ...(more ? { NextToken: String(from + size) } : {}),
    }),
  );
}

/** Lambda's `GetEventSourceMapping` and `UpdateEventSourceMapping` (REST JSON); an unknown UUID is a 404. */
function eventSourceMapping(
  mappings: Map<string, MappingState>,
  settling: ReadonlySet<string>,
  req: IncomingMessage,
  body: string,
  res: ServerResponse,
) {
  const uuid = decodeURIComponent(req.url?.split('/')[3] ?? '');
  const state = mappings.get(uuid);
  if (state === undefined) {
    res.writeHead(404, {
      'content-type': 'application/json',
      'x-amzn-errortype': 'ResourceNotFoundException',
    });
    return res.end(JSON.stringify({ Type: 'User', Message: 'The resource you requested does not exist.' }));
  }
  if (req.method === 'PUT') {
    const enabled = (JSON.parse(body || '{}') as { Enabled?: boolean }).Enabled;
    const settled = enabled ? 'Enabled' : 'Disabled';
    mappings.set(uuid, settling.has(uuid) ? (enabled ? 'Enabling' : 'Disabling') : settled);
  }
  res.writeHead(req.method === 'PUT' ? 202 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ UUID: uuid, State: mappings.get(uuid), LastModified: Date.now() / 1000 }));
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * CloudWatch Logs' `FilterLogEvents` (AWS JSON 1.1): a group's lines in [startTime, endTime] whose JSON `message` is
 * one the filter pattern names (`$.message = "..."`, the only form hookline asks for), sorted by time as AWS sorts
 * them, a few per page.
 */
function filterLogEvents(
  logGroups: ReadonlyMap<string, readonly StandInLogLine[]>,
  denied: boolean,
  body: string,
  res: ServerResponse,
) {
  const input = JSON.parse(body || '{}') as {
    logGroupName?: string;
    startTime?: number;
    endTime?: number;
    filterPattern?: string;
    nextToken?: string;
  };
  const fail = (status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: type, message }));
  };
  if (denied) {
    return fail(
      400,
      'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/operator is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${input.logGroupName}:log-stream: because no identity-based policy allows the logs:FilterLogEvents action`,
    );
  }
  const lines = logGroups.get(input.logGroupName ?? '');
  if (!lines) return fail(400, 'ResourceNotFoundException', 'The specified log group does not exist.');
  const messages = [...(input.filterPattern ?? '').matchAll(/\$\.message = ("(?:[^"\\]|\\.)*")/g)].map(
    (match) => JSON.parse(match[1] ?? '""') as string,
  );
  const matching = lines
    .map((line, index) => ({ ...line, eventId: `${input.logGroupName}/${index}` }))
    .filter(
      (line) =>
        line.timestamp >= (input.startTime ?? 0) &&
        line.timestamp <= (input.endTime ?? Number.POSITIVE_INFINITY) &&
        (messages.length === 0 || messages.includes(messageOf(line.message))),
    )
    .sort((a, b) => a.timestamp - b.timestamp);
  const from = Number(input.nextToken ?? 0);
  const page = matching.slice(from, from + LOG_LINES_PER_PAGE);
  const more = from + LOG_LINES_PER_PAGE < matching.length;
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(
    JSON.stringify({
      events: page.map((line) => ({ ...line, logStreamName: 'stream', ingestionTime: line.timestamp })),
      searchedLogStreams: [],
      ...(more ? { nextToken: String(from + LOG_LINES_PER_PAGE) } : {}),
    }),
  );
}

/** Answers with the fault's error (AWS JSON 1.1) when it is its turn to fail; false when this answer succeeds. */
function injectedFault(
  injected: { fault: SqsFault; seen: number; failed: number },
  res: ServerResponse,
): boolean {
  injected.seen++;
  const { fault } = injected;
  if (injected.seen <= (fault.after ?? 0) || injected.failed >= (fault.times ?? Number.POSITIVE_INFINITY)) {
    return false;
  }
  injected.failed++;
  res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify({ __type: fault.code, message: `${fault.code} (stand-in)` }));
  return true;
}

/** The `message` field of a JSON log line; '' for any other line. */
function messageOf(line: string): string {
  try {
    return String((JSON.parse(line.slice(line.indexOf('{'))) as { message?: unknown }).message ?? '');
  } catch {
    return '';
  }
}

/** The environment that points every AWS service the CLI calls at `endpoint`, with credentials that sign for it. */
function deployedEnv(endpoint: string): NodeJS.ProcessEnv {
  const services = [
    'SQS',
    'CLOUDFORMATION',
    'LAMBDA',
    'CLOUDWATCH',
    'CLOUDWATCH_LOGS',
    'S3',
    'SECRETS_MANAGER',
    'SCHEDULER',
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(services.map((service) => [`AWS_ENDPOINT_URL_${service}`, endpoint])),
    AWS_ACCESS_KEY_ID: 'stand-in',
    AWS_SECRET_ACCESS_KEY: 'stand-in',
    AWS_REGION: 'us-east-1',
    NO_COLOR: '1',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return env;
}

/** The real CLI with every AWS service it calls pointed at `endpoint`, and credentials that sign for it. */
function runDeployedHookline(endpoint: string, args: readonly string[]): Promise<CliRun> {
  return runHooklineWith(deployedEnv(endpoint), args);
}

/** {@link runDeployedHookline}, left running. */
function spawnDeployedHookline(endpoint: string, args: readonly string[]): ChildProcess {
  return spawn('node_modules/.bin/tsx', ['bin/hookline.ts', ...args], {
    env: deployedEnv(endpoint),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The log groups of the ingest and of the `events` consumer that {@link stackWithLogGroups} publishes. */
export const STAND_IN_LOG_GROUPS = {
  ingest: '/aws/lambda/Hookline-Ingest',
  eventsConsumer: '/aws/lambda/Hookline-EventsConsumer',
} as const;

/**
 * Publishes stack `Hookline` with the queue `events`, `outputs` besides, and the log groups of its ingest and
 * consumer ({@link STAND_IN_LOG_GROUPS}), empty: the stack whose outcome lines `hookline tail` and the console read.
 */
export async function stackWithLogGroups(
  standIn: DeployedStandIn,
  outputs: Record<string, string> = {},
): Promise<void> {
  const events = await standIn.queueWithDeadLetters('events');
  standIn.stacks.set('Hookline', {
    ...events.outputs,
    ...outputs,
    [STACK_OUTPUTS.ingestLogGroupName]: STAND_IN_LOG_GROUPS.ingest,
    [outputKey('ConsumerLogGroupName', 'events')]: STAND_IN_LOG_GROUPS.eventsConsumer,
  });
  standIn.logGroups.set(STAND_IN_LOG_GROUPS.ingest, []);
  standIn.logGroups.set(STAND_IN_LOG_GROUPS.eventsConsumer, []);
}

/** Where and when an outcome line was written: its time (default now) and the event's source (default stripe). */
interface LineOptions {
  readonly at?: number;
  readonly source?: string;
}

/** The ingest's outcome line for webhook `id` queued to `events`, as it writes it (Powertools JSON). */
export function ingestOutcomeLine(id: string, { at = Date.now(), source = 'stripe' }: LineOptions = {}) {
  return powertoolsLine(at, {
    message: 'webhook outcome',
    outcome: 'queued',
    id,
    source,
    type: 'invoice.paid',
    queues: ['events'],
    status: 202,
    latencyMs: 11,
  });
}

/** The `events` consumer's outcome line for an attempt (default the first) of event `id`, with its failure's reason. */
export function consumerOutcomeLine(
  id: string,
  outcome: string,
  {
    at = Date.now(),
    source = 'stripe',
    attempt = 1,
    reason,
  }: LineOptions & { attempt?: number; reason?: string } = {},
) {
  return powertoolsLine(at, {
    message: 'record outcome',
    outcome,
    id,
    source,
    type: 'invoice.paid',
    queue: 'events',
    attempt,
    durationMs: 25,
    ...(reason ? { reason } : {}),
  });
}

/** A line as Powertools' logger writes it, at `timestamp`. */
function powertoolsLine(timestamp: number, fields: Record<string, unknown>): StandInLogLine {
  return {
    timestamp,
    message: JSON.stringify({ level: 'INFO', timestamp: new Date(timestamp).toISOString(), ...fields }),
  };
}
