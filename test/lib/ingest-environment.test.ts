/**
 * The ingest function's environment holds a team's whole webhook estate within Lambda's 4 KB: where the stack is
 * once, each queue and stack-made secret by its name. Its grants stay exactly the secrets it reads.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { INGEST_CONFIG_ENV, readIngestConfig } from '../../lambda/shared/runtime-config';
import { type HooklineConfig, resolveConfig } from '../../lib/config';
import { estimateEnvironmentBytes } from '../../lib/function-environment';
import { PipelineQueue } from '../../lib/pipeline-queue';
import { WebhookIngest } from '../../lib/webhook-ingest';
import { type DeployedAt, pipelineTemplate, resolveAsDeployed, testApp } from '../helpers/cdk';

const AT: DeployedAt = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
};

/** `sources` GitHub sources with generated secrets; queue `org-j` fed by a route from source j, and `shared`. */
function estate(sources: number, queues: number, extra: Partial<HooklineConfig> = {}) {
  const own = Array.from({ length: queues }, (_, j) => `org-${j}`);
  return resolveConfig({
    stackName: 'Hookline',
    sources: Object.fromEntries(
      Array.from({ length: sources }, (_, i) => [`github-${i}`, { type: 'github' }]),
    ),
    queues: Object.fromEntries(['shared', ...own].map((name) => [name, {}])),
    routes: own.map((queue, j) => ({ source: `github-${j % sources}`, queues: [queue, 'shared'] })),
    defaultRoute: { queues: ['shared'] },
    ...extra,
  } as HooklineConfig);
}

interface PolicyResource {
  readonly Type: string;
  readonly Properties: {
    readonly Roles?: unknown;
    readonly PolicyDocument: { readonly Statement: { Action: unknown; Resource: unknown }[] };
  };
}

/** IAM's resource match: `*` any run of characters, `?` any one. */
const matches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(arn);

/**
 * What the ingest function of `stack` reads (each source's secret id, as its deployed runtime completes it) and
 * what its role may read (every `secretsmanager:GetSecretValue` resource), as deployed at {@link AT}.
 */
function secretsReadAndGranted(stack: Stack, ingest: WebhookIngest) {
  const template = Template.fromStack(stack).toJSON();
  const resolve = (value: unknown) => resolveAsDeployed(stack.resolve(value), template, stack.stackName, AT);
  const fn = template.Resources[stack.getLogicalId(ingest.ingestFunction.node.defaultChild as never)];
  const config = readIngestConfig({
    [INGEST_CONFIG_ENV]: resolve(fn.Properties.Environment.Variables[INGEST_CONFIG_ENV]),
  });
  const read = Object.values(config.sources).flatMap((s) => ('secretId' in s ? [s.secretId] : []));
  const roleId = stack.getLogicalId(ingest.ingestFunction.role?.node.defaultChild as never);
  const granted = Object.values(template.Resources as Record<string, PolicyResource>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement)
    .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'))
    .flatMap((st) => [st.Resource].flat().map(resolve));
  return { read, granted };
}

/** The ARN a secret id reaches: itself, or for a name the secret of that name (any 6-character suffix). */
const arnReached = (secretId: string) =>
  secretId.startsWith('arn:')
    ? secretId
    : `arn:${AT.partition}:secretsmanager:${AT.region}:${AT.account}:secret:${secretId}-XyZ123`;

function expectGrantsExactlyTheSecretsRead({ read, granted }: { read: string[]; granted: string[] }) {
  const reached = read.map(arnReached);
  for (const arn of reached)
    expect(
      granted.filter((g) => matches(g, arn)),
      `grant for ${arn}`,
    ).not.toEqual([]);
  for (const pattern of granted)
    expect(
      reached.filter((arn) => matches(pattern, arn)),
      `secret read under ${pattern}`,
    ).not.toEqual([]);
}

describe("the ingest function's environment", () => {
  it('holds 20 GitHub sources with generated secrets and 10 routed queues (9 of their own and a shared one)', {
    timeout: 120_000,
  }, () => {
    const { stack } = pipelineTemplate(estate(20, 9));
    expect(estimateEnvironmentBytes(stack.ingest.ingestFunction)).toBeLessThanOrEqual(4096);
  });

  it('refuses 30 sources with 10 routed queues at synth, saying what each source, queue and route costs', {
    timeout: 120_000,
  }, () => {
    expect(() => pipelineTemplate(estate(30, 9))).toThrow(
      /Hookline\/Default\/Ingest\/Function: its environment variables can take up to \d+ bytes .*Fix: its configuration grows with the sources \(30\), routed queues \(10\) and routes \(9\): each source takes about 100 bytes \(its secret's name\), each routed queue about 75 \(its name\) and each route about 60, so about 20 sources fit with 10 routed queues and 30 with 3; split the sources over two stacks/,
    );
  });

  it('lets the ingest read exactly the secrets its role is granted: created, named and from another account', {
    timeout: 120_000,
  }, () => {
    const pipeline = pipelineTemplate(
      estate(3, 1, {
        sources: {
          'github-0': { type: 'github' },
          'github-1': { type: 'github', secret: { existingSecretName: 'prod/github-webhook' } },
          'github-2': { type: 'stripe' },
          open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
        },
      }),
    );
    const fromPipeline = secretsReadAndGranted(pipeline.stack, pipeline.stack.ingest);
    expect(fromPipeline.read).toHaveLength(3);
    expectGrantsExactlyTheSecretsRead(fromPipeline);

    const stack = new Stack(testApp(), 'Standalone');
    const ingest = new WebhookIngest(stack, 'Ingest', {
      settings: estate(2, 0),
      queues: { shared: new PipelineQueue(stack, 'Shared').queue },
      secrets: {
        'github-0': new secretsmanager.Secret(stack, 'Own'),
        'github-1': secretsmanager.Secret.fromSecretCompleteArn(
          stack,
          'Foreign',
          'arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/github-AbCdEf',
        ),
      },
    });
    const standalone = secretsReadAndGranted(stack, ingest);
    expect(standalone.read).toContain(
      'arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/github-AbCdEf',
    );
    expectGrantsExactlyTheSecretsRead(standalone);
  });
});
