/**
 * The `hookline` package entry point for CDK apps: the configuration, the pipeline construct (for any stack),
 * the stack around it, and the single constructs it is made of. Lambda code imports `hookline/consumer`.
 */

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
export { ConfigLoadError, loadConfig, readConfig } from './load-config';
export { PipelineAlarms, type PipelineAlarmsProps } from './pipeline-alarms';
export { PipelineDashboard, type PipelineDashboardProps } from './pipeline-dashboard';
export { PipelineQueue, type PipelineQueueProps } from './pipeline-queue';
export { PipelineSchedules, type PipelineSchedulesProps } from './pipeline-schedules';
export { QueueConsumer, type QueueConsumerProps } from './queue-consumer';
export { WebhookIngest, type WebhookIngestProps } from './webhook-ingest';
export { WebhookPipelineStack, type WebhookPipelineStackProps } from './webhook-pipeline-stack';
