import { CfnParameter, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, HooklineConfigError, resolveConfig } from '../../lib/config';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { testApp } from '../helpers/cdk';

const PROJECT_ROOT = process.cwd();

const withQueue = (
  queue: HooklineConfig['queues'][string],
  more: Partial<HooklineConfig> = {},
): HooklineConfig => ({
  sources: { github: { type: 'github' } },
  queues: { events: queue },
  ...more,
});

/** The problems a configuration is refused with (path and value), or [] when it resolves. */
function problemsOf(
  config: HooklineConfig,
  forDeploy: boolean,
): { path: string; value: string; fix: string }[] {
  try {
    resolveConfig(config, { forDeploy });
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(HooklineConfigError);
    return (error as HooklineConfigError).issues.map(({ path, value, fix }) => ({ path, value, fix }));
  }
}

describe('configuration values that are CDK tokens', () => {
  it('builds the pipeline with a token where hookline hands the value to CloudFormation as it is', () => {
    const stack = new Stack(testApp(), 'Tokens');
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    const pipeline = new HooklinePipeline(stack, 'Webhooks', {
      projectRoot: PROJECT_ROOT,
      config: {
        sources: { github: { type: 'github', secret: { existingSecretName: Fn.importValue('SecretName') } } },
        queues: {
          events: {
            visibilityTimeout: Duration.seconds(seconds),
            oldestMessageAgeAlarm: Duration.seconds(Lazy.number({ produce: () => 600 })),
            consumer: { entry: 'lambda/consumers/events.ts', environment: { API: Fn.importValue('ApiUrl') } },
          },
        },
        alarms: { email: Fn.importValue('OpsEmail') },
        ingest: { timeout: Duration.seconds(seconds) },
      },
    });
    const template = Template.fromStack(stack);
    expect(pipeline.config.alarms.email).toBeDefined();
    template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: { 'Fn::ImportValue': 'OpsEmail' } });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: { Ref: 'Seconds' } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 600,
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: { Ref: 'Seconds' } });
  });

  it('refuses every token hookline computes with at synth, each with its path and fix, instead of a CDK stack trace or a number it cannot read', () => {
    const stack = new Stack(testApp(), 'Tokens');
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    const config = withQueue(
      {
        retentionPeriod: Duration.days(seconds),
        maxReceiveCount: seconds,
        consumer: {
          entry: 'lambda/consumers/events.ts',
          timeout: Duration.seconds(seconds),
          memorySize: seconds,
        },
      },
      {
        stackName: Fn.importValue('StackName'),
        dedupe: { ttl: Duration.seconds(seconds) },
        schedules: [{ name: 'nightly', expression: Fn.importValue('Cron'), queue: 'events', type: 'report' }],
      },
    );
    const problems = problemsOf(config, true);
    expect(problems.map((p) => [p.path, p.value])).toEqual([
      ['queues.events.retentionPeriod', '<token>'],
      ['queues.events.maxReceiveCount', '<token>'],
      ['queues.events.consumer.timeout', '<token>'],
      ['queues.events.consumer.memorySize', '<token>'],
      ['stackName', '<token>'],
      ['dedupe.ttl', '<token>'],
      ['schedules.0.expression', '<token>'],
    ]);
    expect(problems[2]?.fix).toMatch(/give the Duration itself here/);
    expect(problems[3]?.fix).toMatch(/give the number itself here/);
  });

  it('looks for tokens through a payload that holds itself without overflowing the stack, leaving it to its own rule', () => {
    const payload: Record<string, unknown> = { a: 1 };
    payload.self = payload;
    const config = withQueue(
      {},
      { schedules: [{ name: 'n', expression: 'rate(1 hour)', queue: 'events', type: 't', payload }] },
    );
    expect(problemsOf(config, true).map((p) => p.path)).toEqual(['schedules.0.payload']);
  });

  it('refuses a token Duration in a unit CDK cannot convert to the seconds CloudFormation takes', () => {
    const minutes = Lazy.number({ produce: () => 5 });
    const problems = problemsOf(withQueue({ visibilityTimeout: Duration.minutes(minutes) }), true);
    expect(problems).toEqual([
      {
        path: 'queues.events.visibilityTimeout',
        value: '<token>',
        fix: 'give the token in seconds, e.g. Duration.seconds(parameter.valueAsNumber)',
      },
    ]);
  });

  it('lets local mode and the CLI take a token only where they do not read the value', () => {
    const ops = Fn.importValue('OpsEmail');
    expect(problemsOf(withQueue({}, { alarms: { email: ops } }), false)).toEqual([]);
    const visibility = Duration.seconds(Lazy.number({ produce: () => 60 }));
    expect(problemsOf(withQueue({ visibilityTimeout: visibility }), false)).toEqual([
      {
        path: 'queues.events.visibilityTimeout',
        value: '<token>',
        fix: "give the Duration itself in the configuration file, and pass the token in your CDK app only (a HooklinePipeline's config)",
      },
    ]);
  });
});
