import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { App, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { powertoolsIdempotencyGate } from '../../lambda/consumer/aws';
import { resolveConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { exampleResolved, pipelineTemplate } from '../helpers/cdk';
import { maximalConfig } from '../helpers/maximal-config';

/** A template node: CloudFormation JSON, loosely typed as the assertions library returns it. */
type Json = ReturnType<Template['toJSON']>;
type Resource = { Type: string; Properties?: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Resources = Record<string, Resource>;
type Statement = { Effect: string; Action: unknown; Resource: unknown; Condition?: Json };

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const resourcesOf = (config = exampleResolved()) => {
  const { stack, template } = pipelineTemplate(config);
  return { stack, resources: template.toJSON().Resources as Resources };
};

/**
 * Actions AWS only authorizes on `Resource: "*"` (no resource-level permissions exist for them), each with the
 * reason it may appear. Anything else on `*` is a resource we could have named.
 */
const STAR_ONLY_ACTIONS: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': 'active tracing; X-Ray has no resource-level permissions',
  'xray:PutTelemetryRecords': 'active tracing; X-Ray has no resource-level permissions',
};

/** Every statement of every identity policy in the template, with where it was found. */
function identityStatements(resources: Resources): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const documents =
      r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
        ? [r.Properties?.PolicyDocument]
        : r.Type === 'AWS::IAM::Role'
          ? list(r.Properties?.Policies).map((p) => (p as { PolicyDocument: unknown }).PolicyDocument)
          : [];
    for (const doc of documents) {
      for (const statement of list((doc as { Statement?: unknown }).Statement)) {
        out.push({ where: id, statement: statement as Statement });
      }
    }
  }
  return out;
}

/** What is too broad about one statement, if anything. */
function broadness(statement: Statement): string[] {
  if (statement.Effect !== 'Allow') return [];
  const actions = list(statement.Action).map(String);
  const problems = actions.filter((a) => a.includes('*')).map((a) => `wildcard action ${a}`);
  if (list(statement.Resource).includes('*')) {
    problems.push(...actions.filter((a) => !(a in STAR_ONLY_ACTIONS)).map((a) => `${a} on "*"`));
  }
  return problems;
}

/** The statements of the policies attached to a role, by the role's logical id. */
function roleStatements(resources: Resources, roleId: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        list(r.Properties?.Roles).some((role) => (role as { Ref?: string }).Ref === roleId),
    )
    .flatMap((r) => list(r.Properties?.PolicyDocument?.Statement) as Statement[]);
}

/** IAM StringLike semantics: `*` any characters, `?` one. */
const stringLike = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** The example stack, synthesized once while collecting (the first synthesis is the slow one). */
const example = resourcesOf();

describe('stack least privilege', () => {
  const configs = {
    example: exampleResolved(),
    'every option on': exampleResolved({
      tracing: true,
      alarms: { email: 'ops@example.com' },
      sources: {
        open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
        github: { type: 'github' },
      },
      routes: [],
    }),
    'every feature on': resolveConfig(maximalConfig()),
  };

  for (const [label, config] of Object.entries(configs)) {
    it(`grants no wildcard action and nothing on "*" that AWS lets us name (${label})`, () => {
      const { resources } = config === configs.example ? example : resourcesOf(config);
      const statements = identityStatements(resources);
      expect(statements.length).toBeGreaterThan(10);
      const problems = statements.flatMap(({ where, statement }) =>
        broadness(statement).map((p) => `${where}: ${p}`),
      );
      expect(problems).toEqual([]);
      const managed = Object.entries(resources).flatMap(([id, r]) =>
        list(r.Properties?.ManagedPolicyArns).map((arn) => `${id}: ${JSON.stringify(arn)}`),
      );
      expect(managed).toEqual([]);
    });
  }

  it('lets each function write only to its own log group', () => {
    const { resources } = example;
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBe(3);
    for (const fn of functions) {
      const logGroupId = fn.Properties?.LoggingConfig?.LogGroup?.Ref as string;
      expect(resources[logGroupId]?.Type).toBe('AWS::Logs::LogGroup');
      const roleId = fn.Properties?.Role?.['Fn::GetAtt']?.[0] as string;
      const logStatements = roleStatements(resources, roleId).filter((s) =>
        list(s.Action).some((a) => String(a).startsWith('logs:')),
      );
      expect(logStatements.flatMap((s) => list(s.Action)).sort()).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
      // The log group's ARN, with or without the `:*` of its streams.
      const logResources = logStatements.flatMap((s) => list(s.Resource));
      expect(logResources).toContainEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
      for (const r of logResources) expect(JSON.stringify(r)).toContain(`"${logGroupId}"`);
    }
  });

  it('lets each consumer touch only the idempotency records keyed with its own prefix, the one its runtime writes', async () => {
    const { stack, resources } = example;
    const names = Object.keys(stack.consumers);
    expect(names.length).toBeGreaterThan(1);
    const tableId = stack.getLogicalId(stack.idempotencyTable?.node.defaultChild as never);
    for (const name of names) {
      const role = stack.consumers[name]?.consumerFunction.role?.node.defaultChild as CfnRole;
      const onTable = roleStatements(resources, stack.getLogicalId(role)).filter((s) =>
        list(s.Resource).some((r) => JSON.stringify(r).includes(tableId)),
      );
      expect(onTable.length, name).toBeGreaterThan(0);
      for (const s of onTable) {
        expect(s.Condition, name).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${name}#*`] },
        });
      }

      // The key the consumer runtime really writes (Powertools over a DynamoDB client that records calls).
      const written = await idempotencyKeyWrittenBy(name);
      expect(written).toMatch(stringLike(`${name}#*`));
      for (const other of names.filter((n) => n !== name))
        expect(written).not.toMatch(stringLike(`${other}#*`));
    }
  });
});

