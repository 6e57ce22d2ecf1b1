/**
 * Lambda refuses a function whose environment variables take more than 4 KB together, and CloudFormation only
 * finds out late in a deploy: synthesis refuses it first, for every function hookline creates or grants, with the
 * function's path, its size (tokens counted at their longest values) and the fix, every such function at once.
 */
import { App, Arn, ArnFormat, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { checkEnvironmentSize, estimateEnvironmentBytes } from '../../lib/function-environment';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';
import { pipelineTemplate, testApp, testStack } from '../helpers/cdk';

const consumer = { entry: 'lambda/consumers/events.ts', timeout: Duration.seconds(30) };

/** A pipeline whose jobs endpoint takes `count` queues (at least one) besides `events`. */
function jobsEndpointStack(count: number) {
  const extra = Object.fromEntries(
    Array.from({ length: Math.max(count, 1) }, (_, i) => [`billing-run-${i}`, {}]),
  );
  const config = resolveConfig({
    stackName: 'HooklineProduction',
    sources: { github: { type: 'github' } },
    queues: { events: { consumer }, ...extra },
    defaultRoute: { queues: ['events'] },
    jobs: { endpoint: { queues: Object.keys(extra) } },
  } as HooklineConfig);
  return new WebhookPipelineStack(testApp(), config.stackName, { config });
}

function producer(stack: Stack, environment: Record<string, string> = {}) {
  return new lambda.Function(stack, 'Producer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {}'),
    environment,
  });
}

