/**
 * Each function of the maximal pipeline (a forwarding consumer too), walked from its role to each resource it is
 * granted: the actions there are exactly those of the SDK calls its code sends to that resource, read from the
 * modules that send them. A call without its grant fails once deployed; a grant without its call is more than the
 * function needs (a consumer, which runs the app's code, could otherwise delete any job record).
 */

import { readFileSync } from 'node:fs';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { CfnResource } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import type { IConstruct } from 'constructs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { handleWebhook } from '../../lambda/ingest/core';
import { awsCollaborators, defaultClients } from '../../lambda/producer/aws';
import { discoverProducer } from '../../lambda/producer/discover';
import { Producer } from '../../lambda/producer/producer';
import { INGEST_BUDGET } from '../../lambda/shared/aws-clients';
import { DEDUPE_TABLE } from '../../lambda/shared/contracts';
import { defineJob } from '../../lambda/shared/job';
import { jobRecordKey } from '../../lambda/shared/job-record';
import { resolveConfig } from '../../lib/config';
import { pipelineTemplate, renderIntrinsics } from '../helpers/cdk';
import { maximalConfig } from '../helpers/maximal-config';
import { sdkActionsOf, sdkActionsOfPackageEntry } from '../helpers/sdk-actions';
import { harness, signedEvent } from '../lambda/ingest/fakes';

type Json = ReturnType<Template['toJSON']>;
type Statement = { Effect: string; Action: unknown; Resource: unknown; Condition?: Json };

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const base = maximalConfig();
const config = resolveConfig(
  maximalConfig({
    // A source whose name begins a job record's key (`job#`): its delivery ids are its own, never a job's record.
    sources: { ...base.sources, jo: { type: 'github' } },
    queues: {
      ...base.queues,
      forwarded: { consumer: { forward: { url: 'https://app.example.com/webhooks' } } },
      'forwarded-existing': {
        consumer: {
          forward: { url: 'https://app.example.com/other', secret: { existingSecretName: 'app/forward' } },
        },
      },
    },
  }),
);
const { stack, template } = pipelineTemplate(config);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const idOf = (construct: IConstruct | undefined) =>
  stack.getLogicalId((construct?.node.defaultChild ?? construct) as CfnResource);

/** The statements of the policies attached to a function's role. */
function statementsOf(fn: { role?: IConstruct } | undefined): Statement[] {
  const roleId = idOf(fn?.role);
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' && list(r.Properties.Roles).some((x) => (x as Json).Ref === roleId),
    )
    .flatMap((r) => list(r.Properties.PolicyDocument.Statement) as Statement[]);
}

/**
 * The sorted actions a function's statements allow on one resource: `logicalId` (its ARN, or one built on it), or,
 * for a resource the stack only references, `{ arnPart }`, a piece of its ARN.
 */
function actionsOn(statements: Statement[], resource: string | { arnPart: string }): string[] {
  const needle = typeof resource === 'string' ? `"${resource}"` : resource.arnPart;
  const on = statements.filter(
    (s) => s.Effect === 'Allow' && list(s.Resource).some((r) => JSON.stringify(r).includes(needle)),
  );
  return [...new Set(on.flatMap((s) => list(s.Action).map(String)))].sort();
}

/** The sorted union of the actions several modules' calls need. */
const union = (...lists: string[][]) => [...new Set(lists.flat())].sort();
/** The actions of `actions` of one service. */
const ofService = (actions: string[], service: string) => actions.filter((a) => a.startsWith(`${service}:`));

const INGEST_HANDLER = 'lambda/ingest/handler.ts';
const SECRET_READER = 'lambda/ingest/secrets-manager.ts';
const DEDUPE_STORE = 'lambda/shared/dedupe-store.ts';
const JOB_RECORDS = 'lambda/shared/job-record.ts';
const QUEUE_OPERATIONS = 'lambda/consumer/queue-operations.ts';
const PRODUCER_CLIENTS = 'lambda/producer/aws.ts';
const BREAKER_HANDLER = 'lambda/breaker/handler.ts';
const JOBS_ENDPOINT_HANDLER = 'lambda/jobs-endpoint/handler.ts';

