import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { DEDUPE_TABLE } from '../../../lambda/shared/contracts';
import { jobRecordKey } from '../../../lambda/shared/job-record';
import { type LocalState, STATE_FILE_NAME } from '../../../lambda/shared/local-state';
import { localDynamoClient } from '../../../lib/local/clients';
import { type Emulators, startEmulators } from '../../../lib/local/emulators';
import { ensureTable } from '../../../lib/local/topology';

/**
 * Starts the emulators before the enclosing tests and stops them after, with a dedupe table created by local
 * mode's own `ensureTable`; `onReady` receives the DynamoDB client (dynalite) the tests use, and the emulators (for a
 * local target on them).
 */
export function useDedupeTable(
  table: string,
  onReady: (client: DynamoDBClient, emulators: Emulators) => void,
): void {
  let emulators: Emulators | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    emulators = await startEmulators();
    client = localDynamoClient(emulators);
    await ensureTable(client, table, DEDUPE_TABLE.partitionKey, DEDUPE_TABLE.ttlAttribute);
    onReady(client, emulators);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await emulators?.stop();
  });
}

/** What a test sets of a job record: its state, and what `jobs list` and `jobs cancel` select jobs by. */
export interface SeededJob {
  readonly state: string;
  readonly type: string;
  readonly tenant?: string;
  /** When a scheduled job is due (an ISO time). */
  readonly dueAt?: string;
  /** The queue the job was sent to (default `jobs`). */
  readonly queue?: string;
}

/** Writes job `id`'s record as a send on its queue (`jobs` unless it says) leaves it (its claim completed, enqueued now), as `job` says. */
export async function putJobRecord(
  client: DynamoDBClient,
  table: string,
  id: string,
  job: SeededJob,
): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) },
        status: { S: 'queued' },
        state: { S: job.state },
        type: { S: job.type },
        queue: { S: job.queue ?? 'jobs' },
        enqueuedAt: { S: new Date().toISOString() },
        ...(job.tenant ? { tenant: { S: job.tenant } } : {}),
        ...(job.dueAt ? { dueAt: { S: job.dueAt } } : {}),
      },
    }),
  );
}

/** Job `id`'s state as its record has it now; undefined when it has none. */
export async function jobStateOf(
  client: DynamoDBClient,
  table: string,
  id: string,
): Promise<string | undefined> {
  const answer = await client.send(
    new GetItemCommand({ TableName: table, Key: { [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) } } }),
  );
  return answer.Item?.state?.S;
}

/**
 * A new state directory whose `local.json` says a local mode runs on `emulators` with its job records in `table`
 * (no queue, no consumer): the CLI and the console given it read and cancel those jobs as `--local`. The caller
 * removes `dir`; `endpoints` are those of a local target on the same emulators.
 */
export function jobsOnlyLocalState(emulators: Emulators, table: string) {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-jobs-local-state-'));
  const endpoints = { sqs: emulators.endpoints.sqs, dynamodb: emulators.endpoints.dynamodb };
  const state: LocalState = {
    pid: process.pid,
    webhookBaseUrl: 'http://127.0.0.1:3000',
    controlUrl: 'http://127.0.0.1:3000/_hookline',
    region: emulators.region,
    endpoints,
    queues: {},
    consumers: {},
    jobs: { dedupe: { tableName: table, ttlSeconds: 259200 } },
  };
  writeFileSync(join(dir, STATE_FILE_NAME), JSON.stringify(state));
  return { dir, endpoints };
}

/** A clock the test moves, in seconds. */
export function testClock(start = Date.parse('2026-11-30T12:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/**
 * A claim as the dedupe store made it before generations were kept: pending, without a generation, its lease
 * already run out, its window `windowSeconds` from `nowMs`.
 */
export async function putLegacyPendingClaim(
  client: DynamoDBClient,
  table: string,
  {
    key,
    nowMs,
    windowSeconds,
    fields = {},
  }: {
    key: string;
    nowMs: number;
    windowSeconds: number;
    fields?: Record<string, AttributeValue>;
  },
): Promise<void> {
  const nowSeconds = Math.floor(nowMs / 1000);
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        [DEDUPE_TABLE.partitionKey]: { S: key },
        status: { S: 'pending' },
        token: { S: 'old-token' },
        leaseUntil: { N: String(nowSeconds - 1) },
        [DEDUPE_TABLE.ttlAttribute]: { N: String(nowSeconds + windowSeconds) },
        ...fields,
      },
    }),
  );
}
