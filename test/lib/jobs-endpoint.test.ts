/**
 * The jobs endpoint in the synthesized template, walked from the route to what its function may do: the route
 * reaches a function that may send to the configured queues only, read the token secret only, and pass the
 * scheduler role only when delays are on; the secret outlives the stack; cdk-nag stays clean.
 */
import { App, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { discoverProducer } from '../../lambda/producer/discover';
import type { HooklineConfig } from '../../lib/config';
import { HooklineConfigError } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { exampleResolved, pipelineTemplate, resolveAsDeployed } from '../helpers/cdk';

type Json = ReturnType<Template['toJSON']>;
type Statement = { Action: string | string[]; Resource: unknown; Condition?: Json };

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const withEndpoint = (endpoint: NonNullable<HooklineConfig['jobs']>['endpoint']) =>
  exampleResolved({ jobs: { endpoint } });

/** Route `POST /jobs/{queue}` -> its integration -> the function -> the function's role and statements. */
function walkJobsRoute(config = withEndpoint({ queues: ['events'] })) {
  const { template } = pipelineTemplate(config);
  const resources = template.toJSON().Resources as Record<string, Json>;
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const routes = of('AWS::ApiGatewayV2::Route').filter(
    ([, r]) => r.Properties.RouteKey === 'POST /jobs/{queue}',
  );
  const route = routes[0]?.[1];
  const integrationId = String(JSON.stringify(route?.Properties.Target)).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
  const integration = resources[integrationId];
  const functionId =
    String(JSON.stringify(integration?.Properties.IntegrationUri)).match(/"([^"]+)","Arn"/)?.[1] ?? '';
  const fn = resources[functionId];
  const roleId = (fn?.Properties.Role['Fn::GetAtt'][0] as string) ?? 'none';
  // Past the inline policy's size, CDK moves statements into managed overflow policies of the same role.
  const statements = [...of('AWS::IAM::Policy'), ...of('AWS::IAM::ManagedPolicy')]
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
  const byAction = (action: string) => statements.filter((s) => list(s.Action).includes(action));
  return { resources, of, routes, integration, fn, statements, byAction, template };
}

const AT = { partition: 'aws', region: 'eu-west-1', account: '123456789012', urlSuffix: 'amazonaws.com' };

/** The queues the function's producer finds in its environment, once deployed. */
function producerQueuesIn(fn: Json | undefined, template: Json) {
  const variables = (fn?.Properties.Environment.Variables ?? {}) as Record<string, unknown>;
  const stackName = exampleResolved().stackName;
  const env = Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      resolveAsDeployed(value, template, stackName, AT),
    ]),
  );
  return discoverProducer({ env, local: false }).queues;
}

const logicalIdOfType = (resources: Record<string, Json>, type: string, contains: string) =>
  Object.entries(resources).find(([id, r]) => r.Type === type && id.includes(contains))?.[0] ?? '';

