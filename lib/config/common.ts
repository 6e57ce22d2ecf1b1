/** Small rules and helpers shared by the section resolvers. */
import type { Duration } from 'aws-cdk-lib';
import type { ViolationList } from '../violations';

/** Source, queue and schedule names: they become resource names and URL segments. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

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
  for (const [i, q] of names.entries()) {
    if (!queueNames.includes(q))
      problems.add(
        `${path}.${i}`,
        'names a queue that is not configured',
        q,
        `use one of: ${queueNames.join(', ')}`,
      );
  }
}
