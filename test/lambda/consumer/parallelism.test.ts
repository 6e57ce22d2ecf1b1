import { processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BoundedBatchProcessor } from '../../../lambda/consumer/bounded-processor';
import { envelope, failedIds, harness, lambdaContext, record, sqsEvent } from './fakes';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('bounded parallelism', () => {
  it.each([1, 3, 7, 50])(
    'runs at most %i records at once and reports exactly the failures',
    async (limit) => {
      let active = 0;
      let peak = 0;
      const records = Array.from({ length: 23 }, (_, i) => record(envelope(), { messageId: `m${i}` }));
      const response = await processPartialResponse(
        sqsEvent(records),
        async (rec: SQSRecord) => {
          active++;
          peak = Math.max(peak, active);
          await tick(1 + (Number(rec.messageId.slice(1)) % 3));
          active--;
          if (Number(rec.messageId.slice(1)) % 4 === 0) throw new Error('fail');
        },
        new BoundedBatchProcessor(limit),
        { throwOnFullBatchFailure: false },
      );
      expect(peak).toBe(Math.min(limit, records.length));
      expect(failedIds(response).sort()).toStrictEqual(['m0', 'm12', 'm16', 'm20', 'm4', 'm8']);
    },
  );

  it('reports only the current batch’s failures when a processor is reused after a failing batch', async () => {
    const processor = new BoundedBatchProcessor(2);
    const failOn = (bad: string) => async (rec: SQSRecord) => {
      if (rec.messageId === bad) throw new Error('fail');
    };
    const batch = (prefix: string) =>
      sqsEvent(Array.from({ length: 5 }, (_, i) => record(envelope(), { messageId: `${prefix}${i}` })));
    const options = { throwOnFullBatchFailure: false };
    const first = await processPartialResponse(batch('a'), failOn('a3'), processor, options);
    const second = await processPartialResponse(batch('b'), failOn('none'), processor, options);
    expect(failedIds(first)).toStrictEqual(['a3']);
    expect(failedIds(second)).toStrictEqual([]);
  });

  it('rejects a non-positive bound', () => {
    expect(() => new BoundedBatchProcessor(0)).toThrow(/positive integer/);
  });

  it('bounds handler concurrency within a standard batch to config.parallelism', async () => {
    let active = 0;
    let peak = 0;
    const { core } = harness(
      {
        handlers: {
          '**': async () => {
            active++;
            peak = Math.max(peak, active);
            await tick(2);
            active--;
          },
        },
      },
      { parallelism: 4 },
    );
    const response = await core.processBatch(
      sqsEvent(Array.from({ length: 25 }, () => record(envelope()))),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(peak).toBe(4);
  });
});
