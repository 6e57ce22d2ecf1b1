/**
 * What SQS refuses in a `SendMessage` (or a `SendMessageBatch` entry) that fauxqs 2.4.1 accepts: message
 * attributes beyond SQS's rules, a `DelaySeconds` outside 0-900, a `MessageDeduplicationId` sent to a standard
 * queue, and a message group or deduplication id with a space, a character beyond ASCII or over 128 characters.
 * Without these, code that sends such a message (a consumer forwarding with one attribute too many, a delay of 16
 * minutes, a deduplication id copied from FIFO code, a customer's name as its group) passed locally and failed once
 * deployed. Pure: `fauxqs-fixes.ts` applies it where the emulator is assembled.
 *
 * Wordings: the attribute count, an empty string value, a number that is none, a name's characters, a deduplication
 * id on a standard queue and a group id's characters are what SQS answers (captured from SQS by other emulators'
 * tests and issue reports); the others describe the rule the SQS developer guide states, in the same style. Every refusal is `InvalidParameterValue`, as SQS answers it.
 */
import { MAX_MESSAGE_ATTRIBUTES, MAX_SQS_DELAY_SECONDS } from '../../lambda/shared/envelope';
import { isSqsGroupId } from '../../lambda/shared/safe-ids';

/** A message attribute as the JSON protocol carries it. */
interface SentAttribute {
  readonly DataType?: unknown;
  readonly StringValue?: unknown;
  readonly BinaryValue?: unknown;
}

/** The fields of a send the rules read. */
export interface SentMessage {
  readonly MessageAttributes?: Readonly<Record<string, SentAttribute>> | undefined;
  readonly DelaySeconds?: unknown;
  readonly MessageDeduplicationId?: unknown;
  readonly MessageGroupId?: unknown;
}

/** The queue a message is sent to, as far as the rules need it. */
export interface SendTarget {
  readonly fifo: boolean;
}

const NAME_CHARACTERS = /^[A-Za-z0-9_.-]+$/;
const RESERVED_NAME = /^(aws|amazon)\./i;
const DATA_TYPE = /^(String|Number|Binary)(\..+)?$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Why SQS would refuse this attribute name, if it would. */
function nameProblem(name: string): string | undefined {
  if (RESERVED_NAME.test(name)) {
    return `Message (user) attribute name '${name}' is reserved for use by AWS: names starting with AWS. or Amazon. (in any case) are.`;
  }
  if (!NAME_CHARACTERS.test(name)) {
    return 'Message (user) attributes name can only contain upper and lower score characters, digits, periods, hyphens and underscores. ';
  }
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    return `Message (user) attribute name '${name}' cannot start or end with '.', nor have successive '.' characters.`;
  }
  if (Buffer.byteLength(name) >= 256) return 'Message (user) attribute names must be shorter than 256 Bytes.';
  return undefined;
}

/** Why SQS would refuse this attribute's type or value, if it would. */
function valueProblem(name: string, attribute: SentAttribute): string | undefined {
  const type = typeof attribute.DataType === 'string' ? attribute.DataType : '';
  if (type === '') return `Message (user) attribute '${name}': Missing required parameter DataType.`;
  if (!DATA_TYPE.test(type)) {
    return `Message (user) attribute '${name}' has an invalid data type '${type}': it must be prefixed with String, Number or Binary.`;
  }
  if (type.startsWith('Binary')) return undefined;
  const value = typeof attribute.StringValue === 'string' ? attribute.StringValue : '';
  if (type.startsWith('Number') && !NUMBER.test(value)) {
    return `Can't cast the value of message (user) attribute '${name}' to a number.`;
  }
  if (value === '') {
    return `Message (user) attribute '${name}' must contain a non-empty value of type '${type}'.`;
  }
  return undefined;
}

/** Why SQS would refuse the send's `DelaySeconds`, if it would (undefined: the queue's own delay). */
function delayProblem(delay: unknown): string | undefined {
  if (delay === undefined || delay === null) return undefined;
  if (typeof delay === 'number' && Number.isInteger(delay) && delay >= 0 && delay <= MAX_SQS_DELAY_SECONDS) {
    return undefined;
  }
  return `Value ${String(delay)} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${MAX_SQS_DELAY_SECONDS}, if provided.`;
}

/**
 * Why SQS would refuse the send's `MessageDeduplicationId`, if it would: only FIFO queues take one (a standard
 * queue takes a `MessageGroupId`, for fair queues, but no deduplication id).
 */
function deduplicationProblem(id: unknown, target: SendTarget | undefined): string | undefined {
  if (id === undefined || id === null || target === undefined || target.fifo) return undefined;
  return `Value ${String(id)} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`;
}

/**
 * Why SQS would refuse a `MessageGroupId` or `MessageDeduplicationId` as written, if it would: both take 1 to 128
 * alphanumeric and punctuation characters (no space, nothing beyond ASCII). An empty one is left to fauxqs, which
 * answers a FIFO queue's as missing.
 */
function tokenProblem(
  parameter: 'MessageGroupId' | 'MessageDeduplicationId',
  value: unknown,
): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && isSqsGroupId(value)) return undefined;
  return `Value ${String(value)} for parameter ${parameter} is invalid. Reason: ${parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length.`;
}

/**
 * The first reason SQS would refuse this message, or undefined when it would take it. `target` is the queue it
 * is sent to; without it, only the rules that hold for every queue are applied.
 */
export function sendProblem(message: SentMessage, target?: SendTarget): string | undefined {
  const attributes = Object.entries(message.MessageAttributes ?? {});
  if (attributes.length > MAX_MESSAGE_ATTRIBUTES) {
    return `Number of message attributes [${attributes.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`;
  }
  for (const [name, attribute] of attributes) {
    const problem = nameProblem(name) ?? valueProblem(name, attribute ?? {});
    if (problem) return problem;
  }
  return (
    delayProblem(message.DelaySeconds) ??
    deduplicationProblem(message.MessageDeduplicationId, target) ??
    tokenProblem('MessageGroupId', message.MessageGroupId) ??
    tokenProblem('MessageDeduplicationId', message.MessageDeduplicationId)
  );
}
