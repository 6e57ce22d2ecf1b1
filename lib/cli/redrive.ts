/**
 * `hookline redrive`: dead-lettered messages back to their source queue.
 *
 * Everything, on AWS: one `StartMessageMoveTask` (SQS moves the messages itself, at `--rate`), followed through
 * `ListMessageMoveTasks`. A selection (`--id`, `--type`), or an endpoint without move tasks (the local
 * emulator), moves messages one by one: receive from the DLQ, send to the source, and only then delete from the
 * DLQ. A failed send never deletes; messages not selected are made visible again.
 */
import { createHash } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { FAILURE_ATTRIBUTES } from '../../lambda/shared/envelope';
import { compileTypePattern } from '../../lambda/shared/type-pattern';
import { type Backend, contextOf } from './backend';
import { describeDeadLetter, queueDepth, receiveHeld, releaseHeld } from './dead-letters';
import { CliError, explainError, isUnsupportedAction } from './errors';
import { type QueueTarget, queueOf, type Target } from './target';

export interface RedriveOptions {
  readonly queue: string;
  /** Only these envelope ids (or SQS message ids). */
  readonly ids?: readonly string[];
  /**
   * Only envelopes whose type matches this pattern, in the dialect of routes and handler keys
   * (`lambda/shared/type-pattern.ts`: `*` one dot-free segment, `**` anything).
   */
  readonly type?: string;
  /** Messages per second. Move tasks accept 1-500. @default SQS's own pace (move task), unlimited (one by one) */
  readonly rate?: number;
  /** Stop after this many messages were moved (one by one only). */
  readonly limit?: number;
  /** How long a scanned message stays hidden while the scan goes on. @default 300 */
  readonly holdSeconds?: number;
  /** Move-task polling interval. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Stops a one-by-one redrive between batches (Ctrl-C); held messages are made visible again. */
  readonly signal?: AbortSignal;
}

export interface RedriveFailure {
  readonly messageId: string;
  readonly id: string | null;
  readonly reason: string;
}

export interface RedriveResult {
  readonly queue: string;
  /** `none` when the dead-letter queue was empty. */
  readonly method: 'move-task' | 'one-by-one' | 'none';
  /** Why the one-by-one path was used for a full redrive. */
  readonly fallbackReason?: string;
  /** DLQ depth when the command started. */
  readonly deadLetterDepthBefore: number;
  readonly moved: number;
  /** Scanned but not selected (left in the DLQ). */
  readonly skipped: number;
  /** Selected but not moved (left in the DLQ). */
  readonly failed: number;
  /** Sent to the source, but the delete from the DLQ failed: a copy remains there (consumers are idempotent). */
  readonly notDeleted: number;
  /**
   * Messages moved by this run that failed again and came back to the DLQ while it ran; left there, so a
   * consumer that still fails cannot make the redrive loop forever.
   */
  readonly returned: number;
  readonly failures: readonly RedriveFailure[];
  /** Envelope ids (or SQS ids for non-envelopes) of the moved messages, one-by-one path only. */
  readonly movedIds: readonly string[];
  /** Move task: its final status and handle. */
  readonly task?: { readonly handle?: string; readonly status: string; readonly failureReason?: string };
  /** `--id` values that were not found. */
  readonly notFound: readonly string[];
  /** The error that stopped a one-by-one redrive early (the rest stays in the DLQ). */
  readonly stoppedBy?: string;
}

/** The `--type` pattern compiled, or a one-line error for an empty or invalid one. */
export function typeSelector(pattern: string): RegExp {
  if (pattern.trim() === '') {
    throw new CliError(
      '--type must not be empty: give an event type pattern such as "invoice.*", or leave --type out to redrive everything',
    );
  }
  try {
    return compileTypePattern(pattern).regex;
  } catch (error) {
    throw new CliError(
      `--type ${JSON.stringify(pattern)} is not a valid type pattern: ${(error as Error).message}`,
    );
  }
}

/** The `--id` values, or a one-line error for a blank one. */
function idSelector(ids: readonly string[] | undefined): Set<string> {
  const wanted = new Set<string>();
  for (const id of ids ?? []) {
    if (id.trim() === '') {
      throw new CliError(
        '--id must not be empty: give envelope ids (or SQS message ids) from hookline failed list, or leave --id out',
      );
    }
    wanted.add(id);
  }
  return wanted;
}