describe("a function's environment at synthesis", () => {
  it("refuses a jobs endpoint whose queues outgrow Lambda's 4 KB, naming the function, its size and the fix", {
    timeout: 120_000,
  }, () => {
    const stack = jobsEndpointStack(30);
    expect(() => Template.fromStack(stack)).toThrow(
      /Invalid Lambda environments in stack HooklineProduction:\n {2}- HooklineProduction\/Default\/JobsEndpoint\/Function: its environment variables can take up to \d{4,} bytes once deployed \(each token counted at its longest value\), above Lambda's limit of 4096 bytes .*\(got \d{4,}\)\. Fix: list fewer queues in jobs\.endpoint\.queues \(30 now; each adds its queue's name and, with delays, its scheduler role's name, so about 17 to 21 fit with delays/,
    );
  });

  it("refuses circuit breakers on more queues than the breaker function's environment holds, saying how many fit", {
    timeout: 120_000,
  }, () => {
    const queues = Object.fromEntries(
      // 30 queues with long names: fewer than CloudFormation's resource limit allows, more than the breaker holds.
      Array.from({ length: 30 }, (_, i) => [
        `billing-run-for-tenant-${i}`,
        { consumer: { ...consumer, circuitBreaker: {} } },
      ]),
    );
    const config = resolveConfig({
      stackName: 'HooklineProduction',
      sources: { github: { type: 'github' } },
      queues,
      defaultRoute: { queues: ['billing-run-for-tenant-0'] },
    } as HooklineConfig);
    const stack = new WebhookPipelineStack(testApp(), config.stackName, { config });
    expect(() => Template.fromStack(stack)).toThrow(
      /HooklineProduction\/Default\/CircuitBreakers\/Function: its environment variables can take up to \d{4,} bytes .*Fix: enable the circuit breaker on fewer queues of this stack \(30 now; each adds 84 bytes, the stack's name and twice its queue's name/,
    );
  });

  it('lists every function over the limit at once: a producer granted too many queues too', {
    timeout: 120_000,
  }, () => {
    const stack = jobsEndpointStack(30);
    const fn = producer(stack);
    for (const queue of Object.keys(stack.queues).filter((q) => q !== 'events'))
      stack.grantSend(fn, queue, { delays: true });
    let message = '';
    try {
      Template.fromStack(stack);
    } catch (error) {
      message = (error as Error).message;
    }
    const listed = message.split('\n').filter((line) => line.startsWith('  - '));
    expect(listed.map((line) => line.split(':')[0])).toEqual([
      '  - HooklineProduction/Default/JobsEndpoint/Function',
      '  - HooklineProduction/Producer',
    ]);
    expect(listed[1]).toMatch(/Fix: grant this function fewer queues \(each grantSend adds the queue's name/);
    expect((message.match(/ {4}at /g) ?? []).length).toBe(0);
  });

  it('lets a normal pipeline through: the example, and a jobs endpoint of 16 queues with delays', {
    timeout: 120_000,
  }, () => {
    expect(() => pipelineTemplate()).not.toThrow();
    const stack = jobsEndpointStack(16);
    expect(() => Template.fromStack(stack)).not.toThrow();
    const jobs = stack.pipeline.jobsEndpoint?.jobsFunction as lambda.Function;
    expect(estimateEnvironmentBytes(jobs)).toBeLessThanOrEqual(4096);
  });

  it('checks the environment as synthesized, so a variable added after the grant counts', {
    timeout: 120_000,
  }, () => {
    const stack = jobsEndpointStack(0);
    const fn = producer(stack);
    stack.grantSend(fn, 'events');
    Template.fromStack(stack);
    const later = jobsEndpointStack(0);
    const grown = producer(later);
    later.grantSend(grown, 'events');
    grown.addEnvironment('LARGE', 'x'.repeat(4000));
    expect(() => Template.fromStack(later)).toThrow(
      /HooklineProduction\/Producer: its environment variables/,
    );
  });

  it('counts grants made after the environment was first measured', { timeout: 120_000 }, () => {
    const stack = jobsEndpointStack(30);
    const fn = producer(stack);
    const [first = '', ...others] = Object.keys(stack.queues).filter((q) => q !== 'events');
    stack.grantSend(fn, first, { delays: true });
    const once = estimateEnvironmentBytes(fn);
    for (const queue of others) stack.grantSend(fn, queue, { delays: true });
    expect(estimateEnvironmentBytes(fn)).toBeGreaterThan(once + others.length * 100);
  });

  it.each([
    ['exports', {}],
    ['weak references (a new app)', { '@aws-cdk/core:defaultCrossStackReferences': 'weak' }],
  ])(
    "counts an app's producer in another stack (%s) at the names it imports, as if it were in the pipeline's",
    { timeout: 120_000 },
    (_, flags) => {
      // GIVEN the same producer granted six queues with delays, once in the pipeline's stack, once in its own
      const granted = (ownStack: boolean) => {
        const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...flags } });
        const config = resolveConfig({
          sources: { github: { type: 'github' } },
          queues: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`jobs-${i}`, {}])),
        } as HooklineConfig);
        const stack = new WebhookPipelineStack(app, config.stackName, { config });
        const fn = producer(ownStack ? new Stack(app, 'Signup') : stack);
        for (const queue of Object.keys(stack.queues)) stack.grantSend(fn, queue, { delays: true });
        return { app, fn };
      };
      const [inPipelineStack, inOwnStack] = [granted(false), granted(true)];
      // WHEN the apps synthesize (where CDK turns the references into imports)
      expect(() => inPipelineStack.app.synth()).not.toThrow();
      expect(() => inOwnStack.app.synth()).not.toThrow();
      // THEN each import counts as the name it stands for, not as an unknown value
      expect(estimateEnvironmentBytes(inOwnStack.fn)).toBe(estimateEnvironmentBytes(inPipelineStack.fn));
    },
  );

  it.each([
    ['the pipeline in a nested stack, the producer in its parent', true],
    ['the pipeline in a stack, the producer in a nested stack of it', false],
  ])(
    'counts a producer across a nested stack (%s) at the names it is passed, not as unknowns',
    { timeout: 120_000 },
    (_, pipelineNested) => {
      // GIVEN a producer granted six queues with delays across the nested stack boundary
      const app = testApp();
      const parent = new Stack(app, 'Platform');
      const nested = new NestedStack(parent, 'Team');
      const pipeline = new HooklinePipeline(pipelineNested ? nested : parent, 'Webhooks', {
        config: resolveConfig({
          sources: { github: { type: 'github' } },
          queues: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`jobs-${i}`, {}])),
        } as HooklineConfig),
      });
      const fn = producer(pipelineNested ? parent : nested);
      for (const queue of Object.keys(pipeline.queues)) pipeline.grantSend(fn, queue, { delays: true });
      // WHEN the app synthesizes, THEN it fits, as it does in one stack (about 19 to 23 queues with delays)
      expect(() => app.synth()).not.toThrow();
      expect(estimateEnvironmentBytes(fn)).toBeLessThanOrEqual(4096);
    },
  );

  it("counts a part picked out of a token (a secret ARN's tail) at that part's longest, not the service's", () => {
    const stack = testStack();
    const secret = new secretsmanager.Secret(stack, 'Signing');
    const tail = Arn.split(secret.secretArn, ArnFormat.COLON_RESOURCE_NAME).resourceName ?? '';
    const fn = producer(stack, { SECRET: tail });
    // CloudFormation names the secret `<logical id>-<12 random>`; its ARN adds `-<6 random>`.
    const logicalId = stack.resolve(
      (secret.node.defaultChild as secretsmanager.CfnSecret).logicalId,
    ) as string;
    const longestReal = JSON.stringify({ SECRET: `${logicalId}-${'R'.repeat(12)}-${'S'.repeat(6)}` });
    expect(estimateEnvironmentBytes(fn)).toBe(Buffer.byteLength(longestReal));
  });

  it("counts a generated queue name at exactly its longest: the stack's name, the logical id, 13 random characters and a FIFO queue's .fifo", () => {
    const stack = testStack();
    const queue = new sqs.Queue(stack, 'Queue');
    const fifo = new sqs.Queue(stack, 'Ordered', { fifo: true });
    const logicalId = (q: sqs.Queue) =>
      stack.resolve((q.node.defaultChild as sqs.CfnQueue).logicalId) as string;
    const generated = (q: sqs.Queue, suffix = '') =>
      `${stack.stackName}-${logicalId(q)}-${'R'.repeat(13)}${suffix}`;
    // Names alone: no region or URL suffix whose room could hide a name counted short.
    expect(estimateEnvironmentBytes(producer(stack, { QUEUE: queue.queueName, FIFO: fifo.queueName }))).toBe(
      Buffer.byteLength(JSON.stringify({ QUEUE: generated(queue), FIFO: generated(fifo, '.fifo') })),
    );
  });

  it('counts a secret the stack names at that name and the 7 characters Secrets Manager adds to its ARN', () => {
    const stack = testStack();
    const secret = new secretsmanager.Secret(stack, 'Signing', { secretName: 'prod/github-webhook' });
    const tail = Arn.split(secret.secretArn, ArnFormat.COLON_RESOURCE_NAME).resourceName ?? '';
    expect(estimateEnvironmentBytes(producer(stack, { SECRET: tail }))).toBe(
      Buffer.byteLength(JSON.stringify({ SECRET: 'prod/github-webhook-AbCdEf' })),
    );
  });

  it('counts a value by its UTF-8 bytes, never fewer than its characters', () => {
    const stack = testStack();
    const value = 'é'.repeat(100);
    const bytes = estimateEnvironmentBytes(producer(stack, { NOTE: value }));
    expect(bytes).toBe(Buffer.byteLength(JSON.stringify({ NOTE: value })));
    expect(bytes).toBeGreaterThan(JSON.stringify({ NOTE: value }).length);
  });

  it('counts a token at the longest value it can resolve to, never below a real one', () => {
    const stack = testStack();
    const queue = new sqs.Queue(stack, 'Queue');
    const fifo = new sqs.Queue(stack, 'Ordered', { fifo: true });
    const named = new sqs.Queue(stack, 'Named', { queueName: 'billing' });
    const fn = producer(stack, {
      QUEUE_URL: queue.queueUrl,
      QUEUE_ARN: queue.queueArn,
      FIFO_URL: fifo.queueUrl,
      NAMED_ARN: named.queueArn,
    });
    // CloudFormation names a queue `<stack>-<logical id>-<12 or 13 random characters>`, a FIFO one `.fifo` more.
    const generated = (logicalId: string, suffix = '') =>
      `${stack.stackName}-${stack.resolve((stack.node.findChild(logicalId).node.defaultChild as sqs.CfnQueue).logicalId)}-${'R'.repeat(13)}${suffix}`;
    const url = (name: string) => `https://sqs.ap-southeast-5.amazonaws.com.cn/123456789012/${name}`;
    const arn = (name: string) => `arn:aws-us-gov:sqs:ap-southeast-5:123456789012:${name}`;
    const longestReal = JSON.stringify({
      QUEUE_URL: url(generated('Queue')),
      QUEUE_ARN: arn(generated('Queue')),
      FIFO_URL: url(generated('Ordered', '.fifo')),
      NAMED_ARN: arn('billing'),
    });
    const estimate = estimateEnvironmentBytes(fn);
    expect(estimate).toBeGreaterThanOrEqual(Buffer.byteLength(longestReal));
    // ...and close to it: a generated name is bounded by the stack's name and the logical id, not by 80.
    expect(estimate - Buffer.byteLength(longestReal)).toBeLessThan(120);
    checkEnvironmentSize(fn, 'unused');
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
