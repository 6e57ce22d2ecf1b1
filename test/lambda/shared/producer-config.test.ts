/**
 * A producer's queues come from one variable: where they are, once, and each queue's and scheduler role's name.
 * The URLs and ARNs derived from it are the ones AWS gives, in every partition, and the emulator's locally.
 */
import { describe, expect, it } from 'vitest';
import { discoverProducer } from '../../../lambda/producer/discover';
import {
  PRODUCER_QUEUES_ENV,
  type ProducerQueuesVariable,
  producerQueueOf,
} from '../../../lambda/shared/producer-config';

const commercial = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
};
const china = {
  partition: 'aws-cn',
  region: 'cn-north-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com.cn',
};

describe('a granted queue’s address', () => {
  it('is the queue URL, queue ARN and role ARN AWS gives, in the commercial partition', () => {
    expect(
      producerQueueOf(commercial, 'jobs', { queue: 'Hookline-QueueJobs-AbC123', role: 'Hookline-Role-X' }),
    ).toEqual({
      name: 'jobs',
      url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueJobs-AbC123',
      arn: 'arn:aws:sqs:eu-west-1:123456789012:Hookline-QueueJobs-AbC123',
      fifo: false,
      schedulerRoleArn: 'arn:aws:iam::123456789012:role/Hookline-Role-X',
    });
  });

  it('uses the China partition and URL suffix there', () => {
    expect(producerQueueOf(china, 'jobs', { queue: 'q', role: 'r' })).toEqual({
      name: 'jobs',
      url: 'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
      arn: 'arn:aws-cn:sqs:cn-north-1:123456789012:q',
      fifo: false,
      schedulerRoleArn: 'arn:aws-cn:iam::123456789012:role/r',
    });
  });

  it('is FIFO exactly when the name ends in .fifo, and has no scheduler role unless granted one', () => {
    const orders = producerQueueOf(commercial, 'orders', { queue: 'Hookline-Orders-1.fifo' });
    expect(orders.fifo).toBe(true);
    expect(orders.schedulerRoleArn).toBeUndefined();
    expect(producerQueueOf(commercial, 'jobs', { queue: 'fifo-reports' }).fifo).toBe(false);
  });

  it('goes to the SQS endpoint the variable names instead, as local mode’s emulator', () => {
    const local = { ...commercial, account: '000000000000', sqsEndpoint: 'http://127.0.0.1:5901' };
    expect(producerQueueOf(local, 'jobs', { queue: 'Hookline-jobs' }).url).toBe(
      'http://127.0.0.1:5901/000000000000/Hookline-jobs',
    );
  });
});

describe('a producer’s queues from its environment', () => {
  const variable: ProducerQueuesVariable = {
    ...commercial,
    queues: {
      jobs: { queue: 'Hookline-QueueJobs-AbC123', role: 'Hookline-Role-X' },
      orders: { queue: 'o.fifo' },
    },
  };

  it('lists every granted queue by its configured name', () => {
    const resolved = discoverProducer({
      env: { [PRODUCER_QUEUES_ENV]: JSON.stringify(variable) },
      local: false,
    });
    expect(resolved.source).toBe('environment');
    expect(Object.keys(resolved.queues)).toEqual(['jobs', 'orders']);
    expect(resolved.queues.jobs?.url).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/Hookline-QueueJobs-AbC123',
    );
    expect(resolved.queues.orders?.fifo).toBe(true);
  });

  it('says which variable is invalid and to redeploy', () => {
    const { account: _missing, ...partial } = variable;
    expect(() =>
      discoverProducer({ env: { [PRODUCER_QUEUES_ENV]: JSON.stringify(partial) }, local: false }),
    ).toThrow(/HOOKLINE_QUEUES is invalid .*redeploy so the stack writes it again/);
  });
});