/** The selection flags as the operator wrote them, for messages. */
function describeSelection(options: RedriveOptions): string {
  return [
    ...(options.ids?.length ? [`--id ${options.ids.join(' ')}`] : []),
    ...(options.type !== undefined ? [`--type ${JSON.stringify(options.type)}`] : []),
  ].join(' ');
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/** Moves dead-lettered messages of one queue back to it. */
export async function redrive(
  backend: Backend,
  target: Target,
  options: RedriveOptions,
): Promise<RedriveResult> {
  const queue = queueOf(target, options.queue);
  if (options.rate !== undefined && !(options.rate > 0)) {
    throw new CliError(`--rate must be a positive number of messages per second (got ${options.rate})`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new CliError(`--limit must be a positive integer (got ${options.limit})`);
  }
  // Validate the selection before touching the queue: a blank selector must never mean "everything".
  const wantedIds = idSelector(options.ids);
  const typePattern = options.type !== undefined ? typeSelector(options.type) : undefined;
  const filtering = wantedIds.size > 0 || typePattern !== undefined;
  const selective = filtering || options.limit !== undefined;
  if (!selective && options.rate !== undefined && (options.rate > 500 || !Number.isInteger(options.rate))) {
    throw new CliError(
      `--rate for a full redrive is a whole number from 1 to 500 (SQS move task limit), got ${options.rate}`,
    );
  }
  try {
    const before = await queueDepth(backend.sqs, queue.deadLetterUrl);
    if (before.visible + before.inFlight + before.delayed === 0) {
      if (filtering) throw nothingMatched(queue.name, options);
      backend.output.note(`the ${queue.name} dead-letter queue is empty: nothing to redrive`);
      return emptyResult(queue.name);
    }
    if (!selective) {
      const viaTask = await redriveWithMoveTask(backend, queue, options, before.visible);
      if (viaTask.kind === 'done') return viaTask.result;
      backend.output.note(`${viaTask.reason}: moving messages one by one instead`);
      return await redriveOneByOne(backend, queue, options, before.visible, viaTask.reason);
    }
    const result = await redriveOneByOne(backend, queue, options, before.visible, undefined, {
      wantedIds,
      ...(typePattern ? { typePattern } : {}),
    });
    if (filtering && result.moved + result.failed === 0 && result.returned === 0) {
      throw nothingMatched(queue.name, options);
    }
    return result;
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
}

function nothingMatched(queue: string, options: RedriveOptions): CliError {
  return new CliError(
    `no message in the ${queue} dead-letter queue matches ${describeSelection(options)}: nothing was moved; list them with hookline failed list ${queue}`,
  );
}

function emptyResult(queue: string): RedriveResult {
  return {
    queue,
    method: 'none',
    deadLetterDepthBefore: 0,
    moved: 0,
    skipped: 0,
    failed: 0,
    notDeleted: 0,
    returned: 0,
    failures: [],
    movedIds: [],
    notFound: [],
  };
}

type TaskOutcome = { kind: 'done'; result: RedriveResult } | { kind: 'unavailable'; reason: string };

async function latestTask(
  backend: Backend,
  sourceArn: string,
): Promise<ListMessageMoveTasksResultEntry | undefined> {
  const answer = await backend.sqs.send(
    new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
  );
  return answer.Results?.[0];
}

async function redriveWithMoveTask(
  backend: Backend,
  queue: QueueTarget,
  options: RedriveOptions,
  depthBefore: number,
): Promise<TaskOutcome> {
  const { output, clock } = backend;
  let handle: string | undefined;
  try {
    // SQS runs one move task per queue: follow a running one instead of failing to start a second.
    const running = await latestTask(backend, queue.deadLetterArn);
    if (running?.Status === 'RUNNING') {
      output.note(`a move task is already running for the ${queue.name} dead-letter queue: following it`);
      handle = running.TaskHandle;
    } else {
      const started = await backend.sqs.send(
        new StartMessageMoveTaskCommand({
          SourceArn: queue.deadLetterArn,
          DestinationArn: queue.arn,
          ...(options.rate !== undefined ? { MaxNumberOfMessagesPerSecond: options.rate } : {}),
        }),
      );
      handle = started?.TaskHandle;
    }
  } catch (error) {
    if (isUnsupportedAction(error)) {
      return { kind: 'unavailable', reason: 'StartMessageMoveTask is not available on this endpoint' };
    }
    throw error;
  }
  const progress = output.progress(`moved to ${queue.name}`, depthBefore);
  let task: ListMessageMoveTasksResultEntry | undefined;
  for (;;) {
    task = await latestTask(backend, queue.deadLetterArn);
    if (!task) break;
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    progress.update(moved, task.ApproximateNumberOfMessagesToMove ?? depthBefore);
    if (TERMINAL.has(task.Status ?? '')) break;
    await clock.sleep(options.pollIntervalMs ?? 2_000);
  }
  const status = task?.Status ?? 'UNKNOWN';
  const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
  const toMove = task?.ApproximateNumberOfMessagesToMove ?? depthBefore;
  progress.done();
  const failed = status === 'COMPLETED' ? 0 : Math.max(0, toMove - moved);
  return {
    kind: 'done',
    result: {
      queue: queue.name,
      method: 'move-task',
      deadLetterDepthBefore: depthBefore,
      moved,
      skipped: 0,
      failed,
      notDeleted: 0,
      returned: 0,
      failures: task?.FailureReason ? [{ messageId: '', id: null, reason: task.FailureReason }] : [],
      movedIds: [],
      task: {
        ...(handle ? { handle } : {}),
        status,
        ...(task?.FailureReason ? { failureReason: task.FailureReason } : {}),
      },
      notFound: [],
    },
  };
}

const FAILURE_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(Object.values(FAILURE_ATTRIBUTES));

/** Message attributes to carry back: everything except the consumer's failure annotations. */
export function attributesToKeep(
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
): Record<string, MessageAttributeValue> {
  const kept: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (FAILURE_ATTRIBUTE_NAMES.has(name) || name.startsWith('hookline.error.')) continue;
    kept[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return kept;
}

/** What makes two DLQ messages the same event: the envelope id, else the body's hash. */
function identityOf(envelopeId: string | undefined, body: string | undefined): string {
  return envelopeId !== undefined
    ? `id:${envelopeId}`
    : `sha256:${createHash('sha256')
        .update(body ?? '')
        .digest('hex')}`;
}

function randomRunId(now: number): string {
  return `${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

async function redriveOneByOne(
  backend: Backend,
  queue: QueueTarget,
  options: RedriveOptions,
  depthBefore: number,
  fallbackReason?: string,
  selection: { wantedIds?: ReadonlySet<string>; typePattern?: RegExp } = {},
): Promise<RedriveResult> {
  const { sqs, clock, output } = backend;
  const wantedIds = selection.wantedIds ?? new Set<string>();
  const foundIds = new Set<string>();
  const typePattern = selection.typePattern;
  const filtering = wantedIds.size > 0 || typePattern !== undefined;
  const holdSeconds = options.holdSeconds ?? 300;
  // Unique per run, stable within it: a FIFO resend after a lost answer is then deduplicated by SQS, while a
  // message that comes back to the DLQ and is redriven again later is not mistaken for a duplicate.
  const runId = randomRunId(clock.now());
  const rate = options.rate;

  const held: string[] = [];
  const seen = new Set<string>();
  /** FIFO: a group is moved in order, so nothing moves past a message that stays behind. */
  const blockedGroups = new Set<string>();
  const failures: RedriveFailure[] = [];
  const movedIds: string[] = [];
  let moved = 0;
  let skipped = 0;
  let failed = 0;
  let notDeleted = 0;
  let returned = 0;
  let scanned = 0;
  /** Envelope id (or body hash) of every message moved by this run. */
  const movedKeys = new Set<string>();
  let quiet = 0;
  let stopped: unknown;
  const startedAt = clock.now();
  let paced = 0;

  const progress = output.progress(
    filtering ? `scanned in the ${queue.name} DLQ` : `moved to ${queue.name}`,
    depthBefore,
  );
  const hold = (message: Message) => {
    if (message.ReceiptHandle) held.push(message.ReceiptHandle);
  };

  try {
    for (;;) {
      if (options.signal?.aborted) {
        stopped = Object.assign(new Error('stopped by Ctrl-C'), { name: 'Interrupted' });
        break;
      }
      if (options.limit !== undefined && moved >= options.limit) break;
      if (wantedIds.size > 0 && foundIds.size === wantedIds.size) break;
      const room = options.limit !== undefined ? options.limit - moved : 10;
      const max = Math.min(10, room, rate !== undefined ? Math.max(1, Math.floor(rate)) : 10);
      const messages = await receiveHeld(sqs, queue.deadLetterUrl, { max, holdSeconds, waitSeconds: 1 });
      const fresh: Message[] = [];
      for (const m of messages) {
        if (seen.has(m.MessageId ?? '')) hold(m);
        else fresh.push(m);
      }
      if (fresh.length === 0) {
        // Empty twice in a row (or only messages already seen): the DLQ has nothing new for this run.
        if (++quiet >= 2) break;
        continue;
      }
      quiet = 0;

      const toSend: { message: Message; entry: SendMessageBatchRequestEntry; id: string | null }[] = [];
      for (const m of fresh) {
        seen.add(m.MessageId ?? '');
        scanned++;
        const letter = describeDeadLetter(m);
        const id = letter.envelope?.id ?? null;
        const key = identityOf(letter.envelope?.id, m.Body);
        if (movedKeys.has(key)) {
          // Moved earlier in this run and dead-lettered again: the consumer still fails on it.
          returned++;
          hold(m);
          continue;
        }
        let selected = true;
        if (wantedIds.size > 0) {
          const hit = [id, letter.messageId].find((x) => x !== null && wantedIds.has(x));
          selected = hit !== undefined && hit !== null;
          if (hit) foundIds.add(hit);
        }
        if (selected && typePattern)
          selected = letter.envelope !== undefined && typePattern.test(letter.envelope.type);
        const group = letter.messageGroupId;
        if (selected && queue.fifo && group !== undefined && blockedGroups.has(group)) {
          // Selected, but moving it would put it ahead of an earlier message of its group that stays.
          failed++;
          failures.push({
            messageId: letter.messageId,
            id,
            reason: `behind an earlier message of FIFO group ${group} that stays in the DLQ (group order is kept): select that one too`,
          });
          hold(m);
          continue;
        }
        if (!selected) {
          if (queue.fifo && group !== undefined) blockedGroups.add(group);
          skipped++;
          hold(m);
          continue;
        }
        if (queue.fifo && group === undefined) {
          failed++;
          failures.push({ messageId: letter.messageId, id, reason: 'FIFO message without MessageGroupId' });
          hold(m);
          continue;
        }
        toSend.push({
          message: m,
          id,
          entry: {
            Id: String(toSend.length),
            MessageBody: m.Body ?? '',
            MessageAttributes: attributesToKeep(m.MessageAttributes),
            ...(queue.fifo
              ? {
                  MessageGroupId: group,
                  MessageDeduplicationId: `redrive-${runId}-${letter.messageId}`.slice(0, 128),
                }
              : {}),
          },
        });
      }

      if (toSend.length > 0) {
        if (rate !== undefined) {
          const due = startedAt + (paced * 1000) / rate;
          const wait = due - clock.now();
          if (wait > 0) await clock.sleep(wait);
          paced += toSend.length;
        }
        let sent: SendMessageBatchCommandOutput;
        try {
          sent = await sqs.send(
            new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: toSend.map((t) => t.entry) }),
          );
        } catch (error) {
          // Nothing of this batch was deleted: it stays in the DLQ. Stop, release, report.
          for (const t of toSend) {
            failed++;
            hold(t.message);
            failures.push({
              messageId: t.message.MessageId ?? '',
              id: t.id,
              reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          }
          stopped = error;
          break;
        }
        const succeeded = new Set((sent.Successful ?? []).map((s) => s.Id));
        for (const f of sent.Failed ?? []) {
          const t = toSend[Number(f.Id)];
          if (!t) continue;
          failed++;
          hold(t.message);
          failures.push({
            messageId: t.message.MessageId ?? '',
            id: t.id,
            reason: `${f.Code}: ${f.Message ?? ''}`.trim(),
          });
        }
        const sentOk = toSend.filter((t) => succeeded.has(t.entry.Id));
        if (sentOk.length > 0) {
          const deleted = await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queue.deadLetterUrl,
              Entries: sentOk.map((t) => ({ Id: t.entry.Id, ReceiptHandle: t.message.ReceiptHandle })),
            }),
          );
          notDeleted += deleted.Failed?.length ?? 0;
          for (const t of sentOk) {
            moved++;
            movedIds.push(t.id ?? t.message.MessageId ?? '');
            movedKeys.add(identityOf(t.id ?? undefined, t.message.Body));
          }
        }
      }
      progress.update(filtering ? scanned : moved, Math.max(depthBefore, filtering ? scanned : moved));
    }
  } finally {
    const refused = await releaseHeld(sqs, queue.deadLetterUrl, held).catch(() => held.length);
    if (refused > 0)
      output.note(
        `${refused} messages could not be made visible again: they return to the DLQ within ${holdSeconds} s`,
      );
  }
  // The summary is the command's result (rendered once by the caller), not a progress line.
  progress.done();
  if (stopped !== undefined && moved === 0 && failed > 0 && failures.length === failed) {
    // Not a single message moved and the endpoint refused the batch: an expected error for the operator.
    throw stopped;
  }
  return {
    queue: queue.name,
    method: 'one-by-one',
    ...(fallbackReason ? { fallbackReason } : {}),
    deadLetterDepthBefore: depthBefore,
    moved,
    skipped,
    failed,
    notDeleted,
    returned,
    failures,
    movedIds,
    notFound: [...wantedIds].filter((id) => !foundIds.has(id)),
    ...(stopped !== undefined
      ? { stoppedBy: stopped instanceof Error ? `${stopped.name}: ${stopped.message}` : String(stopped) }
      : {}),
  };
}
