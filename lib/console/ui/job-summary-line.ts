/**
 * A finished job's result in one line, where the job has no summary of its own (the command's, which the console
 * shows instead). Pure, so it is tested without a page.
 */

import { plural } from '../../../lambda/shared/plural';
import { wereHeldByOthers } from './held-by-others';
import { purgeStillRunning } from './purge-note';
import type { Job } from './types';

/** What a finished job reports, in one line, where the job has no summary of its own (the command's). */
export function jobSummaryLine(job: Job): string {
  const r = job.result ?? {};
  if (job.kind === 'redrive') {
    const parts = [`moved ${r.moved ?? 0}`, `skipped ${r.skipped ?? 0}`, `failed ${r.failed ?? 0}`];
    if (r.returned) parts.push(`came back ${r.returned}`);
    if (r.movedByAnotherRedrive) parts.push(`left to another redrive ${r.movedByAnotherRedrive}`);
    // A selection by failure or type could not read what another reader held: some of it may match. SQS counts
    // those approximately, so the line says `about N`, in the CLI's words.
    if (r.heldByOthers) parts.push(`not read: ${wereHeldByOthers(Number(r.heldByOthers))}`);
    return parts.join(', ');
  }
  if (job.kind === 'purge') {
    const still = purgeStillRunning(r.finishesWithinSeconds as number | undefined, ' (');
    return `purged ~${plural((r.purged as number | undefined) ?? 0, 'message')}${still && `${still})`}`;
  }
  if (job.kind === 'replay') {
    const queues = Object.entries((r.byQueue ?? {}) as Record<string, number>)
      .map(([queue, n]) => `${queue} ${n}`)
      .join(', ');
    const where = queues ? ` (${queues})` : '';
    const matched = (r.matched as number | undefined) ?? 0;
    // No count where no event went through the routes (a replay to one queue, of jobs or scheduled events).
    const ignored = r.ignored === null ? '' : `, ignored ${r.ignored ?? 0}`;
    return r.dryRun
      ? `${plural(matched, 'archived event')} match${matched === 1 ? 'es' : ''}; would send ${plural(
          Object.values((r.byQueue ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0),
          'message',
        )}${where}${ignored}`
      : `${r.matched ?? 0} matched, sent ${r.sent ?? 0}${where}${ignored}, failed ${r.failed ?? 0}`;
  }
  return 'done';
}
