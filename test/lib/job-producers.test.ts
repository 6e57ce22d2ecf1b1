/**
 * What `grantSend(fn, queue)` lets a producer function do, walked in the synthesized template: exactly send to
 * that queue (plus its job records and payloads), scheduler actions only with delays, and a scheduler role that
 * can only send to its queue.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import exampleConfig from '../../hookline.config';
import { createProducer } from '../../lambda/producer';
import { discoverProducer } from '../../lambda/producer/discover';
import { defineJob } from '../../lambda/shared/job';
import {
  jobScheduleNamePrefix,
  PRODUCER_CONFIG_ENV,
  PRODUCER_QUEUES_ENV,
} from '../../lambda/shared/producer-config';
import { deadLetterQueueOf, JOB_SCHEDULES } from '../../lib/cli/target';
import { DEFAULTS } from '../../lib/config';
import { type GrantSendOptions, JobProducers } from '../../lib/job-producers';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import {
  exampleResolved,
  pipelineTemplate,
  renderIntrinsics,
  resolveAsDeployed,
  testApp,
} from '../helpers/cdk';
import { summedSeriesOf } from '../helpers/dashboard';
import { deployedTarget, US_EAST_1 } from '../helpers/deployed-target';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
type Json = ReturnType<Template['toJSON']>;

const reportJob = defineJob('report.build', z.object({ n: z.number() }), { queue: 'events' });
const fakeClientConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

/** A client that answers every command with `{}` (after showing it to `see`), and calls nothing. */
function answering<C extends { send: unknown }>(client: C, see: (command: unknown) => void = () => {}): C {
  client.send = (async (command: unknown) => {
    see(command);
    return {};
  }) as never;
  return client;
}

function producerFunction(stack: WebhookPipelineStack, id = 'Producer') {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
}

function producerStack(
  delays: boolean,
  config = exampleResolved(),
  also: (stack: WebhookPipelineStack) => void = () => {},
  options: Omit<GrantSendOptions, 'delays'> = {},
) {
  const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
  const fn = producerFunction(stack);
  stack.grantSend(fn, 'events', { delays, ...options });
  also(stack);
  const template = Template.fromStack(stack);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  return { stack, fn, template, logicalId };
}

/** Every statement of the policies attached to a role. */
function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

