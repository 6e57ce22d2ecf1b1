/**
 * Profiling helper for the ingest path (not a benchmark): starts the emulator child, then calls one handler
 * variant `PROFILE_REQUESTS` times at concurrency 1. Run under `node --cpu-prof --import tsx` to see where the
 * handler process spends its CPU, e.g.
 * `npx node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/_ingest-profile.ts`.
 * `PROFILE_VARIANT`: `ingest-off` (default), `ingest-on`, `send` (the baseline) or `send-attrs` (SendMessage of
 * an envelope-sized body with the three message attributes: what the SDK alone costs for ingest's message).
 * `PROFILE_SQS=fake` answers every SendMessage in this process (a canned response with the right MD5) instead of
 * sending it: no sockets, no emulator work, so what is left is the handler's and the SDK's JavaScript, with far
 * less noise on a shared machine. `PROFILE_MD5=off` turns the SDK's MD5 check off for `send` / `send-attrs`. Prints the CPU µs per request; summarise a profile with bench/_cpuprofile.ts.
 * The leading underscore keeps `npm run bench` from running it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { clientOptions, INGEST_BUDGET } from '../lambda/shared/aws-clients';
import { INGEST_CONFIG_ENV } from '../lambda/shared/runtime-config';
import {
  createBenchTopology,
  type Handler,
  lambdaContext,
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

/** Answers SendMessage (AWS JSON protocol) without a round trip, as SQS would: message id and body MD5. */
function fakeSqsAnswers(): void {
  // The SDK's Node HTTP handler class, reached through a client (it is not a direct dependency of ours).
  const probe = new SQSClient({ region: 'us-east-1' });
  const prototype = Object.getPrototypeOf(probe.config.requestHandler) as {
    handle(request: { body?: unknown }): Promise<unknown>;
  };
  probe.destroy();
  prototype.handle = async (request) => {
    const body = request.body as Uint8Array | string;
    const input = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    const md5 = createHash('md5')
      .update(String(input.MessageBody ?? ''), 'utf8')
      .digest('hex');
    const answer = Buffer.from(JSON.stringify({ MD5OfMessageBody: md5, MessageId: 'fake' }));
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fake' };
    return { response: { statusCode: 200, headers, body: Readable.from([answer]) } };
  };
}

const emulators = await startEmulatorChild();
const topology = await createBenchTopology(emulators);
useEmulatorEnvironment(emulators);
process.env[INGEST_CONFIG_ENV] = JSON.stringify(
  VARIANT === 'ingest-on' ? topology.runtimeWithDedupe : topology.runtimeWithoutDedupe,
);
// After the topology is created: from here on every SDK request in this process is a SendMessage.
if (process.env.PROFILE_SQS === 'fake') fakeSqsAnswers();
let handler: Handler;
if (VARIANT === 'send' || VARIANT === 'send-attrs') {
  // PROFILE_MD5=off: without the SDK's check of the body MD5 SQS answers, to see what that check costs.
  const md5 = process.env.PROFILE_MD5 === 'off' ? { md5: false as const } : {};
  const sqs = new SQSClient({ ...clientOptions('SQS', INGEST_BUDGET), ...md5 });
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
  for (let i = 0; i < REQUESTS; i++) await handler(makeEvent(), lambdaContext());
  return process.cpuUsage(cpu);
});
console.log(`${VARIANT}: ${((used.user + used.system) / REQUESTS).toFixed(0)} CPU µs/request`);
await emulators.stop();
