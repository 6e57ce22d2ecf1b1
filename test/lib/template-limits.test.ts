import { readFileSync } from 'node:fs';
import { App, CfnOutput, CfnResource, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { HooklinePipeline } from '../../lib/hookline-pipeline';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import {
  countTemplate,
  measureTemplate,
  TEMPLATE_LIMITS,
  type TemplateSize,
  templateLimitViolations,
} from '../../lib/template-limits';
import { ViolationsError } from '../../lib/violations';

const consumer = { entry: 'lambda/consumers/events.ts', timeout: Duration.seconds(30) };

function config(queueCount: number, extra: Partial<HooklineConfig> = {}) {
  const queues = Object.fromEntries(Array.from({ length: queueCount }, (_, i) => [`q${i}`, { consumer }]));
  return resolveConfig({
    sources: { github: { type: 'github' } },
    queues,
    defaultRoute: { queues: ['q0'] },
    ...extra,
  });
}

function app(context: Record<string, unknown> = {}): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

/** The synthesized template's outputs, or the error synthesis threw. */
function synthesize(
  build: (stack: Stack) => void,
  context: Record<string, unknown> = {},
): { outputs: string[] } | { error: unknown } {
  const application = app(context);
  const stack = new Stack(application, 'Limits');
  build(stack);
  try {
    const template = application.synth().getStackByName('Limits').template as { Outputs?: object };
    return { outputs: Object.keys(template.Outputs ?? {}) };
  } catch (error) {
    return { error };
  }
}

function outputsOf(result: ReturnType<typeof synthesize>): string[] {
  if ('error' in result) throw result.error;
  return result.outputs;
}

describe('CloudFormation template limits, checked at synth', () => {
  it('adds exactly the outputs the error message names for each queue, source and schedule', () => {
    const small = outputsOf(synthesize((s) => new HooklinePipeline(s, 'P', { config: config(1) })));
    const larger = outputsOf(
      synthesize(
        (s) =>
          new HooklinePipeline(s, 'P', {
            config: config(2, {
              sources: {
                github: { type: 'github' },
                stripe: { type: 'stripe' },
                open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
              },
              queues: { q0: { consumer }, q1: { consumer }, plain: {} },
              schedules: [{ name: 'tick', expression: 'rate(1 hour)', queue: 'q1', type: 'tick' }],
            }),
          }),
      ),
    );
    // One more queue with a consumer (5), a queue without one (2), a verifying source (2), an unverified
    // source (1), a schedule (1): what the message says each costs.
    expect(larger.length - small.length).toBe(5 + 2 + 2 + 1 + 1);
    // The whole-pipeline outputs stay within the "up to 15" the message names.
    const perItem =
      /^(WebhookUrl|SigningSecretId|QueueUrl|DeadLetterQueue|Consumer|EventSourceMapping|ScheduleDeadLetterQueue)/;
    expect(Object.values(STACK_OUTPUTS).length + 2).toBeLessThanOrEqual(15);
    expect(larger.filter((key) => !perItem.test(key)).length).toBeLessThanOrEqual(15);
  }, 120_000);

  it('holds as many queues with consumers as 500 resources allow, and refuses the next one at synth', () => {
    // 35 queues with consumers fit: 13 resources each, 1 expiry alarm per 10 of their dead-letter queues and 1
    // rotated-secret alarm for the source and 1 failed-deletes alarm for the consumers (491 in all), 5 outputs each
    // (187 in all).
    const fits = synthesize((s) => new HooklinePipeline(s, 'P', { config: config(35) }));
    expect(outputsOf(fits).length).toBeLessThanOrEqual(200);
    // The 36th passes 500 resources (504) while its outputs (192) still fit: CDK and this check refuse it.
    const result = synthesize((s) => new HooklinePipeline(s, 'P', { config: config(36) }));
    expect(result).toHaveProperty('error');
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(ViolationsError);
    const message = (error as Error).message;
    expect(message).toContain('CloudFormation template of stack Limits');
    expect(message).toMatch(
      /resources: CloudFormation accepts at most 500 resources in one stack; the pipeline declares 504 and the rest of the stack 0/,
    );
    expect(message).toContain('second HooklinePipeline in another stack');
    expect(message).not.toContain('outputs:');
  }, 300_000);

  it('refuses at synth a stack whose outputs pass 200, which CloudFormation would refuse only at deploy', () => {
    const pipelineOutputs = outputsOf(
      synthesize((s) => new HooklinePipeline(s, 'P', { config: config(1) })),
    ).length;
    const result = synthesize((s) => {
      new HooklinePipeline(s, 'P', { config: config(1) });
      for (let i = 0; i < 201 - pipelineOutputs; i++) new CfnOutput(s, `Own${i}`, { value: String(i) });
    });
    expect(result).toHaveProperty('error');
    const message = String((result as { error?: Error }).error?.message);
    expect(message).toContain(
      `outputs: CloudFormation accepts at most 200 outputs in one template; the pipeline declares ${pipelineOutputs} (5 for each queue with a consumer`,
    );
    expect(message).toContain(`and the rest of the stack ${201 - pipelineOutputs} (got 201)`);
    expect(message).not.toContain('resources:');
  }, 120_000);

  it("counts the app's own outputs and resources in the same stack, and reports both limits at once", () => {
    const result = synthesize(
      (s) => {
        new HooklinePipeline(s, 'P', { config: config(1) });
        for (let i = 0; i < 190; i++) new CfnOutput(s, `Own${i}`, { value: String(i) });
        for (let i = 0; i < 3; i++) new sqs.Queue(s, `OwnQueue${i}`);
      },
      { '@aws-cdk/core:stackResourceLimit': 40 },
    );
    const message = String((result as { error?: Error }).error?.message);
    expect(message).toMatch(/outputs: .* and the rest of the stack 190 \(got \d+\)/);
    expect(message).toMatch(
      /resources: CloudFormation accepts at most 40 resources in one stack; the pipeline declares \d+ and the rest of the stack 3 \(got \d+\)/,
    );
  }, 120_000);

  it.each([
    ['exports', {}],
    ['weak references (a new app)', { '@aws-cdk/core:defaultCrossStackReferences': 'weak' }],
  ])(
    'names the outputs other stacks import (%s) and the fix for them: grants to functions in other stacks',
    (_, flags) => {
      // GIVEN a function in another stack granted 40 queues with delays, each queue and role an import
      const application = app(flags);
      const queues = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`jobs-${i}`, {}]));
      const pipeline = new HooklinePipeline(new Stack(application, 'Limits'), 'P', {
        config: resolveConfig({ sources: { github: { type: 'github' } }, queues }),
      });
      const fn = new lambda.Function(new Stack(application, 'Signup'), 'Producer', {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('export const handler = async () => {}'),
      });
      for (const queue of Object.keys(queues)) pipeline.grantSend(fn, queue, { delays: true });
      // WHEN it synthesizes, THEN the outputs the imports add are named with their fix
      expect(() => application.synth()).toThrow(
        /the rest of the stack \d+ \(\d+ of them for values other stacks of the app import: .*Fix: .*grant functions in other stacks fewer queues \(or move them into this stack\)/,
      );
    },
    120_000,
  );

  it("leaves resources unchecked when the app turns CDK's resource limit off (0), as CDK does", () => {
    expect(
      templateLimitViolations(
        { outputs: 10, resources: 900, pipelineOutputs: 10, pipelineResources: 900 },
        { ...TEMPLATE_LIMITS, resources: 0 },
      ),
    ).toEqual([]);
    expect(
      templateLimitViolations({ outputs: 200, resources: 500, pipelineOutputs: 200, pipelineResources: 500 }),
    ).toEqual([]);
  });
});

