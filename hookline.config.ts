/**
 * The example pipeline: six webhook sources routed to a standard `events` queue, with Shopify orders on a
 * FIFO `orders` queue, and an hourly heartbeat job. `npx cdk deploy` deploys it; `npm start` runs it locally.
 */
import { Duration } from 'aws-cdk-lib';
import { defineConfig } from './lib/config';

export default defineConfig({
  stackName: 'Hookline',
  sources: {
    github: { type: 'github' },
    stripe: { type: 'stripe' },
    slack: { type: 'slack' },
    shopify: { type: 'shopify' },
    standard: { type: 'standard-webhooks' },
    generic: {
      type: 'hmac',
      header: 'x-signature',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
      typePath: 'type',
      idPath: 'id',
    },
  },
  queues: {
    events: {
      consumer: { entry: 'lambda/consumers/events.ts', timeout: Duration.seconds(30), batchSize: 10 },
    },
    orders: {
      fifo: true,
      fifoGrouping: { path: 'id' },
      consumer: { entry: 'lambda/consumers/orders.ts', timeout: Duration.seconds(30), batchSize: 10 },
    },
  },
  routes: [
    { source: 'shopify', type: 'orders/*', queues: ['orders'] },
    { source: 'github', type: 'ping', ignore: true },
  ],
  defaultRoute: { queues: ['events'] },
  schedules: [{ name: 'heartbeat', expression: 'rate(1 hour)', queue: 'events', type: 'schedule.heartbeat' }],
});