describe('grantSend', () => {
  it('grants exactly send to the queue, the job records and the job payloads without delays', {
    timeout: 90_000,
  }, () => {
    const { stack, fn, template, logicalId } = producerStack(false);
    const statements = statementsOf(template, logicalId(fn.role as never));
    expect(actionsOf(statements)).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        's3:PutObject',
        'sqs:SendMessage',
      ].sort(),
    );
    const queueArn = { 'Fn::GetAtt': [logicalId(stack.queues.events?.queue as never), 'Arn'] };
    expect(statements.find((s) => s.Action === 'sqs:SendMessage')?.Resource).toEqual(queueArn);
    expect(JSON.stringify(statements.find((s) => s.Action === 's3:PutObject')?.Resource)).toContain(
      '/payloads/job/*',
    );
    expect(statements.find((s) => JSON.stringify(s.Action).includes('dynamodb'))?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['job#*'] },
    });
    const variables = template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual([PRODUCER_CONFIG_ENV, PRODUCER_QUEUES_ENV].sort());
  });

  it('leaves out deleting schedules for a function granted delays that never cancels a job', () => {
    const { fn, template, logicalId } = producerStack(true, undefined, undefined, { cancels: false });
    const scheduling = actionsOf(statementsOf(template, logicalId(fn.role as never))).filter((a) =>
      a.startsWith('scheduler:'),
    );
    expect(scheduling).toEqual(['scheduler:CreateSchedule']);
  });

  it('lets every producer function granted delays delete job schedules only where the pipeline keeps job records', {
    timeout: 90_000,
  }, () => {
    // Cancelling a job and debouncing a send are a producer's only deletes, and both need the job records (the
    // dedupe table): without it they are refused, so a delete grant would be one nothing uses.
    const deletesOf = (dedupe: boolean) => {
      const config = exampleResolved({
        jobs: { endpoint: { queues: ['events'] } },
        ...(dedupe ? {} : { dedupe: { enabled: false } }),
      });
      const { stack, template } = producerStack(true, config);
      const json = template.toJSON();
      const resources = Object.entries(json.Resources as Record<string, Json>);
      const producers = resources.filter(
        ([, r]) =>
          r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[PRODUCER_QUEUES_ENV],
      );
      const schedules = `schedule/default/${jobScheduleNamePrefix(stack.stackName)}*`;
      return producers.map(([id, fn]) => {
        const role = fn.Properties.Role['Fn::GetAtt'][0] as string;
        // Past the inline policy's size, CDK moves statements into managed policies of the same role.
        const statements = resources
          .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
          .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(role))
          .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
        const onSchedules = (action: string) =>
          statements
            .filter((s) => actionsOf([s]).includes(action))
            .map((s) => JSON.stringify(s.Resource).includes(schedules));
        return {
          id,
          creates: onSchedules('scheduler:CreateSchedule'),
          deletes: onSchedules('scheduler:DeleteSchedule'),
        };
      });
    };
    const kept = deletesOf(true);
    // The app's function and the jobs endpoint's.
    expect(kept).toHaveLength(2);
    expect(kept.map((p) => p.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Producer/), expect.stringMatching(/JobsEndpoint/)]),
    );
    for (const producer of kept) expect(producer).toMatchObject({ creates: [true], deletes: [true] });
    const none = deletesOf(false);
    expect(none).toHaveLength(2);
    for (const producer of none) expect(producer).toMatchObject({ creates: [true], deletes: [] });
  });

  it('adds scheduler actions on the stack’s job schedules and passing the queue’s scheduler role with delays', () => {
    const { stack, fn, template, logicalId } = producerStack(true);
    const statements = statementsOf(template, logicalId(fn.role as never));
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining(['iam:PassRole', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule']),
    );
    expect(actionsOf(statements)).toHaveLength(8);
    const schedule = statements.find((s) => JSON.stringify(s.Action).includes('scheduler:'));
    expect(JSON.stringify(schedule?.Resource)).toContain(
      `schedule/default/${jobScheduleNamePrefix(stack.stackName)}*`,
    );
    const schedulerRole = stack.jobProducers?.schedulerRole('events');
    const pass = statements.find((s) => s.Action === 'iam:PassRole');
    expect(pass?.Resource).toEqual({ 'Fn::GetAtt': [logicalId(schedulerRole as never), 'Arn'] });
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  it.each([
    ['aws', 'eu-west-1', 'amazonaws.com'],
    ['aws-cn', 'cn-north-1', 'amazonaws.com.cn'],
  ])(
    'points the producer at the very queue and scheduler role its policies name (%s)',
    (partition, region, urlSuffix) => {
      const { stack, fn, template, logicalId } = producerStack(true);
      const json = template.toJSON();
      const at = { partition, region, account: '123456789012', urlSuffix };
      const deployed = (value: unknown) => resolveAsDeployed(value, json, stack.stackName, at);
      const variables = json.Resources[logicalId(fn)].Properties.Environment.Variables as Record<
        string,
        unknown
      >;
      const env = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, deployed(value)]),
      );
      const events = discoverProducer({ env, local: false }).queues.events;
      const queueId = logicalId(stack.queues.events?.queue as never);
      const statements = statementsOf(template, logicalId(fn.role as never));
      const send = statements.find((s) => s.Action === 'sqs:SendMessage');
      const pass = statements.find((s) => s.Action === 'iam:PassRole');
      expect(events?.url).toBe(deployed({ Ref: queueId }));
      expect(events?.url).toContain(`https://sqs.${region}.${urlSuffix}/`);
      expect(events?.arn).toBe(deployed(send?.Resource));
      expect(events?.schedulerRoleArn).toBe(deployed(pass?.Resource));
      expect(events?.schedulerRoleArn).toMatch(new RegExp(`^arn:${partition}:iam::123456789012:role/`));
      expect(events?.fifo).toBe(false);
      // A role's ARN holds its path, which hookline's scheduler roles leave at the default `/`.
      const roleId = logicalId(stack.jobProducers?.schedulerRole('events') as never);
      expect(json.Resources[roleId].Properties.Path).toBeUndefined();
    },
  );

  it('keeps the job schedules of two stacks in one account apart when their names share their first 24 characters', () => {
    // What each stack's producer may touch (its grant) and the names it creates (its settings), as deployed.
    const scheduleNamesOf = (stackName: string) => {
      const { stack, fn, template, logicalId } = producerStack(true, exampleResolved({ stackName }));
      const json = template.toJSON();
      const deployed = (value: unknown) => resolveAsDeployed(value, json, stack.stackName, US_EAST_1);
      const variables = json.Resources[logicalId(fn)].Properties.Environment.Variables as Record<
        string,
        unknown
      >;
      const env = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, deployed(value)]),
      );
      const statements = statementsOf(template, logicalId(fn.role as never));
      const grant = deployed(
        statements.find((s) => JSON.stringify(s.Action).includes('scheduler:CreateSchedule'))?.Resource,
      );
      const granted = grant.replace(/^.*:schedule\/default\//, '').replace(/\*$/, '');
      return { granted, created: discoverProducer({ env, local: false }).settings.scheduler?.namePrefix };
    };
    const payments = scheduleNamesOf('platform-webhook-pipeline-payments');
    const shipping = scheduleNamesOf('platform-webhook-pipeline-shipping');
    expect(payments.created?.startsWith(payments.granted)).toBe(true);
    expect(shipping.created?.startsWith(shipping.granted)).toBe(true);
    expect(shipping.created?.startsWith(payments.granted)).toBe(false);
    expect(payments.created?.startsWith(shipping.granted)).toBe(false);
  });

  it('tells the producer the dedupe table and window, and the payload bucket and inline limit, its grants cover', () => {
    const config = exampleResolved({ payloads: { inlineLimitBytes: 200_000 } });
    const { stack, fn, template, logicalId } = producerStack(false, config);
    const json = template.toJSON();
    const deployed = (value: unknown) => resolveAsDeployed(value, json, stack.stackName, US_EAST_1);
    const variables = json.Resources[logicalId(fn)].Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    const env = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, deployed(value)]));
    const { settings } = discoverProducer({ env, local: false });
    const statements = statementsOf(template, logicalId(fn.role as never));
    const tableGrant = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb:PutItem'));
    const [tableId] = (tableGrant?.Resource as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'] ?? [];
    const bucketGrant = statements.find((s) => s.Action === 's3:PutObject');
    expect(settings.dedupe).toEqual({
      tableName: deployed({ Ref: tableId }),
      ttlSeconds: config.dedupe?.ttl.toSeconds(),
    });
    const bucketId = logicalId(stack.payloadBucket as never);
    expect(settings.payloads?.bucket).toBe(deployed({ Ref: bucketId }));
    expect(JSON.stringify(bucketGrant?.Resource)).toContain(`"${bucketId}"`);
    expect(settings.payloads?.inlineLimitBytes).toBe(200_000);
  });

  it('gives every function that delays jobs to one queue the same scheduler role, which each may pass', () => {
    const { stack, template, logicalId } = producerStack(true, exampleResolved(), (s) =>
      s.grantSend(producerFunction(s, 'SecondProducer'), 'events', { delays: true }),
    );
    const roleId = logicalId(stack.jobProducers?.schedulerRole('events') as never);
    // The configured schedules have roles of their own; these are the one-time job schedules' ones.
    const schedulerRoles = Object.entries(template.findResources('AWS::IAM::Role')).filter(
      ([, r]) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com') &&
        String(r.Properties.Description).startsWith('hookline one-time job schedules'),
    );
    expect(schedulerRoles.map(([id]) => id)).toEqual([roleId]);
    for (const id of ['Producer', 'SecondProducer']) {
      const fn = stack.node.findChild(id) as lambda.Function;
      const pass = statementsOf(template, logicalId(fn.role as never)).find(
        (s) => s.Action === 'iam:PassRole',
      );
      expect(pass?.Resource).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
  });

  it('gives the scheduler roles of two queues granted delays one dead-letter queue, which each may send to', () => {
    const config = exampleResolved({ queues: { ...exampleConfig.queues, audits: {} } });
    const { stack, template, logicalId } = producerStack(true, config, (s) =>
      s.grantSend(producerFunction(s, 'AuditsProducer'), 'audits', { delays: true }),
    );
    const deadLetterQueueId = logicalId(stack.jobProducers?.schedulerDeadLetterQueue as never);
    const scheduleDeadLetterQueues = Object.entries(template.findResources('AWS::SQS::Queue')).filter(
      ([id]) => id.includes('SchedulerDeadLetterQueue'),
    );
    expect(scheduleDeadLetterQueues.map(([id]) => id)).toEqual([deadLetterQueueId]);
    for (const queue of ['events', 'audits']) {
      const roleId = logicalId(stack.jobProducers?.schedulerRole(queue) as never);
      expect(statementsOf(template, roleId)).toEqual([
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Resource: [
            { 'Fn::GetAtt': [logicalId(stack.queues[queue]?.queue as never), 'Arn'] },
            { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
          ],
        }),
      ]);
    }
  });

  it('tells the producer how long the payload bucket keeps a payload, which a delayed job’s must outlive', () => {
    const { fn, template, logicalId } = producerStack(true);
    const variables = template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
    const expiryDays = exampleResolved().payloads.expiry.toDays();
    expect(JSON.stringify(variables[PRODUCER_CONFIG_ENV])).toContain(
      `\\"expirySeconds\\":${expiryDays * 86_400}`,
    );
  });

  it("gives the scheduler role nothing but send to its own queue and its schedules' dead-letter queue, trusted only by Scheduler", () => {
    const { stack, template, logicalId } = producerStack(true);
    const roleId = logicalId(stack.jobProducers?.schedulerRole('events') as never);
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': expect.anything() },
        },
      }),
    ]);
    // The producer names no group, so its schedules are in the default one.
    expect(
      renderIntrinsics(
        role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnEquals['aws:SourceArn'],
      ),
    ).toBe('arn:aws:scheduler:resolved-AWS::Region:resolved-AWS::AccountId:schedule-group/default');
    const statements = statementsOf(template, roleId);
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: [
          { 'Fn::GetAtt': [logicalId(stack.queues.events?.queue as never), 'Arn'] },
          {
            'Fn::GetAtt': [logicalId(stack.jobProducers?.schedulerDeadLetterQueue as never), 'Arn'],
          },
        ],
      }),
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('keeps a delayed job Scheduler cannot deliver in a dead-letter queue its role may send to, encrypted, TLS-only and alarmed', async () => {
    // GIVEN a function granted delays after the pipeline was built, as an app grants its own producer
    const { stack, fn, template, logicalId } = producerStack(true);
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
    const variables = resources[logicalId(fn)]?.Properties.Environment.Variables as Record<string, unknown>;
    const env = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, renderIntrinsics(stack.resolve(value))]),
    );
    // WHEN the producer, reading that environment, sends a job two days out
    const created: CreateScheduleCommandInput[] = [];
    const scheduler = answering(new SchedulerClient(fakeClientConfig), (command) => {
      if (command instanceof CreateScheduleCommand) created.push(command.input);
    });
    const producer = createProducer({
      env,
      clients: {
        scheduler,
        sqs: answering(new SQSClient(fakeClientConfig)),
        s3: answering(new S3Client(fakeClientConfig)),
        dynamodb: answering(new DynamoDBClient(fakeClientConfig)),
      },
    });
    await producer.send(reportJob, { n: 1 }, { delay: { days: 2 } });
    // THEN its schedule names a dead-letter queue of the stack: SSE, and refusing requests without TLS
    expect(created).toHaveLength(1);
    const target = created[0]?.Target;
    const deadLetterQueueId = /^resolved-(.+)\.Arn$/.exec(target?.DeadLetterConfig?.Arn ?? '')?.[1] ?? '';
    expect(resources[deadLetterQueueId]?.Type).toBe('AWS::SQS::Queue');
    expect(resources[deadLetterQueueId]?.Properties.SqsManagedSseEnabled).toBe(true);
    // kept as long as SQS keeps anything, for the operator to find
    expect(resources[deadLetterQueueId]?.Properties.MessageRetentionPeriod).toBe(
      DEFAULTS.scheduleDeadLetterRetentionPeriod.toSeconds(),
    );
    const queuePolicyStatements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::SQS::QueuePolicy')
      .filter((r) => JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: deadLetterQueueId }]))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Json[]);
    expect(queuePolicyStatements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    // AND the role the schedule runs as may send there
    const roleId = /:role\/resolved-(.+)$/.exec(target?.RoleArn ?? '')?.[1] ?? '';
    const sendable = statementsOf(template, roleId)
      .filter((s) => [s.Action].flat().includes('sqs:SendMessage'))
      .flatMap((s) => [s.Resource].flat());
    expect(sendable).toContainEqual({ 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] });
    // AND an alarm fires on its first message, notifying the pipeline's topic
    const alarms = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r.Properties.Dimensions) ===
          JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterQueueId, 'QueueName'] } }]),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      AlarmActions: [{ Ref: logicalId(stack.alarms.topic as never) }],
    });
  });

  it('refuses delays on a FIFO queue, whose jobs the producer never schedules, granting nothing', () => {
    const { stack, fn, template: before } = producerStack(false);
    expect(() => stack.grantSend(fn, 'orders', { delays: true })).toThrow(
      /"orders" is a FIFO queue, and SQS cannot delay a single FIFO message.*Fix: grantSend\(fn, 'orders'\) without \{ delays: true \}/,
    );
    expect(stack.jobProducers?.schedulerRole('orders')).toBeUndefined();
    expect(Template.fromStack(stack).toJSON()).toEqual(before.toJSON());
  });

  it('refuses a queue that is not configured, naming the ones that are and the one a misspelt name meant', () => {
    const { stack, fn } = producerStack(false);
    expect(() => stack.grantSend(fn, 'nope')).toThrow(
      /queueName: is not a configured queue \(got "nope"\)\. Fix: use one of: events, orders/,
    );
    expect(() => stack.grantSend(fn, 'order')).toThrow(
      /queueName: is not a configured queue: did you mean orders\? \(got "order"\)\. Fix: use one of: events, orders/,
    );
    // A mistake in the app: printed by `cdk synth` as the listing alone, without hookline's stack frames.
    expect(() => stack.grantSend(fn, 'nope')).toThrow(
      expect.objectContaining({ stack: expect.not.stringMatching(/\n\s+at /) }),
    );
  });

  it("refuses a function another pipeline granted, whose environment would name the second's queues and drop the first's", () => {
    // GIVEN dev and prod pipelines in one app, and a producer in a stack of its own that dev granted
    const app = testApp();
    const [dev, prod] = ['HooklineDev', 'HooklineProd'].map(
      (name) => new WebhookPipelineStack(app, name, { config: exampleResolved() }),
    ) as [WebhookPipelineStack, WebhookPipelineStack];
    const signup = new Stack(app, 'Signup');
    const fn = new lambda.Function(signup, 'Producer', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {}'),
    });
    dev.grantSend(fn, 'events');
    // WHEN prod grants it too
    const refused = (() => {
      try {
        prod.grantSend(fn, 'events');
      } catch (error) {
        return error as Error;
      }
    })();
    // THEN that is a mistake in the app, named with both pipelines and the fix, and the producer still sends to dev
    expect(refused?.message).toMatch(
      /Signup\/Producer: already sends jobs to the pipeline HooklineDev\/Default \(stack HooklineDev\): .* a grant of the pipeline HooklineProd\/Default \(stack HooklineProd\) would replace them \(got "events"\)\. Fix: give each pipeline a producer \(a function, or a container\) of its own/,
    );
    expect(refused?.stack).not.toMatch(/\n\s+at /);
    const variables = JSON.stringify(
      Object.values(Template.fromStack(signup).findResources('AWS::Lambda::Function'))[0]?.Properties
        .Environment,
    );
    expect(variables).toContain('HooklineDev:ExportsOutput');
    expect(variables).not.toContain('HooklineProd');
    // A function of its own for prod is granted as usual.
    expect(() => prod.grantSend(producerFunction(prod, 'ProdProducer'), 'events')).not.toThrow();
  }, 120_000);

  it("refuses a producer in a stack of another region or account, naming both stacks and the pipeline's env", () => {
    // GIVEN a pipeline in us-east-1 and producers in stacks of their own
    const app = testApp();
    const env = { account: '111111111111', region: 'us-east-1' };
    const pipeline = new WebhookPipelineStack(app, 'Hookline', { config: exampleResolved(), env });
    const producerIn = (name: string, stackEnv?: { account: string; region: string }) =>
      new lambda.Function(new Stack(app, name, stackEnv ? { env: stackEnv } : {}), 'Producer', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => {}'),
      });
    // WHEN one is in another region, another in another account: THEN the grant is refused, naming the fix
    expect(() => pipeline.grantSend(producerIn('Signup', { ...env, region: 'eu-west-1' }), 'events')).toThrow(
      `grantSend Signup/Producer:\n  - Signup/Producer: is in stack Signup (account 111111111111, region eu-west-1), and the pipeline in stack Hookline (account 111111111111, region us-east-1): a producer sends to the pipeline's queues, dedupe table and payload bucket, which a stack of another account or region cannot reference (got "events"). Fix: define the producer in a stack with the pipeline's env ({ account: '111111111111', region: 'us-east-1' }), such as the pipeline's own`,
    );
    expect(() =>
      pipeline.grantSend(producerIn('Billing', { ...env, account: '222222222222' }), 'events'),
    ).toThrow(/Billing\/Producer: is in stack Billing \(account 222222222222, region us-east-1\)/);
    // A stack of the same env, or one deployed wherever it is told (no env), is granted as usual.
    expect(() => pipeline.grantSend(producerIn('Orders', env), 'events')).not.toThrow();
    expect(() => pipeline.grantSend(producerIn('Anywhere'), 'events')).not.toThrow();
  });

  it('lets consumers read and update job records only, never put or delete one', () => {
    const { stack, template } = pipelineTemplate();
    const names = Object.keys(stack.consumers);
    expect(names.length).toBeGreaterThan(1);
    for (const name of names) {
      const role = stack.consumers[name]?.consumerFunction.role?.node.defaultChild as never;
      const statements = Object.values(
        template.findResources('AWS::IAM::Policy', {
          Properties: { Roles: [{ Ref: stack.getLogicalId(role) }] },
        }),
      ).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
      // The condition also names its held-receive counts (`job.held#*`), which it reads and updates too.
      const onJobRecords = statements.filter((s) =>
        JSON.stringify(s.Condition ?? {}).includes('"dynamodb:LeadingKeys":["job#*"'),
      );
      expect(onJobRecords.flatMap((s) => [s.Action].flat()).sort(), name).toEqual([
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ]);
    }
  });
});