describe('jobs endpoint template', () => {
  it('adds no route, function or secret unless configured', { timeout: 90_000 }, () => {
    const { routes, resources } = walkJobsRoute(exampleResolved());
    expect(routes).toEqual([]);
    expect(Object.keys(resources).filter((id) => id.includes('JobsEndpoint'))).toEqual([]);
  });

  it('routes POST /jobs/{queue} to a function that sends only to the configured queues', {
    timeout: 90_000,
  }, () => {
    const { routes, integration, fn, byAction, resources, template } = walkJobsRoute();
    expect(routes).toHaveLength(1);
    expect(integration?.Properties.PayloadFormatVersion).toBe('2.0');
    expect(fn?.Type).toBe('AWS::Lambda::Function');
    const sends = byAction('sqs:SendMessage');
    const eventsQueue = logicalIdOfType(resources, 'AWS::SQS::Queue', 'QueueEventsQueue');
    expect(sends.flatMap((s) => list(s.Resource))).toEqual([{ 'Fn::GetAtt': [eventsQueue, 'Arn'] }]);
    expect(Object.keys(producerQueuesIn(fn, template.toJSON()))).toEqual(['events']);
  });

  it("publishes the function's log group, where trace finds a job's reception", { timeout: 90_000 }, () => {
    const { template, fn } = walkJobsRoute();
    const output = template.findOutputs('JobsEndpointLogGroupName').JobsEndpointLogGroupName;
    expect(output?.Value).toEqual({ Ref: fn?.Properties.LoggingConfig.LogGroup.Ref });
  });

  it('lets the function read the token secret and no other secret, which the stack keeps on deletion', {
    timeout: 90_000,
  }, () => {
    const { byAction, resources, fn } = walkJobsRoute();
    const secretId = logicalIdOfType(resources, 'AWS::SecretsManager::Secret', 'JobsEndpointTokenSecret');
    expect(resources[secretId]?.DeletionPolicy).toBe('Retain');
    expect(resources[secretId]?.UpdateReplacePolicy).toBe('Retain');
    const reads = byAction('secretsmanager:GetSecretValue');
    expect(reads.flatMap((s) => list(s.Resource))).toEqual([{ Ref: secretId }]);
    expect(JSON.stringify(fn?.Properties.Environment)).toContain(secretId);
  });

  it("passes the scheduler role, sending only to its queue and its schedules' dead-letter queue, only when delays are on", {
    timeout: 90_000,
  }, () => {
    const on = walkJobsRoute(withEndpoint({ queues: ['events'] }));
    const passRole = on.byAction('iam:PassRole');
    expect(passRole).toHaveLength(1);
    expect(passRole[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
    const schedulerRoleId = JSON.stringify(passRole[0]?.Resource).match(/"([^"]+)","Arn"/)?.[1] ?? '';
    const schedulerStatements = on
      .of('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(schedulerRoleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    const eventsQueue = logicalIdOfType(on.resources, 'AWS::SQS::Queue', 'QueueEventsQueue');
    const deadLetterQueue = logicalIdOfType(
      on.resources,
      'AWS::SQS::Queue',
      'JobProducersSchedulerDeadLetterQueue',
    );
    expect(deadLetterQueue).not.toBe('');
    expect(schedulerStatements.map((s) => [s.Action, s.Resource])).toEqual([
      [
        'sqs:SendMessage',
        [{ 'Fn::GetAtt': [eventsQueue, 'Arn'] }, { 'Fn::GetAtt': [deadLetterQueue, 'Arn'] }],
      ],
    ]);
    expect(on.byAction('scheduler:CreateSchedule')).toHaveLength(1);

    const off = walkJobsRoute(withEndpoint({ queues: ['events'], delays: false }));
    expect(off.byAction('iam:PassRole')).toEqual([]);
    expect(off.byAction('scheduler:CreateSchedule')).toEqual([]);
    expect(off.byAction('sqs:SendMessage')).toHaveLength(1);
  });

  it('lets the function delete job schedules only where a send may be debounced: with the dedupe table', {
    timeout: 90_000,
  }, () => {
    // A debounced send deletes the schedule of the send it replaced; without the table `debounce` is refused.
    const kept = walkJobsRoute(withEndpoint({ queues: ['events'] }));
    expect(kept.byAction('scheduler:DeleteSchedule')).toHaveLength(1);

    const none = walkJobsRoute(
      exampleResolved({ jobs: { endpoint: { queues: ['events'] } }, dedupe: { enabled: false } }),
    );
    expect(none.byAction('scheduler:CreateSchedule')).toHaveLength(1);
    expect(none.byAction('scheduler:DeleteSchedule')).toEqual([]);
  });

  it('never grants scheduling for a FIFO queue, which SQS cannot delay per message', {
    timeout: 90_000,
  }, () => {
    const { byAction } = walkJobsRoute(withEndpoint({ queues: ['orders'] }));
    expect(byAction('iam:PassRole')).toEqual([]);
    expect(byAction('sqs:SendMessage')).toHaveLength(1);
  });

  it('watches the endpoint function: error and throttle alarms that notify the alarm topic, and a dashboard row', {
    timeout: 90_000,
  }, () => {
    const { resources, fn, of } = walkJobsRoute();
    const functionId = Object.entries(resources).find(([, r]) => r === fn)?.[0] ?? 'none';
    const onEndpoint = of('AWS::CloudWatch::Alarm').filter(([, a]) =>
      (a.Properties.Dimensions as { Name: string; Value: unknown }[] | undefined)?.some(
        (d) => d.Name === 'FunctionName' && JSON.stringify(d.Value) === JSON.stringify({ Ref: functionId }),
      ),
    );
    expect(onEndpoint.map(([, a]) => a.Properties.MetricName).sort()).toEqual(['Errors', 'Throttles']);
    const topics = of('AWS::SNS::Topic').map(([id]) => id);
    for (const [, alarm] of onEndpoint) {
      expect(alarm.Properties.Threshold).toBe(0);
      const actions = list(alarm.Properties.AlarmActions).map((a) => (a as { Ref?: string }).Ref);
      expect(actions.length).toBeGreaterThan(0);
      for (const action of actions) expect(topics).toContain(action);
    }
    const [[, dashboard] = []] = of('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    expect(body).toContain('Jobs endpoint function');
    const jobsWidget = body.slice(body.indexOf('Jobs endpoint function'));
    expect(jobsWidget.slice(0, jobsWidget.indexOf('## Queues'))).toContain(`{"Ref":"${functionId}"}`);
  });

  it('serves 20 queues with delays, each sent to and scheduled with exactly its own queue and role', {
    timeout: 90_000,
  }, () => {
    const names = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    const config = exampleResolved({
      queues: { ...exampleConfig.queues, ...Object.fromEntries(names.map((name) => [name, {}])) },
      jobs: { endpoint: { queues: names } },
    });
    const { fn, byAction, resources, template } = walkJobsRoute(config);
    const deployed = (value: unknown) => resolveAsDeployed(value, template.toJSON(), config.stackName, AT);
    const queues = producerQueuesIn(fn, template.toJSON());
    expect(Object.keys(queues).sort()).toEqual([...names].sort());
    const sendable = byAction('sqs:SendMessage').flatMap((s) => list(s.Resource).map(deployed));
    const passable = byAction('iam:PassRole').flatMap((s) => list(s.Resource).map(deployed));
    expect(sendable.sort()).toEqual(names.map((name) => queues[name]?.arn).sort());
    expect(passable.sort()).toEqual(names.map((name) => queues[name]?.schedulerRoleArn).sort());
    for (const [i, name] of names.entries()) {
      const queueId = logicalIdOfType(resources, 'AWS::SQS::Queue', `QueueJob${i}Queue`);
      expect(queues[name]?.url).toBe(deployed({ Ref: queueId }));
    }
  });

  it('stays cdk-nag clean', { timeout: 90_000 }, () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const config = withEndpoint({ queues: ['events', 'orders'] });
    new WebhookPipelineStack(app, config.stackName, { config });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('jobs endpoint configuration', () => {
  it('reports an unknown, repeated or missing queue with its path, value and fix, all at once', () => {
    let error: unknown;
    try {
      exampleResolved({ jobs: { endpoint: { queues: ['nope', 'events', 'events'] } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HooklineConfigError);
    const violations = (error as HooklineConfigError).issues;
    expect(violations.map((v) => v.path)).toEqual(['jobs.endpoint.queues.0', 'jobs.endpoint.queues.2']);
    expect(violations[0]?.fix).toContain('events');
    expect(() => exampleResolved({ jobs: { endpoint: { queues: [] } } })).toThrow(/jobs\.endpoint\.queues/);
  });
});
