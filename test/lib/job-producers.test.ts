/**
 * What `grantSend(fn, queue)` lets a producer function do, walked in the synthesized template: exactly send to
 * that queue (plus its job records and payloads), scheduler actions only with delays, and a scheduler role that
 * can only send to its queue.
 */

import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  jobScheduleNamePrefix,
  PRODUCER_CONFIG_ENV,
  producerQueueEnvName,
} from '../../lambda/shared/producer-config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { exampleResolved, pipelineTemplate, testApp } from '../helpers/cdk';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

function producerStack(delays: boolean) {
  const config = exampleResolved();
  const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
  const fn = new lambda.Function(stack, 'Producer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
  });
  stack.grantSend(fn, 'events', { delays });
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
        'dynamodb:DeleteItem',
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
    expect(Object.keys(variables).sort()).toEqual(
      [PRODUCER_CONFIG_ENV, producerQueueEnvName('events')].sort(),
    );
  });

  it('adds scheduler actions on the stack’s job schedules and passing the queue’s scheduler role with delays', () => {
    const { stack, fn, template, logicalId } = producerStack(true);
    const statements = statementsOf(template, logicalId(fn.role as never));
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining(['iam:PassRole', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule']),
    );
    expect(actionsOf(statements)).toHaveLength(9);
    const schedule = statements.find((s) => JSON.stringify(s.Action).includes('scheduler:'));
    expect(JSON.stringify(schedule?.Resource)).toContain(
      `schedule/default/${jobScheduleNamePrefix(stack.stackName)}*`,
    );
    const schedulerRole = stack.jobProducers?.schedulerRole('events');
    const pass = statements.find((s) => s.Action === 'iam:PassRole');
    expect(pass?.Resource).toEqual({ 'Fn::GetAtt': [logicalId(schedulerRole as never), 'Arn'] });
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  it('tells the producer how long the payload bucket keeps a payload, which a delayed job’s must outlive', () => {
    const { fn, template, logicalId } = producerStack(true);
    const variables = template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables;
    const expiryDays = exampleResolved().payloads.expiry.toDays();
    expect(JSON.stringify(variables[PRODUCER_CONFIG_ENV])).toContain(
      `\\"expirySeconds\\":${expiryDays * 86_400}`,
    );
  });

  it('gives the scheduler role nothing but send to its own queue, trusted only by Scheduler', () => {
    const { stack, template, logicalId } = producerStack(true);
    const roleId = logicalId(stack.jobProducers?.schedulerRole('events') as never);
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    const statements = statementsOf(template, roleId);
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(stack.queues.events?.queue as never), 'Arn'] },
      }),
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('refuses a queue that is not configured, naming the ones that are', () => {
    const { stack, fn } = producerStack(false);
    expect(() => stack.grantSend(fn, 'nope')).toThrow(
      /"nope" is not a configured queue; use one of: events, orders/,
    );
  });

  it('lets consumers update job records only', () => {
    const { template } = pipelineTemplate();
    const consumerPolicies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    expect(
      consumerPolicies.some((s) =>
        JSON.stringify(s.Condition ?? {}).includes('"dynamodb:LeadingKeys":["job#*"]'),
      ),
    ).toBe(true);
  });
});
