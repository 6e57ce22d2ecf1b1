import { CfnParameter, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../lib/config';
import * as hookline from '../../lib/index';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { QueueConsumer, type QueueConsumerProps } from '../../lib/queue-consumer';
import { WebhookIngest, type WebhookIngestProps } from '../../lib/webhook-ingest';
import { testApp } from '../helpers/cdk';

const freshStack = () => new Stack(testApp(), 'Standalone');

describe('QueueConsumer used on its own', () => {
  it('synthesizes from an entry alone, with the defaults of DEFAULTS', () => {
    const stack = freshStack();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    new QueueConsumer(stack, 'Worker', {
      queue: jobs.queue,
      deadLetterQueue: jobs.deadLetterQueue,
      name: 'jobs',
      entry: 'lambda/consumers/events.ts',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: DEFAULTS.consumerTimeout.toSeconds(),
      MemorySize: DEFAULTS.consumerMemorySize,
      Environment: { Variables: Match.objectLike({ HOOKLINE_CONSUMER_CONFIG: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: DEFAULTS.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: DEFAULTS.logRetentionDays });
  });

  it('throws one error naming every out-of-range prop, its value and the fix', () => {
    const stack = freshStack();
    const jobs = new PipelineQueue(stack, 'Jobs');
    expect(
      () =>
        new QueueConsumer(stack, 'Worker', {
          queue: jobs.queue,
          deadLetterQueue: jobs.deadLetterQueue,
          name: 'jobs',
          entry: 'lambda/consumers/events.ts',
          memorySize: 64,
          timeout: Duration.minutes(20),
        }),
    ).toThrow(
      /Invalid QueueConsumer Standalone\/Worker:\n {2}- timeout: .*\(got 20 minutes\)\. Fix: .*\n {2}- memorySize: .*\(got 64\)\. Fix: use e\.g\. 512/,
    );
  });
});

describe('WebhookIngest used on its own', () => {
  const settings = resolveConfig({
    sources: { github: { type: 'github' } },
    queues: { events: {} },
    routes: [{ source: 'github', type: '*', queues: ['events'] }],
  });

  /** An ingest with one queue and one secret, plus the props a test sets. */
  const ingestIn = (stack: Stack, props: Partial<WebhookIngestProps> = {}) =>
    new WebhookIngest(stack, 'Ingest', {
      settings,
      queues: { events: new PipelineQueue(stack, 'Events').queue },
      secrets: { github: new secretsmanager.Secret(stack, 'GithubSecret') },
      ...props,
    });

  it('synthesizes with a queue and a secret, with the defaults of DEFAULTS', () => {
    const stack = freshStack();
    ingestIn(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: DEFAULTS.ingestTimeout.toSeconds(),
      MemorySize: DEFAULTS.ingestMemorySize,
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: {
        ThrottlingRateLimit: DEFAULTS.ingestRateLimit,
        ThrottlingBurstLimit: DEFAULTS.ingestBurstLimit,
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /webhooks/{source}' });
  });

  it('throws one error naming every out-of-range prop, its value and the fix', () => {
    const stack = freshStack();
    expect(() => ingestIn(stack, { timeout: Duration.seconds(60), rateLimit: 500, burstLimit: 100 })).toThrow(
      /Invalid WebhookIngest Standalone\/Ingest:\n {2}- burstLimit: must be at least rateLimit \(500\).*\(got 100\)\. Fix: raise it to 500.*\n {2}- timeout: .*\(got 1 minute\)\. Fix: use Duration\.seconds\(10\)/,
    );
  });

  it('accepts limits only known at deploy time', () => {
    const stack = freshStack();
    expect(() => ingestIn(stack, { memorySize: Lazy.number({ produce: () => 64 }) })).not.toThrow();
  });
});

describe('EventArchive used on its own', () => {
  it('is a construct of the package entry, and refuses a retention under a day and a buffering interval outside 60 to 900 s at once', () => {
    const stack = freshStack();
    expect(
      () =>
        new hookline.EventArchive(stack, 'Archive', {
          retention: Duration.hours(12),
          bufferingInterval: Duration.seconds(30),
        }),
    ).toThrow(/retention[\s\S]*bufferingInterval|bufferingInterval[\s\S]*retention/);
  });
});

describe('construct props given as CDK tokens', () => {
  /** A stack with a number parameter: its value is a token, known only once deployed. */
  const stackWithParameter = () => {
    const stack = freshStack();
    return { stack, parameter: new CfnParameter(stack, 'Setting', { type: 'Number' }).valueAsNumber };
  };

  it('PipelineQueue refuses a consumer timeout it derives the visibility timeout from, and a retention in days, at once', () => {
    const { stack, parameter } = stackWithParameter();
    expect(
      () =>
        new PipelineQueue(stack, 'Jobs', {
          consumerTimeout: Duration.seconds(parameter),
          retentionPeriod: Duration.days(parameter),
          maxReceiveCount: 0,
        }),
    ).toThrow(
      /Invalid PipelineQueue Standalone\/Jobs:\n {2}- consumerTimeout: is a CDK token, known only at deploy.*\(got <token>\)\. Fix: give the Duration itself.*\n {2}- retentionPeriod: is a Duration of a CDK token in a unit CDK cannot convert.*Fix: give the token in seconds.*\n {2}- maxReceiveCount: /,
    );
  });

  it('QueueConsumer refuses the timeout and batching window it computes with, and takes the memory and retention CloudFormation reads', () => {
    const { stack, parameter } = stackWithParameter();
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    const consumer = (props: Partial<QueueConsumerProps>, id = 'Worker') =>
      new QueueConsumer(stack, id, {
        queue: jobs.queue,
        deadLetterQueue: jobs.deadLetterQueue,
        name: 'jobs',
        entry: 'lambda/consumers/events.ts',
        ...props,
      });
    expect(() =>
      consumer({ timeout: Duration.seconds(parameter), maxBatchingWindow: Duration.seconds(parameter) }),
    ).toThrow(
      /Invalid QueueConsumer Standalone\/Worker:\n {2}- timeout: is a CDK token, known only at deploy.*\n {2}- maxBatchingWindow: is a CDK token, known only at deploy/,
    );
    expect(() =>
      consumer({ memorySize: parameter, retentionPeriod: Duration.seconds(parameter) }, 'Other'),
    ).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: { Ref: 'Setting' },
    });
  });

  it("QueueConsumer takes a forwarding secret cache token in seconds, which its function's configuration reads as it is, and refuses one in minutes and an attempt timeout token", () => {
    const { stack, parameter } = stackWithParameter();
    const forwarding = (secretCache: Duration, id: string, timeout = Duration.seconds(10)) => {
      const jobs = new PipelineQueue(stack, `${id}Queue`, { consumerTimeout: DEFAULTS.consumerTimeout });
      return new QueueConsumer(stack, id, {
        queue: jobs.queue,
        deadLetterQueue: jobs.deadLetterQueue,
        name: 'jobs',
        entry: 'lambda/consumers/events.ts',
        forward: {
          url: 'https://app.example.com/webhooks',
          timeout,
          secret: new secretsmanager.Secret(stack, `${id}Secret`),
          secretCache,
        },
      });
    };
    expect(() => forwarding(Duration.seconds(parameter), 'Seconds')).not.toThrow();
    expect(() => forwarding(Duration.minutes(parameter), 'Minutes')).toThrow(
      /- forward\.secretCache: is a Duration of a CDK token in a unit CDK cannot convert.*Fix: give the token in seconds/,
    );
    // An attempt's timeout is weighed against the consumer's at synth, as the consumer's own timeout is.
    expect(() => forwarding(Duration.seconds(10), 'Attempt', Duration.seconds(parameter))).toThrow(
      /- forward\.timeout: is a CDK token, known only at deploy.*\(got <token>\)\. Fix: give the Duration itself/,
    );
  });

  it('EventArchive refuses a retention of a token beside a buffering interval out of range, both at once', () => {
    const { stack, parameter } = stackWithParameter();
    expect(
      () =>
        new hookline.EventArchive(stack, 'Archive', {
          retention: Duration.days(parameter),
          bufferingInterval: Duration.seconds(30),
        }),
    ).toThrow(
      /- retention: is a CDK token, known only at deploy.*\(got <token>\)\. Fix: give the Duration itself.*\n {2}- bufferingInterval: is not a whole number of seconds from 60 to 900/,
    );
  });

  it("PipelineSchedules refuses the retry settings CDK's Scheduler target compares with its limits at synth", () => {
    const { stack, parameter } = stackWithParameter();
    const settings = resolveConfig({
      sources: { github: { type: 'github' } },
      queues: { events: {} },
      routes: [{ source: 'github', type: '*', queues: ['events'] }],
      schedules: [{ name: 'hourly', expression: 'rate(1 hour)', queue: 'events', type: 'tick' }],
    });
    expect(
      () =>
        new hookline.PipelineSchedules(stack, 'Schedules', {
          schedules: settings.schedules,
          queues: { events: new PipelineQueue(stack, 'Events').queue },
          retryAttempts: parameter,
          maxEventAge: Duration.hours(parameter),
        }),
    ).toThrow(
      /- retryAttempts: is a CDK token, known only at deploy.*Fix: give the number itself.*\n {2}- maxEventAge: is a CDK token, known only at deploy/,
    );
  });

  it('PipelineDashboard takes a name known at deploy, and refuses a period it writes into its queries', () => {
    const { stack, parameter } = stackWithParameter();
    const queues = () => {
      const pair = new PipelineQueue(stack, `Events${stack.node.children.length}`);
      return [{ name: 'events', queue: pair.queue, deadLetterQueue: pair.deadLetterQueue }];
    };
    const name = new CfnParameter(stack, 'DashboardName').valueAsString;
    new hookline.PipelineDashboard(stack, 'Dashboard', { queues: queues(), dashboardName: name });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: { Ref: 'DashboardName' },
    });
    expect(
      () =>
        new hookline.PipelineDashboard(stack, 'Other', {
          queues: queues(),
          period: Duration.minutes(parameter),
        }),
    ).toThrow(
      /- period: is a CDK token, known only at deploy.*\(got <token>\)\. Fix: give the Duration itself/,
    );
  });

  it('WebhookIngest and HooklineFunction take a timeout token in seconds and refuse one in minutes, naming the prop', () => {
    const { stack, parameter } = stackWithParameter();
    const ingestSettings = resolveConfig({
      sources: { github: { type: 'github' } },
      queues: { events: {} },
      routes: [{ source: 'github', type: '*', queues: ['events'] }],
    });
    const ingest = (id: string, timeout: Duration) =>
      new WebhookIngest(stack, id, {
        settings: ingestSettings,
        queues: { events: new PipelineQueue(stack, `${id}Events`).queue },
        secrets: { github: new secretsmanager.Secret(stack, `${id}Secret`) },
        timeout,
      });
    expect(() => ingest('Ingest', Duration.seconds(parameter))).not.toThrow();
    const inMinutes =
      /- timeout: is a Duration of a CDK token in a unit CDK cannot convert.*Fix: give the token in seconds/;
    expect(() => ingest('Other', Duration.minutes(parameter))).toThrow(inMinutes);
    expect(
      () =>
        new hookline.HooklineFunction(stack, 'Fn', {
          entry: 'lambda/consumers/events.ts',
          timeout: Duration.minutes(parameter),
        }),
    ).toThrow(inMinutes);
  });
});

describe('HooklineFunction used on its own', () => {
  it('throws one error naming every prop Lambda would refuse at deploy, its value and the fix', () => {
    const stack = freshStack();
    expect(
      () =>
        new hookline.HooklineFunction(stack, 'Fn', {
          entry: 'lambda/consumers/events.ts',
          memorySize: 64,
          timeout: Duration.minutes(20),
          environment: { 'api-key': 'x' },
        }),
    ).toThrow(
      /Invalid HooklineFunction Standalone\/Fn:\n {2}- environment\.api-key: .*Fix: rename it, e\.g\. api_key\n {2}- timeout: .*\(got 20 minutes\)\. Fix: .*\n {2}- memorySize: .*\(got 64\)\. Fix: use e\.g\. 512/,
    );
    // Nothing was added to the stack: the app can catch the error and go on.
    expect(stack.node.children.map((c) => c.node.id)).toEqual([]);
  });
});

describe('the constructs used on their own under cdk-nag', () => {
  it("are AwsSolutions clean: each finding hookline's design accepts is acknowledged where the construct makes it", () => {
    const app = testApp();
    const stack = new Stack(app, 'Standalone');
    const events = new PipelineQueue(stack, 'Events', { consumerTimeout: DEFAULTS.consumerTimeout });
    const archive = new hookline.EventArchive(stack, 'Archive');
    const payloads = new s3.Bucket(stack, 'Payloads', { enforceSSL: true, serverAccessLogsPrefix: 'logs/' });
    const secret = new secretsmanager.Secret(stack, 'GithubSecret');
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: "the app's own secret" });
    new WebhookIngest(stack, 'Ingest', {
      settings: resolveConfig({
        sources: { github: { type: 'github' } },
        queues: { events: {} },
        routes: [{ source: 'github', type: '*', queues: ['events'] }],
      }),
      queues: { events: events.queue },
      secrets: { github: secret },
      payloadBucket: payloads,
      archive,
    });
    new QueueConsumer(stack, 'Worker', {
      queue: events.queue,
      deadLetterQueue: events.deadLetterQueue,
      name: 'events',
      entry: 'lambda/consumers/events.ts',
      payloadBucket: payloads,
      archive,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('ConsumerCircuitBreakers used on its own', () => {
  /** A breaker over one consumer, with the settings a test gives. */
  const breakersIn = (stack: Stack, settings: Partial<hookline.BreakerConsumer>) => {
    const jobs = new PipelineQueue(stack, 'Jobs', { consumerTimeout: DEFAULTS.consumerTimeout });
    const worker = new QueueConsumer(stack, 'Worker', {
      queue: jobs.queue,
      deadLetterQueue: jobs.deadLetterQueue,
      name: 'jobs',
      entry: 'lambda/consumers/events.ts',
    });
    return new hookline.ConsumerCircuitBreakers(stack, 'Breakers', {
      topic: new sns.Topic(stack, 'Alarms'),
      consumers: [
        {
          name: 'jobs',
          eventSourceMappingId: worker.eventSourceMappingId,
          failureRatio: 0.5,
          minimumRecords: 20,
          window: Duration.minutes(5),
          scaling: { mode: 'on-demand' },
          ...settings,
        },
      ],
    });
  };

  it('throws one error naming every setting CloudWatch could not alarm on, its value and the fix', () => {
    expect(() =>
      breakersIn(freshStack(), { failureRatio: 2, minimumRecords: 0, window: Duration.seconds(90) }),
    ).toThrow(
      /Invalid ConsumerCircuitBreakers Standalone\/Breakers:\n {2}- consumers\[0\] \(jobs\)\.failureRatio: .*\(got 2\)\. Fix: .*\n {2}- consumers\[0\] \(jobs\)\.minimumRecords: .*\(got 0\)\. Fix: .*\n {2}- consumers\[0\] \(jobs\)\.window: must be whole minutes .*\(got 1 minute 30 seconds\)/,
    );
  });

  it("refuses a name that is no hookline queue name, which its alarm's name joins to the stack's with /", () => {
    expect(() => breakersIn(freshStack(), { name: 'Billing/Jobs' })).toThrow(
      /- consumers\[0\] \(Billing\/Jobs\)\.name: names the breaker's alarm .*lower-case letters, digits and dashes.*\(got "Billing\/Jobs"\)\. Fix: .*"billing-jobs"/,
    );
  });

  it('refuses a threshold given as a CDK token, which its alarm and description compute with', () => {
    const stack = freshStack();
    const ratio = new CfnParameter(stack, 'Ratio', { type: 'Number' }).valueAsNumber;
    expect(() => breakersIn(stack, { failureRatio: ratio })).toThrow(
      /- consumers\[0\] \(jobs\)\.failureRatio: is a CDK token, known only at deploy.*\(got <token>\)/,
    );
  });
});
