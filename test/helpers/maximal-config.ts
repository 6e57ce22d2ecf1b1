/**
 * The configuration with every feature on that the template tests synthesize: every source type (one with an
 * existing secret), standard, fair and FIFO queues and one without a consumer, provisioned pollers and reserved
 * concurrency, a rate limit, a circuit breaker that probes back (`halfOpenAfter`), schedules, the jobs endpoint,
 * claim checks, the archive (on by default), tracing and an email alarm subscription.
 */
import { Duration } from 'aws-cdk-lib';
import type { HooklineConfig } from '../../lib/config';

/** A consumer on the example handler. */
export const testConsumer = (extra: object = {}) => ({
  entry: 'lambda/consumers/events.ts',
  timeout: Duration.seconds(30),
  ...extra,
});

/** Every feature on; `overrides` replaces whole top-level sections. */
export function maximalConfig(overrides: Partial<HooklineConfig> = {}): HooklineConfig {
  return {
    stackName: 'HooklineMax',
    sources: {
      github: { type: 'github' },
      stripe: { type: 'stripe', secret: { existingSecretName: 'prod/stripe-secret' } },
      slack: { type: 'slack' },
      shopify: { type: 'shopify' },
      standard: { type: 'standard-webhooks' },
      twilio: { type: 'twilio', publicUrl: 'https://hooks.example.com' },
      generic: { type: 'hmac', header: 'x-signature', typePath: 'type', idPath: 'id' },
      internal: { type: 'token', scheme: 'header', header: 'authorization' },
      open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
    },
    queues: {
      events: {
        consumer: testConsumer({
          reservedConcurrency: 20,
          maxConcurrency: 10,
          rateLimit: { limit: 10, interval: Duration.seconds(1) },
          circuitBreaker: { halfOpenAfter: Duration.minutes(10) },
        }),
      },
      fair: {
        tenants: { stripe: { path: 'account' }, shopify: { header: 'x-shopify-shop-domain' } },
        consumer: testConsumer({ minimumPollers: 2, maximumPollers: 10 }),
      },
      orders: {
        fifo: true,
        fifoGrouping: { path: 'id' },
        consumer: testConsumer({ entry: 'lambda/consumers/orders.ts' }),
      },
      jobs: { consumer: testConsumer() },
      external: {},
    },
    routes: [{ source: 'shopify', type: 'orders/*', queues: ['orders'] }],
    defaultRoute: { queues: ['events', 'fair'] },
    schedules: [
      { name: 'heartbeat', expression: 'rate(1 hour)', queue: 'events', type: 'schedule.heartbeat' },
      {
        name: 'nightly',
        expression: 'cron(0 3 * * ? *)',
        timezone: 'Europe/Paris',
        queue: 'jobs',
        type: 'job.nightly',
      },
    ],
    jobs: { endpoint: { queues: ['jobs', 'orders'] } },
    payloads: { inlineLimitBytes: 2048 },
    alarms: { email: 'ops@example.com' },
    tracing: true,
    ...overrides,
  };
}