describe('JobProducers on its own', () => {
  it('refuses an inline limit that leaves no room under the SQS limit for the reason a dead-lettered job gets', () => {
    const stack = new Stack(testApp(), 'Alone');
    const make = (id: string, inlineLimitBytes: number) =>
      new JobProducers(stack, id, { scheduleNamePrefix: 'alone-job-', inlineLimitBytes });
    for (const [i, tooLarge] of [1_048_576, DEFAULTS.inlineLimitBytes + 1, 512, 2048.5].entries()) {
      expect(() => make(`Bad${i}`, tooLarge)).toThrow(
        new RegExp(
          `Invalid JobProducers Alone/Bad${i}:\\n  - inlineLimitBytes: between 1024 and ${DEFAULTS.inlineLimitBytes} bytes: .*\\(got ${tooLarge}\\)\\. Fix: use ${DEFAULTS.inlineLimitBytes}`,
        ),
      );
    }
    expect(() => make('AtTheLimit', DEFAULTS.inlineLimitBytes)).not.toThrow();
  });

  it('takes an inline limit known only at deploy time (a parameter) as given', () => {
    const stack = new Stack(testApp(), 'AloneTokens');
    const inlineLimitBytes = new CfnParameter(stack, 'InlineLimit', { type: 'Number' }).valueAsNumber;
    expect(
      () => new JobProducers(stack, 'Producers', { scheduleNamePrefix: 'alone-job-', inlineLimitBytes }),
    ).not.toThrow();
  });
});

