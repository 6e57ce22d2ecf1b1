/**
 * Lambda refuses a function whose environment variables, all together, take more than 4 KB: measured as the JSON
 * of the whole variable map, names included (the deploy error quotes that "String measured"). CloudFormation
 * only finds out late in a deploy, so every function hookline creates, and every function a producer grant adds
 * variables to, is checked when the app is synthesized, after the last variable was added: one listing for the
 * whole stack, every function over the limit with its path, its size and the fix.
 *
 * Most values hold tokens (queue URLs, ARNs, table names) that only resolve at deploy time. Each is counted at
 * the longest value it can take in the longest partition and region: a given name exactly, a name CloudFormation
 * generates at the longest it generates for the stack and the logical id, anything else at the service's longest
 * name; a part picked out of one (`Fn::Select` of an `Fn::Split`, the tail of a secret's ARN) at that part's
 * longest. So the estimate is an upper bound, and a function this check lets through fits once deployed.
 */
import { CfnOutput, CfnResource, type CfnStack, NestedStack, Stack, Token } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { environmentSizeViolations } from './validation';
import { throwIfViolations } from './violations';

/** Longest partition (`aws-us-gov`), region (`ap-southeast-5` and the like: 16 with room) and URL suffix. */
const PARTITION = 10;
const REGION = 16;
const ACCOUNT = 12;
const URL_SUFFIX = 16;

/** Longest physical names CloudFormation generates or the services accept, by resource type. */
const LONGEST_NAME: Readonly<Record<string, number>> = {
  'AWS::SQS::Queue': 80,
  'AWS::IAM::Role': 64,
  'AWS::S3::Bucket': 63,
  'AWS::KinesisFirehose::DeliveryStream': 64,
  'AWS::DynamoDB::Table': 255,
  'AWS::Lambda::Function': 64,
  'AWS::SNS::Topic': 256,
  'AWS::SecretsManager::Secret': 512,
};
/**
 * CloudFormation names a secret created without a name after its logical id plus `-` and 12 random characters,
 * and its ARN ends in `-` and 6 more that Secrets Manager adds.
 */
const generatedSecretArnName = (logicalId: string) => logicalId.length + 13 + 7;
/** How each type's ARN is spelled: `arn:<partition>:<service>:<region>:<account>:<resource><name>`. */
const ARN_OF: Readonly<Record<string, { service: string; resource: string }>> = {
  'AWS::SQS::Queue': { service: 'sqs', resource: '' },
  'AWS::IAM::Role': { service: 'iam', resource: 'role/' },
  'AWS::S3::Bucket': { service: 's3', resource: '' },
  'AWS::KinesisFirehose::DeliveryStream': { service: 'firehose', resource: 'deliverystream/' },
  'AWS::DynamoDB::Table': { service: 'dynamodb', resource: 'table/' },
  'AWS::Lambda::Function': { service: 'lambda', resource: 'function:' },
  'AWS::SNS::Topic': { service: 'sns', resource: '' },
};
/** Anything else (an unknown type, another intrinsic): generous, since the estimate must stay an upper bound. */
const UNKNOWN = 512;

const PSEUDO_PARAMETERS: Readonly<Record<string, number>> = {
  'AWS::Partition': PARTITION,
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': URL_SUFFIX,
  'AWS::StackName': 128,
  'AWS::NoValue': 0,
};

/** The property that names a resource of each type; absent, CloudFormation generates the name. */
const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::SQS::Queue': 'QueueName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SNS::Topic': 'TopicName',
};
/**
 * A name CloudFormation generates is `<stack name>-<logical id>-<random>` (12 or 13 random characters), cut to
 * the type's longest name; a FIFO queue's ends in `.fifo` as well.
 */
const GENERATED_NAME_EXTRA = '--'.length + 13;

/**
 * The longest the physical name of `resource` can be: exactly its given name, else the longest name
 * CloudFormation can generate for it in this stack, else (a token) the type's longest name.
 */
function nameLength(logicalId: string, resource: CfnResource): number | undefined {
  const type = resource.cfnResourceType;
  const longest = LONGEST_NAME[type];
  const property = NAME_PROPERTY[type];
  if (longest === undefined || property === undefined) return longest;
  const stack = Stack.of(resource);
  // Each L1 class exposes its name property under the camel-cased name (`queueName`, `roleName`...).
  const l1 = resource as unknown as Record<string, unknown>;
  const given: unknown = stack.resolve(l1[property.charAt(0).toLowerCase() + property.slice(1)]);
  if (typeof given === 'string') return given.length;
  if (given !== undefined || Token.isUnresolved(stack.stackName)) return longest;
  const fifo = type === 'AWS::SQS::Queue' && stack.resolve(l1.fifoQueue) === true;
  return Math.min(longest, stack.stackName.length + logicalId.length + GENERATED_NAME_EXTRA + (fifo ? 5 : 0));
}

