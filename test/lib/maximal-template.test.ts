/**
 * The template AWS would deploy for a configuration with every feature on (every source type, standard, fair and
 * FIFO queues, a queue without consumer, provisioned pollers, reserved concurrency, schedules, the jobs endpoint,
 * a producer granted delays after the pipeline was built, the archive, claim checks, tracing), walked as
 * CloudFormation, CloudWatch and IAM would meet it: where AWS cannot run here, these are the properties that
 * make it work once deployed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CloudFormationValidatePlugin, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { BREAKER_CONFIG_ENV } from '../../lambda/shared/circuit-breaker';
import { resolveConfig } from '../../lib/config';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import { lambdaEnvironmentViolations } from '../../lib/validation';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { maximalConfig } from '../helpers/maximal-config';

type Json = ReturnType<Template['toJSON']>;
type Resource = { Type: string; Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Effect: string; Action: unknown; Resource: unknown; Principal?: Json; Condition?: Json };

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const getAttId = (value: unknown): string | undefined =>
  (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
const refId = (value: unknown): string | undefined => (value as { Ref?: string } | undefined)?.Ref;

/** The maximal pipeline and an app's own producer, not yet synthesized (cdk-nag only runs on a first synth). */
function maximalApp(alarms: { email: string } | { existingTopicArn: string }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig(maximalConfig({ alarms }));
  const stack = new WebhookPipelineStack(app, config.stackName, { config });
  // An app's own producer, granted after the pipeline (and its alarms) exist.
  const producer = new lambda.Function(stack, 'AppProducer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
  stack.grantSend(producer, 'events', { delays: true });
  // What cdk-nag finds in the app's own function is the app's to decide; what hookline's grant adds is not.
  Validations.of(producer).acknowledge({ id: 'AwsSolutions-L1', reason: "the app's own function" });
  Validations.of(producer).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: "the app's own function",
  });
  return { app, stack };
}

function maximalStack(alarms: { email: string } | { existingTopicArn: string }) {
  const { app, stack } = maximalApp(alarms);
  const template = Template.fromStack(stack).toJSON();
  return {
    app,
    stack,
    resources: template.Resources as Record<string, Resource>,
    outputs: Object.keys(template.Outputs ?? {}),
  };
}

const created = maximalStack({ email: 'ops@example.com' });
const { resources } = created;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** Whether a resource id is the circuit breaker function (its configuration names the alarms it trips). */
const isBreakerFunction = (id: string | undefined): boolean =>
  id !== undefined &&
  resources[id]?.Type === 'AWS::Lambda::Function' &&
  BREAKER_CONFIG_ENV in (resources[id]?.Properties.Environment?.Variables ?? {});

/** The statements of the identity policies attached to a role. */
const roleStatements = (roleId: string): Statement[] =>
  ofType('AWS::IAM::Policy')
    .filter(([, p]) => list(p.Properties.Roles).some((r) => refId(r) === roleId))
    .flatMap(([, p]) => list(p.Properties.PolicyDocument.Statement) as Statement[]);

/** Whether a role may call `action` on the resource whose ARN is `arn`. */
const roleMay = (roleId: string, action: string, arn: unknown) =>
  roleStatements(roleId).some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).includes(action) &&
      list(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify(arn)),
  );

