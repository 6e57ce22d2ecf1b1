/** The `jobs` section: the HTTP jobs endpoint, off unless configured. */
import type { ViolationList } from '../violations';
import { checkQueueRefs } from './common';
import type { ResolvedConfig } from './resolved';
import type { ParsedConfig } from './schema';

/**
 * Rules: the endpoint names at least one configured queue, each once. Its FIFO queues take no delays, which the
 * endpoint's construct settles by granting schedules on its standard queues only.
 */
export function resolveJobsEndpoint(
  problems: ViolationList,
  config: ParsedConfig,
): ResolvedConfig['jobsEndpoint'] {
  const endpoint = config.jobs?.endpoint;
  if (!endpoint) return undefined;
  const path = 'jobs.endpoint.queues';
  if (endpoint.queues.length === 0)
    problems.add(
      path,
      'the jobs endpoint needs at least one queue',
      endpoint.queues,
      'list a queue, e.g. ["jobs"]',
    );
  checkQueueRefs(problems, path, endpoint.queues, Object.keys(config.queues));
  for (const [i, name] of endpoint.queues.entries()) {
    if (endpoint.queues.indexOf(name) !== i)
      problems.add(`${path}.${i}`, 'names a queue twice', name, 'remove the repeat');
  }
  return { queues: [...new Set(endpoint.queues)], delays: endpoint.delays ?? true };
}
