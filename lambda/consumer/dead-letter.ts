/**
 * The message a consumer sends to its dead-letter queue on purpose: the original body and attributes, plus
 * `hookline.error.*` attributes that say why (so the DLQ never holds a message without its reason).
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import {
  FAILURE_ATTRIBUTES,
  MAX_MESSAGE_ATTRIBUTES,
  MESSAGE_ATTRIBUTES,
  SQS_REFUSED_CHARACTER,
} from '../shared/envelope';
import { cutText, MAX_DESCRIBED_NAME_LENGTH } from './errors';

/** Error messages are cut to this many characters (attributes count toward the 1 MiB message size). */
export const MAX_ERROR_MESSAGE_LENGTH = 1_000;

/** Why a record is being dead-lettered. */
export interface DeadLetterReason {
  readonly errorName: string;
  readonly errorMessage: string;
  readonly attempt: number;
  readonly consumer: string;
  /** When the consumer gave up (ms since the epoch). */
  readonly failedAtMs: number;
}

/** Everything needed for one SendMessage to the dead-letter queue (the queue URL is the sender's). */
export interface DeadLetterMessage {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** FIFO only: keeps the original group so a redrive preserves order. */
  readonly groupId?: string;
  /**
   * FIFO only: the source message id. Stable across receives of one message (a retried send is deduplicated),
   * new after a redrive (a message dead-lettered twice is not silently dropped as a duplicate).
   */
  readonly deduplicationId?: string;
}

/** Every character SQS refuses in a string attribute, as in a message body. */
const REFUSED_BY_SQS = new RegExp(SQS_REFUSED_CHARACTER.source, 'gu');

/**
 * Error text as SQS takes it: a refused character (an ANSI colour code, a NUL) would make the whole dead-letter
 * send fail, and the reason would be lost with it. Written as a visible `\uXXXX` escape, so nothing is hidden.
 */
function sqsSafeText(text: string): string {
  return text.replace(REFUSED_BY_SQS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Builds the dead-letter message for a record; keeps as many original attributes as the SQS limit allows, the
 * redrive marker first (the redrive run that sent the message back counts it as come back by that marker), then
 * a fair queue's tenant.
 * `eventId` is the id the consumer's outcome line names the record by: a record that carries no `hookline.id`
 * (a body that is not an envelope, sent by something other than hookline, or an envelope EventBridge Scheduler
 * delivered without attributes) gets it as that attribute, ahead of the others. SQS gives the copy a new message
 * id, so without it `hookline failed show` and `redrive --id` could not find the message by the id the outcome
 * line, `trace` and local mode named it by.
 */
export function deadLetterMessage(
  record: SQSRecord,
  reason: DeadLetterReason,
  fifo: boolean,
  eventId: string = record.messageId,
): DeadLetterMessage {
  const failure: Record<string, MessageAttributeValue> = {
    [FAILURE_ATTRIBUTES.errorName]: {
      DataType: 'String',
      StringValue: cutText(sqsSafeText(reason.errorName) || 'Error', MAX_DESCRIBED_NAME_LENGTH),
    },
    [FAILURE_ATTRIBUTES.errorMessage]: {
      DataType: 'String',
      // SQS rejects empty string attribute values.
      StringValue: cutText(sqsSafeText(reason.errorMessage) || '(no message)', MAX_ERROR_MESSAGE_LENGTH),
    },
    [FAILURE_ATTRIBUTES.attempt]: { DataType: 'Number', StringValue: String(reason.attempt) },
    [FAILURE_ATTRIBUTES.consumer]: { DataType: 'String', StringValue: reason.consumer },
    [FAILURE_ATTRIBUTES.failedAt]: {
      DataType: 'String',
      StringValue: new Date(reason.failedAtMs).toISOString(),
    },
  };
  const failureNames = new Set(Object.keys(failure));
  const attributes: Record<string, MessageAttributeValue> = {};
  let room = MAX_MESSAGE_ATTRIBUTES - failureNames.size;
  const original = record.messageAttributes ?? {};
  if (original[MESSAGE_ATTRIBUTES.eventId]?.stringValue === undefined && eventId !== '') {
    attributes[MESSAGE_ATTRIBUTES.eventId] = { DataType: 'String', StringValue: eventId };
    room--;
  }
  for (const [name, value] of inKeepingOrder(original)) {
    if (room <= 0) break;
    if (failureNames.has(name) || attributes[name] !== undefined) continue;
    const converted = convertAttribute(value);
    if (converted) {
      attributes[name] = converted;
      room--;
    }
  }
  Object.assign(attributes, failure);
  const groupId = record.attributes?.MessageGroupId;
  return {
    body: record.body,
    attributes,
    ...(fifo ? { groupId: groupId || 'hookline-dead-letter', deduplicationId: record.messageId } : {}),
  };
}

/**
 * The attributes in the order the limit keeps them: the redrive marker, then the tenant, which nothing else on a
 * standard queue's copy records (a consumer's copy carries no group id, and local mode's emulator drops it), so
 * a redrive sends the message back to its tenant rather than as a tenant of its own. The envelope's source, type,
 * id and replay run are in its body too.
 */
function inKeepingOrder(
  attributes: SQSRecord['messageAttributes'],
): [string, SQSRecord['messageAttributes'][string]][] {
  const first: string[] = [MESSAGE_ATTRIBUTES.redrive, MESSAGE_ATTRIBUTES.tenant];
  const rank = ([name]: [string, unknown]) => {
    const at = first.indexOf(name);
    return at === -1 ? first.length : at;
  };
  return Object.entries(attributes)
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => rank(a.entry) - rank(b.entry) || a.index - b.index)
    .map(({ entry }) => entry);
}

/** Lambda's SQS event shape to the SendMessage shape; list values (reserved by SQS, unused) are dropped. */
function convertAttribute(value: SQSRecord['messageAttributes'][string]): MessageAttributeValue | undefined {
  if (value.stringValue !== undefined && value.stringValue !== null) {
    return { DataType: value.dataType, StringValue: value.stringValue };
  }
  if (value.binaryValue !== undefined && value.binaryValue !== null) {
    return { DataType: value.dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
  }
  return undefined;
}
