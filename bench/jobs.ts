/**
 * Job producer throughput against a bare `SendMessageBatch` loop, in the same run on the same emulator (fauxqs,
 * in-process): N messages of the same size through (a) raw SendMessageBatch by ten, 8 batches in flight, (b)
 * `producer.sendBatch` without a dedupe table (validation, envelope, batching and retry bookkeeping), and (c)
 * `producer.sendBatch` with the dedupe table (a claim and a record write per job on dynalite). Medians of
 * interleaved rounds; compare the ratios, not the absolute numbers.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createProducer } from '../lambda/producer';
import { defineJob } from '../lambda/shared/job';
import { resolveConfig } from '../lib/config';
import { localDynamoClient, localSqsClient } from '../lib/local/clients';
import { startEmulators } from '../lib/local/emulators';
import { createTopology } from '../lib/local/topology';
import { median, pool, writeResults } from './_shared';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const job = defineJob('bench.work', z.object({ n: z.number(), text: z.string() }), { queue: 'jobs' });
const payload = (n: number) => ({ n, text: 'x'.repeat(200) });

const emulators = await startEmulators();
const config = resolveConfig({
  stackName: 'BenchJobs',
  sources: { github: { type: 'github' } },
  queues: { jobs: {} },
});
const topology = await createTopology(config, emulators);
const queue = topology.queues.jobs;
if (!queue) throw new Error('no jobs queue');
const sqs = localSqsClient(emulators);
const dynamodb = localDynamoClient(emulators);
const queues = { jobs: { url: queue.url, arn: queue.arn, fifo: false } };
const plain = createProducer({ queues, clients: { sqs } });
const keyed = createProducer({
  queues,
  settings: { dedupe: { tableName: topology.resources.dedupeTableName ?? '', ttlSeconds: 3600 } },
  clients: { sqs, dynamodb },
});

async function bareLoop(): Promise<number> {
  const started = performance.now();
  const batches = Array.from({ length: Math.ceil(JOBS / 10) }, (_, b) =>
    Array.from({ length: Math.min(10, JOBS - b * 10) }, (_, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(payload(b * 10 + i)),
    })),
  );
  await pool(batches.length, 8, (i) =>
    sqs.send(new SendMessageBatchCommand({ QueueUrl: queue?.url, Entries: batches[i] })),
  );
  return JOBS / ((performance.now() - started) / 1000);
}

async function producerRun(producer: typeof plain): Promise<number> {
  const started = performance.now();
  await producer.sendBatch(Array.from({ length: JOBS }, (_, n) => ({ job, payload: payload(n) })));
  return JOBS / ((performance.now() - started) / 1000);
}

const rates = { bare: [] as number[], producer: [] as number[], producerWithKeys: [] as number[] };
await bareLoop(); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  rates.bare.push(await bareLoop());
  rates.producer.push(await producerRun(plain));
  rates.producerWithKeys.push(await producerRun(keyed));
}
const results = {
  jobs: JOBS,
  rounds: ROUNDS,
  bareSendMessageBatchPerSecond: Math.round(median(rates.bare)),
  producerPerSecond: Math.round(median(rates.producer)),
  producerWithDedupePerSecond: Math.round(median(rates.producerWithKeys)),
  ratioProducerToBare: Number((median(rates.producer) / median(rates.bare)).toFixed(2)),
  ratioProducerWithDedupeToBare: Number((median(rates.producerWithKeys) / median(rates.bare)).toFixed(2)),
};
console.table(results);
console.log(`results: ${writeResults('jobs', results, { biomeLayout: true })}`);
sqs.destroy();
dynamodb.destroy();
await emulators.stop();
