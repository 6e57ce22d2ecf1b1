/**
 * Local stand-in for the archive's Amazon Data Firehose delivery stream: `PutRecord` and `PutRecordBatch` over
 * the Firehose JSON protocol on 127.0.0.1, so the ingest function's own SDK client runs unchanged. Records are
 * buffered per partition (the record's `source`, as the stream's partitioning query reads it, and the UTC hour
 * of arrival) and written to the local S3 as GZIP objects under the same prefix the deployed stream uses
 * (`lambda/shared/archive.ts`), when the buffer interval passes, when a partition's buffer is full, on
 * `flush()` (the control API's `POST /_hookline/archive/flush`, used by `hookline replay --local`) and on stop.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_RECORD_MAX_BYTES, archivePrefix } from '../../lambda/shared/archive';
import { plural } from '../../lambda/shared/plural';
import { gateToLoopbackCallers } from '../loopback-gate';

/** Options of {@link startLocalFirehose}. */
export interface LocalFirehoseOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The delivery stream name the functions address. */
  readonly streamName: string;
  /** How long records wait before they are written. Default 1 s (the deployed stream: minutes). */
  readonly bufferIntervalMs?: number;
  /** A partition's buffer is written once it holds this many bytes. Default 8 MiB. */
  readonly bufferBytes?: number;
  readonly onError?: (error: unknown) => void;
}