/** Runs one record through a consumer's real idempotency gate and returns the partition key it put. */
async function idempotencyKeyWrittenBy(consumerName: string): Promise<string> {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const keys: string[] = [];
  client.send = (async (command: { input: Json }) => {
    const key = command.input.Item?.id?.S ?? command.input.Key?.id?.S;
    if (key) keys.push(key);
    return {};
  }) as never;
  const gate = powertoolsIdempotencyGate({ tableName: 'table', expirySeconds: 60 }, consumerName, client);
  await gate.run('envelope-1', async () => {}, { getRemainingTimeInMillis: () => 10_000 });
  expect(keys.length).toBeGreaterThan(0);
  expect(new Set(keys).size).toBe(1);
  return keys[0] as string;
}

describe('data retention', () => {
  const dataResources = (resources: Resources) =>
    Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::DynamoDB::Table' || r.Type === 'AWS::SecretsManager::Secret',
    );

  it('keeps the signing secrets and the tables when the stack is deleted, by default', () => {
    const data = dataResources(example.resources);
    // six secrets, the dedupe and the idempotency table
    expect(data).toHaveLength(8);
    for (const [id, r] of data) {
      expect([r.DeletionPolicy, r.UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
    }
  });

  it("deletes them with the stack when the configuration says removalPolicy: 'destroy'", () => {
    const data = dataResources(resourcesOf(exampleResolved({ removalPolicy: 'destroy' })).resources);
    expect(data).toHaveLength(8);
    for (const [id, r] of data) {
      expect([r.DeletionPolicy, r.UpdateReplacePolicy], id).toEqual(['Delete', 'Delete']);
    }
  });

  it('refuses an unknown removal policy, naming the field', () => {
    expect(() => resolveConfig({ ...exampleConfig, removalPolicy: 'keep' as never })).toThrow(
      /removalPolicy: .*\(got "keep"\)/,
    );
  });
});

describe('X-Ray tracing', () => {
  it('is off by default', () => {
    const { resources } = example;
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.Properties?.TracingConfig).toBeUndefined();
    expect(JSON.stringify(resources)).not.toContain('xray:');
  });

  it('traces the ingest and every consumer function actively when tracing: true, with the grant it needs', () => {
    const { stack, resources } = resourcesOf(exampleResolved({ tracing: true }));
    const fns = [
      stack.ingest.ingestFunction,
      ...Object.values(stack.consumers).map((c) => c.consumerFunction),
    ];
    expect(fns).toHaveLength(3);
    for (const fn of fns) {
      const cfn = resources[stack.getLogicalId(fn.node.defaultChild as never)];
      expect(cfn?.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      const roleId = stack.getLogicalId(fn.role?.node.defaultChild as CfnRole);
      const actions = roleStatements(resources, roleId)
        .filter((s) => list(s.Resource).includes('*'))
        .flatMap((s) => list(s.Action));
      expect(actions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('stays cdk-nag clean with tracing on', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = exampleResolved({ tracing: true });
    new WebhookPipelineStack(app, config.stackName, { config });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