describe("the one-time job schedules' dead-letter queue", () => {
  /** The two orders an app can grant delays in: while the pipeline is built, or after it, as an app's own producer. */
  const grantOrders: [string, () => WebhookPipelineStack][] = [
    [
      'granted while the pipeline is built (the jobs endpoint with delays)',
      () => {
        const config = exampleResolved({ jobs: { endpoint: { queues: ['events'], delays: true } } });
        return new WebhookPipelineStack(testApp(), config.stackName, { config });
      },
    ],
    ['granted after the pipeline is built (an app’s own producer)', () => producerStack(true).stack],
  ];

  it.each(grantOrders)(
    'is alarmed, charted on the dashboard and found by the CLI when %s',
    {
      timeout: 90_000,
    },
    async (_order, build) => {
      const stack = build();
      const template = Template.fromStack(stack).toJSON();
      const resources = template.Resources as Record<string, { Type: string; Properties: Json }>;
      const queue = stack.jobProducers?.schedulerDeadLetterQueue;
      expect(queue).toBeDefined();
      const queueId = stack.getLogicalId(queue?.node.defaultChild as never);
      // An alarm on its first message.
      const alarms = Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::CloudWatch::Alarm' &&
          r.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(r.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
      );
      expect(alarms).toHaveLength(1);
      // Its depth on the dashboard's dead-letter graph, with the others.
      const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
      expect(dashboards).toHaveLength(1);
      const body = JSON.parse(renderIntrinsics(dashboards[0]?.Properties.DashboardBody)) as {
        widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
      };
      const deadLetterGraph = body.widgets.filter((w) => w.properties.title === 'Dead-letter queue depth');
      expect(deadLetterGraph).toHaveLength(1);
      expect(summedSeriesOf(deadLetterGraph[0]?.properties.metrics ?? [])).toContainEqual({
        label: 'job schedules DLQ',
        terms: ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible'].map(
          (metric) => ({
            metric,
            dimension: `resolved-${queueId}.QueueName`,
            stat: 'Maximum',
            period: 60,
          }),
        ),
      });
      // Outputs the CLI finds it by: `hookline failed list job_schedules` reads that very queue.
      const target = await deployedTarget(template, stack.stackName, exampleResolved());
      const deployed = (value: unknown) => resolveAsDeployed(value, template, stack.stackName, US_EAST_1);
      expect(deadLetterQueueOf(target, JOB_SCHEDULES)).toEqual({
        name: JOB_SCHEDULES,
        holds: 'one-time jobs Scheduler could not deliver',
        deadLetterUrl: deployed({ Ref: queueId }),
        deadLetterArn: deployed({ 'Fn::GetAtt': [queueId, 'Arn'] }),
      });
    },
  );

  it('is not made, charted or published while no grant allows delays', { timeout: 90_000 }, () => {
    const { stack, template } = producerStack(false);
    expect(stack.jobProducers?.schedulerDeadLetterQueue).toBeUndefined();
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('job schedules DLQ');
    expect(json).not.toContain('JobSchedulesDeadLetterQueue');
  });
});

