/**
 * The payload fidelity corpus (test/helpers/payload-corpus.ts) through local mode over real HTTP: each body is
 * posted as raw bytes to the emulated HTTP API and must reach, byte for byte (compared by SHA-256), the consumer's
 * `bodyBytes(event)` (a body past `payloads.inlineLimitBytes` through the claim check on the S3 emulator), the
 * forwarder's destination (a real HTTP server on 127.0.0.1), the real `hookline failed show --json` of the
 * consumer's dead letter, and the consumer again after the real `hookline replay` re-sent it from the archive; a
 * file sent with the real `hookline send --file` arrives as the file's bytes; a refused body gets its 4xx.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { readConfig } from '../../lib/load-config';
import { localSecrets } from '../../lib/local/secrets';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { runHooklineInProcess } from '../helpers/local/cli';
import { startTestPipeline, type TestPipeline } from '../helpers/local/pipeline';
import { PAYLOAD_CORPUS, type PayloadCase } from '../helpers/payload-corpus';

const BYTES_CONSUMER = fileURLToPath(new URL('../helpers/local/bytes-consumer.ts', import.meta.url));
const INLINE_LIMIT_BYTES = 4096;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The corpus, and a body past the inline limit whose last character is two bytes (claim-checked to S3). */
const CASES: readonly PayloadCase[] = [
  ...PAYLOAD_CORPUS,
  {
    name: 'a body past the inline limit (claim-checked)',
    bytes: Buffer.from(`${'x'.repeat(INLINE_LIMIT_BYTES)}é`),
    contentType: 'text/plain',
    expected: 'kept',
  },
];

/**
 * The pipeline's configuration as a module in the project (its imports resolve there), read by the test and by the
 * CLI (`HOOKLINE_CONFIG`) alike: an HMAC source reading id and type from headers, so any bytes are an
 * event, sent to a queue the bytes consumer reads and to one that forwards to `destination`.
 */
