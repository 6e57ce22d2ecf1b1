/**
 * CloudFormation's limits on one template that a large configuration reaches: 200 outputs and 500 resources
 * (CDK's default, which `@aws-cdk/core:stackResourceLimit` may change). The pipeline declares several outputs
 * per queue, because the CLI finds each queue through them, so 27 queues with consumers pass the outputs
 * limit while far below the resources limit. CDK checks only the resources, so without this check such a
 * configuration synthesizes and fails at deploy. Checked over the whole stack (the app's own outputs and resources
 * count too) once the app is synthesized, both limits reported together.
 */
import { CfnOutput, CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { throwIfViolations, type Violation, violation } from './violations';

/** CloudFormation's most outputs in a template, and CDK's default most resources in a stack. */
export const TEMPLATE_LIMITS = { outputs: 200, resources: 500 } as const;

/** CDK's context key for the most resources in a stack (0 turns the check off). */
const RESOURCE_LIMIT_CONTEXT = '@aws-cdk/core:stackResourceLimit';

/** What one stack declares, and how much of it the pipeline declares. */
export interface TemplateCounts {
  readonly outputs: number;
  readonly resources: number;
  readonly pipelineOutputs: number;
  readonly pipelineResources: number;
}

/** The limits a stack's template is held to. */
export interface TemplateLimits {
  readonly outputs: number;
  /** 0: not checked (as CDK does). */
  readonly resources: number;
}

const SPLIT_FIX =
  'put some queues or sources in a second HooklinePipeline in another stack (a stack holds one pipeline; the CLI ' +
  'picks a pipeline with --stack)';

/** The limits `counts` breaks, each with what the pipeline adds and how to get under it. */
export function templateLimitViolations(
  counts: TemplateCounts,
  limits: TemplateLimits = TEMPLATE_LIMITS,
): Violation[] {
  const out: Violation[] = [];
  if (counts.outputs > limits.outputs)
    out.push(
      violation(
        'outputs',
        `CloudFormation accepts at most ${limits.outputs} outputs in one template; the pipeline declares ` +
          `${counts.pipelineOutputs} (7 for each queue with a consumer, 4 for each other queue, 2 for each ` +
          `verifying source, 1 for each other source, 2 for each schedule, and up to 16 for the whole ` +
          `pipeline) and the rest of the stack ${counts.outputs - counts.pipelineOutputs}`,
        counts.outputs,
        `${SPLIT_FIX}, or remove outputs of the stack's own`,
      ),
    );
  if (limits.resources > 0 && counts.resources > limits.resources)
    out.push(
      violation(
        'resources',
        `CloudFormation accepts at most ${limits.resources} resources in one stack; the pipeline declares ` +
          `${counts.pipelineResources} and the rest of the stack ${counts.resources - counts.pipelineResources}`,
        counts.resources,
        `${SPLIT_FIX}, or move resources of the stack's own to another stack`,
      ),
    );
  return out;
}

/** Counts the outputs and resources of `stack`'s own template, and those of them under `pipeline`. */
export function countTemplate(stack: Stack, pipeline: IConstruct): TemplateCounts {
  const own = (construct: IConstruct) => Stack.of(construct) === stack;
  const all = stack.node.findAll().filter(own);
  const under = new Set(pipeline.node.findAll());
  const outputs = all.filter((c) => c instanceof CfnOutput);
  const resources = all.filter((c) => CfnResource.isCfnResource(c));
  return {
    outputs: outputs.length,
    resources: resources.length,
    pipelineOutputs: outputs.filter((c) => under.has(c)).length,
    pipelineResources: resources.filter((c) => under.has(c)).length,
  };
}

/** Checks the template of `pipeline`'s stack against {@link TEMPLATE_LIMITS} when the app is synthesized. */
export function checkTemplateLimits(pipeline: IConstruct): void {
  const stack = Stack.of(pipeline);
  stack.node.addValidation({
    validate: () => {
      const configured = stack.node.tryGetContext(RESOURCE_LIMIT_CONTEXT);
      const limits = {
        outputs: TEMPLATE_LIMITS.outputs,
        resources:
          configured === undefined ? TEMPLATE_LIMITS.resources : Number.parseInt(String(configured), 10),
      };
      throwIfViolations(
        `CloudFormation template of stack ${stack.stackName}`,
        templateLimitViolations(countTemplate(stack, pipeline), limits),
      );
      return [];
    },
  });
}
