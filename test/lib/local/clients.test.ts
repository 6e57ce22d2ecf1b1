import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_REQUEST_TIMEOUT_FACTOR } from '../../../lambda/shared/aws-clients';
import {
  LOCAL_MODE_BUDGET,
  LOCAL_MODE_REQUEST_MS,
  localDynamoClient,
  localS3Client,
  localSqsClient,
} from '../../../lib/local/clients';
import { oldestMessageAges } from '../../../lib/local/emulators';

/** A stalled emulator: it accepts every connection and never answers. */
let silent: Server;
let endpoint: string;

beforeAll(async () => {
  silent = createServer(() => {});
  await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', () => listening()));
  endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});

afterAll(async () => {
  silent.closeAllConnections();
  await new Promise((closed) => silent.close(closed));
});

/** A budget that gives up on the silent endpoint at once (the local factor still applies). */
const brief = { maxAttempts: 1, connectionTimeoutMs: 200, requestTimeoutMs: 20 };
const stalled = () => ({
  region: 'us-east-1',
  endpoints: { sqs: endpoint, s3: endpoint, dynamodb: endpoint },
});

describe("local mode's own emulator clients", () => {
  it('fail a receive an emulator never answers instead of holding the poller', async () => {
    const sqs = localSqsClient(stalled(), brief);
    await expect(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, WaitTimeSeconds: 0 })),
    ).rejects.toThrow(/timed out|timeout/i);
    sqs.destroy();
  });

  it('fail an S3 or DynamoDB call an emulator never answers', async () => {
    const s3 = localS3Client(stalled(), brief);
    const dynamo = localDynamoClient(stalled(), brief);
    await expect(s3.send(new ListBucketsCommand({}))).rejects.toThrow(/timed out|timeout/i);
    await expect(dynamo.send(new ListTablesCommand({}))).rejects.toThrow(/timed out|timeout/i);
    s3.destroy();
    dynamo.destroy();
  });

  it("fail the oldest-message read an emulator never answers, given local mode's deadline", async () => {
    await expect(
      oldestMessageAges(
        endpoint,
        [{ name: 'q', url: `${endpoint}/000000000000/q` }],
        Date.now(),
        AbortSignal.timeout(50),
      ),
    ).rejects.toThrow();
  });

  it('let a 20 s long poll finish on a busy machine: each request may take twice that', () => {
    expect(LOCAL_MODE_BUDGET.requestTimeoutMs * LOCAL_REQUEST_TIMEOUT_FACTOR).toBe(LOCAL_MODE_REQUEST_MS);
    expect(LOCAL_MODE_REQUEST_MS).toBeGreaterThanOrEqual(2 * 20_000);
  });
});