describe("a nested stack's resources and outputs, which CloudFormation counts in its own template", () => {
  /** A pipeline stand-in of 2 queues in `Limits`, and a nested stack of 3 queues and an output. */
  function withNestedStack() {
    const stack = new Stack(app(), 'Limits');
    const pipeline = new Construct(stack, 'P');
    for (let i = 0; i < 2; i++) new sqs.Queue(pipeline, `Q${i}`);
    new CfnResource(stack, 'Padding', {
      type: 'AWS::SSM::Parameter',
      properties: { Value: 'x'.repeat(5_000) },
    });
    const nested = new NestedStack(stack, 'Nested');
    for (let i = 0; i < 3; i++) new sqs.Queue(nested, `Q${i}`);
    new CfnOutput(nested, 'NestedOutput', { value: 'n' });
    new CfnResource(nested, 'Padding', { type: 'AWS::SSM::Parameter', properties: { Value: 'y' } });
    return { stack, pipeline };
  }

  it("are not counted against the parent stack's limits: only the nested stack resource itself is", () => {
    const { stack, pipeline } = withNestedStack();
    // the pipeline's 2 queues, the app's padding and the nested stack's AWS::CloudFormation::Stack
    expect(countTemplate(stack, pipeline)).toEqual({
      outputs: 0,
      resources: 4,
      pipelineOutputs: 0,
      pipelineResources: 2,
    });
  });

  it("names the parent's largest resources by their own path, though a nested one has the same logical id", () => {
    const { stack } = withNestedStack();
    expect(measureTemplate(stack).largest[0]?.path).toBe('Limits/Padding');
  });
});

