#!/usr/bin/env -S npx tsx
/** CDK app: `npx cdk deploy` / `npx cdk synth`. Reads hookline.config.ts (or HOOKLINE_CONFIG). */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../lib/load-config';
import { WebhookPipelineStack } from '../lib/webhook-pipeline-stack';

const config = await loadConfig();
const app = new App();
new WebhookPipelineStack(app, config.stackName, {
  config,
  description: 'hookline: verified webhooks into SQS, consumed in batches with retries, a DLQ and alarms',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
