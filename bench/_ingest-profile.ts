/**
 * Profiling helper for the ingest path (not a benchmark): starts the emulator child, then calls one handler
 * variant `PROFILE_REQUESTS` times at concurrency 1. Run under `node --cpu-prof --import tsx` to see where the
 * handler process spends its CPU, e.g.
 * `npx node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/_ingest-profile.ts`.
 * `PROFILE_VARIANT`: `ingest-off` (default), `ingest-on`, `send` (the baseline) or `send-attrs` (SendMessage of
 * an envelope-sized body with the three message attributes: what the SDK alone costs for ingest's message).
 * Prints the CPU µs per request. The leading underscore keeps `npm run bench` from running it.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { clientOptions, INGEST_BUDGET } from '../lambda/shared/aws-clients';
import { INGEST_CONFIG_ENV } from '../lambda/shared/runtime-config';
import {
  createBenchTopology,
  type Handler,
  signedGithubEvents,
  startEmulatorChild,
  useEmulatorEnvironment,
} from './_ingest-setup';
import { quietly } from './_shared';

const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 5000);
const VARIANT = process.env.PROFILE_VARIANT ?? 'ingest-off';

/** SendMessage of an envelope-sized body with ingest's three message attributes. */
function sendWithAttributes(sqs: SQSClient, url: string, event: APIGatewayProxyEventV2) {
  return sqs.send(
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
}

const emulators = await startEmulatorChild();
const topology = await createBenchTopology(emulators);
useEmulatorEnvironment(emulators);
process.env[INGEST_CONFIG_ENV] = JSON.stringify(
  VARIANT === 'ingest-on' ? topology.runtimeWithDedupe : topology.runtimeWithoutDedupe,
);
let handler: Handler;
if (VARIANT === 'send' || VARIANT === 'send-attrs') {
  const sqs = new SQSClient(clientOptions('SQS', INGEST_BUDGET));
  handler = async (event) =>
    VARIANT === 'send'
      ? sqs.send(new SendMessageCommand({ QueueUrl: topology.queueUrl, MessageBody: event.body ?? '' }))
      : sendWithAttributes(sqs, topology.queueUrl, event);
} else {
  handler = (await import('../lambda/ingest/handler')).handler as Handler;
}
const makeEvent = signedGithubEvents();
const used = await quietly(async () => {
  const cpu = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) await handler(makeEvent());
  return process.cpuUsage(cpu);
});
console.log(`${VARIANT}: ${((used.user + used.system) / REQUESTS).toFixed(0)} CPU µs/request`);
await emulators.stop();
