/**
 * What an id or a group id may hold to travel unchanged through every store: SQS message attributes and group
 * ids, DynamoDB keys, S3 keys and schedule names all accept printable ASCII without spaces. The ingest hashes
 * a sender's value that breaks these rules (senders are not ours to correct); a job producer refuses one.
 */

import { createHash } from 'node:crypto';

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** The longest id kept as it is. */
export const MAX_SAFE_ID_LENGTH = 200;

/**
 * The longest event type kept (the ingest truncates a sender's, a job producer refuses a longer one): a type
 * travels as an SQS attribute, a table field and a CloudWatch metric dimension, which holds 1,024 characters.
 */
export const MAX_EVENT_TYPE_LENGTH = 256;

/** An SQS `MessageGroupId` holds at most this many characters. */
export const MAX_GROUP_ID_LENGTH = 128;

/** Whether `id` is kept as it is: 1 to 200 printable ASCII characters, no spaces. */
export function isSafeId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_SAFE_ID_LENGTH && PRINTABLE_ASCII.test(id);
}

/**
 * The id a sender-controlled id is stored as: itself when {@link isSafeId}, else `h_<sha256>` of it. Deterministic,
 * so a retry maps to the same id, and an operator's lookup by the sender's id finds what was stored.
 */
export function sanitizeId(id: string): string {
  return isSafeId(id) ? id : `h_${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** Whether SQS accepts `value` as a `MessageGroupId`: 1 to 128 printable ASCII characters, no spaces. */
export function isSqsGroupId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_GROUP_ID_LENGTH && PRINTABLE_ASCII.test(value);
}
