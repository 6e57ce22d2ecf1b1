/**
 * What the operator is told when AWS refuses a command: each command runs through the real program (`runCli`), its
 * clients mocked to throw errors built as the AWS SDK v3 builds them (the service's exception class where it models
 * one, its service exception with the wire's name where it does not), and the line on stderr and the exit code are
 * what is checked.
 */
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ArchiveRecord, archivePrefix } from '../../lambda/shared/archive';
import { runCli } from '../../lib/cli/program';
import type { StackTarget } from '../../lib/cli/target';
import { type Caller, REFUSALS, type Refusal } from './aws-refusals';
import {
  cliHarness,
  deadLetterMessage,
  fakeClock,
  mockCommandClients,
  stackTarget,
  stackWithJobRecords,
  testBackend,
} from './helpers';

const { sqs, lambda } = mockCommandClients();
const s3 = mockClient(S3Client);
const logs = mockClient(CloudWatchLogsClient);
const dynamodb = mockClient(DynamoDBClient);
const secretsManager = mockClient(SecretsManagerClient);
/** The stack's outputs name its dedupe table, where `jobs` reads the job records. */
const cloudformation = stackWithJobRecords();
beforeEach(() => {
  s3.reset();
  logs.reset();
  dynamodb.reset();
  secretsManager.reset();
});
afterAll(() => {
  cloudformation.restore();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

// ---------------------------------------------------------------------------------------------------------------
// The commands, each arranged so that its first AWS call of one kind fails with the error given.

const GITHUB_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:SecretGithub-AbCdEf';

/** The deployed stack, with github's signing secret, an archive, log groups and an ingest function, so every command has what it reads. */
const target: StackTarget = {
  ...stackTarget(),
  signingSecretIds: { github: GITHUB_SECRET },
  archiveBucket: 'archive',
  ingestFunctionName: 'Hookline-Ingest',
  logGroups: { ingest: '/aws/lambda/ingest', consumers: { events: '/aws/lambda/events' } },
};
const receivedAt = '2026-11-25T01:15:00.000Z';

/** The archive holds one github event of the window replay reads, its body inline or in the payload bucket. */
function archiveHoldsOne(options: { storedBody?: boolean } = {}) {
  const record: ArchiveRecord = {
    source: 'github',
    origin: 'webhook',
    queues: ['events'],
    envelope: {
      v: 1,
      id: 'push-1',
      source: 'github',
      type: 'push',
      receivedAt,
      headers: {},
      contentType: 'application/json',
      ...(options.storedBody
        ? { payloadRef: { bucket: 'payloads', key: 'payloads/github/push-1', sizeBytes: 2_000_000 } }
        : { body: '{}', bodyEncoding: 'utf8' }),
    } as ArchiveRecord['envelope'],
  };
  const key = `${archivePrefix('github', new Date(receivedAt))}part-1`;
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(ListObjectsV2Command, { Prefix: archivePrefix('github', new Date(receivedAt)) }).resolves({
    Contents: [{ Key: key }],
  });
  s3.on(GetObjectCommand, { Key: key }).resolves({
    Body: {
      transformToByteArray: async () => new Uint8Array(Buffer.from(`${JSON.stringify(record)}\n`)),
    } as never,
  });
}

interface Command extends Caller {
  readonly argv: readonly string[];
  /** Makes the command's call fail with `error`. */
  arrange(error: Error): void;
  /** The error line it prints for a refusal's `line`, when it says more around it. @default the line itself */
  readonly answer?: (line: string, refusal: Refusal) => string;
  /**
   * The line it shows an access denial with in place, among what it could read, rather than failing with one line.
   * @default it fails with the refusal's line
   */
  readonly inPlace?: (refusal: Refusal) => string;
}

const REPLAY = [
  'replay',
  '--source',
  'github',
  '--since',
  '2026-11-25T01:00:00Z',
  '--until',
  '2026-11-25T02:00:00Z',
];

const COMMANDS: readonly Command[] = [
  {
    name: 'status',
    argv: ['status'],
    arrange: (e) => {
      sqs.onAnyCommand().rejects(e);
      lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    },
    inPlace: (refusal) =>
      `events messages: unknown: access denied (${refusal.explicitDeny ? `${refusal.explicitDeny} explicitly denies` : 'needs'} sqs:GetQueueAttributes)`,
  },
  { name: 'failed list', argv: ['failed', 'list', 'events'], arrange: (e) => sqs.onAnyCommand().rejects(e) },
  {
    name: 'failed show',
    argv: ['failed', 'show', 'events', 'evt-1'],
    arrange: (e) => sqs.onAnyCommand().rejects(e),
  },
  {
    name: 'failed summary',
    argv: ['failed', 'summary', 'events'],
    arrange: (e) => sqs.onAnyCommand().rejects(e),
  },
  {
    name: 'failed delete',
    argv: ['failed', 'delete', 'events', '--id', 'evt-1', '--yes'],
    arrange: (e) => sqs.onAnyCommand().rejects(e),
  },
  {
    name: 'redrive',
    argv: ['redrive', 'events'],
    paced: true,
    arrange: (e) => sqs.onAnyCommand().rejects(e),
  },
  {
    name: 'redrive --id (its send)',
    argv: ['redrive', 'events', '--id', 'evt-1'],
    paced: true,
    arrange: (e) => {
      sqs.onAnyCommand().resolves({});
      sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [deadLetterMessage(1)] })
        .resolves({});
      sqs.on(SendMessageBatchCommand).rejects(e);
    },
  },
  { name: 'pause', argv: ['pause', 'events'], arrange: (e) => lambda.onAnyCommand().rejects(e) },
  { name: 'resume', argv: ['resume', 'events'], arrange: (e) => lambda.onAnyCommand().rejects(e) },
  {
    name: 'replay (its archive read)',
    argv: REPLAY,
    // --rate paces its sends, not its reads.
    permissions: ['s3:ListBucket', 's3:GetObject'],
    arrange: (e) => s3.onAnyCommand().rejects(e),
  },
  {
    name: 'replay (its check of a stored body)',
    argv: REPLAY,
    permissions: ['s3:GetObject', 's3:ListBucket'],
    arrange: (e) => {
      archiveHoldsOne({ storedBody: true });
      s3.on(HeadObjectCommand).rejects(e);
    },
    answer: (line, refusal) =>
      refusal.credentials
        ? line
        : `cannot check the stored body s3://payloads/payloads/github/push-1 of an archived event (${line}): nothing was replayed`,
  },
  {
    name: 'replay (its send)',
    argv: REPLAY,
    paced: true,
    arrange: (e) => {
      archiveHoldsOne();
      sqs.on(SendMessageBatchCommand).rejects(e);
    },
  },
  { name: 'trace', argv: ['trace', 'evt-1'], arrange: (e) => logs.on(StartQueryCommand).rejects(e) },
  {
    name: 'tail',
    argv: ['tail'],
    permissions: ['logs:FilterLogEvents'],
    arrange: (e) => logs.on(FilterLogEventsCommand).rejects(e),
  },
  { name: 'jobs list', argv: ['jobs', 'list'], arrange: (e) => dynamodb.onAnyCommand().rejects(e) },
  { name: 'jobs show', argv: ['jobs', 'show', 'job-1'], arrange: (e) => dynamodb.onAnyCommand().rejects(e) },
  {
    name: 'send (its read of the signing secret)',
    argv: ['send', 'github'],
    arrange: (e) => lambda.onAnyCommand().rejects(e),
    permissions: ['lambda:GetFunctionConfiguration', 'secretsmanager:GetSecretValue'],
    answer: (line, refusal) =>
      refusal.credentials
        ? line
        : `cannot read the signing secret of github: ${line}; or pass --secret or set HOOKLINE_SECRET_GITHUB`,
  },
  {
    name: 'secrets set --add (its read of the stored secrets)',
    argv: ['secrets', 'set', 'github', '--add'],
    arrange: (e) => secretsManager.on(GetSecretValueCommand).rejects(e),
    permissions: ['secretsmanager:GetSecretValue'],
    answer: (line, refusal) =>
      refusal.credentials
        ? line
        : `cannot read the signing secrets stored for github in ${GITHUB_SECRET}, which --add keeps: ${line}`,
  },
  {
    name: 'secrets set (its write)',
    argv: ['secrets', 'set', 'github'],
    arrange: (e) => secretsManager.on(PutSecretValueCommand).rejects(e),
    permissions: ['secretsmanager:PutSecretValue'],
    answer: (line, refusal) =>
      refusal.credentials ? line : `cannot store the signing secret of github in ${GITHUB_SECRET}: ${line}`,
  },
];

