import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import type { Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
import { LOCAL_MODE_BUDGET, localDynamoClient, localSqsClient } from '../../../lib/local/clients';
import {
  dataDirLockPath,
  lockDataDir,
  lockStateDir,
  releaseDataDirLock,
} from '../../../lib/local/data-dir-lock';
import { startEmulatorsInThread } from '../../../lib/local/emulator-thread';
import { assertNodeVersion, oldestMessageAges, startEmulators } from '../../../lib/local/emulators';
import { LocalStartProblem, unusableDirectory } from '../../../lib/local/start-problem';

/** The id of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  if (child.pid === undefined) throw new Error('could not run node');
  return child.pid;
}

/** An address of this machine other than loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

/** A POST with exactly these headers (fetch cannot set Host), answered with its status, headers and body. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One GET through `agent`, its answer read to the end: the socket it used, and whether it was one kept alive. */
function answered(url: string, agent: Agent): Promise<{ socket: Socket; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ socket: req.socket as Socket, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startEmulators', () => {
  it('serves SQS, S3 and DynamoDB on 127.0.0.1 only', async () => {
    const emulators = await startEmulators();
    try {
      for (const url of Object.values(emulators.endpoints))
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emulators.endpoints.s3).toBe(emulators.endpoints.sqs);
      const sqs = localSqsClient(emulators);
      const dynamo = localDynamoClient(emulators);
      await sqs.send(new CreateQueueCommand({ QueueName: 'reachable' }));
      expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      sqs.destroy();
      dynamo.destroy();
      const external = externalAddress();
      if (external) {
        for (const url of [emulators.endpoints.sqs, emulators.endpoints.dynamodb]) {
          const port = new URL(url).port;
          await expect(
            fetch(`http://${external}:${port}/`, { signal: AbortSignal.timeout(2_000) }),
          ).rejects.toThrow();
        }
      }
    } finally {
      await emulators.stop();
    }
  });

  it('answers a web page the developer visits, cross-origin or through DNS rebinding, 403 and nothing else', async () => {
    const emulators = await startEmulators();
    try {
      const dynamo = localDynamoClient(emulators);
      await dynamo.send(new ListTablesCommand({}));
      dynamo.destroy();
      // What a page's fetch sends after dynalite's preflight allowed any origin: a signed-looking ListTables.
      const listTables = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'x-amz-date': '20261201T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=a/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      };
      for (const url of [emulators.endpoints.dynamodb, emulators.endpoints.sqs]) {
        const port = new URL(url).port;
        const page = await rawPost(url, { ...listTables, origin: 'http://evil.example' }, '{}');
        const rebound = await rawPost(url, { ...listTables, host: `evil.example:${port}` }, '{}');
        for (const answer of [page, rebound]) {
          expect({ url, status: answer.status }).toEqual({ url, status: 403 });
          expect(answer.headers['access-control-allow-origin']).toBeUndefined();
          expect(answer.body).not.toContain('TableNames');
        }
      }
    } finally {
      await emulators.stop();
    }
  });

  it('keeps queues, messages and tables across a restart with a data directory it creates on the first start', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    // A first run with HOOKLINE_DATA_DIR naming a folder that does not exist yet.
    const dataDir = join(root, 'not-yet', 'data');
    try {
      const first = await startEmulators({ dataDir });
      const sqs1 = localSqsClient(first);
      const dynamo1 = localDynamoClient(first);
      const url = (await sqs1.send(new CreateQueueCommand({ QueueName: 'durable' }))).QueueUrl ?? '';
      await sqs1.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'kept' }));
      await dynamo1.send(
        new CreateTableCommand({
          TableName: 'durable-table',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      sqs1.destroy();
      dynamo1.destroy();
      // The layout the README documents, which an upgrade must keep reading.
      expect(readdirSync(dataDir).sort()).toEqual(['dynalite', 'fauxqs', 'local-mode.lock']);
      await first.stop();
      // Closed, not left open: SQLite folded its write-ahead log into the database file and removed it.
      expect(readdirSync(join(dataDir, 'fauxqs'))).toEqual(['fauxqs.db']);

      const second = await startEmulators({ dataDir });
      const sqs2 = localSqsClient(second);
      const dynamo2 = localDynamoClient(second);
      const again = (await sqs2.send(new GetQueueUrlCommand({ QueueName: 'durable' }))).QueueUrl ?? '';
      const attributes = await sqs2.send(
        new GetQueueAttributesCommand({ QueueUrl: again, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('1');
      expect((await dynamo2.send(new ListTablesCommand({}))).TableNames).toEqual(['durable-table']);
      sqs2.destroy();
      dynamo2.destroy();
      await second.stop();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a data directory path that is a file, naming it and the fix, without touching the file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    const dataDir = join(root, 'data');
    try {
      writeFileSync(dataDir, 'notes');
      const start = startEmulators({ dataDir });
      await expect(start).rejects.toBeInstanceOf(LocalStartProblem);
      await expect(start).rejects.toThrow(
        `data directory ${dataDir} is a file, not a directory: move the file aside, or set HOOKLINE_DATA_DIR to another directory`,
      );
      expect(readFileSync(dataDir, 'utf8')).toBe('notes');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.each([
    ['a truncated fauxqs database', join('fauxqs', 'fauxqs.db'), 'queues, messages and objects'],
    ['a damaged dynalite store', 'dynalite', 'dedupe and idempotency tables'],
  ])('refuses to start on %s, naming it and the fix, and leaves it as it was', async (_, store, holds) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    try {
      const first = await startEmulators({ dataDir });
      const sqs = localSqsClient(first);
      await sqs.send(new CreateQueueCommand({ QueueName: 'durable' }));
      sqs.destroy();
      await first.stop();
      // As a full disk or a kill -9 mid-write leaves them.
      const database = join(dataDir, 'fauxqs', 'fauxqs.db');
      const current = join(dataDir, 'dynalite', 'CURRENT');
      if (store === 'dynalite') writeFileSync(current, 'MANIFEST-0000\n');
      else writeFileSync(database, readFileSync(database).subarray(0, 3_000));
      const damaged = [readFileSync(database), readFileSync(current)];

      const start = startEmulators({ dataDir });
      await expect(start).rejects.toBeInstanceOf(LocalStartProblem);
      const path = join(dataDir, store);
      await expect(start).rejects.toThrow(`data directory ${dataDir}: ${path} cannot be read (`);
      await expect(start).rejects.toThrow(
        `so local mode cannot start on its ${holds}; it is damaged (a full disk or a kill while it was written): move it aside (mv ${path} ${path}.damaged) to start with it empty`,
      );
      expect([readFileSync(database), readFileSync(current)]).toEqual(damaged);
      // Released: the next start, once the store is repaired, is not told of a crash.
      expect(existsSync(dataDirLockPath(dataDir))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a dynalite store whose list of tables cannot be read, naming that part and the fix', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    try {
      // With no items, its one table file holds the table definitions alone.
      await persistTableFile(dataDir, 'durable-table');
      const store = join(dataDir, 'dynalite');
      const files = readdirSync(store).filter((name) => name.endsWith('.ldb'));
      expect(files).toHaveLength(1);
      // Bytes of that block overwritten: LevelDB still opens the store; only reading the definitions fails.
      const file = join(store, files[0] ?? '');
      const bytes = readFileSync(file);
      bytes.fill(0xff, Math.floor(bytes.length * 0.2), Math.floor(bytes.length * 0.2) + 64);
      writeFileSync(file, bytes);

      const start = startEmulators({ dataDir });
      await expect(start).rejects.toBeInstanceOf(LocalStartProblem);
      await expect(start).rejects.toThrow(
        `data directory ${dataDir}: its list of tables in ${store} cannot be read (`,
      );
      await expect(start).rejects.toThrow(
        `move it aside (mv ${store} ${store}.damaged) to start with it empty`,
      );
      expect(readFileSync(file)).toEqual(bytes);
      expect(existsSync(dataDirLockPath(dataDir))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves nothing on either port once stopped, so no emulator outlives local mode', async () => {
    const emulators = await startEmulators();
    await emulators.stop();
    for (const url of [emulators.endpoints.sqs, emulators.endpoints.dynamodb])
      await expect(fetch(url), url).rejects.toThrow('fetch failed');
  });

  it('refuses a second start on a data directory in use, naming the holder and the fix', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    try {
      const first = await startEmulators({ dataDir });
      const second = startEmulators({ dataDir });
      await expect(second).rejects.toBeInstanceOf(LocalStartProblem);
      await expect(second).rejects.toThrow(
        `data directory ${dataDir} is in use by another local mode (pid ${process.pid}, started `,
      );
      await expect(second).rejects.toThrow(`If no local mode is running, delete ${dataDirLockPath(dataDir)}`);
      // The refused start changed nothing: the first one still serves its queues.
      const sqs = localSqsClient(first);
      await sqs.send(new CreateQueueCommand({ QueueName: 'still-served' }));
      sqs.destroy();
      await first.stop();
      expect(existsSync(dataDirLockPath(dataDir))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['a process that is gone (killed with -9)', () => JSON.stringify({ pid: deadPid(), startedAt: 'then' })],
    ['half written', () => '{"pid": 12'],
  ])('takes over a data directory lock left by %s', async (_, lock) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    try {
      writeFileSync(dataDirLockPath(dataDir), lock());
      const emulators = await startEmulators({ dataDir });
      expect(JSON.parse(readFileSync(dataDirLockPath(dataDir), 'utf8'))).toMatchObject({ pid: process.pid });
      await emulators.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("gives each queue's oldest message age as SQS counts it: waiting or in flight, not delayed, not a standard queue's message received three times", async () => {
    const emulators = await startEmulators();
    const sqs = localSqsClient(emulators);
    try {
      const url = async (QueueName: string) =>
        (await sqs.send(new CreateQueueCommand({ QueueName }))).QueueUrl ?? '';
      const queues = {
        empty: await url('empty'),
        delayed: await url('delayed'),
        waiting: await url('waiting'),
        poison: await url('poison'),
      };
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queues.delayed, MessageBody: 'later', DelaySeconds: 900 }),
      );
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.waiting, MessageBody: 'first' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.poison, MessageBody: 'poison' }));
      // Received three times and not deleted: SQS moves it to the back and its age out of the metric.
      for (let i = 0; i < 3; i++) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queues.poison, VisibilityTimeout: 0 }),
        );
        expect(received.Messages).toHaveLength(1);
      }
      // One in flight (received, not deleted) still counts.
      await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.waiting, VisibilityTimeout: 600 }));
      const now = Date.now() + 60_000;
      const ages = await oldestMessageAges(
        emulators.endpoints.sqs,
        Object.entries(queues).map(([name, queueUrl]) => ({ name, url: queueUrl })),
        now,
      );
      expect([...ages.keys()]).toStrictEqual(['waiting']);
      expect(ages.get('waiting')).toBeGreaterThanOrEqual(60);
    } finally {
      sqs.destroy();
      await emulators.stop();
    }
  });

  it("leaves out of the oldest message age a message past its queue's retention, which no receive has dropped yet", async () => {
    const emulators = await startEmulators();
    const sqs = localSqsClient(emulators);
    try {
      const QueueUrl =
        (
          await sqs.send(
            new CreateQueueCommand({ QueueName: 'expiring', Attributes: { MessageRetentionPeriod: '60' } }),
          )
        ).QueueUrl ?? '';
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'old' }));
      const real = Date.now.bind(Date);
      // The emulator runs in this process: its clock moves past the message's retention.
      vi.spyOn(Date, 'now').mockImplementation(() => real() + 61_000);
      const ages = await oldestMessageAges(emulators.endpoints.sqs, [{ name: 'expiring', url: QueueUrl }]);
      expect([...ages.keys()]).toStrictEqual([]);
    } finally {
      vi.restoreAllMocks();
      sqs.destroy();
      await emulators.stop();
    }
  });

  it("counts a dead letter the redrive policy moved from its move, as SQS's age of the oldest message does, not from its send", async () => {
    const emulators = await startEmulators();
    const sqs = localSqsClient(emulators);
    try {
      const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'moved-dlq' }))).QueueUrl ?? '';
      const arn = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }),
      );
      // hookline's default: the letter arrives received 6 times, none of them in the dead-letter queue.
      const RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arn.Attributes?.QueueArn,
        maxReceiveCount: 5,
      });
      const QueueUrl =
        (await sqs.send(new CreateQueueCommand({ QueueName: 'moved', Attributes: { RedrivePolicy } })))
          .QueueUrl ?? '';
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'failing' }));
      for (let receive = 1; receive <= 5; receive++)
        await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
      const real = Date.now.bind(Date);
      // Ten minutes in its queue (the emulator runs in this process), then its sixth receive moves it.
      vi.spyOn(Date, 'now').mockImplementation(() => real() + 600_000);
      expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toHaveLength(0);
      const ages = await oldestMessageAges(
        emulators.endpoints.sqs,
        [{ name: 'moved-dlq', url: dlq }],
        real() + 600_000 + 5_000,
      );
      expect(ages.get('moved-dlq')).toBeGreaterThanOrEqual(4);
      expect(ages.get('moved-dlq')).toBeLessThan(60);
    } finally {
      vi.restoreAllMocks();
      sqs.destroy();
      await emulators.stop();
    }
  });

  it('still counts a moved dead letter from its move after a restart on the data directory, and forgets it once deleted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-entries-'));
    const real = Date.now.bind(Date);
    const running: Awaited<ReturnType<typeof startEmulators>>[] = [];
    const restart = async () => {
      await running.pop()?.stop();
      const emulators = await startEmulators({ dataDir });
      running.push(emulators);
      return { emulators, sqs: localSqsClient(emulators) };
    };
    try {
      const first = await restart();
      const dlq = (await first.sqs.send(new CreateQueueCommand({ QueueName: 'kept-dlq' }))).QueueUrl ?? '';
      const arn = await first.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }),
      );
      const RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arn.Attributes?.QueueArn,
        maxReceiveCount: 5,
      });
      const QueueUrl =
        (await first.sqs.send(new CreateQueueCommand({ QueueName: 'kept', Attributes: { RedrivePolicy } })))
          .QueueUrl ?? '';
      await first.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'failing' }));
      for (let receive = 1; receive <= 5; receive++)
        await first.sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
      // Ten minutes in its queue, then its sixth receive moves it, received 6 times, none in the dead-letter queue.
      vi.spyOn(Date, 'now').mockImplementation(() => real() + 600_000);
      expect((await first.sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toHaveLength(0);
      first.sqs.destroy();

      const second = await restart();
      const ages = await oldestMessageAges(
        second.emulators.endpoints.sqs,
        [{ name: 'kept-dlq', url: dlq }],
        real() + 600_000 + 5_000,
      );
      // Not left out as received 6 times there, nor counted from its send ten minutes earlier.
      expect(ages.get('kept-dlq')).toBeGreaterThanOrEqual(4);
      expect(ages.get('kept-dlq')).toBeLessThan(60);
      const [letter] = (await second.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq }))).Messages ?? [];
      await second.sqs.send(
        new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: letter?.ReceiptHandle }),
      );
      second.sqs.destroy();
      await running.pop()?.stop();
      // The letter took what was kept of it along.
      const db = new DatabaseSync(join(dataDir, 'fauxqs', 'fauxqs.db'));
      try {
        expect(db.prepare('SELECT count(*) AS n FROM hookline_queue_entries').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
    } finally {
      vi.restoreAllMocks();
      for (const emulators of running) await emulators.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("keeps an idle keep-alive connection open past Node's 5 seconds, so a function frozen between invocations finds it open", async () => {
    const emulators = await startEmulators();
    const agents: Agent[] = [];
    try {
      const idleConnections = [emulators.endpoints.dynamodb, emulators.endpoints.sqs].map(async (url) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        const first = await answered(url, agent);
        let closed = false;
        first.socket.once('close', () => {
          closed = true;
        });
        // Longer than Node's default keepAliveTimeout (5 s), which dynalite kept.
        await new Promise((resolve) => setTimeout(resolve, 6_000));
        const second = await answered(url, agent);
        return { url, closed, reused: second.reused };
      });
      for (const connection of await Promise.all(idleConnections))
        expect(connection).toEqual({ url: connection.url, closed: false, reused: true });
    } finally {
      for (const agent of agents) agent.destroy();
      await emulators.stop();
    }
  });

  it('starts empty without a data directory', async () => {
    const emulators = await startEmulators();
    const sqs = localSqsClient(emulators);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'durable' }))).rejects.toThrow();
    sqs.destroy();
    await emulators.stop();
  });
});

