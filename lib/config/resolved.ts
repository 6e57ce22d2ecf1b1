/** The resolved configuration: every default filled, every rule checked. The stack and local mode read only this. */
import type { Duration } from 'aws-cdk-lib';
import type {
  CircuitBreakerConfig,
  ConsumerConfig,
  ParsedSource,
  RateLimitConfig,
  ReadonlyConfig,
  RetryConfig,
  TenantKey,
} from './schema';

/** A webhook source as configured (its sender's fields, checked), with its name. */
export type ResolvedSource = ReadonlyConfig<ParsedSource> & { readonly name: string };

/** A forwarding consumer's destination and signing secret. */
export interface ResolvedForward {
  readonly url: string;
  /** Where local mode posts instead of `url`. */
  readonly localUrl?: string;
  /** One HTTP attempt's limit. */
  readonly timeout: Duration;
  /** An existing Secrets Manager secret; absent: the stack generates one. */
  readonly secret?: { readonly existingSecretName: string };
}

/** A consumer's backoff (`RetryConfig`), every default filled. */
export type ResolvedRetry = Required<RetryConfig>;

/** A consumer's circuit breaker (`CircuitBreakerConfig`), every default filled; without `halfOpenAfter` no probe. */
export type ResolvedCircuitBreaker = Required<Omit<CircuitBreakerConfig, 'halfOpenAfter'>> &
  Pick<CircuitBreakerConfig, 'halfOpenAfter'>;

/** A queue's consumer function, every default filled. */
export interface ResolvedConsumer {
  readonly name: string;
  /** The function's entry: the configured file, or hookline's forwarding consumer (absolute) with `forward`. */
  readonly entry: string;
  /** Set for a forwarding consumer (`consumer.forward`). */
  readonly forward?: ResolvedForward;
  readonly handler: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency?: number;
  readonly minimumPollers?: number;
  readonly maximumPollers?: number;
  readonly reservedConcurrency?: number;
  readonly parallelism: number;
  readonly retry: ResolvedRetry;
  readonly deadlineMargin: Duration;
  readonly idempotency?: { readonly expiry: Duration };
  /** At most `limit` records started per `interval`; absent: no rate limit. */
  readonly rateLimit?: RateLimitConfig;
  /** Pauses the consumer when most of its records fail; absent: no circuit breaker. */
  readonly circuitBreaker?: ResolvedCircuitBreaker;
  /** Which event types get their own metrics: `'each'`, `'none'` (all under `other`) or those listed. */
  readonly metricTypes: NonNullable<ConsumerConfig['metricTypes']>;
  readonly environment: Readonly<Record<string, string>>;
}

/** A queue and its dead-letter queue, every default filled. */
export interface ResolvedQueue {
  readonly name: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  /** FIFO: SQS high throughput mode (throughput quota and deduplication per message group). */
  readonly highThroughput: boolean;
  readonly fifoGrouping: 'source' | 'type' | TenantKey;
  /** Standard queues: the tenant rule per source name (fairness on when present). */
  readonly tenants?: Readonly<Record<string, TenantKey>>;
  readonly maxReceiveCount: number;
  readonly retentionPeriod: Duration;
  readonly deadLetterRetentionPeriod: Duration;
  readonly visibilityTimeout: Duration;
  readonly oldestMessageAgeAlarm: Duration;
  readonly consumer?: ResolvedConsumer;
}

/** A routing rule (or the default route), every default filled. */
export interface ResolvedRoute {
  readonly source: string;
  readonly type: string;
  readonly queues: readonly string[];
  readonly ignore: boolean;
}

/** A scheduled job, every default filled. */
export interface ResolvedSchedule {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly queue: string;
  readonly type: string;
  readonly payload: unknown;
}

/** The ingest function and its API's throttling, every default filled. */
export interface ResolvedIngest {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly keepHeaders: readonly string[];
  readonly secretCache: Duration;
}

/** Where the alarms notify, and the oldest-message age they fire at. */
export interface ResolvedAlarms {
  readonly email?: string;
  readonly existingTopicArn?: string;
  readonly oldestMessageAge: Duration;
}

/** What `resolveConfig` returns: the whole configuration, checked, every default filled. */
export interface ResolvedConfig {
  readonly stackName: string;
  readonly sources: readonly ResolvedSource[];
  readonly queues: readonly ResolvedQueue[];
  readonly routes: readonly ResolvedRoute[];
  readonly defaultRoute: ResolvedRoute;
  readonly ingest: ResolvedIngest;
  readonly dedupe?: { readonly ttl: Duration };
  readonly payloads: { readonly inlineLimitBytes: number; readonly expiry: Duration };
  /** The event archive; absent when disabled. */
  readonly archive?: { readonly retention: Duration };
  readonly alarms: ResolvedAlarms;
  readonly logRetentionDays: number;
  /** What deleting the stack does to the secrets and tables it created. */
  readonly removalPolicy: 'retain' | 'destroy';
  /** Whether the ingest and consumer functions trace actively with X-Ray. */
  readonly tracing: boolean;
  readonly schedules: readonly ResolvedSchedule[];
  /** The HTTP jobs endpoint; absent when not configured. */
  readonly jobsEndpoint?: { readonly queues: readonly string[]; readonly delays: boolean };
}
