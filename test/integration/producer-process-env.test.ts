/**
 * A producer outside Lambda (an ECS web server, a script) configured by nothing but the variables `grantSend` writes
 * to its container: the real producer in a plain Node child process, given the container's environment as a deploy
 * renders it, sends a job to the very queue the grant names and writes its record in the dedupe table, on the local
 * emulators (fauxqs, dynalite) reached through the SDK's own `AWS_ENDPOINT_URL_*` variables.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEDUPE_TABLE } from '../../lambda/shared/contracts';
import { localDynamoClient, localSqsClient } from '../../lib/local/clients';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { ensureTable } from '../../lib/local/topology';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { exampleResolved, resolveAsDeployed, testApp } from '../helpers/cdk';

const run = promisify(execFile);
const PRODUCER_SCRIPT = fileURLToPath(new URL('../helpers/local/env-producer.ts', import.meta.url));

/** The variables `grantSend` wrote to a Fargate container, as a deploy in `region`/`account` renders them. */
function grantedContainerEnvironment(region: string, account: string) {
  const config = exampleResolved();
  const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
  const task = new ecs.FargateTaskDefinition(stack, 'WebTask');
  const container = task.addContainer('Web', { image: ecs.ContainerImage.fromRegistry('node:22') });
  stack.grantSend(task.taskRole, 'events', { environment: container });
  const template = Template.fromStack(stack).toJSON();
  const at = { partition: 'aws', region, account, urlSuffix: 'amazonaws.com' };
  const deployed = (value: unknown) => resolveAsDeployed(value, template, stack.stackName, at);
  const [definition] = template.Resources[stack.getLogicalId(task.node.defaultChild as never)].Properties
    .ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[];
  const environment = Object.fromEntries(
    (definition?.Environment ?? []).map(({ Name, Value }) => [Name, deployed(Value)]),
  );
  const queueName = deployed({
    'Fn::GetAtt': [stack.getLogicalId(stack.queues.events?.queue.node.defaultChild as never), 'QueueName'],
  });
  const tableName = deployed({ Ref: stack.getLogicalId(stack.dedupeTable?.node.defaultChild as never) });
  return { environment, queueName, tableName };
}

describe('a producer in a plain Node process, configured by the variables its container was granted', () => {
  let emulators: Emulators;
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  let stateDir: string;
  beforeAll(async () => {
    emulators = await startEmulators();
    sqs = localSqsClient(emulators);
    dynamodb = localDynamoClient(emulators);
    stateDir = mkdtempSync(join(tmpdir(), 'hookline-env-producer-'));
  }, 60_000);
  afterAll(async () => {
    sqs?.destroy();
    dynamodb?.destroy();
    await emulators?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('sends the job to the queue its grant names and records it in the dedupe table', {
    timeout: 180_000,
  }, async () => {
    // GIVEN the queue and table a deploy would create, on the emulators
    const probe = await sqs.send(new CreateQueueCommand({ QueueName: 'probe' }));
    const account = new URL(probe.QueueUrl ?? '').pathname.split('/')[1] ?? '';
    const { environment, queueName, tableName } = grantedContainerEnvironment(emulators.region, account);
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    await ensureTable(dynamodb, tableName, DEDUPE_TABLE.partitionKey, DEDUPE_TABLE.ttlAttribute);
    // WHEN a plain Node process (no Lambda runtime, no local mode) runs the producer with those variables alone
    const { stdout } = await run('node_modules/.bin/tsx', [PRODUCER_SCRIPT, 'signup-u42'], {
      env: {
        PATH: process.env.PATH,
        HOME: stateDir,
        HOOKLINE_STATE_DIR: stateDir,
        ...environment,
        AWS_REGION: emulators.region,
        AWS_ACCESS_KEY_ID: 'hookline-local',
        AWS_SECRET_ACCESS_KEY: 'hookline-local',
        AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
        AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
      },
      timeout: 120_000,
    });
    // THEN it was sent and recorded under its id
    const { sent, status } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(sent).toMatchObject({ id: 'signup-u42' });
    expect(status).toMatchObject({ id: 'signup-u42', state: 'queued' });
    // and its envelope waits in the queue the grant named
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: created.QueueUrl,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
      }),
    );
    expect(received.Messages).toHaveLength(1);
    expect(received.Messages?.[0]?.Body).toContain('user.signup');
    expect(received.Messages?.[0]?.Body).toContain('u42');
  });
});
