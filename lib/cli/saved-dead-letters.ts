/**
 * The file `failed save` writes and `failed restore` reads: JSON Lines, a header naming the queue and the pipeline,
 * one line per dead letter, and an end line counting them. Each letter keeps what SQS holds (its body as it is, the
 * envelope with any claim-check reference, its message attributes, a FIFO group) next to what `failed show` gives a
 * person; the end line is written only once the read finished, so a file cut short (a save stopped or failed, a
 * full disk) is known as one and never restored as if it were whole.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { plural } from '../../lambda/shared/plural';
import { saveDeadLettersArgs } from '../console/ui/dead-letter-expiry';
import { type DeadLetter, describeDeadLetter } from './dead-letters';
import { CliError } from './errors';
import type { ReadableLetter } from './failed';
import { type CommandHints, nextCommand } from './output';

/** What a saved file's header says it is: a reader refuses any other. */
export const SAVED_FORMAT = 'hookline.dead-letters';
export const SAVED_VERSION = 1;

/** The first line: what was saved, from where, when. */
export interface SavedHeader {
  readonly format: typeof SAVED_FORMAT;
  readonly version: typeof SAVED_VERSION;
  /** This save's own id: `failed restore`'s journal belongs to one save. */
  readonly saveId: string;
  /** The dead-letter queue as the CLI names it (`events`, `schedule:nightly`). */
  readonly queue: string;
  /** The pipeline, as the CLI describes it (`local mode`, `stack Hookline in us-east-1`). */
  readonly target: string;
  readonly fifo: boolean;
  /** The `--failure` key the save was narrowed to, else null. */
  readonly failure: string | null;
  readonly savedAt: string;
}

/** A message attribute as SQS holds it, a binary value in base64. */
export interface SavedAttribute {
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: string;
}

/** What SQS holds of a dead letter: all a send needs to put it back as it was. */
export interface SavedMessage {
  readonly messageId: string;
  /** The message body exactly as SQS holds it: the envelope, a claim check's reference included. */
  readonly body: string;
  readonly messageAttributes: Readonly<Record<string, SavedAttribute>>;
  /** A FIFO queue's (or a fair queue's) message group. */
  readonly messageGroupId?: string;
  readonly sentAt?: string;
}

/**
 * A claim-checked letter's body as the payload bucket held it when it was saved: `failed restore` uploads it again,
 * since the bucket deletes it `payloads.expiry` after it arrived and SQS holds only its reference.
 */
export interface SavedPayload {
  /** Where the letter's reference (`payloadRef`) said it was. */
  readonly bucket: string;
  readonly key: string;
  /** The body's bytes, as many as `base64` decodes to. */
  readonly sizeBytes: number;
  readonly contentType?: string;
  readonly base64: string;
}

/**
 * A letter's line: its place in the file, what `failed show` gives, under `sqs` what SQS holds and, claim-checked,
 * under `payload` its body, or under `payloadNotSaved` why the save could not read it.
 */
export type SavedLetter = ReadableLetter & {
  readonly n: number;
  readonly sqs: SavedMessage;
  readonly payload?: SavedPayload;
  readonly payloadNotSaved?: string;
};

/** The last line, written once the read finished. */
export interface SavedEnd {
  readonly end: true;
  /** Letter lines in the file. */
  readonly letters: number;
  /**
   * Whether every dead letter the read could see is in the file: false when Ctrl-C stopped it, another reader held
   * some, or (FIFO) some waited behind the earliest of their group (`notSaved` says which).
   */
  readonly complete: boolean;
  readonly notSaved: {
    readonly heldByOthers: number;
    readonly behindHeldGroups: number;
    readonly interrupted: boolean;
  };
}

/** A dead letter's `sqs` part: its body and attributes as SQS holds them. */
export function savedMessageOf(letter: DeadLetter): SavedMessage {
  const attributes: Record<string, SavedAttribute> = {};
  for (const [name, value] of Object.entries(letter.messageAttributes))
    attributes[name] = savedAttribute(value);
  return {
    messageId: letter.messageId,
    body: letter.body,
    messageAttributes: attributes,
    ...(letter.messageGroupId !== undefined ? { messageGroupId: letter.messageGroupId } : {}),
    ...(letter.sentAt !== undefined ? { sentAt: letter.sentAt } : {}),
  };
}

function savedAttribute(value: MessageAttributeValue): SavedAttribute {
  return {
    dataType: value.DataType ?? 'String',
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined
      ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
      : {}),
  };
}

/** The attributes to send a saved letter back with: as SQS held them. */
export function sqsAttributesOf(saved: SavedMessage): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(saved.messageAttributes)) {
    attributes[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue !== undefined ? { BinaryValue: Buffer.from(value.binaryValue, 'base64') } : {}),
    };
  }
  return attributes;
}

/** The saved letter as a dead letter read from SQS: what `--failure` and the failure keys are computed from. */
export function deadLetterOf(saved: SavedMessage): DeadLetter {
  const sent = saved.sentAt === undefined ? Number.NaN : Date.parse(saved.sentAt);
  const message: Message = {
    MessageId: saved.messageId,
    Body: saved.body,
    MessageAttributes: sqsAttributesOf(saved),
    Attributes: {
      ...(saved.messageGroupId !== undefined ? { MessageGroupId: saved.messageGroupId } : {}),
      ...(Number.isFinite(sent) ? { SentTimestamp: String(sent) } : {}),
    },
  };
  return describeDeadLetter(message);
}

/** What a whole saved file holds, read once to check it before anything is sent. */
export interface SavedFile {
  readonly header: SavedHeader;
  readonly end: SavedEnd;
  /** Letters with their claim-checked body saved (`payload`). */
  readonly payloads: number;
}