describe('startEmulatorsInThread', () => {
  const buildDir = join(process.cwd(), '.hookline', 'build', `emulator-thread-test-${process.pid}`);

  it('runs the emulators in a worker thread, reachable from the main thread, and stops them', async () => {
    const emulators = await startEmulatorsInThread({ buildDir });
    const sqs = localSqsClient(emulators);
    try {
      expect(emulators.endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'threaded' }))).QueueUrl ?? '';
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    } finally {
      sqs.destroy();
      await emulators.stop();
    }
    await expect(fetch(emulators.endpoints.sqs, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });

  it('says why once its thread ends without being stopped (a damaged table read mid-run), and still stops', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-emulators-'));
    try {
      await persistTableFile(dataDir, 'kept');
      const emulators = await startEmulatorsInThread({ buildDir, dataDir });
      expect(emulators.failure).toBeUndefined();
      // Cut short once the start has read it (a disk failing while local mode runs): dynalite, which opens the store
      // at its first request, opens it but cannot read it.
      const store = join(dataDir, 'dynalite');
      const tables = readdirSync(store).filter((name) => name.endsWith('.ldb'));
      expect(tables.length).toBeGreaterThan(0);
      for (const name of tables)
        writeFileSync(join(store, name), readFileSync(join(store, name)).subarray(0, 100));

      const reader = localDynamoClient(emulators, { ...LOCAL_MODE_BUDGET, maxAttempts: 1 });
      await expect(reader.send(new ListTablesCommand({}))).rejects.toThrow();
      reader.destroy();
      const why = await emulators.failed;
      expect(why).toMatch(/^\w*Error: ./);
      expect(emulators.failure).toBe(why);
      await emulators.stop();
      expect(existsSync(dataDirLockPath(dataDir))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reports a start failure from the thread', async () => {
    const taken = await startEmulators();
    try {
      const port = Number(new URL(taken.endpoints.sqs).port);
      await expect(startEmulatorsInThread({ buildDir, sqsPort: port })).rejects.toThrow(
        `port ${port} for the SQS/S3 emulator (fauxqs) is in use`,
      );
    } finally {
      await taken.stop();
      rmSync(buildDir, { recursive: true, force: true });
    }
  });
});