/** A debounced job's record waiting for its schedule (`scheduleName`) to send it, as the producer reads it. */
function debouncedRecord(id: string, scheduleName: string): Record<string, AttributeValue> {
  const now = Date.now();
  return {
    [DEDUPE_TABLE.partitionKey]: { S: jobRecordKey(id) },
    status: { S: 'queued' },
    state: { S: 'scheduled' },
    generation: { S: 'generation-1' },
    debounceSend: { S: 'send-1' },
    debounceSends: { N: '1' },
    enqueuedAt: { S: new Date(now).toISOString() },
    dueAt: { S: new Date(now + 20 * 60_000).toISOString() },
    scheduleName: { S: scheduleName },
    [DEDUPE_TABLE.ttlAttribute]: { N: String(Math.floor(now / 1000) + 86_400) },
  };
}

/** IAM's `StringLike`: `*` any characters, `?` one. */
const arnLike = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

describe('what each function may do on each resource, against the calls its code sends there', () => {
  it('reads the calls from the code: the modules send what they are known to send', () => {
    // The reader itself: a batch send needs sqs:SendMessage, and a module with no SDK call needs nothing.
    expect(sdkActionsOf(PRODUCER_CLIENTS)).toEqual([
      's3:PutObject',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'sqs:SendMessage',
    ]);
    expect(sdkActionsOf('lambda/shared/envelope.ts')).toEqual([]);
    expect(sdkActionsOfPackageEntry('@aws-lambda-powertools/idempotency', './dynamodb')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets the ingest function send to its queues, read its secrets and claim delivery ids with exactly those calls', () => {
    const statements = statementsOf(stack.ingest.ingestFunction);
    // The queues its routes reach (the default route's and Shopify orders'), the only ones it may send to.
    const queues = ['events', 'fair', 'orders'];
    for (const name of queues)
      expect(actionsOn(statements, idOf(stack.queues[name]?.queue)), name).toEqual(
        ofService(sdkActionsOf(INGEST_HANDLER), 'sqs'),
      );
    const secrets = Object.entries(stack.signingSecrets);
    expect(secrets.length).toBeGreaterThan(5);
    for (const [name, secret] of secrets) {
      // A secret referenced by name has no logical id: its ARN names it.
      const id = secret.node.defaultChild ? idOf(secret) : { arnPart: `:secret:${secret.secretName}-??????` };
      expect(actionsOn(statements, id), name).toEqual(sdkActionsOf(SECRET_READER));
    }
    expect(actionsOn(statements, idOf(stack.dedupeTable))).toEqual(sdkActionsOf(DEDUPE_STORE));
  });

  it("lets the ingest function claim its sources' delivery ids only, the keys its core claims, and never a job record", async () => {
    const statements = statementsOf(stack.ingest.ingestFunction);
    const onTable = statements.filter((s) =>
      JSON.stringify(s.Resource).includes(`"${idOf(stack.dedupeTable)}"`),
    );
    expect(onTable).toHaveLength(1);
    const patterns = list(onTable[0]?.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).map(
      String,
    );
    expect(patterns).toHaveLength(config.sources.length);
    const allowed = (key: string) => patterns.some((p) => arnLike(p).test(key));

    // The key the ingest core really claims for a GitHub delivery.
    const h = harness();
    const event = signedEvent(h.deps.config, 'github', '{"ref":"refs/heads/main"}', {
      id: 'delivery-1',
      headers: { 'x-github-event': 'push' },
    });
    expect((await handleWebhook(event, h.deps)).statusCode).toBe(202);
    const claimed = [...h.dedupe.records.keys()];
    expect(claimed).toHaveLength(1);
    expect(allowed(claimed[0] as string)).toBe(true);
    // Each configured source's keys are allowed alike; a job's record, in the same table, is not.
    for (const source of config.sources)
      expect(allowed((claimed[0] as string).replace(/^github#/, `${source.name}#`)), source.name).toBe(true);
    expect(allowed(jobRecordKey('delivery-1'))).toBe(false);
  });

  it('lets each consumer dead-letter, keep its idempotency records and update job records with exactly those calls', () => {
    const names = Object.keys(stack.consumers);
    expect(names.length).toBeGreaterThan(5);
    const idempotency = sdkActionsOfPackageEntry('@aws-lambda-powertools/idempotency', './dynamodb');
    expect(sdkActionsOf(QUEUE_OPERATIONS)).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:SendMessage',
    ]);
    for (const name of names) {
      const consumer = stack.consumers[name];
      const statements = statementsOf(consumer?.consumerFunction);
      // Its dead-letter queue gets only the send of queue-operations; the other calls there address its own queue
      // (a batch's visibility change, for records not started, is authorized as `sqs:ChangeMessageVisibility`).
      expect(actionsOn(statements, idOf(stack.queues[name]?.deadLetterQueue)), name).toEqual(
        ofService(sdkActionsOf(QUEUE_OPERATIONS), 'sqs').filter((a) => a === 'sqs:SendMessage'),
      );
      expect(actionsOn(statements, idOf(stack.queues[name]?.queue)), name).toEqual(
        expect.arrayContaining(
          ofService(sdkActionsOf(QUEUE_OPERATIONS), 'sqs').filter((a) => a !== 'sqs:SendMessage'),
        ),
      );
      // The idempotency table holds its Powertools records and rate-limit windows (updates only).
      expect(actionsOn(statements, idOf(stack.idempotencyTable)), name).toEqual(idempotency);
      // The dedupe table holds the job records a producer created: the consumer reads and updates them.
      expect(actionsOn(statements, idOf(stack.dedupeTable)), name).toEqual(sdkActionsOf(JOB_RECORDS));
    }
  });

  it('lets each forwarding consumer read its signing secret with exactly the call its reader sends', () => {
    const created = statementsOf(stack.consumers.forwarded?.consumerFunction);
    const secretId = Object.keys(resources).find(
      (id) =>
        resources[id]?.Type === 'AWS::SecretsManager::Secret' && id.startsWith('ForwardSecretForwarded'),
    );
    expect(secretId).toBeDefined();
    expect(actionsOn(created, secretId as string)).toEqual(sdkActionsOf(SECRET_READER));
    const existing = statementsOf(stack.consumers['forwarded-existing']?.consumerFunction);
    expect(actionsOn(existing, { arnPart: ':secret:app/forward-??????' })).toEqual(
      sdkActionsOf(SECRET_READER),
    );
  });

  it('lets the jobs endpoint send jobs, claim their ids, write their records and read its token with exactly those calls', () => {
    const endpoint = stack.pipeline.jobsEndpoint;
    const statements = statementsOf(endpoint?.jobsFunction);
    for (const name of ['jobs', 'orders'])
      expect(actionsOn(statements, idOf(stack.queues[name]?.queue)), name).toEqual(
        ofService(sdkActionsOf(PRODUCER_CLIENTS), 'sqs'),
      );
    expect(actionsOn(statements, idOf(stack.dedupeTable))).toEqual(
      union(sdkActionsOf(DEDUPE_STORE), sdkActionsOf(JOB_RECORDS)),
    );
    expect(actionsOn(statements, idOf(endpoint?.tokenSecret))).toEqual(sdkActionsOf(SECRET_READER));
  });

  it('lets the jobs endpoint create the schedules of the jobs it sends and delete the one a debounced send replaced, as its calls need', async () => {
    // Its handler only sends through its producer (a cancel would delete a schedule): `sendGated(producer, ...)` is
    // the producer's send with the request's deadline.
    const calls = [
      ...readFileSync(JOBS_ENDPOINT_HANDLER, 'utf8').matchAll(/\bproducer\.(\w+)\(|\bsendGated\(producer\b/g),
    ];
    expect(calls.length).toBeGreaterThan(0);
    expect([...new Set(calls.map((call) => call[1] ?? 'send'))]).toEqual(['send']);
    // What its sends call on Scheduler: the producer built as its handler builds it, from its environment, sending a
    // job due in two days (a schedule), then a job debounced by 20 minutes twice (a schedule each, the second send
    // deleting the first's); every SDK call answered, and recorded by the client it goes to.
    const fn = stack.pipeline.jobsEndpoint?.jobsFunction;
    const variables = resources[idOf(fn)]?.Properties.Environment.Variables as Record<string, unknown>;
    const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, renderIntrinsics(v)]));
    const scheduler = mockClient(SchedulerClient).onAnyCommand().resolves({});
    const dynamodb = mockClient(DynamoDBClient).onAnyCommand().resolves({});
    const sqs = mockClient(SQSClient).onAnyCommand().resolves({});
    const s3 = mockClient(S3Client).onAnyCommand().resolves({});
    onTestFinished(() => {
      for (const client of [scheduler, dynamodb, sqs, s3]) client.restore();
    });
    const resolved = discoverProducer({ env, local: false });
    const producer = new Producer(
      awsCollaborators(resolved, defaultClients(resolved, INGEST_BUDGET), { attempts: 1, baseDelayMs: 1 }),
    );
    const job = defineJob('report.build', z.object({ n: z.number() }), { queue: 'jobs' });
    await producer.send(job, { n: 1 }, { id: 'later', delay: { days: 2 } });
    const debounce = { minutes: 20 };
    await producer.send(job, { n: 1 }, { id: 'debounced', debounce });
    // The second send finds the first's record waiting (its claim refused with it), and replaces its schedule.
    const waiting = debouncedRecord('debounced', 'App-job-first');
    dynamodb
      .on(PutItemCommand)
      .rejects(
        Object.assign(new Error('refused'), { name: 'ConditionalCheckFailedException', Item: waiting }),
      );
    dynamodb.on(GetItemCommand).resolves({ Item: waiting });
    dynamodb.on(UpdateItemCommand).resolves({ Attributes: waiting });
    await producer.send(job, { n: 2 }, { id: 'debounced', debounce });
    const sent = scheduler
      .calls()
      .map((call) => `scheduler:${call.args[0].constructor.name.replace(/Command$/, '')}`);
    expect(sent).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:CreateSchedule',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
    ]);
    const granted = statementsOf(fn).flatMap((s) => list(s.Action).map(String));
    expect([...new Set(ofService(granted, 'scheduler'))].sort()).toEqual([...new Set(sent)]);
  });

  it('lets the circuit breaker function make exactly the Lambda, CloudWatch and Scheduler calls it sends', () => {
    const statements = statementsOf(stack.pipeline.circuitBreakers?.breakerFunction);
    const granted = [...new Set(statements.flatMap((s) => list(s.Action).map(String)))];
    const sent = sdkActionsOf(BREAKER_HANDLER);
    for (const service of ['lambda', 'cloudwatch', 'scheduler'])
      expect(ofService(granted, service).sort(), service).toEqual(ofService(sent, service));
  });
});