describe('the fix for a template that is too large', () => {
  const size = (over: Partial<TemplateSize>): TemplateSize => ({
    bytes: 1_200_000,
    indented: true,
    unindentedBytes: 900_000,
    largest: [{ path: 'Limits/Padding', bytes: 800_000 }],
    ...over,
  });
  const counts = { outputs: 1, resources: 1, pipelineOutputs: 1, pipelineResources: 1 };
  const fixOf = (over: Partial<TemplateSize>) => {
    const [found] = templateLimitViolations(counts, TEMPLATE_LIMITS, size(over));
    return found?.fix ?? '';
  };
  const SUPPRESS = 'suppressTemplateIndentation';

  it('suggests dropping the indentation only when the template would then fit, up to exactly the limit', () => {
    expect(fixOf({})).toContain(
      `${SUPPRESS}: true in the stack's props (900000 bytes without indentation); or `,
    );
    expect(fixOf({ unindentedBytes: TEMPLATE_LIMITS.templateBytes })).toContain(SUPPRESS);
    expect(fixOf({ unindentedBytes: TEMPLATE_LIMITS.templateBytes + 1 })).not.toContain(SUPPRESS);
    expect(fixOf({ unindentedBytes: TEMPLATE_LIMITS.templateBytes + 1 })).toMatch(
      /^put some queues or sources/,
    );
  });

  it('does not suggest it for a template that is already written without indentation', () => {
    expect(fixOf({ indented: false, bytes: 1_200_000, unindentedBytes: 1_200_000 })).not.toContain(SUPPRESS);
  });
});

describe('the template size CloudFormation reads, checked at synth', () => {
  /**
   * A pipeline of one queue beside `padding` characters of the app's own, in one resource; `measured` is what the
   * check counted, once the app was complete.
   */
  function paddedStack(padding: number, stackProps: { suppressTemplateIndentation?: boolean } = {}) {
    const application = app();
    const stack = new Stack(application, 'Limits', stackProps);
    new HooklinePipeline(stack, 'P', { config: config(1) });
    new CfnResource(stack, 'Padding', {
      type: 'AWS::SSM::Parameter',
      properties: { Type: 'String', Value: 'x'.repeat(padding) },
    });
    const seen: { measured?: ReturnType<typeof measureTemplate> } = {};
    stack.node.addValidation({
      validate: () => {
        seen.measured = measureTemplate(stack);
        return [];
      },
    });
    return { application, seen };
  }

  /** The bytes the check counts for the pipeline alone. */
  function pipelineBytes(): number {
    const { application, seen } = paddedStack(0);
    application.synth();
    return seen.measured?.bytes ?? Number.NaN;
  }

  it('counts at least the bytes CDK writes, and no more than 1 KiB above them', () => {
    const { application, seen } = paddedStack(20_000);
    const written = readFileSync(application.synth().getStackByName('Limits').templateFullPath);
    expect(seen.measured?.bytes).toBeGreaterThanOrEqual(written.length);
    expect((seen.measured?.bytes ?? 0) - written.length).toBeLessThanOrEqual(1024);
    expect(seen.measured?.largest[0]?.path).toBe('Limits/Padding');
  }, 120_000);

  it('refuses a template above 1 MB with its largest resources, and lets through the largest that fits', () => {
    const fits = TEMPLATE_LIMITS.templateBytes - pipelineBytes();
    expect(() => paddedStack(fits).application.synth()).not.toThrow();

    const { application } = paddedStack(fits + 1);
    const error = (() => {
      try {
        application.synth();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ViolationsError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /templateBytes: CloudFormation reads a template of at most 1000000 bytes \(1 MB\) from S3, where cdk deploy uploads it; this one takes 1000001 bytes as CDK writes it, indented, the largest resources in bytes being Limits\/Padding \(\d+\), /,
    );
    expect(message).toMatch(
      /Fix: set the context key @aws-cdk\/core:suppressTemplateIndentation to true in cdk.json, or suppressTemplateIndentation: true in the stack's props \(\d+ bytes without indentation\); or put some queues/,
    );
    expect(message).toContain('second HooklinePipeline in another stack');
    expect(message).not.toMatch(/ - (outputs|resources):/);
  }, 120_000);

  it("counts the template as the stack writes it: without indentation once the stack's props suppress it", () => {
    const { application } = paddedStack(TEMPLATE_LIMITS.templateBytes - pipelineBytes() + 1, {
      suppressTemplateIndentation: true,
    });
    expect(() => application.synth()).not.toThrow();
  }, 120_000);
});
