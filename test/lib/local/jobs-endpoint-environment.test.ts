/**
 * Local mode gives its jobs endpoint the stack's queue variable, pointed at the emulator: the producer derives the
 * very URLs and ARNs the emulator gave its queues, and local mode stops rather than send to another address.
 */
import { describe, expect, it } from 'vitest';
import { producerQueuesOf } from '../../../lambda/shared/producer-config';
import {
  localJobsEnvironment,
  localJobsTokenOrigin,
  localJobsTokenProblem,
  localProducerQueues,
} from '../../../lib/local/jobs-endpoint';
import type { LocalQueue, LocalTopology } from '../../../lib/local/topology';
import { exampleResolved } from '../../helpers/cdk';

const config = exampleResolved({ jobs: { endpoint: { queues: ['events', 'orders'] } } });
const endpoint = config.jobsEndpoint as NonNullable<typeof config.jobsEndpoint>;

/** A queue as fauxqs reports it: `http://<host>:<port>/000000000000/<name>` and its ARN. */
function emulated(name: string, physical: string, fifo: boolean): LocalQueue {
  return {
    name,
    url: `http://127.0.0.1:5931/000000000000/${physical}`,
    arn: `arn:aws:sqs:us-east-1:000000000000:${physical}`,
    deadLetterUrl: `http://127.0.0.1:5931/000000000000/${physical}-dlq`,
    deadLetterArn: `arn:aws:sqs:us-east-1:000000000000:${physical}-dlq`,
    fifo,
  };
}

const topologyOf = (queues: LocalQueue[]) =>
  ({ queues: Object.fromEntries(queues.map((q) => [q.name, q])) }) as unknown as LocalTopology;

describe("local mode's jobs endpoint queues", () => {
  it('derive to the URLs and ARNs the emulator gave, with the scheduler role on the standard queue only', () => {
    const events = emulated('events', 'Hookline-events', false);
    const orders = emulated('orders', 'Hookline-orders.fifo', true);
    const queues = producerQueuesOf(localProducerQueues(config, endpoint, topologyOf([events, orders])));
    expect(queues.events).toEqual({
      name: 'events',
      url: events.url,
      arn: events.arn,
      fifo: false,
      // The jobs endpoint sends single jobs, never a flow.
      flows: false,
      schedulerRoleArn: 'arn:aws:iam::000000000000:role/Hookline-job-scheduler',
    });
    expect(queues.orders).toEqual({
      name: 'orders',
      url: orders.url,
      arn: orders.arn,
      fifo: true,
      flows: false,
    });
  });

  it('stop local mode when a queue is not where the functions would look', () => {
    const events = emulated('events', 'Hookline-events', false);
    const elsewhere = {
      ...emulated('orders', 'Hookline-orders.fifo', true),
      arn: 'arn:aws:sqs:eu-west-1:1:x.fifo',
    };
    expect(() => localProducerQueues(config, endpoint, topologyOf([events, elsewhere]))).toThrow(
      /queue http:\/\/127\.0\.0\.1:5931\/000000000000\/Hookline-orders\.fifo .* is not where hookline's functions would look/,
    );
  });
});

describe("local mode's jobs endpoint token", () => {
  const topology = {
    ...topologyOf([
      emulated('events', 'Hookline-events', false),
      emulated('orders', 'Hookline-orders.fifo', true),
    ]),
    resources: { dedupeTableName: 'Hookline-dedupe', payloadBucketName: 'hookline-payloads' },
  } as unknown as LocalTopology;
  const environment = (env: Record<string, string | undefined>) =>
    localJobsEnvironment(config, endpoint, topology, 'http://127.0.0.1:4100', env);

  it('reads the token from HOOKLINE_JOBS_TOKEN as an env: secret, and points the producer at the scheduler stand-in', () => {
    const variables = environment({ HOOKLINE_JOBS_TOKEN: 'from-env' });
    expect(variables.HOOKLINE_JOBS_TOKEN).toBe('from-env');
    expect(JSON.parse(variables.HOOKLINE_JOBS_ENDPOINT ?? '')).toMatchObject({
      tokenSecretId: 'env:HOOKLINE_JOBS_TOKEN',
    });
    expect(variables.AWS_ENDPOINT_URL_SCHEDULER).toBe('http://127.0.0.1:4100');
    expect(JSON.parse(variables.HOOKLINE_PRODUCER ?? '')).toMatchObject({
      scheduler: { namePrefix: expect.any(String) },
    });
    expect(localJobsTokenOrigin({ HOOKLINE_JOBS_TOKEN: 'from-env' })).toBe('from HOOKLINE_JOBS_TOKEN');
  });

  it('falls back to the documented development token only when the variable is unset', () => {
    expect(environment({}).HOOKLINE_JOBS_TOKEN).toBe('dev-jobs-token');
    expect(localJobsTokenOrigin({})).toBe('dev default "dev-jobs-token"');
    expect(localJobsTokenProblem({})).toBeUndefined();
  });

  it.each([
    [
      'empty (an unset variable in HOOKLINE_JOBS_TOKEN=$TOKEN)',
      '',
      'the secret is empty (or only whitespace)',
    ],
    ['blank', '  ', 'the secret is empty (or only whitespace)'],
    ['a rotation list of blanks', '{"secrets":[" "]}', 'the "secrets" list holds no non-blank string'],
    ['a key/value object', '{"token":"t"}', 'the secret is a JSON object without a "secrets" list'],
    ['with a trailing space, which no caller can send', 'token ', 'a token holds whitespace'],
    ['a rotation list with a newline in a token', '{"secrets":["new","old\\n"]}', 'a token holds whitespace'],
  ])('refuses a token set %s, with the fix, instead of answering every job 503', (_case, value, reason) => {
    const env = { HOOKLINE_JOBS_TOKEN: value };
    expect(localJobsTokenOrigin(env)).toBe('from HOOKLINE_JOBS_TOKEN');
    const problem = localJobsTokenProblem(env);
    expect(problem).toContain(
      `unusable jobs endpoint token in the environment: HOOKLINE_JOBS_TOKEN: ${reason}`,
    );
    expect(problem).toContain('or unset it for the development default');
  });

  it('takes a plain token or a rotation list', () => {
    expect(localJobsTokenProblem({ HOOKLINE_JOBS_TOKEN: 'from-env' })).toBeUndefined();
    expect(localJobsTokenProblem({ HOOKLINE_JOBS_TOKEN: '{"secrets":["new","old"]}' })).toBeUndefined();
  });
});