describe('the maximal configuration, as AWS would deploy it', () => {
  it('has cdk-nag report nothing unacknowledged', () => {
    const { app } = maximalApp({ email: 'ops@example.com' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  // The suite turns aws-cdk-lib's built-in validation off (vitest.config.ts): here it is asked for.
  it("has CloudFormation's template validation find nothing", () => {
    const { app } = maximalApp({ email: 'ops@example.com' });
    Validations.of(app).addPlugins(new CloudFormationValidatePlugin());
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string; description: string }[] }[];
    };
    const findings = report.pluginReports.flatMap((r) =>
      r.violations.map((v) => `${r.pluginName} ${v.ruleName}: ${v.description}`),
    );
    expect(findings).toStrictEqual([]);
  });

  it.each(['eu-central-1', 'ap-southeast-2'])(
    'has cdk-nag report nothing unacknowledged in a stack deployed to an explicit account and region (%s)',
    (region) => {
      // There the grants' ARNs hold the region and account themselves, not their pseudo parameters.
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const config = resolveConfig(maximalConfig());
      const env = { account: '123456789012', region };
      const stack = new WebhookPipelineStack(app, config.stackName, { config, env });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // The findings are error annotations, which `cdk synth` fails on and reading them here throws on.
      expect(() => Annotations.fromStack(stack).findError('*', Match.anyValue())).not.toThrow();
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    },
  );

  it('lets CloudWatch publish every alarm to the topic it notifies, on alarm and (but for a circuit breaker, still paused then) on recovery', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    // two per queue, one per fair queue, per consumer and function errors and throttles, schedule and job
    // schedule dead-letter queues, the archive and the API
    expect(alarms.length).toBeGreaterThan(25);
    for (const [alarmId, alarm] of alarms) {
      // A circuit breaker's alarm also invokes the breaker function (its own test walks that action).
      const actions = [...list(alarm.Properties.AlarmActions), ...list(alarm.Properties.OKActions)].filter(
        (action) => !isBreakerFunction(getAttId(action)),
      );
      // A breaker's alarm returns to OK while its consumer is still paused, so it tells only of the trip.
      const breaker = String(alarm.Properties.AlarmName ?? '').endsWith('/circuit-breaker');
      expect(list(alarm.Properties.OKActions), alarmId).toHaveLength(breaker ? 0 : 1);
      expect(list(alarm.Properties.AlarmActions).length, alarmId).toBeGreaterThan(0);
      for (const action of actions) {
        const topicId = refId(action) ?? '';
        expect(resources[topicId]?.Type, alarmId).toBe('AWS::SNS::Topic');
        // An unencrypted topic (a key CloudWatch could not use would silence it), whose policy lets this
        // account's alarms publish.
        expect(resources[topicId]?.Properties.KmsMasterKeyId, alarmId).toBeUndefined();
        const statements = ofType('AWS::SNS::TopicPolicy')
          .filter(([, p]) => list(p.Properties.Topics).some((t) => refId(t) === topicId))
          .flatMap(([, p]) => list(p.Properties.PolicyDocument.Statement) as Statement[]);
        const grant = statements.find(
          (s) =>
            s.Effect === 'Allow' &&
            list(s.Principal?.Service).includes('cloudwatch.amazonaws.com') &&
            list(s.Action).includes('sns:Publish'),
        );
        expect(grant, `${alarmId}: nothing lets CloudWatch publish to ${topicId}`).toBeDefined();
        expect(grant?.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      }
    }
  });

  it('names the existing topic in every alarm when one is given', () => {
    const arn = 'arn:aws:sns:us-east-1:123456789012:pager';
    const existing = maximalStack({ existingTopicArn: arn }).resources;
    const alarms = Object.values(existing).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(25);
    for (const alarm of alarms) {
      const breaker = String(alarm.Properties.AlarmName ?? '').endsWith('/circuit-breaker');
      expect(list(alarm.Properties.AlarmActions).filter((a) => typeof a === 'string')).toEqual([arn]);
      expect(alarm.Properties.AlarmActions).toHaveLength(breaker ? 2 : 1);
      expect(list(alarm.Properties.OKActions)).toEqual(breaker ? [] : [arn]);
    }
  });

  it('encrypts every queue, refuses any request to it without TLS, and alarms on every dead-letter queue', () => {
    const queues = ofType('AWS::SQS::Queue');
    const deadLetterQueueIds = new Set(
      queues.map(([, q]) => getAttId(q.Properties.RedrivePolicy?.deadLetterTargetArn)).filter(Boolean),
    );
    for (const [, s] of ofType('AWS::Scheduler::Schedule'))
      deadLetterQueueIds.add(getAttId(s.Properties.Target.DeadLetterConfig?.Arn));
    // The one-time schedules' queues, which the producers' and the breaker function's requests name.
    for (const [id] of queues.filter(([id]) =>
      ['JobProducersSchedulerDeadLetterQueue', 'CircuitBreakersProbeScheduleDeadLetterQueue'].some((kind) =>
        id.includes(kind),
      ),
    ))
      deadLetterQueueIds.add(id);
    const watched = new Set(
      ofType('AWS::CloudWatch::Alarm')
        .filter(([, a]) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')
        .map(([, a]) => getAttId(a.Properties.Dimensions?.[0]?.Value)),
    );
    expect(queues.length).toBeGreaterThan(10);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      const denies = ofType('AWS::SQS::QueuePolicy')
        .filter(([, p]) => list(p.Properties.Queues).some((q) => refId(q) === id))
        .flatMap(([, p]) => list(p.Properties.PolicyDocument.Statement) as Statement[])
        .filter(
          (s) =>
            s.Effect === 'Deny' &&
            JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}' &&
            list(s.Action).includes('sqs:*') &&
            getAttId(s.Resource) === id,
        );
      expect(denies, id).toHaveLength(1);
      if (deadLetterQueueIds.has(id)) expect(watched.has(id), `no alarm on ${id}`).toBe(true);
      else expect(getAttId(queue.Properties.RedrivePolicy?.deadLetterTargetArn), id).toBeDefined();
    }
  });

  it('encrypts every bucket, table, topic and delivery stream, and refuses any bucket or topic request without TLS or from the public', () => {
    const refusesPlainHttp = (policyType: string, key: string, id: string) =>
      ofType(policyType)
        .filter(([, p]) => list(p.Properties[key]).some((b) => refId(b) === id))
        .flatMap(([, p]) => list(p.Properties.PolicyDocument.Statement) as Statement[])
        .some(
          (s) =>
            s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
        );
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(2);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.BucketEncryption?.ServerSideEncryptionConfiguration, id).toHaveLength(1);
      expect(bucket.Properties.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(refusesPlainHttp('AWS::S3::BucketPolicy', 'Bucket', id), id).toBe(true);
    }
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(2);
    for (const [id, table] of tables)
      expect(table.Properties.SSESpecification, id).toEqual({ SSEEnabled: true });
    // The alarm topic carries no event data and is acknowledged for AwsSolutions-SNS2 (see NAG_ACKNOWLEDGEMENTS).
    for (const [id] of ofType('AWS::SNS::Topic'))
      expect(refusesPlainHttp('AWS::SNS::TopicPolicy', 'Topics', id), id).toBe(true);
    for (const [id, stream] of ofType('AWS::KinesisFirehose::DeliveryStream'))
      expect(stream.Properties.DeliveryStreamEncryptionConfigurationInput, id).toBeDefined();
  });

  it("lets each schedule's role send to the queue it targets and to its dead-letter queue, trusted only by Scheduler", () => {
    const schedules = ofType('AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(2);
    for (const [id, schedule] of schedules) {
      const target = schedule.Properties.Target;
      const roleId = getAttId(target.RoleArn) ?? '';
      expect(resources[roleId]?.Properties.AssumeRolePolicyDocument.Statement, id).toEqual([
        expect.objectContaining({
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnEquals: { 'aws:SourceArn': expect.anything() },
          },
        }),
      ]);
      expect(roleMay(roleId, 'sqs:SendMessage', target.Arn), id).toBe(true);
      expect(roleMay(roleId, 'sqs:SendMessage', target.DeadLetterConfig.Arn), id).toBe(true);
    }
  });

  it('gives every function a log group with a retention, and names every resource it may use but X-Ray', () => {
    const functions = ofType('AWS::Lambda::Function');
    // ingest, four consumers, the jobs endpoint, the circuit breaker and the app's producer
    expect(functions).toHaveLength(8);
    for (const [id, fn] of functions) {
      const roleId = getAttId(fn.Properties.Role) ?? '';
      for (const s of roleStatements(roleId)) {
        if (!list(s.Resource).includes('*')) continue;
        expect(list(s.Action).sort(), id).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
      if (id.startsWith('AppProducer')) continue;
      const logGroupId = refId(fn.Properties.LoggingConfig?.LogGroup) ?? '';
      expect(resources[logGroupId]?.Type, id).toBe('AWS::Logs::LogGroup');
      expect(resources[logGroupId]?.Properties.RetentionInDays, id).toBe(30);
    }
    for (const [id, group] of ofType('AWS::Logs::LogGroup'))
      expect(group.Properties.RetentionInDays, id).toBeGreaterThan(0);
  });

  it("names every function's environment variables as Lambda accepts them, none of them one Lambda sets itself", () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, fn] of functions) {
      const variables = fn.Properties.Environment?.Variables ?? {};
      expect(Object.keys(variables).length, id).toBeGreaterThan(0);
      expect(lambdaEnvironmentViolations(variables), id).toEqual([]);
    }
  });

  it('reads every signing secret and the jobs token with a grant on that secret, and keeps them on stack deletion', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    // seven created signing secrets (the stripe one exists already) and the jobs token
    expect(secrets).toHaveLength(8);
    for (const [id, secret] of secrets) {
      expect([secret.DeletionPolicy, secret.UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
      const readers = ofType('AWS::IAM::Policy').filter(([, p]) =>
        (list(p.Properties.PolicyDocument.Statement) as Statement[]).some(
          (s) =>
            list(s.Action).includes('secretsmanager:GetSecretValue') &&
            list(s.Resource).some((r) => refId(r) === id),
        ),
      );
      expect(readers, id).toHaveLength(1);
    }
  });

  it('throttles the API stage every route shares', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    expect(stages[0]?.[1].Properties.DefaultRouteSettings).toEqual({
      ThrottlingBurstLimit: 1000,
      ThrottlingRateLimit: 1000,
    });
    expect(ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey)).toEqual([
      'ANY /webhooks/{source}',
      'POST /jobs/{queue}',
    ]);
  });

  it("is described in full by the README's Outputs row, which names no output the stack does not declare", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const row = readme.split('\n').find((line) => line.startsWith('| Outputs |')) ?? '';
    // An output per source, queue or schedule is named by its kind: `QueueUrl<Queue>` for `QueueUrlEvents`.
    const named = [...row.matchAll(/`([A-Z][A-Za-z]*)(<[A-Za-z]+>)?`/g)].map(([, name, per]) => ({
      name: name ?? '',
      per: per !== undefined,
    }));
    const namedBy = (key: string) =>
      named.some(({ name, per }) => (per ? key.startsWith(name) && key.length > name.length : key === name));
    expect(created.outputs.length).toBeGreaterThan(20);
    expect(created.outputs.filter((key) => !namedBy(key))).toEqual([]);
    // Every name the row gives is one the stack declares: a stack-wide output the code names, or an output it emits.
    const declared = (name: string) =>
      (Object.values(STACK_OUTPUTS) as string[]).includes(name) ||
      created.outputs.some((key) => key.startsWith(name)) ||
      // The maximal configuration forwards no queue: forward-template.test.ts sees that output.
      name === 'ForwardSecretId';
    expect(named.map((n) => n.name).filter((name) => !declared(name))).toEqual([]);
  });
});
