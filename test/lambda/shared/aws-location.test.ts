import { describe, expect, it } from 'vitest';
import {
  arnOf,
  locationOfArn,
  queueArnOfUrl,
  queueOfUrl,
  queueUrlOf,
  regionOfQueueUrl,
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

describe('the region a queue URL names', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/events', 'eu-west-1'],
    ['https://sqs.us-east-2.api.aws/123456789012/events', 'us-east-2'],
    ['https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/events', 'us-gov-west-1'],
    ['https://sqs-fips.us-east-1.api.aws/123456789012/events', 'us-east-1'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/events', 'cn-north-1'],
    ['https://vpce-0a1b2c3d-4e5f.sqs.ap-south-1.vpce.amazonaws.com/123456789012/events', 'ap-south-1'],
    ['https://eu-central-1.queue.amazonaws.com/123456789012/events', 'eu-central-1'],
    ['https://queue.amazonaws.com/123456789012/events', 'us-east-1'],
  ])('reads %s as %s', (url, region) => {
    expect(regionOfQueueUrl(url)).toBe(region);
  });

  it.each([
    'http://127.0.0.1:4566/000000000000/events',
    'https://sqs/jobs',
    'https://example.com/123456789012/events',
    'not a url',
  ])('names none for %s', (url) => {
    expect(regionOfQueueUrl(url)).toBeUndefined();
  });
});
