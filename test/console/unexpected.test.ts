/**
 * What the console answers for an error no route expects, over real HTTP (the SDK clients mocked): never a stack
 * trace or a message of its own code in the body, a status a page can act on, and the error with its stack in the
 * console's output, as the CLI's last resort prints it.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSServiceException } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { mockCommandClients, stackTarget } from '../cli/helpers';
import { consoleApiFor } from './console-api';

const { sqs } = mockCommandClients();
const api = consoleApiFor(stackTarget());

describe('an error no route expects', () => {
  it('answers a fault of its own 500 with a generic line, and logs it with its stack', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqs.on(ReceiveMessageCommand).callsFake(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'Body')");
    });

    const answer = await api.call('GET', '/api/failures/events');

    expect(answer).toEqual({
      status: 500,
      body: {
        error:
          'the console failed with an unexpected error: it is logged, with its stack, in the output of hookline console; please report it',
      },
    });
    expect(api.logged()).toMatch(
      /(^|\n)unexpected error \(please report it\) answering GET \/api\/failures\/events: TypeError: Cannot read properties of undefined \(reading 'Body'\)\n {4}at /,
    );
  });

  it('answers an AWS refusal nothing explains 503, naming what AWS answered, without a retry that would be refused again, and logs it with its stack', async () => {
    sqs.on(GetQueueAttributesCommand).rejects(
      new SQSServiceException({
        name: 'OverLimit',
        message: 'The specified action violates a limit.',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'req-1', attempts: 1 },
      }),
    );

    const answer = await api.call('GET', '/api/failures/events');

    expect(answer).toEqual({
      status: 503,
      body: {
        error:
          'AWS answered HTTP 400 (OverLimit: The specified action violates a limit.), which hookline does not explain: it is logged, with its stack, in the output of hookline console; please report it',
      },
    });
    expect(api.logged()).toContain(
      'unexpected error (please report it) answering GET /api/failures/events: OverLimit: The specified action violates a limit.\n    at ',
    );
  });

  it('ends a job it breaks with the generic line, and logs it with its stack and the job', async () => {
    sqs.on(GetQueueAttributesCommand).callsFake(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'Attributes')");
    });

    const started = await api.call('POST', '/api/queues/events/redrive', {});
    await api.operations.jobs.idle(5);

    expect(api.operations.jobs.get(String(started.body.id))).toMatchObject({
      state: 'failed',
      error:
        'the console failed with an unexpected error: it is logged, with its stack, in the output of hookline console; please report it',
    });
    expect(api.logged()).toContain(
      "unexpected error (please report it) in the job redrive events: all: TypeError: Cannot read properties of undefined (reading 'Attributes')\n    at ",
    );
  });
});
