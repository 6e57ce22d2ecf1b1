/**
 * What a purge that answered may still take, in the words the CLI and the console's job line share: SQS deletes a
 * purged queue's messages within 60 s, local mode before it answers.
 */

/** `; SQS may take up to 60 s to finish` after `lead`, or nothing once the queue is already empty. */
export function purgeStillRunning(seconds: number | undefined, lead: string): string {
  // A result without the field (a console job of an older run) was SQS's.
  const within = seconds ?? 60;
  return within > 0 ? `${lead}SQS may take up to ${within} s to finish` : '';
}
