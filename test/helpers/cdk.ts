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
  const selected = selectSplit(node, renderIntrinsics);
  if (selected !== undefined) return selected;
  if (node['Fn::GetAtt']) return `resolved-${(node['Fn::GetAtt'] as string[]).join('.')}`;
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}

/** `Fn::Select [i, Fn::Split [separator, value]]` on the rendered value, or undefined for another intrinsic. */
function selectSplit(node: Record<string, unknown>, render: (v: unknown) => string): string | undefined {
  const [index, list] = (node['Fn::Select'] ?? []) as [number, Record<string, unknown> | undefined];
  const split = list?.['Fn::Split'] as [string, unknown] | undefined;
  if (!split) return undefined;
  const part = render(split[1]).split(split[0])[index];
  if (part === undefined) throw new Error(`no part ${index} in ${JSON.stringify(node)}`);
  return part;
}

/** Where a stack is deployed, for {@link resolveAsDeployed}. */
export interface DeployedAt {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly urlSuffix: string;
}

/**
 * Renders CloudFormation's Fn::Join / Ref / GetAtt / Select of a Split as a deploy at `at` would: pseudo
 * parameters, each queue's and role's generated name (`<stack>-<logical id>-RANDOM`, `.fifo` on a FIFO queue) in
 * its URL and ARN, and each secret's ARN, spelled as AWS spells them. Any other resource renders as
 * `resolved-<logical id>`.
 */
export function resolveAsDeployed(
  value: unknown,
  template: ReturnType<Template['toJSON']>,
  stackName: string,
  at: DeployedAt,
): string {
  const render = (v: unknown) => resolveAsDeployed(v, template, stackName, at);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': at.partition,
    'AWS::Region': at.region,
    'AWS::AccountId': at.account,
    'AWS::URLSuffix': at.urlSuffix,
  };
  const resources = template.Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const fifo = (id: string) => resources[id]?.Properties?.FifoQueue === true;
  const nameOf = (id: string) => `${stackName}-${id}-RANDOM${fifo(id) ? '.fifo' : ''}`;
  const typeOf = (id: string) => resources[id]?.Type;
  if (typeof node.Ref === 'string') {
    const id = node.Ref;
    if (pseudo[id]) return pseudo[id];
    if (typeOf(id) === 'AWS::SQS::Queue')
      return `https://sqs.${at.region}.${at.urlSuffix}/${at.account}/${nameOf(id)}`;
    if (typeOf(id) === 'AWS::IAM::Role') return nameOf(id);
    // A secret created without a name is named `<logical id>-<12 random>`, and its ARN adds `-<6 random>`.
    if (typeOf(id) === 'AWS::SecretsManager::Secret')
      return `arn:${at.partition}:secretsmanager:${at.region}:${at.account}:secret:${id}-RANDOMRANDOM-AbCdEf`;
    return `resolved-${id}`;
  }
  if (node['Fn::GetAtt']) {
    const [id = '', attribute] = node['Fn::GetAtt'] as string[];
    if (typeOf(id) === 'AWS::SQS::Queue' && attribute === 'QueueName') return nameOf(id);
    if (typeOf(id) === 'AWS::SQS::Queue' && attribute === 'Arn')
      return `arn:${at.partition}:sqs:${at.region}:${at.account}:${nameOf(id)}`;
    if (typeOf(id) === 'AWS::IAM::Role' && attribute === 'Arn')
      return `arn:${at.partition}:iam::${at.account}:role/${nameOf(id)}`;
    return `resolved-${id}.${attribute}`;
  }
  const selected = selectSplit(node, render);
  if (selected !== undefined) return selected;
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}
