/**
 * `grantSend` to application code that is not a Lambda function: an ECS task (its role granted, its container given
 * the variables), a plain role or user a script runs as. Each gets exactly the statements a Lambda producer gets,
 * its producer's variables where its process reads them, and the same refusals and cdk-nag acknowledgements.
 */
import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { discoverProducer } from '../../lambda/producer/discover';
import { PRODUCER_CONFIG_ENV, PRODUCER_QUEUES_ENV } from '../../lambda/shared/producer-config';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import type { GrantSendOptions } from '../../lib/job-producers';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { exampleResolved, resolveAsDeployed, testApp } from '../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
type Json = ReturnType<Template['toJSON']>;

function producerFunction(scope: Stack, id = 'Producer') {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
}

/** A Fargate web server: its task definition and the container that runs `createProducer()`. */
function webServer(scope: Stack, id = 'Web') {
  const task = new ecs.FargateTaskDefinition(scope, `${id}Task`);
  const container = task.addContainer(id, {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
  });
  return { task, container };
}

/** Every statement of the policies attached to the role or user `logicalId`, in a stable order. */
function statementsOf(json: Json, logicalId: string): Statement[] {
  return Object.values(json.Resources as Record<string, { Type: string; Properties: Json }>)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((p) =>
      [...(p.Properties.Roles ?? []), ...(p.Properties.Users ?? [])].some(
        (ref: unknown) => JSON.stringify(ref) === JSON.stringify({ Ref: logicalId }),
      ),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const containerEnvironment = (json: Json, taskLogicalId: string, name: string) => {
  const definitions = json.Resources[taskLogicalId].Properties.ContainerDefinitions as {
    Name: string;
    Environment?: { Name: string; Value: unknown }[];
  }[];
  const environment = definitions.find((d) => d.Name === name)?.Environment ?? [];
  return Object.fromEntries(environment.map((v) => [v.Name, v.Value]));
};

describe('grantSend to a grantee that is not a Lambda function', () => {
  it.each<[string, GrantSendOptions]>([
    ['without delays', {}],
    ['with delays', { delays: true }],
    ['with delays, never cancelling', { delays: true, cancels: false }],
  ])(
    'gives an ECS task role, a plain role and a user exactly the statements a Lambda producer gets (%s)',
    { timeout: 90_000 },
    (_, options) => {
      // GIVEN a Lambda producer, a Fargate web server, a role and a user, in the pipeline's stack
      const config = exampleResolved();
      const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
      const fn = producerFunction(stack);
      const { task, container } = webServer(stack);
      const role = new iam.Role(stack, 'WorkerRole', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      });
      const user = new iam.User(stack, 'ScriptUser');
      // WHEN each is granted the same queue
      stack.grantSend(fn, 'events', options);
      stack.grantSend(task.taskRole, 'events', { ...options, environment: container });
      stack.grantSend(role, 'events', options);
      stack.grantSend(user, 'events', options);
      // THEN every one may make exactly the calls the Lambda producer may
      const json = Template.fromStack(stack).toJSON();
      const id = (c: { node: { defaultChild?: unknown } }) =>
        stack.getLogicalId(c.node.defaultChild as never);
      const lambdaStatements = statementsOf(json, id(fn.role as never));
      expect(lambdaStatements.length).toBeGreaterThanOrEqual(options.delays ? 5 : 3);
      for (const grantee of [task.taskRole, role, user])
        expect(statementsOf(json, id(grantee as never)), grantee.node.path).toEqual(lambdaStatements);
    },
  );

  it("sets the producer's variables on the container, as the grant sets them on a function, and returns them", {
    timeout: 90_000,
  }, () => {
    // GIVEN a Lambda producer and a Fargate web server granted the same two queues
    const config = exampleResolved();
    const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
    const fn = producerFunction(stack);
    const { task, container } = webServer(stack);
    stack.grantSend(fn, 'events', { delays: true });
    stack.grantSend(task.taskRole, 'events', { delays: true, environment: container });
    const queues = Object.keys(stack.queues).filter((q) => q !== 'events' && !q.endsWith('.fifo'));
    const second = queues[0] ?? 'events';
    stack.grantSend(fn, second);
    const returned = stack.grantSend(task.taskRole, second, { environment: container });
    // THEN the container holds the same two variables as the function, listing both queues
    const json = Template.fromStack(stack).toJSON();
    const variables = json.Resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment
      .Variables as Record<string, unknown>;
    const onContainer = containerEnvironment(
      json,
      stack.getLogicalId(task.node.defaultChild as never),
      container.containerName,
    );
    expect(Object.keys(onContainer).sort()).toEqual([PRODUCER_CONFIG_ENV, PRODUCER_QUEUES_ENV].sort());
    for (const name of [PRODUCER_QUEUES_ENV, PRODUCER_CONFIG_ENV])
      expect(onContainer[name], name).toEqual(variables[name]);
    expect(JSON.stringify(onContainer[PRODUCER_QUEUES_ENV])).toContain(`\\"${second}\\"`);
    // and what grantSend returns is what the container reads, for a process CDK does not configure
    expect(Object.keys(returned).sort()).toEqual([PRODUCER_CONFIG_ENV, PRODUCER_QUEUES_ENV].sort());
    for (const name of [PRODUCER_QUEUES_ENV, PRODUCER_CONFIG_ENV] as const)
      expect(stack.resolve(returned[name]), name).toEqual(onContainer[name]);
  });

  it("publishes a user's variables only where the app puts them: stack outputs a script's producer finds its queue by", {
    timeout: 90_000,
  }, () => {
    // GIVEN a user a script runs as, granted a queue, and the app's outputs of what grantSend returned
    const config = exampleResolved();
    const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
    const jobs = stack.grantSend(new iam.User(stack, 'ScriptUser'), 'events', { delays: true });
    new CfnOutput(stack, 'ScriptQueues', { value: jobs.HOOKLINE_QUEUES });
    new CfnOutput(stack, 'ScriptProducer', { value: jobs.HOOKLINE_PRODUCER });
    const json = Template.fromStack(stack).toJSON();
    // THEN no function or container of the app was given them
    const resources = JSON.stringify(json.Resources);
    expect(resources).not.toContain(PRODUCER_QUEUES_ENV);
    expect(resources).not.toContain(PRODUCER_CONFIG_ENV);
    // and a producer given the outputs, as deployed, sends to the very queue and scheduler role the user may use
    const at = { partition: 'aws', region: 'eu-west-1', account: '123456789012', urlSuffix: 'amazonaws.com' };
    const deployed = (value: unknown) => resolveAsDeployed(value, json, stack.stackName, at);
    const env = {
      [PRODUCER_QUEUES_ENV]: deployed(json.Outputs.ScriptQueues.Value),
      [PRODUCER_CONFIG_ENV]: deployed(json.Outputs.ScriptProducer.Value),
    };
    const resolved = discoverProducer({ env, local: false });
    const queueId = stack.getLogicalId(stack.queues.events?.queue.node.defaultChild as never);
    const roleId = stack.getLogicalId(
      stack.jobProducers?.schedulerRole('events')?.node.defaultChild as never,
    );
    expect(resolved.queues.events?.url).toBe(deployed({ Ref: queueId }));
    expect(resolved.queues.events?.schedulerRoleArn).toBe(deployed({ 'Fn::GetAtt': [roleId, 'Arn'] }));
    expect(resolved.settings.dedupe?.tableName).toBe(
      deployed({ Ref: stack.getLogicalId(stack.dedupeTable?.node.defaultChild as never) }),
    );
  });

  it("refuses a container another pipeline granted, whose environment would name the second's queues and drop the first's", {
    timeout: 120_000,
  }, () => {
    // GIVEN dev and prod pipelines, and a web server in a stack of its own that dev granted
    const app = testApp();
    const [dev, prod] = ['HooklineDev', 'HooklineProd'].map(
      (name) => new WebhookPipelineStack(app, name, { config: exampleResolved() }),
    ) as [WebhookPipelineStack, WebhookPipelineStack];
    const { task, container } = webServer(new Stack(app, 'Shop'));
    dev.grantSend(task.taskRole, 'events', { environment: container });
    // WHEN prod grants its container too
    const refused = (() => {
      try {
        prod.grantSend(task.taskRole, 'events', { environment: container });
      } catch (error) {
        return error as Error;
      }
    })();
    // THEN that is refused, naming the container, both pipelines and the fix
    expect(refused?.message).toMatch(
      /Shop\/WebTask\/Web: already sends jobs to the pipeline HooklineDev\/Default \(stack HooklineDev\): .* a grant of the pipeline HooklineProd\/Default \(stack HooklineProd\) would replace them \(got "events"\)\. Fix: give each pipeline a producer \(a function, or a container\) of its own/,
    );
    expect(refused?.stack).not.toMatch(/\n\s+at /);
  });

  it('lets a user a script runs as send to two pipelines, each grant returning its own variables', {
    timeout: 120_000,
  }, () => {
    const app = testApp();
    const [dev, prod] = ['HooklineDev', 'HooklineProd'].map(
      (name) => new WebhookPipelineStack(app, name, { config: exampleResolved() }),
    ) as [WebhookPipelineStack, WebhookPipelineStack];
    const user = new iam.User(new Stack(app, 'Ops'), 'ScriptUser');
    const fromDev = dev.grantSend(user, 'events');
    const fromProd = prod.grantSend(user, 'events');
    // Nothing of the user's holds variables a second grant could rewrite: each pipeline's stay its own.
    expect(JSON.stringify(dev.resolve(fromDev.HOOKLINE_PRODUCER))).not.toContain('HooklineProd');
    expect(JSON.stringify(prod.resolve(fromProd.HOOKLINE_PRODUCER))).not.toContain('HooklineDev');
    expect(fromDev.HOOKLINE_QUEUES).not.toBe(fromProd.HOOKLINE_QUEUES);
  });

  it("lets an ECS container hold more queues than Lambda's 4 KB of variables would, Lambda's limit not being ECS's", {
    timeout: 120_000,
  }, () => {
    // GIVEN 30 queues, more than a Lambda producer's variables hold with delays (about 19 to 23)
    const queues = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`billing-run-${i}`, {}]));
    const config = resolveConfig({
      stackName: 'HooklineProduction',
      sources: { github: { type: 'github' } },
      queues,
      defaultRoute: { queues: ['billing-run-0'] },
    } as HooklineConfig);
    const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
    const { task, container } = webServer(stack);
    // WHEN a container is granted every one with delays
    for (const queue of Object.keys(queues))
      stack.grantSend(task.taskRole, queue, { delays: true, environment: container });
    // THEN the app synthesizes
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('acknowledges its wildcards on an ECS task role in another stack, so cdk-nag finds nothing the grant adds', {
    timeout: 120_000,
  }, () => {
    // GIVEN a Fargate web server in a stack of its own, granted delays after the pipeline's stack was built
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const pipeline = new WebhookPipelineStack(app, 'Webhooks', {
      config: exampleResolved({ stackName: 'Webhooks' }),
    });
    const shop = new Stack(app, 'Shop');
    const { task, container } = webServer(shop);
    pipeline.grantSend(task.taskRole, 'events', { delays: true, environment: container });
    // The app's own decisions: cdk-nag flags any variable written into a container definition, and no logging.
    Validations.of(task).acknowledge(
      { id: 'AwsSolutions-ECS2', reason: "the app's own task: its variables hold resource names, no secret" },
      { id: 'AwsSolutions-ECS7', reason: "the app's own task" },
    );
    // WHEN the app synthesizes with cdk-nag
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // THEN the payload and schedule prefixes the grant adds to the task role are acknowledged there
    expect(() => app.synth()).not.toThrow();
  });
});
