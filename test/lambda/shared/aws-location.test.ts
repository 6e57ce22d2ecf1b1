import { describe, expect, it } from 'vitest';
import {
  arnOf,
  locationOfArn,
  queueArnOfUrl,
  queueOfUrl,
  queueUrlOf,
} from '../../../lambda/shared/aws-location';

const china = {
  partition: 'aws-cn',
  region: 'cn-north-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com.cn',
};

describe('a queue ARN derived from its URL', () => {
  it.each([
    ['a stack', china],
    ['the emulator', { ...china, partition: 'aws', sqsEndpoint: 'http://sqs.cn-north-1.localhost:4566' }],
  ])('is the ARN of the queue the URL was made for (%s)', (_where, where) => {
    const url = queueUrlOf(where, 'Hookline-QueueOrders-AbC123.fifo');
    expect(queueArnOfUrl(where, url)).toBe(arnOf(where, 'sqs', 'Hookline-QueueOrders-AbC123.fifo'));
  });

  it('is undefined for a URL that names no account and queue', () => {
    for (const url of [
      'https://sqs.cn-north-1.amazonaws.com.cn/',
      'https://sqs/orders',
      'orders',
      'https://h/1/q/x',
    ])
      expect(queueOfUrl(url), url).toBeUndefined();
  });

  it("takes the partition, region and account of a stack's ARN, and nothing from what is not an ARN", () => {
    expect(locationOfArn('arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/S/0a1b')).toEqual({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      account: '123456789012',
    });
    expect(locationOfArn('Hookline')).toBeUndefined();
  });
});
