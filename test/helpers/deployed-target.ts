import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { describeStackTarget, type StackTarget } from '../../lib/cli/target';
import type { ResolvedConfig } from '../../lib/config';
import { type DeployedAt, resolveAsDeployed } from './cdk';

/** Where the deployed stacks of these tests are, unless a test names another partition. */
export const US_EAST_1: DeployedAt = {
  partition: 'aws',
  region: 'us-east-1',
  account: '123456789012',
  urlSuffix: 'amazonaws.com',
};

/**
 * The target the CLI makes of a stack deployed `at` from `template`: `describeStackTarget` over its outputs, each
 * value resolved as that deploy would resolve it, with the stack's own ARN as `DescribeStacks` answers it.
 * `extraOutputs` (resolved the same way) stand for outputs of an earlier version's template.
 */
export async function deployedTarget(
  template: { Outputs?: unknown },
  stackName: string,
  config: ResolvedConfig,
  at: DeployedAt = US_EAST_1,
  extraOutputs: Readonly<Record<string, unknown>> = {},
): Promise<StackTarget> {
  const values = {
    ...Object.fromEntries(
      Object.entries((template.Outputs ?? {}) as Record<string, { Value: unknown }>).map(([key, o]) => [
        key,
        o.Value,
      ]),
    ),
    ...extraOutputs,
  };
  const cloudformation = mockClient(CloudFormationClient);
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: stackName,
        StackId: `arn:${at.partition}:cloudformation:${at.region}:${at.account}:stack/${stackName}/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: Object.entries(values).map(([key, value]) => ({
          OutputKey: key,
          OutputValue: resolveAsDeployed(value, template as never, stackName, at),
        })),
      },
    ],
  });
  try {
    return await describeStackTarget(
      new CloudFormationClient({
        region: at.region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
      stackName,
      at.region,
      config,
    );
  } finally {
    cloudformation.restore();
  }
}
