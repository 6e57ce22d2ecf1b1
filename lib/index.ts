/**
 * The `hookline` package entry point for CDK apps: the configuration, the pipeline construct (for any stack),
 * the stack around it, and the single constructs it is made of, with every type their props name. Lambda code
 * imports `hookline/consumer`, application code `hookline/producer`.
 */

export type { MappingScaling } from '../lambda/shared/circuit-breaker';
export {
  type BreakerConsumer,
  ConsumerCircuitBreakers,
  type ConsumerCircuitBreakersProps,
} from './circuit-breakers';
export type * from './config';
export { DEFAULTS, defineConfig, HooklineConfigError, resolveConfig } from './config';
export { EventArchive, type EventArchiveProps } from './event-archive';
export { HooklineFunction, type HooklineFunctionProps } from './hookline-function';
export { HooklinePipeline, type HooklinePipelineProps } from './hookline-pipeline';
export type { GrantSendOptions, ProducerEnvironment, ProducerVariables } from './job-producers';
export { ConfigLoadError, loadConfig, readConfig } from './load-config';
export {
  type MonitoredDeadLetterQueue,
  type MonitoredFunction,
  type MonitoredQueue,
  PipelineAlarms,
  type PipelineAlarmsProps,
} from './pipeline-alarms';
export {
  type DashboardQueue,
  PipelineDashboard,
  PipelineDashboardError,
  type PipelineDashboardProps,
} from './pipeline-dashboard';
export { PipelineQueue, type PipelineQueueProps } from './pipeline-queue';
export {
  type PipelineSchedule,
  PipelineSchedules,
  PipelineSchedulesError,
  type PipelineSchedulesProps,
} from './pipeline-schedules';
export {
  type ConsumerCircuitBreaker,
  type ConsumerForward,
  type ConsumerRateLimit,
  type ConsumerRetry,
  QueueConsumer,
  type QueueConsumerProps,
} from './queue-consumer';
export type { IngestSettings } from './runtime-wiring';
export { type Violation, ViolationsError } from './violations';
export { WebhookIngest, type WebhookIngestProps } from './webhook-ingest';
export { WebhookPipelineStack, type WebhookPipelineStackProps } from './webhook-pipeline-stack';
