/**
 * A forwarding consumer (`consumer.forward`) in the synthesized template: the same consumer construct, built from
 * hookline's forwarding entry; its one secret, retained by default; its role reads exactly that secret; its
 * environment names the destination and the secret, never the secret's value; cdk-nag finds nothing new.
 */
import { App, Duration, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FORWARD_CONFIG_ENV } from '../../lambda/shared/forward-config';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { pipelineTemplate, testApp } from '../helpers/cdk';

type Json = ReturnType<Template['toJSON']>;
type Resource = { Type: string; Properties?: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string };

const forwardingConfig = (overrides: Partial<HooklineConfig> = {}, secret?: { existingSecretName: string }) =>
  resolveConfig(
    {
      stackName: 'ForwardTest',
      sources: { github: { type: 'github' } },
      queues: {
        app: {
          consumer: {
            forward: { url: 'https://app.example.com/webhooks/hookline?v=1', ...(secret ? { secret } : {}) },
            maxConcurrency: 5,
          },
        },
      },
      ...overrides,
    },
    { forDeploy: true },
  );

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function consumerOf(config = forwardingConfig()) {
  const { stack, template } = pipelineTemplate(config);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const consumer = stack.consumers.app;
  if (!consumer) throw new Error('no consumer app');
  const fnId = stack.getLogicalId(consumer.consumerFunction.node.defaultChild as never);
  const roleId = stack.getLogicalId(consumer.consumerFunction.role?.node.defaultChild as CfnRole);
  const statements = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        list(r.Properties?.Roles).some((ref) => JSON.stringify(ref).includes(roleId)),
    )
    .flatMap(
      (r) => list(r.Properties?.PolicyDocument?.Statement) as { Action: unknown; Resource: unknown }[],
    );
  return {
    stack,
    resources,
    outputs: template.toJSON().Outputs as Record<string, Json>,
    fn: resources[fnId],
    statements,
  };
}

describe('forwarding consumer: the template', () => {
  it('creates one signing secret, retained by default, and outputs its id for hookline forward secret', () => {
    const { resources, outputs } = consumerOf();
    const secrets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
    const forward = secrets.filter(([id]) => id.includes('ForwardSecretApp'));
    expect(forward).toHaveLength(1);
    const [, secret] = forward[0] as [string, Resource];
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(secret.UpdateReplacePolicy).toBe('Retain');
    expect(secret.Properties?.GenerateSecretString).toMatchObject({
      PasswordLength: 48,
      ExcludePunctuation: true,
      IncludeSpace: false,
    });
    const output = Object.entries(outputs).find(([key]) => key.startsWith('ForwardSecretIdApp'))?.[1];
    expect(output?.Value).toStrictEqual({ Ref: forward[0]?.[0] });
  });

  it('deletes the generated secret with the stack when removalPolicy is destroy', () => {
    const { resources } = consumerOf(forwardingConfig({ removalPolicy: 'destroy' }));
    const secret = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.includes('ForwardSecretApp'),
    );
    expect(secret?.[1].DeletionPolicy).toBe('Delete');
  });

  it('lets the forwarding function read exactly its secret, and nothing of Secrets Manager on *', () => {
    const { statements, resources } = consumerOf();
    const secretId = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.includes('ForwardSecretApp'),
    )?.[0];
    const secretStatements = statements.filter((s) =>
      list(s.Action).some((a) => String(a).startsWith('secretsmanager:')),
    );
    expect(secretStatements).toHaveLength(1);
    expect(list(secretStatements[0]?.Action)).toStrictEqual(['secretsmanager:GetSecretValue']);
    expect(secretStatements[0]?.Resource).toStrictEqual({ Ref: secretId });
    for (const statement of statements) expect(list(statement.Resource)).not.toContain('*');
  });

  it('reads an existing secret by its name only (the ARN with its 6-character suffix)', () => {
    const { statements } = consumerOf(forwardingConfig({}, { existingSecretName: 'app/hookline-forward' }));
    const secretStatements = statements.filter((s) =>
      list(s.Action).some((a) => String(a).startsWith('secretsmanager:')),
    );
    expect(JSON.stringify(secretStatements[0]?.Resource)).toContain(':secret:app/hookline-forward-??????');
  });

  it("hands the function the destination and the secret's id, never its value", () => {
    const { fn, resources } = consumerOf();
    const variables = fn?.Properties?.Environment?.Variables as Record<string, unknown>;
    const forward = JSON.stringify(variables[FORWARD_CONFIG_ENV]);
    expect(forward).toContain('https://app.example.com/webhooks/hookline?v=1');
    expect(forward).toContain('timeoutMs');
    const secretId =
      Object.entries(resources).find(
        ([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.includes('ForwardSecretApp'),
      )?.[0] ?? 'none';
    expect(forward).toContain(secretId);
    expect(forward).not.toMatch(/SecretString|resolve:secretsmanager/);
    // The consumer runtime's own configuration is there as for any consumer: retries, DLQ, idempotency apply.
    expect(variables).toHaveProperty('HOOKLINE_CONSUMER_CONFIG');
  });

  it('starts a record only with its request timeout left over the deadline margin, and other consumers at the margin', () => {
    const config = forwardingConfig({
      queues: {
        app: { consumer: { forward: { url: 'https://app.example.com/in', timeout: Duration.seconds(7) } } },
        events: { consumer: { entry: 'lambda/consumers/events.ts' } },
      },
    });
    const { stack, template } = pipelineTemplate(config);
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const startMargin = (queue: string) => {
      const fn = stack.consumers[queue]?.consumerFunction.node.defaultChild;
      const variables = resources[stack.getLogicalId(fn as never)]?.Properties?.Environment?.Variables;
      const text = JSON.stringify(variables?.HOOKLINE_CONSUMER_CONFIG);
      const margin = /deadlineMarginMs\\":(\d+)/.exec(text)?.[1];
      const start = /startMarginMs\\":(\d+)/.exec(text)?.[1];
      return { margin: Number(margin), start: start === undefined ? undefined : Number(start) };
    };
    const app = startMargin('app');
    expect(app.margin).toBeGreaterThan(0);
    expect(app.start).toBe(app.margin + 7_000);
    expect(startMargin('events').start).toBeUndefined();
  });

  it("keeps every other consumer setting: the event source mapping's maxConcurrency protects the destination", () => {
    const { resources } = consumerOf();
    const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties?.ScalingConfig).toStrictEqual({ MaximumConcurrency: 5 });
    expect(mappings[0]?.Properties?.FunctionResponseTypes).toStrictEqual(['ReportBatchItemFailures']);
  });

  it('synthesizes cdk-nag clean with only forwarding consumers', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new WebhookPipelineStack(app, 'ForwardNag', { config: forwardingConfig() });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('refuses a resolved configuration forwarding to a private address at synth', () => {
    const local = resolveConfig({
      stackName: 'ForwardLocal',
      sources: { github: { type: 'github' } },
      queues: {
        app: { consumer: { forward: { url: 'http://localhost:3000/hooks', timeout: Duration.seconds(5) } } },
      },
    });
    expect(() => new WebhookPipelineStack(testApp(), 'ForwardLocal', { config: local })).toThrow(
      /forward\.url: must be https:\/\//,
    );
  });
});
