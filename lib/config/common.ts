/** Small rules and helpers shared by the section resolvers. */
import type { Duration } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib/core';
import { withDidYouMean } from '../closest-name';
import { pascalCase } from '../stack-outputs';
import type { ViolationList } from '../violations';
import { NAME_PATTERN } from './name-rule';

export { NAME_PATTERN, NAME_RULE } from './name-rule';

/**
 * Rule: names that differ only by dashes (`q-2`, `q2`) would become the same construct id and output key
 * (`Q2`); each later one is reported with the name it clashes with.
 */
export function checkDistinctIds(
  problems: ViolationList,
  noun: string,
  named: readonly (readonly [path: string, name: string])[],
): void {
  const firstById = new Map<string, string>();
  for (const [path, name] of named) {
    // A name the name rule refuses (`Events` beside `events`) is reported by it, with the fix that also ends the clash.
    if (!NAME_PATTERN.test(name)) continue;
    const id = pascalCase(name);
    const first = firstById.get(id);
    if (first === undefined) firstById.set(id, name);
    else if (first !== name)
      problems.add(
        path,
        `becomes the same resource id (${id}) as ${noun} "${first}": names may not differ only by dashes`,
        name,
        `rename one of "${first}" and "${name}"`,
      );
  }
}

export function seconds(d: Duration): number {
  return d.toSeconds({ integral: false });
}

/** Rule: every queue named at `path` (`path.0`, `path.1`, ...) is configured. */
export function checkQueueRefs(
  problems: ViolationList,
  path: string,
  names: readonly string[],
  queueNames: readonly string[],
): void {
  for (const [i, q] of names.entries()) checkQueueRef(problems, `${path}.${i}`, q, queueNames);
}

/** Rule: one queue reference (a schedule's `queue`) names a configured queue. */
export function checkQueueRef(
  problems: ViolationList,
  path: string,
  name: string,
  queueNames: readonly string[],
): void {
  if (queueNames.includes(name)) return;
  // With no queue configured at all there is none to offer: the fix is to configure this one.
  const fix =
    queueNames.length > 0
      ? `use one of: ${queueNames.join(', ')}`
      : `configure it under queues (queues: { ${JSON.stringify(name)}: {} })`;
  problems.add(path, withDidYouMean('names a queue that is not configured', name, queueNames), name, fix);
}

/** What Secrets Manager takes as a secret's name: 1 to 512 ASCII letters, digits and `/_+=.@-`. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * Rule: an existing secret (a source's signing secret, a forwarding consumer's) is named as Secrets Manager names
 * one. The name is only looked up once deployed, so a name it cannot hold (an ARN, a space, nothing) would deploy,
 * then fail every read of the secret. A name is no secret, so the value is shown.
 */
export function checkExistingSecretName(
  problems: ViolationList,
  path: string,
  name: string | undefined,
): void {
  if (name === undefined || Token.isUnresolved(name) || SECRET_NAME.test(name)) return;
  const arn = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+?)(-[A-Za-z0-9]{6})?$/.exec(name);
  problems.add(
    path,
    arn
      ? "is a secret's ARN, and this field takes its name"
      : 'a Secrets Manager secret name is 1 to 512 ASCII letters, digits and /_+=.@- (no spaces)',
    name,
    arn
      ? `give the name alone, e.g. "${arn[1]}" (the secret must be in the stack's account and region)`
      : "copy the secret's name from the Secrets Manager console",
  );
}
