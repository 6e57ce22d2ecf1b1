/**
 * cdk-nag acknowledgements of a wildcard resource (AwsSolutions-IAM5) that a grant needs, named as cdk-nag names the
 * resource in its finding, so the acknowledgement covers that resource alone, with its reason.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges AwsSolutions-IAM5 on one resolved resource of `scope`'s policies, with why the wildcard is needed. */
export function acknowledgeWildcardResource(
  scope: IConstruct,
  resolvedResource: unknown,
  reason: string,
): void {
  const id = `AwsSolutions-IAM5[Resource::${nagResourceName(resolvedResource)}]`;
  acknowledgeResourceFinding(Validations.of(scope), { id, reason });
}

/**
 * Acknowledges one finding on one resource. aws-cdk-lib releases before 2.276 refuse an id holding more than
 * one `::` (a finding on an ARN with `<AWS::Partition>`), and they are within the supported peer range: there
 * the rule is acknowledged for this construct alone, with the same reason.
 */
function acknowledgeResourceFinding(validations: Validations, finding: { id: string; reason: string }): void {
  try {
    validations.acknowledge(finding);
  } catch (error) {
    if (!/InvalidValidationId|delimiter is reserved/.test(String(error))) throw error;
    const rule = finding.id.slice(0, finding.id.indexOf('['));
    validations.acknowledge({
      id: rule,
      reason: `${finding.reason} (This aws-cdk-lib cannot name the resource in an acknowledgement, so ${rule} is acknowledged for this construct.)`,
    });
  }
}

/**
 * A resource of a resolved policy statement as cdk-nag names it in a finding: `Ref` and `Fn::GetAtt` in angle
 * brackets, joins and imports by their parts, anything else (a stack output reference) as its JSON.
 */
function nagResourceName(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const node = (value ?? {}) as Record<string, unknown>;
  const join = node['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    return parts.map(nagResourceName).join(separator);
  }
  if (node['Fn::Sub'] !== undefined) return nagResourceName(node['Fn::Sub']);
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${nagResourceName(getAtt[0])}.${nagResourceName(getAtt[1])}>`;
  if (node['Fn::ImportValue'] !== undefined) return nagResourceName(node['Fn::ImportValue']);
  if (node.Ref !== undefined) return `<${nagResourceName(node.Ref)}>`;
  return JSON.stringify(value);
}
