import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import exampleConfig from '../../hookline.config';
import { type HooklineConfig, type ResolvedConfig, resolveConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';

/** An app that skips esbuild bundling: construct tests assert templates, not bundles. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** A fresh stack in a non-bundling app. */
export function testStack(): Stack {
  return new Stack(testApp(), 'Test');
}

/** The example configuration, resolved. */
export function exampleResolved(overrides: Partial<HooklineConfig> = {}): ResolvedConfig {
  return resolveConfig({ ...exampleConfig, ...overrides });
}

/** Synthesizes the pipeline stack for a configuration (without bundling) and returns its template. */
export function pipelineTemplate(config: ResolvedConfig = exampleResolved()): {
  stack: WebhookPipelineStack;
  template: Template;
} {
  const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
  return { stack, template: Template.fromStack(stack) };
}

/** Renders CloudFormation's Fn::Join / Ref / GetAtt with stand-in values, as a deploy would resolve them. */
export function renderIntrinsics(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(renderIntrinsics).join(separator);
  }
  if (node.Ref === 'AWS::Partition') return 'aws';
  if (node.Ref) return `resolved-${String(node.Ref)}`;
  if (node['Fn::GetAtt']) return `resolved-${(node['Fn::GetAtt'] as string[]).join('.')}`;
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}
