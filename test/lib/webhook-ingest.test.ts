import { type CfnResource, Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { INGEST_CONFIG_ENV, readIngestConfig } from '../../lambda/shared/runtime-config';
import { DEFAULTS } from '../../lib/config';
import { WebhookIngest } from '../../lib/webhook-ingest';
import {
  exampleResolved,
  pipelineTemplate,
  renderIntrinsics,
  resolveAsDeployed,
  testStack,
} from '../helpers/cdk';

/** A template node: CloudFormation JSON, loosely typed as the assertions library returns it. */
type Json = ReturnType<Template['toJSON']>;

describe('WebhookIngest', () => {
  const { template, stack } = pipelineTemplate();

  it('routes ANY /webhooks/{source} to the ingest function, so wrong methods get 405 from it', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /webhooks/{source}' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles the stage and writes JSON access logs to a retained log group', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: DEFAULTS.ingestRateLimit,
        ThrottlingBurstLimit: DEFAULTS.ingestBurstLimit,
      },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    const accessLogs = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([id]) =>
      id.includes('IngestAccessLogs'),
    );
    expect(accessLogs.map(([, r]) => r.Properties.RetentionInDays)).toEqual([DEFAULTS.logRetentionDays]);
  });

  it('applies configured throttling', () => {
    const config = exampleResolved({ ingest: { rateLimit: 25, burstLimit: 50 } });
    pipelineTemplate(config).template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
    });
  });

  it('runs the ingest function on nodejs24.x, arm64, with the ingest configuration in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 10,
      Environment: {
        Variables: Match.objectLike({
          HOOKLINE_INGEST_CONFIG: Match.anyValue(),
          POWERTOOLS_SERVICE_NAME: 'ingest',
        }),
      },
    });
  });

  it('grants the ingest function send on every queue, the value of every secret, claims on the dedupe table, PutObject on payloads, records to the archive stream and writes to its log group', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('IngestFunctionServiceRole') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const actions = new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
    expect([...actions].sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'firehose:PutRecord',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessage',
      ].sort(),
    );
    const sendResources = JSON.stringify(
      statements.filter((s) => JSON.stringify(s.Action).includes('sqs:SendMessage')),
    );
    expect(sendResources).toContain('QueueEvents');
    expect(sendResources).toContain('QueueOrders');
    expect(sendResources).not.toContain('DeadLetterQueue');
  });

  it('may still put claim-check objects and archive records with dedupe off, and claims nothing', () => {
    const { template: withoutDedupe } = pipelineTemplate(exampleResolved({ dedupe: { enabled: false } }));
    const policies = withoutDedupe.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('IngestFunctionServiceRole') }] },
    });
    const actions = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    );
    expect(actions).toContain('s3:PutObject');
    expect(actions).toContain('firehose:PutRecord');
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('may make every call its runtime makes on the dedupe table, payload bucket and archive stream its configuration names, on exactly those', () => {
    const json = template.toJSON();
    const ingestFunction = stack.ingest.ingestFunction;
    const fn = json.Resources[stack.getLogicalId(ingestFunction.node.defaultChild as CfnResource)];
    const config = readIngestConfig({
      [INGEST_CONFIG_ENV]: resolveAsDeployed(
        stack.resolve(fn.Properties.Environment.Variables[INGEST_CONFIG_ENV]),
        json,
        stack.stackName,
        { partition: 'aws', region: 'eu-west-1', account: '123456789012', urlSuffix: 'amazonaws.com' },
      ),
    });
    const roleId = stack.getLogicalId(ingestFunction.role?.node.defaultChild as CfnResource);
    const statements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    ).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
    /** The statements whose every resource is the resource `logicalId`, or an ARN built on it. */
    const on = (logicalId: string) =>
      statements.filter((s) =>
        [s.Resource].flat().every((r) => JSON.stringify(r).includes(`"${logicalId}"`)),
      );
    const actionsOn = (logicalId: string) => on(logicalId).flatMap((s) => [s.Action].flat());
    const idOf = (rendered: string | undefined) => rendered?.replace(/^resolved-/, '') ?? '';
    const table = idOf(config.dedupe?.tableName);
    const bucket = idOf(config.payloads?.bucket);
    const stream = idOf(config.archive?.deliveryStream);
    for (const id of [table, bucket, stream]) expect(id).toMatch(/^[A-Za-z0-9]+$/);

    // The dedupe store claims, confirms and releases a delivery id, and reads a claim it lost.
    expect(actionsOn(table)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
    );
    expect(on(bucket).map((s) => [s.Action, renderIntrinsics(s.Resource)])).toEqual([
      ['s3:PutObject', `resolved-${bucket}.Arn/payloads/*`],
    ]);
    expect(actionsOn(stream)).toContain('firehose:PutRecord');
  });

  it('creates one secret per verifying source', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 6);
    const unverified = exampleResolved({
      sources: {
        open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
        github: { type: 'github' },
      },
      routes: [],
    });
    pipelineTemplate(unverified).template.resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  it('references an existing secret instead of creating one', () => {
    const config = exampleResolved({
      sources: { github: { type: 'github', secret: { existingSecretName: 'prod/github-webhook' } } },
      routes: [],
    });
    const { template: t, stack: s } = pipelineTemplate(config);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const env = Object.values(
      t.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'ingest' } } },
      }),
    )[0]?.Properties.Environment.Variables.HOOKLINE_INGEST_CONFIG;
    expect(JSON.stringify(s.resolve(env))).toContain('\\"secretId\\":\\"prod/github-webhook\\"');
  });

  it("fails at synth when the configuration cannot fit Lambda's 4 KB environment once deployed", () => {
    const sources = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`source-${i}`, { type: 'github' as const }]),
    );
    const config = exampleResolved({ sources, routes: [] });
    expect(() => pipelineTemplate(config)).toThrow(
      /Invalid Lambda environments in stack Hookline:\n {2}- Hookline\/Default\/Ingest\/Function: its environment variables can take up to \d+ bytes once deployed .*above Lambda's limit of 4096 bytes.*Fix: its configuration grows with the sources \(40\), routed queues \(1\) and routes \(0\): each source takes about 100 bytes .*split the sources over two stacks/,
    );
  });

  it('may send only to the queues its routes reach, and names only those in its configuration', () => {
    // `mail` is fed by jobs alone: no route reaches it, so the public endpoint must not be able to write to it.
    const config = exampleResolved({
      queues: {
        events: { consumer: { entry: 'lambda/consumers/events.ts' } },
        orders: { fifo: true },
        mail: { consumer: { entry: 'lambda/consumers/events.ts' } },
      },
      routes: [{ source: 'shopify', type: 'orders/*', queues: ['orders'] }],
      defaultRoute: { queues: ['events'] },
    });
    const { stack: routedStack, template: routed } = pipelineTemplate(config);
    const resources = routed.toJSON().Resources as Record<string, { Type: string; Properties?: Json }>;
    const ingestFunction = routedStack.ingest.ingestFunction;
    const roleId = routedStack.getLogicalId(ingestFunction.role?.node.defaultChild as CfnResource);
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(roleId))
      .flatMap((r) => r.Properties?.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
    const sentTo = statements
      .filter((st) => JSON.stringify(st.Action).includes('sqs:SendMessage'))
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]))
      .map((r) => (r as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    const queueId = (name: string) =>
      routedStack.getLogicalId(routedStack.queues[name]?.queue.node.defaultChild as CfnResource);

    expect(sentTo.sort()).toEqual([queueId('events'), queueId('orders')].sort());
    const fn = resources[routedStack.getLogicalId(ingestFunction.node.defaultChild as CfnResource)];
    const environment = JSON.stringify(fn?.Properties?.Environment);
    expect(environment).toContain(queueId('events'));
    expect(environment).not.toContain(queueId('mail'));
  });

  it('used on its own, refuses a timeout and a throttle its API cannot honour, every problem at once', () => {
    expect(
      () =>
        new WebhookIngest(testStack(), 'Ingest', {
          settings: exampleResolved(),
          queues: {},
          secrets: {},
          timeout: Duration.seconds(30),
          rateLimit: 100,
          burstLimit: 50,
        }),
    ).toThrow(
      /WebhookIngest Test\/Ingest.*\n.*burstLimit: must be at least rateLimit \(100\).*\n.*timeout: between 1 and 29 seconds/,
    );
  });

  it('exposes one webhook URL output per source', () => {
    for (const name of ['Github', 'Stripe', 'Slack', 'Shopify', 'Standard', 'Generic']) {
      const output = template.findOutputs(`WebhookUrl${name}`);
      expect(JSON.stringify(stack.resolve(output))).toContain(`/webhooks/${name.toLowerCase()}`);
    }
  });
});