/** Runs `argv` against {@link target}: its exit code, its output and its error lines on stderr. */
async function run(argv: readonly string[]) {
  const h = cliHarness({
    readSecret: async () => 'whsec-new-value',
    connect: async (_options, output) => ({
      target,
      backend: testBackend({
        output,
        clock: fakeClock(Date.parse('2026-11-25T03:00:00Z')),
        s3: new S3Client({ region: 'us-east-1' }),
        logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
      }),
    }),
  });
  const code = await runCli(argv, h.deps);
  const errorLines = h
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('error: '));
  return { code, line: errorLines.join('\n'), stderr: h.stderr(), stdout: h.stdout() };
}

describe.each(COMMANDS)('$name', (command) => {
  const meets = (r: Refusal) => r.only === undefined || r.only.includes(command.name);
  for (const refusal of REFUSALS.filter(meets)) {
    if (refusal.denial && command.inPlace) {
      it(`shows what ${refusal.kind} denies as unknown in place, exit 1`, async () => {
        command.arrange(await refusal.error());

        const { code, line, stderr, stdout } = await run(command.argv);

        expect(stderr).not.toMatch(/unexpected error/);
        expect(line).toBe('');
        expect(stdout).toContain(`${command.inPlace?.(refusal)}\n`);
        expect(code).toBe(1);
      });
      continue;
    }
    it(`answers ${refusal.kind} with one line that says what to do, exit 1`, async () => {
      command.arrange(await refusal.error());

      const { code, line, stderr } = await run(command.argv);

      expect(stderr).not.toMatch(/unexpected error/);
      const said = refusal.line(command);
      expect(line).toBe(`error: ${command.answer?.(said, refusal) ?? said}`);
      expect(code).toBe(1);
    });
  }
});
