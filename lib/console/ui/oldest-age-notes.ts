/**
 * Why a queue shows no oldest age, as `hookline status` and the console's overview both say it. It lives beside the
 * console's page (as `human-age.ts` does) because the console rebuilds its bundle when a file in this folder
 * changes; the CLI imports it from here.
 */

/** What a note is read from: a queue's name and why it shows no oldest age, if it shows none. */
export interface OldestAgeRow {
  readonly queue: string;
  readonly oldestMessageAgeNote?: string;
}

/**
 * Each reason once (`oldest: <why>`). When other queues do show an age the note names the queues it is about
 * (`oldest of orders, audit: <why>`): "no message waiting" said of every queue would contradict a row that holds
 * messages.
 */
export function oldestAgeNotes(queues: readonly OldestAgeRow[]): string[] {
  const byNote = new Map<string, string[]>();
  for (const q of queues) {
    if (q.oldestMessageAgeNote)
      byNote.set(q.oldestMessageAgeNote, [...(byNote.get(q.oldestMessageAgeNote) ?? []), q.queue]);
  }
  return [...byNote].map(([note, named]) =>
    named.length === queues.length ? `oldest: ${note}` : `oldest of ${named.join(', ')}: ${note}`,
  );
}

/** The notes as sentences, for the console's overview (`Oldest of orders: no message waiting or in flight.`). */
export function oldestAgeSentences(queues: readonly OldestAgeRow[]): string[] {
  return oldestAgeNotes(queues).map((note) => `${note.charAt(0).toUpperCase()}${note.slice(1)}.`);
}
