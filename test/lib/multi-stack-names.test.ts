/**
 * One configuration deployed more than once in an account and region: as `Dev` and `Prod` stages of one app, as two
 * stacks of one app that a producer in a third stack sends to, and under a stack name of CloudFormation's full
 * 128 characters. Every name the templates give a resource must be unique among them and fit what AWS accepts, and
 * no function of one pipeline may name another's resource.
 */
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { maximalConfig } from '../helpers/maximal-config';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * The property that names each resource type hookline creates, where its name is unique in the account and Region,
 * with the length and characters AWS accepts (each type's CloudFormation reference). `null`: the type has no name
 * of that kind (a policy is named within its role, a stage within its API, an API's name need not be unique).
 */
const NAMES: Record<string, { property: string; max: number; pattern?: RegExp } | null> = {
  'AWS::SQS::Queue': { property: 'QueueName', max: 80, pattern: /^[\w-]+(\.fifo)?$/ },
  'AWS::SQS::QueuePolicy': null,
  'AWS::SecretsManager::Secret': { property: 'Name', max: 512 },
  'AWS::DynamoDB::Table': { property: 'TableName', max: 255, pattern: /^[\w.-]+$/ },
  'AWS::S3::Bucket': { property: 'BucketName', max: 63, pattern: /^[a-z0-9][a-z0-9.-]+$/ },
  'AWS::S3::BucketPolicy': null,
  'AWS::IAM::Role': { property: 'RoleName', max: 64, pattern: /^[\w+=,.@-]+$/ },
  'AWS::IAM::Policy': null,
  'AWS::Logs::LogGroup': { property: 'LogGroupName', max: 512, pattern: /^[\w.\-/#]+$/ },
  'AWS::Logs::LogStream': null,
  'AWS::KinesisFirehose::DeliveryStream': { property: 'DeliveryStreamName', max: 64, pattern: /^[\w.-]+$/ },
  'AWS::Lambda::Function': { property: 'FunctionName', max: 64, pattern: /^[\w-]+$/ },
  'AWS::Lambda::Permission': null,
  'AWS::Lambda::EventSourceMapping': null,
  'AWS::ApiGatewayV2::Api': null,
  'AWS::ApiGatewayV2::Stage': null,
  'AWS::ApiGatewayV2::Integration': null,
  'AWS::ApiGatewayV2::Route': null,
  'AWS::Scheduler::Schedule': { property: 'Name', max: 64, pattern: /^[\w.-]+$/ },
  'AWS::Scheduler::ScheduleGroup': { property: 'Name', max: 64, pattern: /^[\w.-]+$/ },
  'AWS::SNS::Topic': { property: 'TopicName', max: 256, pattern: /^[\w-]+$/ },
  'AWS::SNS::TopicPolicy': null,
  'AWS::SNS::Subscription': null,
  'AWS::CloudWatch::Alarm': { property: 'AlarmName', max: 255 },
  'AWS::CloudWatch::Dashboard': { property: 'DashboardName', max: 255, pattern: /^[\w-]+$/ },
};

/** A name as the template gives it; one made of anything but text would not be fixed, so it is refused here. */
function nameText(value: unknown): string {
  if (typeof value === 'string') return value;
  throw new Error(`a name made of an intrinsic: ${JSON.stringify(value)}`);
}

/** `<type> <name>` of every resource the stack names itself, after checking the name against AWS's rules. */
function namesOf(stack: Stack): string[] {
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  return Object.values(resources).flatMap(({ Type, Properties }) => {
    const rule = NAMES[Type];
    if (rule === undefined) throw new Error(`${Type} is not in NAMES: say which property names it, if any`);
    const value = rule ? Properties?.[rule.property] : undefined;
    if (!rule || value === undefined) return [];
    const name = nameText(value);
    expect(name.length, `${Type} ${name}`).toBeLessThanOrEqual(rule.max);
    if (rule.pattern) expect(name, Type).toMatch(rule.pattern);
    return [`${Type} ${name}`];
  });
}

/** Every text in the functions' environments and the policies' resources of a stack. */
function textsOf(stack: Stack): string[] {
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') texts.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const { Type, Properties } of Object.values(resources)) {
    if (Type === 'AWS::Lambda::Function') walk(Properties?.Environment);
    if (Type === 'AWS::IAM::Policy') walk(Properties?.PolicyDocument);
  }
  return texts;
}

/** A producer of the app's own for each pipeline, granted to send (with delays) to its `events` queue. */
function grantProducer(scope: Stack, pipelines: readonly WebhookPipelineStack[]): void {
  for (const pipeline of pipelines) {
    const producer = new lambda.Function(scope, `Producer${pipeline.node.id}`, {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {}'),
    });
    pipeline.grantSend(producer, 'events', { delays: true });
  }
}

const app = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

describe('one configuration deployed several times in one account and Region', () => {
  it('gives the Dev and Prod stages of one app no name in common, and names no resource of the other stage', () => {
    const root = app();
    const stages = ['Dev', 'Prod'].map((name) => {
      const pipeline = new WebhookPipelineStack(new Stage(root, name), 'Hookline', {
        config: maximalConfig(),
      });
      grantProducer(pipeline, [pipeline]);
      return pipeline;
    });
    const [dev, prod] = stages as [WebhookPipelineStack, WebhookPipelineStack];
    expect([dev.stackName, prod.stackName]).toEqual(['Dev-Hookline', 'Prod-Hookline']);
    const [devNames, prodNames] = [namesOf(dev), namesOf(prod)];
    // The breaker alarm and the probes' schedule group are the names the templates set themselves.
    expect(devNames.length).toBeGreaterThan(0);
    expect(devNames.filter((name) => prodNames.includes(name))).toEqual([]);
    expect(textsOf(dev).filter((text) => text.includes('Prod-Hookline'))).toEqual([]);
    expect(textsOf(prod).filter((text) => text.includes('Dev-Hookline'))).toEqual([]);
  }, 120_000);

  it('fits every name and prefix in what AWS accepts under a stack name of 128 characters', () => {
    const longName = `Hookline-${'x'.repeat(119)}`;
    const stack = new WebhookPipelineStack(app(), 'Long', { config: maximalConfig(), stackName: longName });
    grantProducer(stack, [stack]);
    expect(longName).toHaveLength(128);
    expect(namesOf(stack).length).toBeGreaterThan(0);
    // A one-time job's schedule is named by the producer at run time: its prefix leaves room for the job's hash.
    const prefixes = new Set(
      textsOf(stack).flatMap((text) => /schedule\/default\/([^*]+)\*/.exec(text)?.[1] ?? []),
    );
    expect(prefixes.size).toBe(1);
    expect([...prefixes][0]?.length).toBeLessThanOrEqual(64 - 8);
  }, 120_000);

  it("gives two pipeline stacks that one app's producer sends to distinct names and distinct export names", () => {
    const root = app();
    const pipelines = ['WebhooksA', 'WebhooksB'].map(
      (id) => new WebhookPipelineStack(root, id, { config: maximalConfig() }),
    );
    const signup = new Stack(root, 'Signup');
    grantProducer(signup, pipelines);
    const [a, b] = pipelines.map(namesOf) as [string[], string[]];
    expect(a.filter((name) => b.includes(name))).toEqual([]);
    const exports = pipelines.flatMap((stack) =>
      Object.values(
        Template.fromStack(stack).toJSON().Outputs as Record<string, { Export?: { Name: string } }>,
      ).flatMap((output) => (output.Export ? [output.Export.Name] : [])),
    );
    expect(exports.length).toBeGreaterThan(0);
    expect(new Set(exports).size).toBe(exports.length);
    // Each producer's environment and grants name its own pipeline's resources, through that stack's exports only.
    const resources = Template.fromStack(signup).toJSON().Resources as Resources;
    const producerOf = (id: string) => {
      const [own] = Object.entries(resources).filter(
        ([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && logicalId.startsWith(`Producer${id}`),
      );
      const [role] =
        (own?.[1].Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'] ?? [];
      expect(role).toMatch(new RegExp(`^Producer${id}ServiceRole`));
      const policies = Object.values(resources).filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"${role}"`),
      );
      return JSON.stringify([own?.[1].Properties?.Environment, policies]);
    };
    expect(producerOf('WebhooksA')).toContain('WebhooksA:ExportsOutput');
    expect(producerOf('WebhooksA')).not.toContain('WebhooksB');
    expect(producerOf('WebhooksB')).toContain('WebhooksB:ExportsOutput');
    expect(producerOf('WebhooksB')).not.toContain('WebhooksA');
  }, 120_000);
});
