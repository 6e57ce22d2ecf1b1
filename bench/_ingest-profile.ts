/**
 * Profiling helper for the ingest path (not a benchmark): starts the emulator child, then calls one handler
 * variant `PROFILE_REQUESTS` times at concurrency 1. Run under `node --cpu-prof --import tsx` to see where the
 * handler process spends its CPU, e.g.
 * `npx node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/_ingest-profile.ts`.
 * `PROFILE_VARIANT`: `ingest-off` (default), `ingest-on`, `send` (the baseline) or `send-attrs` (SendMessage of
 * an envelope-sized body with the three message attributes: what the SDK alone costs for ingest's message).
 * Prints the CPU µs per request. The leading underscore keeps `npm run bench` from running it.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { clientOptions, INGEST_BUDGET } from '../lambda/shared/aws-clients';
import { INGEST_CONFIG_ENV } from '../lambda/shared/runtime-config';
import { signWebhook } from '../lambda/shared/webhook-signing';
import { defineConfig, resolveConfig } from '../lib/config';
import type { Emulators } from '../lib/local/emulators';
import { secretEnvName } from '../lib/local/secrets';
import { createTopology } from '../lib/local/topology';
import { ingestRuntimeConfig } from '../lib/runtime-wiring';

const ROOT = path.resolve(import.meta.dirname, '..');
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 5000);
const VARIANT = process.env.PROFILE_VARIANT ?? 'ingest-off';

const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(import.meta.dirname, '_ingest-emulators.ts')],
  {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const first = await new Promise<string>((resolve) =>
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve),
);
const emulators = JSON.parse(first) as Pick<Emulators, 'region' | 'endpoints'>;
const config = resolveConfig(
  defineConfig({ stackName: 'Bench', sources: { github: { type: 'github' } }, queues: { events: {} } }),
);
const topology = await createTopology(config, emulators);
const runtime = ingestRuntimeConfig(config, topology.resources);
const { dedupe: _dedupe, ...withoutDedupe } = runtime;
Object.assign(process.env, {
  AWS_REGION: emulators.region,
  AWS_ACCESS_KEY_ID: 'hookline-local',
  AWS_SECRET_ACCESS_KEY: 'hookline-local',
  AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
  AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
  AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
  [secretEnvName('github')]: 'bench-secret',
  [INGEST_CONFIG_ENV]: JSON.stringify(VARIANT === 'ingest-on' ? runtime : withoutDedupe),
});
type Handler = (event: APIGatewayProxyEventV2) => Promise<unknown>;
let handler: Handler;
if (VARIANT === 'send') {
  const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
  const url = topology.queues.events?.url ?? '';
  handler = async (event) =>
    sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: event.body ?? '' }));
} else if (VARIANT === 'send-attrs') {
  const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
  const url = topology.queues.events?.url ?? '';
  handler = async (event) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify({
          v: 1,
          id: event.headers['x-github-delivery'],
          source: 'github',
          type: 'issues.opened',
          receivedAt: new Date().toISOString(),
          headers: { 'content-type': 'application/json', 'x-github-event': 'issues' },
          contentType: 'application/json',
          body: event.body,
          bodyEncoding: 'utf8',
        }),
        MessageAttributes: {
          'hookline.source': { DataType: 'String', StringValue: 'github' },
          'hookline.type': { DataType: 'String', StringValue: 'issues.opened' },
          'hookline.id': { DataType: 'String', StringValue: event.headers['x-github-delivery'] ?? '' },
        },
      }),
    );
} else {
  handler = (await import('../lambda/ingest/handler')).handler as Handler;
}
const body = JSON.stringify({
  action: 'opened',
  issue: { body: 'x'.repeat(3990) },
  repository: { full_name: 'o/r' },
});
const signature =
  signWebhook({ type: 'github', secretId: 'x' }, 'bench-secret', body, { id: 'x' })['x-hub-signature-256'] ??
  '';
const write = process.stdout.write;
process.stdout.write = (() => true) as typeof process.stdout.write;
const cpu = process.cpuUsage();
for (let i = 0; i < REQUESTS; i++) {
  await handler({
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: '/webhooks/github',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': `p-${process.pid}-${i}`,
      'x-hub-signature-256': signature,
    },
    requestContext: { domainName: '127.0.0.1', http: { method: 'POST', path: '/webhooks/github' } },
    pathParameters: { source: 'github' },
    isBase64Encoded: false,
    body,
  } as unknown as APIGatewayProxyEventV2);
}
const used = process.cpuUsage(cpu);
process.stdout.write = write;
console.log(`${VARIANT}: ${((used.user + used.system) / REQUESTS).toFixed(0)} CPU µs/request`);
child.stdin?.end();
