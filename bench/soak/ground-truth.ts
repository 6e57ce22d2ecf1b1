/** What the soak's events are and which of them fail for good: shared by its sender and its consumer. */

/** One permanent failure in this many events (0.5 %). */
export const PERMANENT_EVERY = 200;

/** The id of the soak's `n`-th event. */
export function soakEventId(n: number): string {
  return `soak-${n}`;
}

/** Whether the consumer fails this event with a PermanentError (fixed by id, so the soak knows it in advance). */
export function isPermanentFailure(id: string): boolean {
  const n = Number(/^soak-(\d+)$/.exec(id)?.[1] ?? Number.NaN);
  return Number.isInteger(n) && n % PERMANENT_EVERY === PERMANENT_EVERY - 1;
}
