/**
 * What the console answers when AWS refuses what a page asked for: the CLI's line for the refusal, with a status a
 * page can tell from its own fault (503, the state of what it talks to, as for any other access denial), never a
 * 500. Its requests go over real HTTP, its clients mocked to throw errors as the AWS SDK v3 builds them.
 */
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { ListMessageMoveTasksCommand, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Caller, REFUSALS, type Refusal } from '../cli/aws-refusals';
import { installFakeQueue } from '../cli/fake-queue';
import { deadLetterMessage, EVENTS, mockCommandClients, stackTarget } from '../cli/helpers';
import { consoleApiFor } from './console-api';

const { sqs, lambda } = mockCommandClients();
const api = consoleApiFor({ ...stackTarget(), ingestFunctionName: 'Hookline-Ingest' });
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A request as a page makes it: a POST always with a JSON body. */
const call = (method: 'GET' | 'POST', path: string) =>
  api.call(method, path, method === 'POST' ? {} : undefined);

interface Request extends Caller {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Makes the request's call fail with `error`. */
  arrange(error: Error): void;
  /** The error it answers for a refusal's `line`, when it says more around it. @default the line itself */
  readonly answer?: (line: string, refusal: Refusal) => string;
  /**
   * The note it shows an access denial with in place, among what it could read, rather than failing with a line.
   * @default it answers 503 with the refusal's line
   */
  readonly inPlace?: (refusal: Refusal) => string;
}

const REQUESTS: readonly Request[] = [
  {
    name: 'overview',
    method: 'GET',
    path: '/api/overview',
    arrange: (e) => {
      sqs.onAnyCommand().rejects(e);
      lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Enabled' });
    },
    inPlace: (refusal) =>
      `events messages: unknown: access denied (${refusal.explicitDeny ? `${refusal.explicitDeny} explicitly denies` : 'needs'} sqs:GetQueueAttributes)`,
  },
  {
    name: 'failures',
    method: 'GET',
    path: '/api/failures/events',
    arrange: (e) => sqs.onAnyCommand().rejects(e),
  },
  {
    name: 'pause',
    method: 'POST',
    path: '/api/queues/events/pause',
    arrange: (e) => lambda.onAnyCommand().rejects(e),
  },
  {
    name: 'resume',
    method: 'POST',
    path: '/api/queues/events/resume',
    arrange: (e) => lambda.onAnyCommand().rejects(e),
  },
  {
    name: 'send',
    method: 'POST',
    path: '/api/sources/github/send',
    arrange: (e) => lambda.onAnyCommand().rejects(e),
    permissions: ['lambda:GetFunctionConfiguration', 'secretsmanager:GetSecretValue'],
    answer: (line, refusal) =>
      refusal.credentials
        ? line
        : `cannot read the signing secret of github: ${line}; or pass --secret or set HOOKLINE_SECRET_GITHUB`,
  },
];

describe.each(REQUESTS)('$method $path', (request) => {
  beforeEach(() => api.operations.jobs.idle(5));

  for (const refusal of REFUSALS.filter((r) => r.only === undefined || r.only.includes(request.name))) {
    const inPlace = request.inPlace;
    if (refusal.denial && inPlace) {
      it(`answers ${refusal.kind} 200 with what it denies unknown in place`, async () => {
        request.arrange(await refusal.error());

        const answer = await call(request.method, request.path);

        expect(answer.status).toBe(200);
        expect((answer.body as { unreadableNotes?: string[] }).unreadableNotes).toContain(inPlace(refusal));
      });
      continue;
    }
    it(`answers ${refusal.kind} 503 with the line the CLI prints`, async () => {
      request.arrange(await refusal.error());

      expect(await call(request.method, request.path)).toEqual({
        status: 503,
        body: { error: request.answer?.(refusal.line(request), refusal) ?? refusal.line(request) },
      });
    });
  }
});

describe('a redrive job', () => {
  for (const refusal of REFUSALS.filter((r) => r.only === undefined || r.only.includes('redrive'))) {
    it(`ends a job refused with ${refusal.kind} with the line the CLI prints`, async () => {
      sqs.onAnyCommand().rejects(await refusal.error());

      const started = await call('POST', '/api/queues/events/redrive');
      expect(started.status).toBe(200);
      await api.operations.jobs.idle(5);

      expect(api.operations.jobs.list()[0]).toMatchObject({
        kind: 'redrive',
        state: 'failed',
        error: refusal.line({ name: 'redrive', paced: true }),
      });
    });
  }
});

describe('a redrive job whose move task SQS failed', () => {
  it("shows SQS's reason in the job's summary with what to grant and how to redrive what is left", async () => {
    installFakeQueue(sqs, EVENTS.deadLetterUrl, [deadLetterMessage(1), deadLetterMessage(2)]);
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({ Results: [{ Status: 'FAILED', FailureReason: 'AccessDenied' }] });

    const started = await call('POST', '/api/queues/events/redrive');
    expect(started.status).toBe(200);
    await api.operations.jobs.idle(5);
    const job = await call('GET', `/api/jobs/${(started.body as { id: string }).id}`);

    expect(job.body).toMatchObject({ state: 'done', result: { task: { failureReason: 'AccessDenied' } } });
    expect(job.body.summary).toContain(
      "  move task: AccessDenied: the AWS identity that started the task may not do all it does: grant it sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on the events dead-letter queue and sqs:SendMessage on the events queue (and, for a queue encrypted with a KMS key, kms:Decrypt on both queues' keys and kms:GenerateDataKey on the events queue's); a queue policy that admits only a VPC must also admit the calls SQS makes for the task (aws:CalledViaLast sqs.amazonaws.com); then run hookline redrive events again for what is left",
    );
  });
});
