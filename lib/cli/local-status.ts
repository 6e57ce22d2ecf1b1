/**
 * `hookline status --local`: local mode reads its own queues (its emulator clients are loaded already) and the
 * CLI asks it over the control API, so the command loads no AWS SDK and answers in about the time Node takes to
 * start. The rows are built by the same core as a deployed stack's (`queueStatuses` in ./status).
 */

import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import type { UnconfiguredQueues } from '../local/unconfigured-queues';
import { CliError, LOCAL_ANSWER_SECONDS, localModeNotAnswering } from './errors';
import type { QueueStatus, StatusResult } from './status';
import { type LocalTarget, queueOf } from './target';

// Not `import ... from 'node:http'`: an ES module import of it also loads fetch's undici (~20 ms at start).
const { get } = process.getBuiltinModule('node:http');

/** The status of every queue of the running local mode (or of one; an unknown name is an error). */
export async function localStatus(
  target: LocalTarget,
  options: { queue?: string } = {},
): Promise<StatusResult> {
  const only = options.queue !== undefined ? queueOf(target, options.queue).name : undefined;
  const answer = await getJson(`${target.controlUrl}/queues`);
  const queues = rowsOf(answer).filter((row) => only === undefined || row.queue === only);
  const unconfigured = (answer as { unconfiguredQueues?: UnconfiguredQueues }).unconfiguredQueues;
  const scheduled = scheduledJobsOf((answer as { scheduledJobs?: unknown }).scheduledJobs, only);
  return {
    target: target.description,
    queues,
    ...(only === undefined && unconfigured ? { unconfiguredQueues: unconfigured } : {}),
    ...(scheduled !== undefined ? { scheduledJobs: scheduled } : {}),
  };
}

/**
 * The jobs local mode's one-time schedules will send later (its answer: a count by queue name), to every queue,
 * one no longer configured too, or to the queue `only`. Undefined when it gives none (an older local mode).
 */
export function scheduledJobsOf(answer: unknown, only?: string): number | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  return Object.entries(answer)
    .filter(([queue, count]) => Number.isInteger(count) && (only === undefined || queue === only))
    .reduce((sum, [, count]) => sum + (count as number), 0);
}

function rowsOf(answer: unknown): QueueStatus[] {
  const queues = (answer as { queues?: unknown } | null)?.queues;
  if (!Array.isArray(queues)) {
    throw new CliError(
      `local mode answered its queue status without queues: restart it with ${START_LOCAL_MODE}`,
    );
  }
  return queues as QueueStatus[];
}

/** GET of a JSON document from local mode's control API (loopback HTTP). */
function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const notAnswering = (error: Error | string) =>
      error instanceof CliError
        ? error
        : new CliError(
            `local mode is not answering at ${url} (${typeof error === 'string' ? error : error.message}): restart it with ${START_LOCAL_MODE}`,
          );
    // The whole answer is bounded: `timeout` alone is idle time, which a trickling answer would reset forever.
    const deadline = setTimeout(
      () => request.destroy(localModeNotAnswering(new URL(url).host)),
      LOCAL_ANSWER_SECONDS * 1_000,
    );
    const request = get(url, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => reject(notAnswering(error)));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) {
          reject(notAnswering(`HTTP ${response.statusCode}: ${messageOf(text)}`));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(notAnswering('not JSON'));
        }
      });
    });
    request.on('close', () => clearTimeout(deadline));
    request.on('error', (error) => reject(notAnswering(error)));
  });
}

function messageOf(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200);
}