const fill = (length: number) => 'x'.repeat(length);

/**
 * An ARN as long as the longest one of `service`, with its separators where AWS puts them, so that an
 * `Fn::Split` of it finds the same parts: `arn:<partition>:<service>:<region>:<account>:<resource><name>`.
 */
const arnStandIn = (service: string, resource: string, name: number) =>
  `arn:${fill(PARTITION)}:${service}:${fill(REGION)}:${fill(ACCOUNT)}:${resource}${fill(name)}`;

/** What a `Ref` to the resource `logicalId` (of `resource`) resolves to, at its longest. */
function refStandIn(logicalId: string, resource: CfnResource | undefined): string {
  const type = resource?.cfnResourceType;
  const name = type && resource ? nameLength(logicalId, resource) : undefined;
  if (name === undefined) return fill(UNKNOWN);
  switch (type) {
    // A queue's Ref is its URL: https://sqs.<region>.<suffix>/<account>/<name>.
    case 'AWS::SQS::Queue':
      return `https://sqs.${fill(REGION)}.${fill(URL_SUFFIX)}/${fill(ACCOUNT)}/${fill(name)}`;
    // A secret's Ref is its ARN: its name (given, or generated from its logical id) and Secrets Manager's suffix.
    case 'AWS::SecretsManager::Secret': {
      const secret = resource as secretsmanager.CfnSecret;
      const given: unknown = Stack.of(secret).resolve(secret.name);
      const nameLength =
        typeof given === 'string'
          ? given.length + 7
          : given === undefined
            ? generatedSecretArnName(logicalId)
            : name + 7;
      return arnStandIn('secretsmanager', 'secret:', nameLength);
    }
    default:
      return fill(name);
  }
}

/** What `Fn::GetAtt [resource, attribute]` resolves to, at its longest. */
function getAttStandIn(logicalId: string, resource: CfnResource | undefined, attribute: string): string {
  const type = resource?.cfnResourceType;
  const name = type && resource ? nameLength(logicalId, resource) : undefined;
  if (name === undefined) return fill(UNKNOWN);
  const arn = type ? ARN_OF[type] : undefined;
  if (attribute === 'Arn' && arn) return arnStandIn(arn.service, arn.resource, name);
  if (attribute === 'QueueName' || attribute === 'TopicName') return fill(name);
  return fill(UNKNOWN);
}

/**
 * `Fn::Select [index, Fn::Split [separator, value]]`, applied to the stand-in of `value`: its separators are where
 * the real value's are, so the part picked is as long as the real part can be. A part the stand-in lacks counts
 * as the whole value, still an upper bound.
 */
function selectStandIn(select: unknown, references: References): string | undefined {
  const [index, list] = Array.isArray(select) ? (select as [unknown, unknown]) : [];
  const split = (list as Record<string, unknown> | undefined)?.['Fn::Split'];
  if (typeof index !== 'number' || !Array.isArray(split)) return undefined;
  const [separator, value] = split as [unknown, unknown];
  if (typeof separator !== 'string') return undefined;
  const whole = standIn(value, references);
  return whole.split(separator)[index] ?? whole;
}

/**
 * Where the references of a stack's values lead: its resources by logical id, and what a reference to another
 * stack of the app (an `Fn::ImportValue` of an export, or an `Fn::GetStackOutput`) stands for there.
 */
interface References {
  resourceOf(logicalId: string): CfnResource | undefined;
  imported(node: Record<string, unknown>): { value: unknown; references: References } | undefined;
}

/** The references of `stack`, in the app of `stack`. */
function referencesOf(stack: Stack): References {
  const resources = new Map<string, CfnResource>();
  for (const construct of stack.node.findAll()) {
    if (CfnResource.isCfnResource(construct))
      resources.set(stack.resolve(construct.logicalId) as string, construct);
  }
  return {
    resourceOf: (logicalId) => resources.get(logicalId),
    imported: (node) => importedValue(stack, node),
  };
}

/**
 * The value a cross-stack reference imports, as its own stack resolves it: an app's function granted the queues
 * of a pipeline in another stack holds their names as imports (an export, a stack output reference, a nested
 * stack's output or parameter), as long as the names themselves.
 */
function importedValue(
  stack: Stack,
  node: Record<string, unknown>,
): { value: unknown; references: References } | undefined {
  const nested = nestedStackValue(stack, node);
  if (nested) return nested;
  const exportName = node['Fn::ImportValue'];
  const stackOutput = node['Fn::GetStackOutput'] as { StackName?: unknown; OutputName?: unknown } | undefined;
  if (typeof exportName !== 'string' && stackOutput === undefined) return undefined;
  for (const construct of stack.node.root.node.findAll()) {
    if (!(construct instanceof CfnOutput)) continue;
    const producer = Stack.of(construct);
    const found =
      typeof exportName === 'string'
        ? producer.resolve(construct.exportName) === exportName
        : producer.stackName === stackOutput?.StackName &&
          producer.resolve(construct.logicalId) === stackOutput?.OutputName;
    if (found) return outputValue(construct);
  }
  return undefined;
}

