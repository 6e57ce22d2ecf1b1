import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../lib/config';
import { exampleResolved, pipelineTemplate } from '../helpers/cdk';

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

  it('grants the ingest function send on every queue, read on every secret, item access on the dedupe table, PutObject on payloads, records to the archive stream and writes to its log group', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('IngestFunctionServiceRole') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const actions = new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
    expect([...actions].sort()).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'firehose:PutRecord',
        'firehose:PutRecordBatch',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
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
    expect(JSON.stringify(s.resolve(env))).toContain('secret:prod/github-webhook');
  });

  it("fails at synth when the configuration cannot fit Lambda's 4 KB environment once deployed", () => {
    const sources = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`source-${i}`, { type: 'github' as const }]),
    );
    const config = exampleResolved({ sources, routes: [] });
    expect(() => pipelineTemplate(config)).toThrow(
      /the ingest configuration would take about \d+ bytes of environment once deployed, above Lambda's 4 KB limit \(40 sources, 2 queues, 0 routes, \d+ kept headers\)\. Fix: split the sources/,
    );
  });

  it('exposes one webhook URL output per source', () => {
    for (const name of ['Github', 'Stripe', 'Slack', 'Shopify', 'Standard', 'Generic']) {
      const output = template.findOutputs(`WebhookUrl${name}`);
      expect(JSON.stringify(stack.resolve(output))).toContain(`/webhooks/${name.toLowerCase()}`);
    }
  });
});
