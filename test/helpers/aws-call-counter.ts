/**
 * A counting proxy in front of a local emulator: every AWS API call the functions make passes through it on its
 * way to fauxqs, dynalite or the local Firehose, and is recorded (service, action, bytes each way), so a test can
 * count the calls hookline really makes without mocking any of its code. Point `AWS_ENDPOINT_URL_<SERVICE>` (or a
 * client's endpoint) at {@link CallCounter.url}.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call as the proxy saw it. */
export interface CountedCall {
  /** `sqs`, `dynamodb`, `firehose` (JSON protocols, named by their `x-amz-target`) or `s3` (REST). */
  readonly service: string;
  /** The API action: `SendMessage`, `PutItem`, `PutRecord`; S3's by method (`PutObject`, `GetObject`). */
  readonly action: string;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** The request's JSON body, parsed (JSON protocols only). */
  readonly input: Record<string, unknown> | undefined;
  /** The response's JSON body, parsed (JSON protocols only). */
  readonly output: Record<string, unknown> | undefined;
}

/** A running proxy and what it counted. */
export interface CallCounter {
  readonly url: string;
  readonly calls: CountedCall[];
  /** Forgets the calls counted so far. */
  reset(): void;
  close(): Promise<void>;
}

const SERVICE_OF_TARGET: Record<string, string> = {
  AmazonSQS: 'sqs',
  DynamoDB_20120810: 'dynamodb',
  Firehose_20150804: 'firehose',
};

const S3_ACTION_OF_METHOD: Record<string, string> = {
  PUT: 'PutObject',
  GET: 'GetObject',
  HEAD: 'HeadObject',
  DELETE: 'DeleteObject',
  POST: 'PostObject',
};

function parsed(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a proxy on 127.0.0.1 that forwards every request to `upstream` (`http://127.0.0.1:<port>`). */
export async function countingProxy(upstream: string): Promise<CallCounter> {
  const target = new URL(upstream);
  const calls: CountedCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers['x-amz-target'];
      const [prefix = '', operation = ''] = typeof amzTarget === 'string' ? amzTarget.split('.') : [];
      const service = SERVICE_OF_TARGET[prefix] ?? (amzTarget ? prefix : 's3');
      const action = amzTarget ? operation : (S3_ACTION_OF_METHOD[req.method ?? ''] ?? req.method ?? '');
      const forwarded = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (upstreamRes) => {
          const answer: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => answer.push(chunk));
          upstreamRes.on('end', () => {
            const out = Buffer.concat(answer);
            calls.push({
              service,
              action,
              requestBytes: body.length,
              responseBytes: out.length,
              input: amzTarget ? parsed(body) : undefined,
              output: amzTarget ? parsed(out) : undefined,
            });
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            res.end(out);
          });
        },
      );
      forwarded.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    reset: () => {
      calls.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
