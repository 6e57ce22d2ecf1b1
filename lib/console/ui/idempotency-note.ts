/**
 * Which consumers skip a copy of an event they completed (idempotency on, for how long) and which run every copy, as
 * `hookline status` and the console's overview both say it: what an operator asks before a redrive. It lives beside
 * the console's page (as `human-age.ts` does) because the console rebuilds its bundle when a file in this folder
 * changes; the CLI imports it from here. The fact itself is the configuration's (`idempotencyOf`, lib/cli/target.ts).
 */
import { humanAge } from './human-age';

/** What the note is read from: a queue's name, its consumer, and its consumer's idempotency where it is known. */
export interface IdempotencyRow {
  readonly queue: string;
  /** Null when the queue has no consumer. */
  readonly consumer?: string | null;
  /** `{ expirySeconds }` while on, null when off or without a consumer; absent where the configuration is not known. */
  readonly idempotency?: { readonly expirySeconds: number } | null;
}

/**
 * `idempotency: on for events, orders (...); off for raw (every copy runs)`. Queues without a consumer, or whose
 * configuration is not known, are left out; undefined when none is left.
 */
export function idempotencyLine(queues: readonly IdempotencyRow[]): string | undefined {
  const on = new Map<number, string[]>();
  const off: string[] = [];
  for (const q of queues) {
    if (q.idempotency === undefined || q.consumer === null) continue;
    if (q.idempotency === null) off.push(q.queue);
    else on.set(q.idempotency.expirySeconds, [...(on.get(q.idempotency.expirySeconds) ?? []), q.queue]);
  }
  const parts = [
    ...[...on].map(
      ([seconds, named]) =>
        `on for ${named.join(', ')} (a copy of an event completed in the last ${humanAge(seconds)}, redelivered or redriven, is skipped)`,
    ),
    ...(off.length > 0 ? [`off for ${off.join(', ')} (every copy runs)`] : []),
  ];
  return parts.length > 0 ? `idempotency: ${parts.join('; ')}` : undefined;
}

/** The line as a sentence, for the console's overview (`Idempotency: on for events (...).`). */
export function idempotencySentence(queues: readonly IdempotencyRow[]): string | undefined {
  const line = idempotencyLine(queues);
  return line === undefined ? undefined : `${line.charAt(0).toUpperCase()}${line.slice(1)}.`;
}
