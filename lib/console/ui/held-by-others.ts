/**
 * Dead letters a read could not receive because another reader holds them, as the CLI (`failed`, `redrive`,
 * `failed delete`) and the console's failures page both say it. The count is SQS's count of messages in flight
 * (`ApproximateNumberOfMessagesNotVisible`), which SQS gives as approximate, so it is said as `about N`. It lives
 * beside the console's page (as `human-age.ts` does) because the console rebuilds its bundle when a file in this
 * folder changes; the CLI imports it from here.
 */

/** Who else holds dead letters for a while: SQS does not say which reader it is. */
export const OTHER_READERS = 'another reader (a redrive, the console, another failed list)';

/** SQS's approximate count of messages in flight, said as one (`about 1 message is`, `about 3 messages are`). */
export function aboutMessages(count: number, one: string, many: string): string {
  return count === 1 ? `about 1 message ${one}` : `about ${count} messages ${many}`;
}

/** `about 3 messages are held by another reader (...)`: held now, by a reader other than this one. */
export function heldByOthers(count: number): string {
  return `${aboutMessages(count, 'is', 'are')} held by ${OTHER_READERS}`;
}

/** `about 3 messages were held by another reader (...)`: held when a run read the DLQ, so it did not read them. */
export function wereHeldByOthers(count: number): string {
  return `${aboutMessages(count, 'was', 'were')} held by ${OTHER_READERS}`;
}