/** What an output holds, resolved in its stack. */
const outputValue = (output: CfnOutput) => {
  const producer = Stack.of(output);
  return { value: producer.resolve(output.value), references: referencesOf(producer) };
};

/**
 * Between a nested stack and its parent: the parent reads a nested stack's output as `Fn::GetAtt [<nested stack
 * resource>, Outputs.<output>]`, and a nested stack a parent's value through a parameter the parent passes.
 */
function nestedStackValue(
  stack: Stack,
  node: Record<string, unknown>,
): { value: unknown; references: References } | undefined {
  const [logicalId, attribute] = Array.isArray(node['Fn::GetAtt']) ? (node['Fn::GetAtt'] as unknown[]) : [];
  if (typeof attribute === 'string' && attribute.startsWith('Outputs.')) {
    for (const child of stack.node.findAll()) {
      if (!NestedStack.isNestedStack(child) || child.nestedStackParent !== stack) continue;
      if (stack.resolve(child.nestedStackResource?.logicalId) !== logicalId) continue;
      const output = child.node
        .findAll()
        .find((c) => c instanceof CfnOutput && child.resolve(c.logicalId) === attribute.slice(8));
      return output instanceof CfnOutput ? outputValue(output) : undefined;
    }
  }
  const parent = stack.nestedStackParent;
  const resource = (stack as NestedStack).nestedStackResource as CfnStack | undefined;
  if (typeof node.Ref !== 'string' || !parent || !resource) return undefined;
  const parameters = parent.resolve(resource.parameters) as Record<string, unknown> | undefined;
  const value = parameters?.[node.Ref];
  return value === undefined ? undefined : { value, references: referencesOf(parent) };
}

/** The value with every intrinsic replaced by a stand-in as long as its longest resolved value. */
function standIn(value: unknown, references: References): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const node = (value ?? {}) as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return (Array.isArray(parts) ? parts : [parts]).map((p) => standIn(p, references)).join(separator);
  }
  const imported = references.imported(node);
  if (imported) return standIn(imported.value, imported.references);
  if (typeof node.Ref === 'string') {
    const pseudo = PSEUDO_PARAMETERS[node.Ref];
    return pseudo === undefined ? refStandIn(node.Ref, references.resourceOf(node.Ref)) : fill(pseudo);
  }
  if (Array.isArray(node['Fn::GetAtt'])) {
    const [logicalId, attribute] = node['Fn::GetAtt'] as [string, string];
    return getAttStandIn(logicalId, references.resourceOf(logicalId), attribute);
  }
  return selectStandIn(node['Fn::Select'], references) ?? fill(UNKNOWN);
}

/**
 * The most bytes `fn`'s environment variables can take once deployed (Lambda's measure: the JSON of the variable
 * map), tokens counted at their longest resolved values.
 */
export function estimateEnvironmentBytes(fn: lambda.Function): number {
  const stack = Stack.of(fn);
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const environment = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
  const variables = environment?.variables ?? {};
  const references = referencesOf(stack);
  const rendered = Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, standIn(value, references)]),
  );
  return Buffer.byteLength(JSON.stringify(rendered));
}

/** The functions each stack checks at synthesis, each with the fix that applies to it. */
const checkedFunctions = new WeakMap<Stack, Map<lambda.Function, string>>();

/**
 * Checks `fn`'s environment against Lambda's limit when the app is synthesized (after every variable was added).
 * `fix` says what shrinks this function's environment; a function registered twice keeps its first fix (its
 * creator knows it best). All functions over the limit in a stack are listed at once.
 */
export function checkEnvironmentSize(fn: lambda.Function, fix: string): void {
  const stack = Stack.of(fn);
  let functions = checkedFunctions.get(stack);
  if (!functions) {
    const registered = new Map<lambda.Function, string>();
    functions = registered;
    checkedFunctions.set(stack, registered);
    stack.node.addValidation({
      validate: () => {
        throwIfViolations(
          `Lambda environments in stack ${stack.stackName}`,
          [...registered].flatMap(([f, fixOf]) => environmentViolationsOf(f, fixOf)),
        );
        return [];
      },
    });
  }
  if (!functions.has(fn)) functions.set(fn, fix);
}

function environmentViolationsOf(fn: lambda.Function, fix: string) {
  return environmentSizeViolations(fn.node.path, estimateEnvironmentBytes(fn), fix);
}
