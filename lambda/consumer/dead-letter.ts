/**
 * The message a consumer sends to its dead-letter queue on purpose: the original body and attributes, plus
 * `hookline.error.*` attributes that say why (so the DLQ never holds a message without its reason).
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { FAILURE_ATTRIBUTES, MAX_MESSAGE_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../shared/envelope';

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

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Builds the dead-letter message for a record; keeps as many original attributes as the SQS limit allows, the
 * redrive marker first (the redrive run that sent the message back counts it as come back by that marker).
 */
export function deadLetterMessage(
  record: SQSRecord,
  reason: DeadLetterReason,
  fifo: boolean,
): DeadLetterMessage {
  const failure: Record<string, MessageAttributeValue> = {
    [FAILURE_ATTRIBUTES.errorName]: {
      DataType: 'String',
      StringValue: truncate(reason.errorName || 'Error', 256),
    },
    [FAILURE_ATTRIBUTES.errorMessage]: {
      DataType: 'String',
      // SQS rejects empty string attribute values.
      StringValue: truncate(reason.errorMessage || '(no message)', MAX_ERROR_MESSAGE_LENGTH),
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
  for (const [name, value] of redriveMarkerFirst(record.messageAttributes ?? {})) {
    if (room <= 0) break;
    if (failureNames.has(name)) continue;
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

function redriveMarkerFirst(
  attributes: SQSRecord['messageAttributes'],
): [string, SQSRecord['messageAttributes'][string]][] {
  const isMarker = ([name]: [string, unknown]) => name === MESSAGE_ATTRIBUTES.redrive;
  const entries = Object.entries(attributes);
  return [...entries.filter(isMarker), ...entries.filter((entry) => !isMarker(entry))];
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
