/** SDK client options: which endpoint a service's client uses, and the retry and timeout budgets. */
import { createServer, type Server, type Socket } from 'node:net';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClientBudget,
  CONSUMER_BUDGET,
  clientOptions,
  INGEST_BUDGET,
  LOCAL_REQUEST_TIMEOUT_FACTOR,
  PRODUCER_BUDGET,
} from '../../../lambda/shared/aws-clients';

const budget: ClientBudget = { maxAttempts: 4, connectionTimeoutMs: 250, requestTimeoutMs: 750 };

describe('clientOptions', () => {
  it("gives a local emulator's calls longer to answer than AWS's, so a loaded machine does not fail them", () => {
    const aws = clientOptions('SQS', budget, {});
    const local = clientOptions('SQS', budget, { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9000' });
    expect(aws.requestHandler.requestTimeout).toBe(750);
    expect(local.requestHandler.requestTimeout).toBe(750 * LOCAL_REQUEST_TIMEOUT_FACTOR);
    expect(LOCAL_REQUEST_TIMEOUT_FACTOR).toBeGreaterThan(1);
    expect(local.requestHandler.throwOnRequestTimeout).toBe(true);
  });

  it("points a service's client at its own AWS_ENDPOINT_URL_<SERVICE> before the shared AWS_ENDPOINT_URL", () => {
    const env = {
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566/sqs',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566/shared',
    };
    expect(clientOptions('SQS', budget, env).endpoint).toBe('http://127.0.0.1:4566/sqs');
    expect(clientOptions('DYNAMODB', budget, env).endpoint).toBe('http://127.0.0.1:4566/shared');
  });

  it('sets no endpoint when neither variable is set, so the SDK addresses AWS itself', () => {
    expect(clientOptions('SQS', budget, {})).not.toHaveProperty('endpoint');
  });

  it('addresses S3 path-style at an emulator endpoint, and leaves other services and real S3 alone', () => {
    expect(clientOptions('S3', budget, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' })).toMatchObject({
      forcePathStyle: true,
    });
    expect(clientOptions('S3', budget, {})).not.toHaveProperty('forcePathStyle');
    expect(clientOptions('SQS', budget, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' })).not.toHaveProperty(
      'forcePathStyle',
    );
  });

  it("bounds the client's attempts and its connection and request timeouts by the budget", () => {
    expect(clientOptions('SQS', budget, {})).toStrictEqual({
      maxAttempts: 4,
      requestHandler: { connectionTimeout: 250, requestTimeout: 750, throwOnRequestTimeout: true },
    });
  });
});

describe('a client built from clientOptions against an endpoint that accepts and never answers', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('fails the call with a TimeoutError at its request timeout instead of waiting on the hung connection', async () => {
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const tight: ClientBudget = { maxAttempts: 1, connectionTimeoutMs: 200, requestTimeoutMs: 200 };
    const sqs = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...clientOptions('SQS', tight, { AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}` }),
    });
    const send = sqs.send(
      new SendMessageCommand({ QueueUrl: `http://127.0.0.1:${port}/000000000000/q`, MessageBody: '{}' }),
    );
    await expect(send).rejects.toMatchObject({ name: 'TimeoutError' });
    sqs.destroy();
  });
});

describe('client budgets', () => {
  /** The longest one SDK call can take when every attempt times out. */
  const worstCaseMs = (b: ClientBudget) => b.maxAttempts * (b.connectionTimeoutMs + b.requestTimeoutMs);

  it("keeps the ingest's slowest SQS call within Slack's 3 seconds", () => {
    expect(worstCaseMs(INGEST_BUDGET)).toBeLessThanOrEqual(3_000);
    expect(INGEST_BUDGET.maxAttempts).toBeGreaterThan(1);
  });

  it('gives consumers and producers more than one attempt and a bounded wait per call', () => {
    for (const b of [CONSUMER_BUDGET, PRODUCER_BUDGET]) {
      expect(b.maxAttempts).toBeGreaterThan(1);
      expect(Number.isFinite(worstCaseMs(b))).toBe(true);
      expect(worstCaseMs(b)).toBeGreaterThan(0);
    }
  });
});