describe('lockDataDir: one local mode per data directory', () => {
  const withDataDir = (run: (dataDir: string) => void) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hookline-lock-'));
    try {
      run(dataDir);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it.each([
    ['pid 0', '{"pid":0,"startedAt":"then"}'],
    ['a negative pid', '{"pid":-1,"startedAt":"then"}'],
    ['a pid that is not an integer', '{"pid":"12","startedAt":"then"}'],
    ['no pid', '{"startedAt":"then"}'],
  ])('takes over a lock naming %s (signalling it would reach a whole process group)', (_, lock) =>
    withDataDir((dataDir) => {
      writeFileSync(dataDirLockPath(dataDir), lock);
      const release = lockDataDir(dataDir);
      expect(JSON.parse(readFileSync(dataDirLockPath(dataDir), 'utf8'))).toMatchObject({ pid: process.pid });
      release();
      expect(existsSync(dataDirLockPath(dataDir))).toBe(false);
    }),
  );

  it('tells who left a lock whose process is gone (kill -9, a crash) as it takes it over, and only then', () =>
    withDataDir((dataDir) => {
      // A process that has exited: its pid names no one now.
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      writeFileSync(
        dataDirLockPath(dataDir),
        JSON.stringify({ pid: gone, startedAt: '2026-11-30T10:00:00.000Z' }),
      );
      const heard: unknown[] = [];
      const release = lockDataDir(dataDir, (left) => heard.push(left));
      expect(heard).toEqual([{ pid: gone, startedAt: '2026-11-30T10:00:00.000Z' }]);
      expect(JSON.parse(readFileSync(dataDirLockPath(dataDir), 'utf8'))).toMatchObject({ pid: process.pid });
      release();
      // A clean stop left no lock: nothing to tell at the next start.
      lockDataDir(dataDir, (left) => heard.push(left))();
      expect(heard).toHaveLength(1);
    }));

  it('refuses while a live process holds it, says when that one started, and leaves no temporary file', () =>
    withDataDir((dataDir) => {
      // The parent of this test process: alive, and not this process.
      const held = JSON.stringify({ pid: process.ppid, startedAt: '2026-11-30T10:00:00.000Z' });
      writeFileSync(dataDirLockPath(dataDir), held);
      expect(() => lockDataDir(dataDir)).toThrow(
        `data directory ${dataDir} is in use by another local mode (pid ${process.ppid}, started 2026-11-30T10:00:00.000Z): ` +
          'stop that one first, or give this one another HOOKLINE_DATA_DIR. ' +
          `If no local mode is running, delete ${dataDirLockPath(dataDir)}`,
      );
      expect(readFileSync(dataDirLockPath(dataDir), 'utf8')).toBe(held);
      expect(readdirSync(dataDir)).toEqual(['local-mode.lock']);
    }));

  it('leaves only the lock beside the data after taking the directory', () =>
    withDataDir((dataDir) => {
      const release = lockDataDir(dataDir);
      expect(readdirSync(dataDir)).toEqual(['local-mode.lock']);
      release();
      expect(readdirSync(dataDir)).toEqual([]);
      // The emulator thread's stop releases again after the thread removed it: nothing to do, nothing thrown.
      expect(() => releaseDataDirLock(dataDir)).not.toThrow();
    }));

  it('never releases a lock another local mode took over meanwhile', () =>
    withDataDir((dataDir) => {
      lockDataDir(dataDir);
      const theirs = JSON.stringify({ pid: process.ppid, startedAt: 'now' });
      writeFileSync(dataDirLockPath(dataDir), theirs);
      releaseDataDirLock(dataDir);
      expect(readFileSync(dataDirLockPath(dataDir), 'utf8')).toBe(theirs);
    }));
});

describe('a state or data directory local mode cannot write', () => {
  it('stops the start on a state directory path that is a file, naming it and the fix', () => {
    const root = mkdtempSync(join(tmpdir(), 'hookline-state-'));
    const stateDir = join(root, 'state');
    try {
      writeFileSync(stateDir, 'notes');
      const claim = () => lockStateDir(join(stateDir, 'local.json'));
      expect(claim).toThrow(LocalStartProblem);
      expect(claim).toThrow(
        `state directory ${stateDir} is a file, not a directory: move the file aside, or set HOOKLINE_STATE_DIR to another directory`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names the file this user may not write, and how to fix it', () => {
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/data/fauxqs/fauxqs.db' });
    expect(unusableDirectory('data directory', '/data', 'HOOKLINE_DATA_DIR', denied)?.message).toBe(
      'data directory /data (/data/fauxqs/fauxqs.db) is not writable by this user: give this user write access to it (chown or chmod), or set HOOKLINE_DATA_DIR to another directory',
    );
    expect(unusableDirectory('data directory', '/data', 'HOOKLINE_DATA_DIR', new Error('other'))).toBe(
      undefined,
    );
  });
});

describe('assertNodeVersion', () => {
  // node:sqlite came with 22.5 behind --experimental-sqlite, unflagged in 22.13 and 23.4.
  it.each(['20.20.2', '22.11.0', '22.12.0', '23.3.0'])(
    'refuses Node %s without node:sqlite, naming the versions that have it, the flag and the pinned Node with the commands that run it, npx hookline dev for an app without npm start',
    (version) => {
      expect(() => assertNodeVersion(version, false)).toThrow(
        `local mode needs node:sqlite for its SQS emulator, which Node ${version} does not offer: use Node 22.13 or later (23.4 on 23.x), start it with NODE_OPTIONS=--experimental-sqlite on Node 22.5 to 22.12, or add the node@24 devDependency (npm install -D node@24) and start local mode through npm (npm start, or npx hookline dev in an app without that script), which puts it first on PATH`,
      );
    },
  );
  it.each(['22.11.0', '22.13.0', '23.4.0', '24.21.0'])(
    'accepts Node %s where node:sqlite loads',
    (version) => {
      expect(() => assertNodeVersion(version, true)).not.toThrow();
    },
  );
  it('accepts the Node running the tests, which has node:sqlite', () => {
    expect(() => assertNodeVersion()).not.toThrow();
  });
});

/**
 * Persists one table in the data directory's dynalite store and opens the store once more, which moves LevelDB's
 * log into a table file (the file the damage tests overwrite).
 */
async function persistTableFile(dataDir: string, table: string): Promise<void> {
  const first = await startEmulators({ dataDir });
  const dynamo = localDynamoClient(first);
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  dynamo.destroy();
  await first.stop();
  await (await startEmulators({ dataDir })).stop();
}
