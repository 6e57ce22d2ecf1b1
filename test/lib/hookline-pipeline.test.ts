import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  App,
  Aspects,
  CfnResource,
  Duration,
  NestedStack,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSUMER_CONFIG_ENV } from '../../lambda/shared/consumer-config';
import { defineConfig, HooklineConfigError } from '../../lib/config';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { renderIntrinsics, testApp } from '../helpers/cdk';

/** A user's app folder elsewhere on disk: its own lockfile and a consumer file of its own. */
const userApp = mkdtempSync(join(tmpdir(), 'hookline-user-app-'));
mkdirSync(join(userApp, 'consumers'));
writeFileSync(join(userApp, 'consumers/orders.ts'), 'export const handler = async () => {};\n');
writeFileSync(join(userApp, 'package-lock.json'), '{"lockfileVersion":3}');
afterAll(() => rmSync(userApp, { recursive: true, force: true }));

const config = defineConfig({
  sources: { github: { type: 'github' } },
  queues: {
    orders: {
      consumer: {
        entry: 'consumers/orders.ts',
        timeout: Duration.seconds(20),
        idempotency: { expiry: Duration.hours(6) },
      },
    },
    audit: {
      consumer: {
        entry: 'consumers/orders.ts',
        timeout: Duration.seconds(20),
        idempotency: { enabled: false },
      },
    },
  },
  defaultRoute: { queues: ['orders'] },
  payloads: { expiry: Duration.hours(18 * 24 + 12) },
});

/** The pipeline of `config` in an existing stack, synthesized once for the tests that only read it. */
const existing = (() => {
  let built: { pipeline: HooklinePipeline; stack: Stack; template: Template } | undefined;
  return () => {
    if (!built) {
      const stack = new Stack(testApp(), 'ExistingStack');
      const pipeline = new HooklinePipeline(stack, 'Webhooks', { config, projectRoot: userApp });
      built = { pipeline, stack, template: Template.fromStack(stack) };
    }
    return built;
  };
})();

