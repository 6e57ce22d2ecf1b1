/**
 * The variants bench/consumer.ts times, in a module of their own so the benchmark can bundle them as CDK bundles
 * a consumer (esbuild, minified, ES module: bench/_bundle.ts) and time the code as it is deployed, with
 * Powertools bundled the same way. Run through tsx instead, our TypeScript would carry tsx's `keepNames`
 * wrappers and Powertools (plain JavaScript from node_modules) would not.
 * The leading underscore keeps `npm run bench` from running it as a benchmark of its own.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { powertoolsMetricsSink, powertoolsRootLogger } from '../lambda/consumer/aws';
import { type ConsumerCollaborators, createConsumerCore, type RootLogger } from '../lambda/consumer/core';
import type { ConsumerRuntimeConfig } from '../lambda/shared/consumer-config';
import { METRICS_NAMESPACE } from '../lambda/shared/contracts';
import { timerAlarm } from '../lambda/shared/invocation-deadline';

let sink = 0;
/** How many records the handlers saw (printed, so the work cannot be optimised away). */
export const sinkCount = () => sink;
const noopHandler = async (_payload: unknown): Promise<void> => {
  sink++;
};
const parseLikeHookline = (record: SQSRecord): unknown => {
  const env = JSON.parse(record.body) as { body: string };
  return JSON.parse(env.body);
};

const config = (parallelism: number): ConsumerRuntimeConfig => ({
  name: 'events',
  queueUrl: 'http://127.0.0.1/000000000000/events',
  deadLetterQueueUrl: 'http://127.0.0.1/000000000000/events-dlq',
  fifo: false,
  maxReceiveCount: 5,
  parallelism,
  retry: { baseSeconds: 10, factor: 2, maxSeconds: 900 },
  deadlineMarginMs: 3_000,
  // As a consumer is deployed by default (metricTypes 'none'): each record's type looked up, none kept.
  metricTypes: [],
});

const noop = () => {};
const noopLogger: RootLogger = { debug: noop, info: noop, warn: noop, error: noop, child: () => noopLogger };
const fakeCollaborators = (
  logger: RootLogger,
  metrics: ConsumerCollaborators['metrics'],
): ConsumerCollaborators => ({
  sqs: {
    changeVisibility: async () => {},
    changeVisibilities: async () => [],
    sendToDeadLetter: async () => {},
    deleteMessage: async () => {},
  },
  loadPayload: async () => Buffer.alloc(0),
  now: Date.now,
  random: Math.random,
  alarm: timerAlarm,
  logger,
  metrics,
});
const context = { getRemainingTimeInMillis: () => 60_000 };
const definition = {
  handlers: {
    'github.push': async (event: { payload: unknown }) => {
      await noopHandler(event.payload);
    },
  },
};

export type Run = (event: SQSEvent) => Promise<SQSBatchResponse>;

export function variants(batchSize: number): Array<{ name: string; run: Run; quietStdout?: boolean }> {
  const reusedProcessor = new BatchProcessor(EventType.SQS);
  const bounded = createConsumerCore(
    definition,
    config(10),
    fakeCollaborators(noopLogger, { publish: noop, archiveFailed: noop }),
  );
  const unbounded = createConsumerCore(
    definition,
    config(Math.max(batchSize, 10)),
    fakeCollaborators(noopLogger, { publish: noop, archiveFailed: noop }),
  );
  const observed = createConsumerCore(
    definition,
    config(10),
    fakeCollaborators(
      powertoolsRootLogger(new Logger({ serviceName: 'events' })),
      powertoolsMetricsSink(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'events' })),
    ),
  );
  return [
    {
      name: 'bare loop',
      run: async (event) => {
        const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
        for (const record of event.Records) {
          try {
            await noopHandler(parseLikeHookline(record));
          } catch {
            batchItemFailures.push({ itemIdentifier: record.messageId });
          }
        }
        return { batchItemFailures };
      },
    },
    {
      name: 'Powertools (no parsing)',
      run: (event) => processPartialResponse(event, async () => noopHandler(undefined), reusedProcessor),
    },
    {
      name: 'Powertools',
      run: (event) =>
        processPartialResponse(
          event,
          async (record: SQSRecord) => noopHandler(parseLikeHookline(record)),
          reusedProcessor,
        ),
    },
    { name: 'hookline', run: (event) => bounded.processBatch(event, context) },
    { name: 'hookline, unbounded', run: (event) => unbounded.processBatch(event, context) },
    {
      name: 'hookline + Logger/Metrics',
      run: (event) => observed.processBatch(event, context),
      quietStdout: true,
    },
  ];
}