function writeConfigModule(destination: string): string {
  const dir = join(process.cwd(), '.hookline', 'build', `fidelity-config-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'hookline.config.ts');
  const timings = `timeout: Duration.seconds(5), retry: { base: Duration.seconds(1), factor: 1, max: Duration.seconds(1) }`;
  writeFileSync(
    file,
    `import { Duration } from 'aws-cdk-lib';
export default {
  stackName: 'LocalFidelity${process.pid}',
  sources: {
    raw: { type: 'hmac', header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=', idHeader: 'x-event-id', typeHeader: 'x-event-type' },
  },
  queues: {
    bytes: { maxReceiveCount: 3, consumer: { entry: ${JSON.stringify(BYTES_CONSUMER)}, ${timings} } },
    forwarded: {
      maxReceiveCount: 3,
      consumer: {
        forward: { url: 'https://app.example.com/hooks', localUrl: ${JSON.stringify(destination)}, timeout: Duration.seconds(2) },
        ${timings},
      },
    },
  },
  defaultRoute: { queues: ['bytes', 'forwarded'] },
  payloads: { inlineLimitBytes: ${INLINE_LIMIT_BYTES} },
};
`,
  );
  return file;
}

interface Delivered {
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

describe('local mode: every body reaches each reader byte for byte, or is refused with a 4xx', () => {
  let server: Server;
  const forwarded = new Map<string, Delivered>();
  let pipeline: TestPipeline;
  let stateDir: string;
  /** Every hash the consumer recorded, by event id (an event consumed again, replayed, has more than one). */
  const consumed = () => {
    const file = `${pipeline.recordFile}.bytes`;
    const hashes = new Map<string, string[]>();
    if (!existsSync(file)) return hashes;
    for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const { id, sha256 } = JSON.parse(line) as { id: string; sha256: string };
      hashes.set(id, [...(hashes.get(id) ?? []), sha256]);
    }
    return hashes;
  };
  const startedAt = new Date().toISOString();
  let configFile: string;
  /** `hookline <args>` against this local mode and its configuration. */
  const cli = (...args: string[]) => runHooklineInProcess(stateDir, args, { HOOKLINE_CONFIG: configFile });
  const accepted = new Map<string, PayloadCase>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        forwarded.set(String(request.headers['webhook-id']), {
          contentType: request.headers['content-type'],
          body: Buffer.concat(chunks),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const destination = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-fidelity-state-'));
    configFile = writeConfigModule(destination);
    const config = await readConfig(configFile);
    pipeline = await startTestPipeline(config, { stateDir, configFile });
  }, 90_000);

  afterAll(async () => {
    await pipeline?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(dirname(configFile), { recursive: true, force: true });
  }, 60_000);

  /** Posts `bytes` as they are, signed as the `raw` source's sender signs them. */
  async function post(id: string, c: PayloadCase): Promise<number> {
    const source = pipeline.config.sources.find((s) => s.name === 'raw');
    if (!source) throw new Error('no source raw');
    const secret = localSecrets(pipeline.config.sources, {}).raw;
    const signature = signWebhook(
      sourceRuntimeConfig(source, `env:${secret?.envName}`),
      secret?.value ?? '',
      c.bytes,
      { id },
    );
    const response = await fetch(pipeline.local.webhookUrls.raw ?? '', {
      method: 'POST',
      headers: {
        ...(c.contentType ? { 'content-type': c.contentType } : {}),
        'x-event-id': id,
        'x-event-type': 'fidelity',
        ...signature,
      },
      body: new Uint8Array(c.bytes),
    });
    await response.arrayBuffer();
    return response.status;
  }

  it('the consumer and the forwarding destination get the bytes sent', async () => {
    for (const [i, c] of CASES.entries()) {
      const id = `case-${i}`;
      const status = await post(id, c);
      expect({ case: c.name, status }).toEqual({
        case: c.name,
        status: c.expected === 'kept' ? 202 : c.expected,
      });
      if (c.expected === 'kept') accepted.set(id, c);
    }
    await pipeline.waitFor(
      () => [...accepted.keys()].every((id) => consumed().has(id) && forwarded.has(id)),
      60_000,
      'every accepted body consumed and forwarded',
    );
    const hashes = consumed();
    for (const [id, c] of accepted) {
      const expected = sha256(c.bytes);
      expect({ case: c.name, consumer: hashes.get(id) }).toEqual({ case: c.name, consumer: [expected] });
      const delivery = forwarded.get(id);
      expect({
        case: c.name,
        forwarded: delivery && sha256(delivery.body),
        contentType: delivery?.contentType,
      }).toEqual({
        case: c.name,
        forwarded: expected,
        contentType: c.contentType,
      });
    }
  }, 120_000);

  it('failed show --json gives a dead letter its bytes as sent, as text or said to be base64', async () => {
    // A few bodies only: each show is a CLI process reading the whole DLQ.
    const shownCases =
      /^(invalid UTF-8 labelled application\/octet-stream|an integer beyond|a UTF-8 byte order|a lone surrogate|a form body)/;
    const cases = CASES.filter((c) => shownCases.test(c.name));
    expect(cases).toHaveLength(5);
    for (const [i, c] of cases.entries()) expect(await post(`dlq-${i}`, c)).toBe(202);
    await pipeline.waitFor(
      () => cases.every((_, i) => consumed().has(`dlq-${i}`)),
      60_000,
      'every dead letter',
    );
    await pipeline.settled('bytes', 30_000);
    for (const [i, c] of cases.entries()) {
      const shown = await cli(...['failed', 'show', 'bytes', `dlq-${i}`, '--local', '--json']);
      expect(shown.code, shown.stderr).toBe(0);
      const { body, bodyEncoding } = JSON.parse(shown.stdout) as {
        body: string;
        bodyEncoding: 'utf8' | 'base64';
      };
      expect({ case: c.name, shown: sha256(Buffer.from(body, bodyEncoding)) }).toEqual({
        case: c.name,
        shown: sha256(c.bytes),
      });
    }
  }, 240_000);

  it('hookline replay re-sends each archived body, and hookline send --file sends a file, byte for byte', async () => {
    await pipeline.local.archive?.flush();
    const replayed = await cli(...['replay', '--source', 'raw', '--since', startedAt, '--local', '--json']);
    expect(replayed.code, replayed.stderr).toBe(0);
    await pipeline.waitFor(
      () => [...accepted.keys()].every((id) => (consumed().get(id)?.length ?? 0) >= 2),
      60_000,
      'every accepted body consumed again from the archive',
    );
    for (const [id, c] of accepted) {
      const hashes = consumed().get(id) ?? [];
      expect({ case: c.name, replayed: hashes[1] }).toEqual({ case: c.name, replayed: sha256(c.bytes) });
    }

    const dir = mkdtempSync(join(tmpdir(), 'hookline-fidelity-file-'));
    try {
      const binary = CASES.find((c) => c.name.startsWith('invalid UTF-8 labelled application/octet-stream'));
      if (!binary) throw new Error('no binary case in the corpus');
      writeFileSync(join(dir, 'body.bin'), binary.bytes);
      const args = [
        'send',
        'raw',
        '--file',
        join(dir, 'body.bin'),
        '--content-type',
        'application/octet-stream',
      ];
      const sent = await cli(...[...args, '--local', '--json']);
      expect(sent.code, sent.stderr).toBe(0);
      const { id } = JSON.parse(sent.stdout) as { id: string };
      await pipeline.waitFor(() => consumed().has(id), 30_000, 'the sent file consumed');
      expect(consumed().get(id)).toEqual([sha256(binary.bytes)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
