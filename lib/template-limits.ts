/**
 * CloudFormation's limits on one template that a large configuration reaches: 200 outputs, 500 resources (CDK's
 * default, which `@aws-cdk/core:stackResourceLimit` may change) and 1 MB of template body. The pipeline declares
 * outputs per source and queue, through which the CLI finds them, so enough sources pass the outputs limit while
 * far below the resources limit. CDK checks only the resources, and only warns about the template's
 * size, so without this check such a configuration synthesizes and fails at deploy. Checked over the
 * whole stack (the app's own outputs and resources count too) once the app is synthesized, every limit reported
 * together.
 */
import { CfnElement, CfnOutput, CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { throwIfViolations, type Violation, violation } from './violations';

/**
 * CloudFormation's most outputs in a template, CDK's default most resources in a stack, and the largest template
 * body CloudFormation reads from S3, where `cdk deploy` uploads it: "1 MB", which CDK measures as 1,000,000.
 */
export const TEMPLATE_LIMITS = { outputs: 200, resources: 500, templateBytes: 1_000_000 } as const;

/** CDK's context key for the most resources in a stack (0 turns the check off). */
const RESOURCE_LIMIT_CONTEXT = '@aws-cdk/core:stackResourceLimit';

/** What one stack declares, and how much of it the pipeline declares. */
export interface TemplateCounts {
  readonly outputs: number;
  readonly resources: number;
  readonly pipelineOutputs: number;
  readonly pipelineResources: number;
  /** Outputs CDK adds for what other stacks of the app import (absent when none). */
  readonly importedOutputs?: number;
}

/** How large one stack's template is once written. */
export interface TemplateSize {
  /** Bytes of the template as CDK writes it for `cdk deploy` (indented, unless the stack suppresses it). */
  readonly bytes: number;
  /** Whether CDK indents it; without indentation it takes {@link unindentedBytes}. */
  readonly indented: boolean;
  readonly unindentedBytes: number;
  /** The largest resources of the template, largest first, by construct path. */
  readonly largest: readonly { readonly path: string; readonly bytes: number }[];
}

/** The limits a stack's template is held to. */
export interface TemplateLimits {
  readonly outputs: number;
  /** 0: not checked (as CDK does). */
  readonly resources: number;
  readonly templateBytes: number;
}

const SPLIT_FIX =
  'put some queues or sources in a second HooklinePipeline in another stack (a stack holds one pipeline; the CLI ' +
  'picks a pipeline with --stack)';

/** The limits `counts` breaks, each with what the pipeline adds and how to get under it. */
export function templateLimitViolations(
  counts: TemplateCounts,
  limits: TemplateLimits = TEMPLATE_LIMITS,
  size?: TemplateSize,
): Violation[] {
  const out: Violation[] = [];
  if (counts.outputs > limits.outputs)
    out.push(
      violation(
        'outputs',
        `CloudFormation accepts at most ${limits.outputs} outputs in one template; the pipeline declares ` +
          `${counts.pipelineOutputs} (5 for each queue with a consumer, 2 for each other queue, 2 for each ` +
          `verifying source, 1 for each other source, 1 for each schedule, and up to 15 for the whole ` +
          `pipeline) and the rest of the stack ${counts.outputs - counts.pipelineOutputs}` +
          (counts.importedOutputs
            ? ` (${counts.importedOutputs} of them for values other stacks of the app import: each queue, table, bucket and role granted to a function there)`
            : ''),
        counts.outputs,
        `${SPLIT_FIX}, ${counts.importedOutputs ? 'grant functions in other stacks fewer queues (or move them into this stack), ' : ''}or remove outputs of the stack's own`,
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
  if (size && size.bytes > limits.templateBytes) out.push(templateSizeViolation(size, limits.templateBytes));
  return out;
}

/** The template is larger than CloudFormation reads: what takes the room, and the fixes that get it under. */
function templateSizeViolation(size: TemplateSize, limit: number): Violation {
  const largest = size.largest.map((r) => `${r.path} (${r.bytes})`).join(', ');
  const unindent =
    size.indented && size.unindentedBytes <= limit
      ? `set the context key @aws-cdk/core:suppressTemplateIndentation to true in cdk.json, or ` +
        `suppressTemplateIndentation: true in the stack's props (${size.unindentedBytes} bytes without indentation); ` +
        'or '
      : '';
  return violation(
    'templateBytes',
    `CloudFormation reads a template of at most ${limit} bytes (1 MB) from S3, where cdk deploy uploads it; this ` +
      `one takes ${size.bytes} bytes${size.indented ? ' as CDK writes it, indented' : ''}, the largest resources ` +
      `in bytes being ${largest}`,
    size.bytes,
    `${unindent}${SPLIT_FIX}, or shrink what the largest resources carry (a schedule's payload, a consumer's ` +
      'environment)',
  );
}

/** Counts the outputs and resources of `stack`'s own template, and those of them under `pipeline`. */
export function countTemplate(stack: Stack, pipeline: IConstruct): TemplateCounts {
  const own = (construct: IConstruct) => Stack.of(construct) === stack;
  const all = stack.node.findAll().filter(own);
  const under = new Set(pipeline.node.findAll());
  const outputs = all.filter((c) => c instanceof CfnOutput);
  const resources = all.filter((c) => CfnResource.isCfnResource(c));
  // CDK adds an output for each value another stack imports, under the stack's `Exports` (an export) or
  // `Publish` (a stack output reference, `@aws-cdk/core:defaultCrossStackReferences: weak`).
  const imported = outputs.filter(
    (c) => c.node.scope?.node.scope === stack && ['Exports', 'Publish'].includes(c.node.scope.node.id),
  ).length;
  return {
    outputs: outputs.length,
    resources: resources.length,
    pipelineOutputs: outputs.filter((c) => under.has(c)).length,
    pipelineResources: resources.filter((c) => under.has(c)).length,
    ...(imported > 0 ? { importedOutputs: imported } : {}),
  };
}

/**
 * What CDK's default synthesizer adds as it writes the template, after the validations (the `BootstrapVersion`
 * parameter and the rule that checks it: 768 bytes indented), with room to spare.
 */
const SYNTHESIZER_ADDITIONS_BYTES = 1024;

/**
 * The template CDK will write for `stack` (counted with {@link SYNTHESIZER_ADDITIONS_BYTES} for what the
 * synthesizer adds, so at least its real size), and the resources that make it large.
 */
export function measureTemplate(stack: Stack, largestCount = 3): TemplateSize {
  const template = renderTemplate(stack);
  // The stack's setting (its props, else the context key), which CDK keeps to itself.
  const indented =
    (stack as unknown as { _suppressTemplateIndentation?: boolean })._suppressTemplateIndentation !== true;
  const indent = indented ? 1 : undefined;
  const pathOf = new Map<string, string>();
  for (const c of stack.node.findAll()) {
    if (CfnResource.isCfnResource(c) && Stack.of(c) === stack)
      pathOf.set(stack.resolve(c.logicalId) as string, c.node.path);
  }
  const largest = Object.entries(template.Resources ?? {})
    .map(([id, resource]) => ({
      path: pathOf.get(id) ?? id,
      bytes: Buffer.byteLength(JSON.stringify(resource, undefined, indent)),
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, largestCount);
  return {
    bytes: Buffer.byteLength(JSON.stringify(template, undefined, indent)) + SYNTHESIZER_ADDITIONS_BYTES,
    indented,
    unindentedBytes: Buffer.byteLength(JSON.stringify(template)) + SYNTHESIZER_ADDITIONS_BYTES,
    largest,
  };
}

/**
 * The template of `stack` as CDK renders it when it writes it: each element's fragment, resolved, merged by
 * section under the template options. CDK exposes the template only once written, after the validations;
 * rendering the fragments again costs tens of milliseconds for the largest pipelines.
 */
function renderTemplate(stack: Stack): Record<string, Record<string, unknown> | undefined> {
  const options = stack.templateOptions;
  const template: Record<string, Record<string, unknown> | undefined> = {};
  for (const c of stack.node.findAll()) {
    if (!CfnElement.isCfnElement(c) || Stack.of(c) !== stack) continue;
    const fragment = stack.resolve((c as unknown as { _toCloudFormation(): object })._toCloudFormation());
    for (const [section, entries] of Object.entries(fragment as Record<string, Record<string, unknown>>))
      template[section] = { ...template[section], ...entries };
  }
  return stack.resolve({
    Description: options.description,
    Transform: options.transforms,
    AWSTemplateFormatVersion: options.templateFormatVersion,
    Metadata: options.metadata,
    ...template,
  });
}

/** Checks the template of `pipeline`'s stack against {@link TEMPLATE_LIMITS} when the app is synthesized. */
export function checkTemplateLimits(pipeline: IConstruct): void {
  const stack = Stack.of(pipeline);
  stack.node.addValidation({
    validate: () => {
      const configured = stack.node.tryGetContext(RESOURCE_LIMIT_CONTEXT);
      const limits = {
        ...TEMPLATE_LIMITS,
        resources:
          configured === undefined ? TEMPLATE_LIMITS.resources : Number.parseInt(String(configured), 10),
      };
      throwIfViolations(
        `CloudFormation template of stack ${stack.stackName}`,
        templateLimitViolations(countTemplate(stack, pipeline), limits, measureTemplate(stack)),
      );
      return [];
    },
  });
}