describe('HooklinePipeline', () => {
  it('builds the whole pipeline inside an existing stack from a declared configuration', () => {
    const { pipeline, template } = existing();
    template.resourceCountIs('AWS::SQS::Queue', 4);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasOutput('WebhookUrlGithub', {});
    expect(pipeline.config.queues.map((q) => q.name)).toEqual(['orders', 'audit']);
    expect(Object.keys(pipeline.consumers)).toEqual(['orders', 'audit']);
  }, 120_000);

  it('lets only a consumer with idempotency on touch the idempotency table', () => {
    const { pipeline, stack, template } = existing();
    const tableId = stack.getLogicalId(pipeline.idempotencyTable?.node.defaultChild as never);
    const onTable = (queue: string) => {
      const role = pipeline.consumers[queue]?.consumerFunction.role?.node.defaultChild;
      const roleId = stack.getLogicalId(role as never);
      return Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Resource: unknown }[])
        .filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`));
    };
    expect(onTable('orders').length).toBeGreaterThan(0);
    expect(onTable('audit')).toEqual([]);
  }, 120_000);

  it("tells a consumer's runtime to remember processed records as long as its configuration says", () => {
    const { pipeline, stack, template } = existing();
    const fn = pipeline.consumers.orders?.consumerFunction;
    const variables =
      template.toJSON().Resources[stack.getLogicalId(fn?.node.defaultChild as never)].Properties.Environment
        .Variables;
    const runtime = JSON.parse(renderIntrinsics(stack.resolve(variables[CONSUMER_CONFIG_ENV])));
    expect(runtime.idempotency?.expirySeconds).toBe(6 * 3600);
  });

  it("tells a consumer's runtime how long its queue keeps a message, so no retry is set past it", () => {
    const { pipeline, stack, template } = existing();
    const fn = pipeline.consumers.orders?.consumerFunction;
    const variables =
      template.toJSON().Resources[stack.getLogicalId(fn?.node.defaultChild as never)].Properties.Environment
        .Variables;
    const runtime = JSON.parse(renderIntrinsics(stack.resolve(variables[CONSUMER_CONFIG_ENV])));
    const orders = pipeline.config.queues.find((q) => q.name === 'orders');
    expect(runtime.retentionSeconds).toBe(orders?.retentionPeriod.toSeconds());
  });

  it('keeps a claim-checked payload at least as long as the configured expiry, in whole days', () => {
    // 18.5 days: a bucket that let it go after 18 would lose payloads of messages still queued or dead-lettered.
    const { template } = existing();
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 19, Prefix: 'payloads/' })] },
    });
  });

  it('refuses a second pipeline in the same stack with the fix, before CDK trips over the outputs', () => {
    const stack = new Stack(testApp(), 'Shared');
    new HooklinePipeline(stack, 'First', { config, projectRoot: userApp });
    const second = (() => {
      try {
        new HooklinePipeline(stack, 'Second', { config, projectRoot: userApp });
      } catch (error) {
        return error as Error;
      }
    })();
    expect(second?.message).toMatch(
      /Shared\/Second: stack Shared already has one \(Shared\/First\)\..*Fix: put the second pipeline in a stack of its own/,
    );
    // A mistake in the app: `cdk synth` prints the listing alone, as for a configuration error, no stack frames.
    expect(second?.stack).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('keeps two stages in one account apart: job schedules and metrics are named after each stack', () => {
    const app = testApp();
    const stageStack = (stackName: string) => {
      const stack = new Stack(app, stackName);
      const pipeline = new HooklinePipeline(stack, 'Webhooks', { config, projectRoot: userApp });
      const producer = new lambda.Function(stack, 'Producer', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => {}'),
      });
      pipeline.grantSend(producer, 'orders', { delays: true });
      return stack;
    };
    const scheduleResources = (stack: Stack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
        .filter((statement) => JSON.stringify(statement.Action).includes('scheduler:CreateSchedule'))
        .map((statement) => JSON.stringify(statement.Resource));
    const stacks = [stageStack('Staging'), stageStack('Prod')];
    const [staging = [], prod = []] = stacks.map(scheduleResources);
    expect(staging).toHaveLength(1);
    expect(prod).toHaveLength(1);
    expect(staging[0]).toContain('schedule/default/Staging-job-*');
    expect(prod[0]).toContain('schedule/default/Prod-job-*');
    // Nor add up in each other's dashboards and alarms: each stack's functions write its own namespace.
    const namespaces = (stack: Stack) =>
      new Set(
        Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
          .map((fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_METRICS_NAMESPACE)
          .filter(Boolean),
      );
    expect(stacks.map((stack) => [...namespaces(stack)])).toEqual([['Hookline/Staging'], ['Hookline/Prod']]);
  }, 120_000);

  it('names the job schedules of a pipeline in a nested stack after its top-level stack, which two apps cannot share', () => {
    // A nested stack's own name is a deploy-time token: text made of it is the same in two apps built alike.
    const nestedPipelineSchedules = (rootName: string) => {
      const nested = new NestedStack(new Stack(testApp(), rootName), 'Team');
      const pipeline = new HooklinePipeline(nested, 'Webhooks', { config, projectRoot: userApp });
      const producer = new lambda.Function(nested, 'Producer', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => {}'),
      });
      pipeline.grantSend(producer, 'orders', { delays: true });
      const template = Template.fromStack(nested);
      const [grant = ''] = Object.values(template.findResources('AWS::IAM::Policy'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
        .filter((statement) => JSON.stringify(statement.Action).includes('scheduler:CreateSchedule'))
        .map((statement) => renderIntrinsics(statement.Resource));
      const prefix = grant.replace(/^.*:schedule\/default\//, '').replace(/\*$/, '');
      const env = JSON.stringify(template.findResources('AWS::Lambda::Function'));
      return { prefix, namedByProducer: env.includes(`namePrefix\\":\\"${prefix}\\"`) };
    };
    const teamA = nestedPipelineSchedules('PlatformTeamA');
    const teamB = nestedPipelineSchedules('PlatformTeamB');
    expect(teamA.prefix).toMatch(/^PlatformTeamA-[0-9a-zA-Z_.-]+-job-$/);
    expect(teamB.prefix).toMatch(/^PlatformTeamB-[0-9a-zA-Z_.-]+-job-$/);
    expect([teamA.namedByProducer, teamB.namedByProducer]).toEqual([true, true]);
  }, 120_000);

  it.each([
    ['exports', {}],
    ['weak references (a new app)', { '@aws-cdk/core:defaultCrossStackReferences': 'weak' }],
  ])(
    "acknowledges its grant's wildcards on an app's producer in another stack (%s), where the bucket is an import",
    (_, flags) => {
      // GIVEN the app's own function in a stack of its own, granted after the pipeline's stack was built
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...flags } });
      const pipeline = new HooklinePipeline(new Stack(app, 'Webhooks'), 'Webhooks', {
        config,
        projectRoot: userApp,
      });
      const producer = new lambda.Function(new Stack(app, 'Signup'), 'Producer', {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => {}'),
      });
      pipeline.grantSend(producer, 'orders', { delays: true });
      Validations.of(producer).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: "the app's own function",
        },
        { id: 'AwsSolutions-L1', reason: "the app's own function" },
      );
      // WHEN the app synthesizes with cdk-nag
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // THEN the payload and schedule prefixes the grant adds are acknowledged there, as in the pipeline's stack
      expect(() => app.synth()).not.toThrow();
    },
    120_000,
  );

  it("says at synth what an app's Aspect setting every resource to DESTROY would delete of what it keeps", () => {
    // GIVEN an app that destroys everything with its stacks, as many do in development
    const stack = new Stack(testApp(), 'Dev');
    new HooklinePipeline(stack, 'Webhooks', { config, projectRoot: userApp });
    Aspects.of(stack).add({
      visit: (node) => {
        if (CfnResource.isCfnResource(node)) node.applyRemovalPolicy(RemovalPolicy.DESTROY);
      },
    });
    // WHEN it synthesizes
    const warnings = Annotations.fromStack(stack)
      .findWarning('/Dev/Webhooks', Match.stringLikeRegexp('DeletionPolicy Delete'))
      .map((w) => String(w.entry.data));
    // THEN one warning names each kept resource the Aspect changed, what deleting the stack does, and the fix
    expect(warnings).toHaveLength(1);
    for (const kept of ['SecretGithub', 'DedupeTable', 'IdempotencyTable', 'PayloadBucket', 'Archive/Bucket'])
      expect(warnings[0]).toContain(kept);
    expect(warnings[0]).toMatch(/deleting the stack would fail on PayloadBucket, Archive\/Bucket/);
    expect(warnings[0]).toMatch(
      /Fix: leave the resources under Dev\/Webhooks out of the Aspect, or set removalPolicy: 'destroy'/,
    );
    // and none where nothing overrode hookline's policies
    expect(
      Annotations.fromStack(existing().stack).findWarning(
        '*',
        Match.stringLikeRegexp('DeletionPolicy Delete'),
      ),
    ).toEqual([]);
  }, 120_000);

  it("names a forwarding queue's generated signing secret among what an app's Aspect setting DESTROY would delete", () => {
    // GIVEN a pipeline whose forwarding consumer signs with a secret the stack generates and keeps
    const stack = new Stack(testApp(), 'DevForward');
    new HooklinePipeline(stack, 'Webhooks', {
      config: defineConfig({
        ...config,
        queues: {
          ...config.queues,
          app: { consumer: { forward: { url: 'https://app.example.com/hooks' } } },
        },
      }),
      projectRoot: userApp,
    });
    Aspects.of(stack).add({
      visit: (node) => {
        if (CfnResource.isCfnResource(node)) node.applyRemovalPolicy(RemovalPolicy.DESTROY);
      },
    });
    // WHEN it synthesizes
    const warnings = Annotations.fromStack(stack)
      .findWarning('/DevForward/Webhooks', Match.stringLikeRegexp('DeletionPolicy Delete'))
      .map((w) => String(w.entry.data));
    // THEN the warning names the secret the destination verifies with: deleted, every event would be refused
    // after the stack is created again
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\(got [^)]*ForwardSecretApp/);
    expect(warnings[0]).toMatch(/Deleting the stack would delete [^.]*ForwardSecretApp/);
  }, 120_000);

  it("resolves consumer entries against the app's root, not hookline's folder", () => {
    // The working directory is this repository, which has no consumers/orders.ts: only projectRoot finds it.
    expect(() => new HooklinePipeline(new Stack(testApp(), 'A'), 'Webhooks', { config })).toThrow(
      HooklineConfigError,
    );
    expect(
      () => new HooklinePipeline(new Stack(testApp(), 'B'), 'Webhooks', { config, projectRoot: userApp }),
    ).not.toThrow();
  });
});