/** Why `file` cannot be restored, as one line. */
const unusable = (file: string, why: string) => new CliError(`${file} cannot be restored: ${why}`);

/**
 * Reads `file` through, checking it is a whole save: its header first, a letter on every line after it, numbered in
 * order, and its end line last, counting them. A file cut short is refused: it may miss letters, and saving again
 * is what makes it whole.
 */
export async function checkSavedFile(file: string, hints: CommandHints): Promise<SavedFile> {
  let header: SavedHeader | undefined;
  let end: SavedEnd | undefined;
  let letters = 0;
  let payloads = 0;
  for await (const { line, number } of savedLines(file)) {
    if (end) throw unusable(file, `line ${number} comes after its end line: it is not one save`);
    if (!header) {
      header = headerOf(file, line);
      continue;
    }
    if (isEnd(line)) {
      end = line;
      continue;
    }
    letters++;
    if (letterOf(file, line, number, letters).payload) payloads++;
  }
  if (!header) throw unusable(file, 'it is empty');
  if (!end || end.letters !== letters) {
    throw unusable(
      file,
      `it ends before its end line (${plural(letters, 'letter')} read): the save did not finish, so it may miss letters; save again with ${nextCommand(hints, saveDeadLettersArgs(header.queue))}`,
    );
  }
  return { header, end, payloads };
}

/** The letters of a checked file, in order. */
export async function* savedLetters(file: string): AsyncGenerator<SavedLetter> {
  let letters = 0;
  for await (const { line, number } of savedLines(file)) {
    if (number === 1 || isEnd(line)) continue;
    letters++;
    yield letterOf(file, line, number, letters);
  }
}

/** Each non-empty line of `file` parsed as JSON, with its line number. */
async function* savedLines(file: string): AsyncGenerator<{ line: unknown; number: number }> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let number = 0;
  try {
    for await (const text of lines) {
      number++;
      if (text.trim() === '') continue;
      try {
        yield { line: JSON.parse(text) as unknown, number };
      } catch {
        throw unusable(file, `line ${number} is not JSON: the file was cut or edited`);
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${file}: no such file`);
    throw error;
  } finally {
    lines.close();
  }
}

function headerOf(file: string, line: unknown): SavedHeader {
  const h = line as Partial<SavedHeader> | null;
  if (h?.format !== SAVED_FORMAT) {
    throw unusable(
      file,
      `its first line is not the header hookline failed save writes ("format": "${SAVED_FORMAT}")`,
    );
  }
  if (h.version !== SAVED_VERSION) {
    throw unusable(
      file,
      `it is of version ${String(h.version)} of the format, this hookline reads ${SAVED_VERSION}: restore it with the hookline that saved it`,
    );
  }
  if (typeof h.queue !== 'string' || typeof h.target !== 'string' || typeof h.saveId !== 'string') {
    throw unusable(file, 'its header lacks the queue, the pipeline or the save id');
  }
  return h as SavedHeader;
}

function isEnd(line: unknown): line is SavedEnd {
  return (line as Partial<SavedEnd> | null)?.end === true;
}

function letterOf(file: string, line: unknown, number: number, expected: number): SavedLetter {
  const letter = line as Partial<SavedLetter> | null;
  if (
    letter?.n !== expected ||
    typeof letter.sqs?.body !== 'string' ||
    typeof letter.sqs.messageId !== 'string'
  ) {
    throw unusable(
      file,
      `line ${number} is not letter ${expected} as hookline failed save writes it (n, sqs.messageId, sqs.body)`,
    );
  }
  if (letter.payload !== undefined && !isPayload(letter.payload)) {
    throw unusable(
      file,
      `line ${number}'s payload is not a body as hookline failed save writes it (bucket, key, and base64 of sizeBytes bytes)`,
    );
  }
  return letter as SavedLetter;
}

/** A saved body whose fields are there and whose base64 is as long as its size says (no cut or edited line). */
function isPayload(value: unknown): value is SavedPayload {
  const p = value as Partial<SavedPayload> | null;
  return (
    typeof p?.bucket === 'string' &&
    p.bucket !== '' &&
    typeof p.key === 'string' &&
    p.key !== '' &&
    typeof p.base64 === 'string' &&
    Number.isSafeInteger(p.sizeBytes) &&
    Buffer.byteLength(p.base64, 'base64') === p.sizeBytes
  );
}

/** Where `failed save --out` writes: line by line into a temporary file beside `path`, renamed to it at the end. */
export interface SavedFileWriter {
  write(line: string): void;
  /** Puts the whole file in place (flushed to disk first, so a crash right after leaves it whole). */
  commit(): void;
  /** Removes the temporary file: a save that failed leaves no file at `path`, nor a half one beside it. */
  abandon(): void;
}

/**
 * A writer of the file at `path`, only you may read (it holds what the DLQ holds, bodies and headers). The
 * temporary file is in the same folder, so the rename is atomic: a reader sees no file, or the whole save. A process
 * that exits before the save ended (a second Ctrl-C quits at once) removes it as it exits; only a kill that runs no
 * code (SIGKILL, a crash of the machine) leaves it, named `.<file>.<pid>.<uuid>.tmp`.
 */
export function savedFileWriter(path: string): SavedFileWriter {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw new CliError(`--out ${path}: cannot write beside it (${(error as Error).message})`);
  }
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  const removeOnExit = () => {
    close();
    rmSync(temporary, { force: true });
  };
  process.once('exit', removeOnExit);
  return {
    write(line) {
      if (fd !== undefined) writeSync(fd, `${line}\n`);
    },
    commit() {
      process.off('exit', removeOnExit);
      if (fd !== undefined) fsyncSync(fd);
      close();
      renameSync(temporary, path);
    },
    abandon() {
      process.off('exit', removeOnExit);
      removeOnExit();
    },
  };
}
