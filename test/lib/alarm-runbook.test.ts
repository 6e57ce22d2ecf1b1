/**
 * What the on-call engineer reads when an alarm pages: each alarm's description says what happened and the first
 * command to run, and each `hookline` command in it, typed as written by someone outside the project folder, reaches
 * the deployed stack (a Stage's, whose name is not the configuration's `stackName`) and names something it has.
 */
import { App, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { TargetOptions } from '../../lib/cli/backend';
import { CliError } from '../../lib/cli/errors';
import { runCli } from '../../lib/cli/program';
import type { StackTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { recordingOutput } from '../cli/helpers';
import { type DeployedAt, resolveAsDeployed } from '../helpers/cdk';
import { deployedTarget } from '../helpers/deployed-target';
import { maximalConfig } from '../helpers/maximal-config';

const at: DeployedAt = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '111122223333',
  urlSuffix: 'amazonaws.com',
};
const config = resolveConfig(maximalConfig());
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stage = new Stage(app, 'Prod', { env: { account: at.account, region: at.region } });
const stack = new WebhookPipelineStack(stage, config.stackName, { config });
const template = Template.fromStack(stack).toJSON();
const alarms = Object.entries(
  template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
)
  .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
  .map(([id, r]) => ({
    id,
    description: resolveAsDeployed(r.Properties.AlarmDescription, template, stack.stackName, at),
  }));

/** The commands of a description: its backquoted spans. */
const commandsOf = (description: string) => [...description.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

/** Runs one `hookline` command of a description: where it connects, and how far it got. */
async function run(command: string, target: StackTarget) {
  const connected: TargetOptions[] = [];
  const errors: string[] = [];
  // Every backend call ends the command: reaching one means the arguments named what the stack has.
  const backend = new Proxy(
    {},
    {
      get: () => {
        throw new CliError('reached the backend');
      },
    },
  );
  const code = await runCli(command.split(' ').slice(1), {
    makeOutput: () => recordingOutput(),
    connect: async (options) => {
      connected.push(options);
      return { target, backend: backend as never };
    },
    loadConfig: async () => config,
    // `secrets set` reads the value before it stores it: the value the operator would type.
    readSecret: async () => 'the-secret-the-sender-shows',
    env: {},
    writeErr: (text) => errors.push(text),
    writeOut: () => {},
  });
  return { code, connected, errors };
}

describe('alarm descriptions', () => {
  it('each name what happened and at least one command to run first', () => {
    expect(alarms.length).toBeGreaterThan(20);
    for (const { id, description } of alarms) {
      expect(commandsOf(description).length, `${id}: ${description}`).toBeGreaterThan(0);
    }
  });

  it("each fit CloudWatch's 1,024 characters once deployed", () => {
    for (const { id, description } of alarms) expect(description.length, id).toBeLessThanOrEqual(1024);
  });

  it('point the archive alarm at the log lines of every function that counts ArchiveFailed', async () => {
    const target = await deployedTarget(template, stack.stackName, config, at);
    const description = alarms.find((a) => a.id.includes('ArchiveFailed'))?.description ?? '';
    const query = commandsOf(description).find((c) => c.startsWith('aws logs start-query')) ?? '';
    expect(query).toMatch(/like \/archive \(put failed\|record too large\)\//);
    // The outputs its describe-stacks query selects, as the deployed stack answers them.
    const mark = /contains\(OutputKey,'(\w+)'\)/.exec(query)?.[1] ?? '';
    const outputs = template.Outputs as Record<string, { Value: unknown }>;
    const selected = Object.entries(outputs)
      .filter(([key]) => key.includes(mark))
      .map(([, o]) => resolveAsDeployed(o.Value, template, stack.stackName, at));
    const consumers = Object.values(target.logGroups?.consumers ?? {});
    expect(consumers).toHaveLength(config.queues.filter((q) => q.consumer).length);
    expect(selected).toStrictEqual(expect.arrayContaining([target.logGroups?.ingest, ...consumers]));
    for (const group of selected) expect(group).toMatch(/^resolved-\w+Logs\w+$/);
  });

  it("send the API's 5xx alarm to the lines of both functions answering on the API: the ingest's failed outcomes and the jobs endpoint's ERROR lines", async () => {
    const target = await deployedTarget(template, stack.stackName, config, at);
    const description = alarms.find((a) => a.id.includes('Api5xx'))?.description ?? '';
    const tails = commandsOf(description).filter((c) => c.startsWith('aws logs tail'));
    expect(tails).toStrictEqual([
      `aws logs tail ${target.logGroups?.ingest} --since 30m --filter-pattern '{ $.outcome = "failed" }' --region eu-west-1`,
      // Every 503 of the jobs endpoint writes an ERROR line (test/lambda/jobs-endpoint/core.test.ts).
      `aws logs tail ${target.logGroups?.jobsEndpoint} --since 30m --filter-pattern '{ $.level = "ERROR" }' --region eu-west-1`,
    ]);
    expect(description).toContain('POST /jobs');
  });

  it("give hookline commands that reach the Stage's stack, in its region, and name one of its queues", async () => {
    expect(stack.stackName).toBe('Prod-HooklineMax');
    const target = await deployedTarget(template, stack.stackName, config, at);
    const commands = alarms
      .flatMap((a) => commandsOf(a.description))
      .filter((c) => c.startsWith('hookline '));
    expect(commands.length).toBeGreaterThan(15);
    for (const command of new Set(commands)) {
      const { connected, errors } = await run(command, target);
      expect(connected, command).toStrictEqual([
        expect.objectContaining({ stack: 'Prod-HooklineMax', region: 'eu-west-1' }),
      ]);
      expect(errors.join(''), command).toMatch(/^error: reached the backend\n$/);
    }
  });

  it('page on the oldest message at the age hookline status flags it at', async () => {
    const target = await deployedTarget(template, stack.stackName, config, at);
    for (const queue of config.queues) {
      const alarm = Object.values(
        template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      ).find(
        (r) =>
          r.Type === 'AWS::CloudWatch::Alarm' &&
          r.Properties.MetricName === 'ApproximateAgeOfOldestMessage' &&
          JSON.stringify(r.Properties.Dimensions).includes(
            `"Queue${queue.name[0]?.toUpperCase()}${queue.name.slice(1)}Queue`,
          ),
      );
      expect(alarm, queue.name).toBeDefined();
      expect(alarm?.Properties.Threshold, queue.name).toBe(
        target.queues[queue.name]?.oldestMessageAgeAlarmSeconds,
      );
    }
  });

  it('give AWS CLI commands that name the deployed log group or function, in the stack region', () => {
    const commands = alarms.flatMap((a) => commandsOf(a.description)).filter((c) => c.startsWith('aws '));
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) {
      expect(command, command).toMatch(/ --region eu-west-1$/);
      expect(command, command).toMatch(
        /^aws (logs tail resolved-\w+(Logs|DeliveryErrors)\w+ --since \d+[mh]( --filter-pattern '.+')?|logs start-query --log-group-names \$\(aws cloudformation describe-stacks --stack-name Prod-HooklineMax .+\) .+|logs get-query-results --query-id <the id it printed>|lambda get-function-concurrency --function-name resolved-\w+Function\w+|lambda get-account-settings) /,
      );
    }
  });
});