describe('grantSend with flows', () => {
  const sendTargets = (template: Template, roleId: string) =>
    statementsOf(template, roleId)
      .filter((s) => actionsOf([s]).includes('sqs:SendMessage'))
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => JSON.stringify(r));

  it("lets the consumer of each queue granted with flows send to every such queue's parents, and no other consumer", () => {
    const { stack, template, logicalId } = producerStack(false, exampleResolved(), (s) => {
      s.grantSend(producerFunction(s, 'FlowProducer'), 'events', { flows: true });
    });
    const arnOf = (name: string) =>
      JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.queues[name]?.queue as never), 'Arn'] });
    const consumerRole = (name: string) => logicalId(stack.consumers[name]?.consumerFunction.role as never);
    expect(sendTargets(template, consumerRole('events'))).toContain(arnOf('events'));
    expect(sendTargets(template, consumerRole('events'))).not.toContain(arnOf('orders'));
    expect(sendTargets(template, consumerRole('orders'))).not.toContain(arnOf('events'));

    const both = producerStack(false, exampleResolved(), (s) => {
      s.grantSend(producerFunction(s, 'FlowProducer'), 'events', { flows: true });
      s.grantSend(producerFunction(s, 'OrdersProducer'), 'orders', { flows: true });
    });
    const bothArn = (name: string) =>
      JSON.stringify({ 'Fn::GetAtt': [both.logicalId(both.stack.queues[name]?.queue as never), 'Arn'] });
    for (const consumer of ['events', 'orders']) {
      const role = both.logicalId(both.stack.consumers[consumer]?.consumerFunction.role as never);
      expect(sendTargets(both.template, role)).toEqual(
        expect.arrayContaining([bothArn('events'), bothArn('orders')]),
      );
    }
  });

  it('has the producer refuse a flow with a job on a queue granted without flows, naming the grant that fixes it', async () => {
    const { stack, fn, template, logicalId } = producerStack(false);
    const json = template.toJSON();
    const variables = json.Resources[logicalId(fn)].Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    const env = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [
        name,
        resolveAsDeployed(value, json, stack.stackName, US_EAST_1),
      ]),
    );
    const producer = createProducer({
      env,
      local: false,
      clients: {
        sqs: answering(new SQSClient(fakeClientConfig)),
        dynamodb: answering(new DynamoDBClient(fakeClientConfig)),
      },
    });
    await expect(
      producer.sendFlow({
        job: reportJob,
        payload: { n: 1 },
        children: [{ job: reportJob, payload: { n: 2 } }],
      }),
    ).rejects.toThrow(
      `job report.build: queue "events" was granted without flows, so its consumer may not send a flow's parent when its last child completes: grant it with pipeline.grantSend(fn, 'events', { flows: true })`,
    );
  });
});
