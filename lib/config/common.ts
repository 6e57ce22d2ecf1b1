/** Small rules and helpers shared by the section resolvers. */
import type { Duration } from 'aws-cdk-lib';
import { pascalCase } from '../stack-outputs';
import type { ViolationList } from '../violations';

/** Source, queue and schedule names: they become resource names and URL segments. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

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
  problems.add(path, 'names a queue that is not configured', name, fix);
}