describe('who may invoke each function the API routes to', () => {
  it('lets API Gateway invoke the function of every route, from this API only and for that route only', () => {
    const routes = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual([
      'ANY /webhooks/{source}',
      'POST /jobs/{queue}',
    ]);
    const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    for (const [routeId, route] of routes) {
      const apiId = route.Properties.ApiId.Ref as string;
      const integrationId = renderIntrinsics(route.Properties.Target).replace(/^integrations\/resolved-/, '');
      const integration = resources[integrationId];
      expect(integration?.Type, routeId).toBe('AWS::ApiGatewayV2::Integration');
      expect(integration?.Properties.IntegrationType).toBe('AWS_PROXY');
      const functionArn = JSON.stringify(integration?.Properties.IntegrationUri);
      // API Gateway's source ARN names the stage, the method and the route's path as written in its key.
      const [method = '', path = ''] = String(route.Properties.RouteKey).split(' ');
      const methods = method === 'ANY' ? ['GET', 'POST', 'PUT', 'DELETE'] : [method];
      const invokes = permissions.filter(
        (p) =>
          JSON.stringify(p.Properties.FunctionName) === functionArn &&
          p.Properties.Principal === 'apigateway.amazonaws.com' &&
          p.Properties.Action === 'lambda:InvokeFunction',
      );
      expect(invokes.length, routeId).toBeGreaterThan(0);
      for (const m of methods) {
        const request = `arn:aws:execute-api:resolved-AWS::Region:resolved-AWS::AccountId:resolved-${apiId}/$default/${m}${path}`;
        expect(
          invokes.some((p) => arnLike(renderIntrinsics(p.Properties.SourceArn)).test(request)),
          `${routeId}: ${request}`,
        ).toBe(true);
        // Scoped to this API: the same request on another API is not let through.
        const elsewhere = request.replace(`resolved-${apiId}/`, 'another-api/');
        for (const p of invokes)
          expect(arnLike(renderIntrinsics(p.Properties.SourceArn)).test(elsewhere)).toBe(false);
      }
      // And to this route: the function is not invoked for the other route's path.
      for (const p of invokes)
        for (const [, other] of routes.filter(([id]) => id !== routeId)) {
          const otherPath = String(other.Properties.RouteKey).split(' ')[1];
          const request = `arn:aws:execute-api:resolved-AWS::Region:resolved-AWS::AccountId:resolved-${apiId}/$default/POST${otherPath}`;
          expect(arnLike(renderIntrinsics(p.Properties.SourceArn)).test(request), routeId).toBe(false);
        }
    }
  });
});