/** A running stand-in. */
export interface LocalFirehose {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_FIREHOSE`. */
  readonly endpoint: string;
  /** Records accepted so far. */
  readonly accepted: number;
  /** Takes one record in-process (local mode's scheduler archives through this, as through the API). */
  put(line: Buffer): Promise<void>;
  /** Writes every buffered record now; rejects when some could not be written (they stay buffered). */
  flush(): Promise<void>;
  /** Stops listening and writes what is buffered. */
  stop(): Promise<void>;
}

interface Partition {
  readonly prefix: string;
  lines: Buffer[];
  bytes: number;
}

const TARGET_PREFIX = 'Firehose_20150804.';

/** The partition prefix of one record: its `source` field and the arrival hour. */
function prefixOf(data: Buffer, arrival: Date): string {
  let source = 'unknown';
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { source?: unknown };
    if (typeof parsed.source === 'string' && parsed.source !== '') source = parsed.source;
  } catch {
    // Firehose sends a record its query cannot read to the error prefix; locally it lands under `unknown`.
  }
  return archivePrefix(source, arrival);
}

const gzipAsync = promisify(gzip);

function messageOf(cause: unknown): string {
  return (cause as Error)?.message ?? String(cause);
}

/** A flush that left records buffered: how many, and the last write's error. */
class UnwrittenRecords extends Error {
  constructor(
    readonly unwritten: number,
    readonly lastError: unknown,
  ) {
    super(
      `${plural(unwritten, 'archive record')} could not be written to the local S3 (kept to retry): ${messageOf(lastError)}`,
    );
  }
}

/**
 * The records waiting to be written, per partition, and the one chain that writes them. A partition that cannot be
 * written stays buffered for the next flush (as the deployed stream retries), and that flush rejects saying so: a
 * reader that flushed first must not take what is in S3 for the whole archive.
 */
class PartitionBuffers {
  private readonly buffers = new Map<string, Partition>();
  private writing: Promise<void> = Promise.resolve();
  /** True from a failed write to the next flush that writes everything: the failure is reported once. */
  private failing = false;
  accepted = 0;

  constructor(private readonly options: LocalFirehoseOptions) {}

  get size(): number {
    return this.buffers.size;
  }

  /** Buffers one record; true when its partition is full and should be written now. */
  add(data: Buffer, limit: number): boolean {
    const prefix = prefixOf(data, new Date());
    let partition = this.buffers.get(prefix);
    if (!partition) {
      partition = { prefix, lines: [], bytes: 0 };
      this.buffers.set(prefix, partition);
    }
    partition.lines.push(data);
    partition.bytes += data.length;
    this.accepted++;
    return partition.bytes >= limit;
  }

  /** Takes the buffered partitions and writes them after the writes already under way. */
  flush(): Promise<void> {
    const taken = [...this.buffers.values()];
    this.buffers.clear();
    const written = this.writing.then(() => this.write(taken));
    // The chain goes on after a failed flush; the caller of this one hears of it.
    this.writing = written.catch(() => {});
    return written;
  }

  /** The last flush, at stop: what cannot be written now is lost with this process, and said to be, once. */
  async flushLast(): Promise<void> {
    // Nothing retries after the stop: the flush must not report its records as kept, this reports them as lost.
    this.failing = true;
    await this.flush().catch((error: unknown) => {
      if (!(error instanceof UnwrittenRecords)) return this.options.onError?.(error);
      this.options.onError?.(
        new Error(
          `${plural(error.unwritten, 'archive record')} could not be written to the local S3 and ${error.unwritten === 1 ? 'is' : 'are'} lost with this stop: ${messageOf(error.lastError)}`,
        ),
      );
    });
  }

  private async write(taken: readonly Partition[]): Promise<void> {
    let unwritten = 0;
    let cause: unknown;
    for (const partition of taken) {
      try {
        await this.writePartition(partition);
      } catch (error) {
        this.requeue(partition);
        unwritten += partition.lines.length;
        cause = error;
      }
    }
    if (unwritten === 0) {
      this.failing = false;
      return;
    }
    const error = new UnwrittenRecords(unwritten, cause);
    // Said once when writes start failing, not at every retry of the buffer interval.
    if (!this.failing) this.options.onError?.(error);
    this.failing = true;
    throw error;
  }

  private async writePartition(partition: Partition): Promise<void> {
    // On the thread pool: a partition of a busy second is megabytes, and this process also serves the webhooks.
    const body = await gzipAsync(Buffer.concat(partition.lines));
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const key = `${partition.prefix}${this.options.streamName}-${stamp}-${randomUUID()}.gz`;
    await this.options.s3.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentEncoding: 'gzip' }),
    );
  }

  /** Puts lines back into their partition's buffer, ahead of the ones that arrived since. */
  private requeue(partition: Partition): void {
    const current = this.buffers.get(partition.prefix);
    this.buffers.set(partition.prefix, {
      prefix: partition.prefix,
      lines: [...partition.lines, ...(current?.lines ?? [])],
      bytes: partition.bytes + (current?.bytes ?? 0),
    });
  }
}

/** Starts the stand-in on a free loopback port. */
export async function startLocalFirehose(options: LocalFirehoseOptions): Promise<LocalFirehose> {
  const buffers = new PartitionBuffers(options);
  const interval = options.bufferIntervalMs ?? 1_000;
  const limit = options.bufferBytes ?? 8 * 1024 * 1024;
  /** A flush nobody waits for (buffer interval, full partition): its failure was reported through onError. */
  const flushInBackground = () => {
    buffers.flush().catch(() => {});
  };
  const add = (data: Buffer) => {
    if (buffers.add(data, limit)) flushInBackground();
  };

  const timer = setInterval(() => {
    if (buffers.size > 0) flushInBackground();
  }, interval);
  timer.unref();
  const server = createServer((request, response) => {
    handle(request, response, options.streamName, add).catch((error) => {
      options.onError?.(error);
      if (!response.headersSent) answer(response, 500, { __type: 'ServiceUnavailableException' });
    });
  });
  gateToLoopbackCallers(server, 'the Firehose stand-in');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get accepted() {
      return buffers.accepted;
    },
    async put(line) {
      add(line);
    },
    flush: () => buffers.flush(),
    async stop() {
      clearInterval(timer);
      await closeServer(server);
      await buffers.flushLast();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

/** One Firehose API call: PutRecord or PutRecordBatch to the one stream; anything else is refused. */
async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  streamName: string,
  add: (data: Buffer) => void,
): Promise<void> {
  const target = String(request.headers['x-amz-target'] ?? '');
  const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  const input = await readJson(request);
  if (input.DeliveryStreamName !== streamName) {
    answer(response, 400, {
      __type: 'ResourceNotFoundException',
      message: `Firehose ${String(input.DeliveryStreamName)} under account 000000000000 not found.`,
    });
    return;
  }
  const decode = (record: unknown) =>
    Buffer.from(String((record as { Data?: unknown })?.Data ?? ''), 'base64');
  if (action === 'PutRecord') {
    const data = decode(input.Record);
    if (data.length === 0 || data.length > ARCHIVE_RECORD_MAX_BYTES) {
      answer(response, 400, { __type: 'InvalidArgumentException', message: 'record size out of range' });
      return;
    }
    add(data);
    answer(response, 200, { RecordId: randomUUID(), Encrypted: false });
    return;
  }
  if (action === 'PutRecordBatch' && Array.isArray(input.Records)) {
    const results = input.Records.map((record) => {
      const data = decode(record);
      if (data.length === 0 || data.length > ARCHIVE_RECORD_MAX_BYTES) {
        return { ErrorCode: 'InvalidArgumentException', ErrorMessage: 'record size out of range' };
      }
      add(data);
      return { RecordId: randomUUID() };
    });
    const failed = results.filter((r) => 'ErrorCode' in r).length;
    answer(response, 200, { FailedPutCount: failed, Encrypted: false, RequestResponses: results });
    return;
  }
  answer(response, 400, { __type: 'InvalidAction', message: `unsupported action ${target}` });
}
