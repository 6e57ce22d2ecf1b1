/**
 * Human-readable output of each command (the `--json` output is the result object itself).
 */

import { describeBreakerState, describeEndedBreaker } from '../../lambda/shared/circuit-breaker';
import { plural } from '../../lambda/shared/plural';
import {
  expiresSoon,
  expiryWarning,
  RETENTION_UNKNOWN,
  saveDeadLettersArgs,
  soonestDeletion,
  timeLeft,
} from '../console/ui/dead-letter-expiry';
import { humanAge } from '../console/ui/human-age';
import { idempotencyLine } from '../console/ui/idempotency-note';
import { oldestAgeNotes } from '../console/ui/oldest-age-notes';
import { purgeStillRunning } from '../console/ui/purge-note';
import { SUPERSEDED_LETTER } from '../console/ui/superseded-letter';
import { unconfiguredQueuesNotice } from '../local/unconfigured-queues';
import { BREAKER_SCHEDULES_RECOVER, JOB_SCHEDULES_RESEND } from '../stack-outputs';
import { foreignText, terminalLine } from '../terminal-text';
import type { ConsumerStateResult } from './consumers';
import {
  failedListNotes,
  failedSummaryNotes,
  unreadWhenTheRunEnded,
  unreadWhileHeld,
} from './dead-letter-notes';
import type { FailedLetter, FailedListResult, FailedShowResult, FailedSummaryResult } from './failed';
import { layoutJson } from './json-layout';
import { type CommandHints, hint, nextCommand as next, type Output, table } from './output';
import type { PurgeResult } from './purge';
import type { RedriveResult } from './redrive';
import type { ReplayResult } from './replay';
import { SCHEDULED_JOBS_COUNTED } from './scheduled-jobs';
import type { SecretsSetResult } from './secrets';
import type { SendResult } from './send';
import type { QueueStatus, StatusResult } from './status';
import {
  BREAKER_SCHEDULES,
  isOtherDeadLetterQueueName,
  JOB_SCHEDULES,
  MAPPING_MISSING,
  noReasonRecorded,
} from './target';
import type { TraceResult, TraceStep } from './trace';
import type { UndeliveredSchedule } from './undelivered-schedules';
import { missingPermissionsLine, unreadableLines } from './unreadable';

/** One line of at most `max` characters (an error message may span lines; a listing shows one per row). */
const truncate = (text: string, max: number) => {
  const line = terminalLine(text);
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

// Here rather than beside QueueStatus: status --local loads this module, and status.ts would bring the AWS SDK.
/**
 * The queue's oldest message has waited past its oldest-message alarm's threshold: that age, else undefined. The
 * deployed alarm pages once the age has stayed above it for its window, which a single read cannot tell.
 */
export function pastOldestMessageAlarm(q: QueueStatus): number | undefined {
  const alarmAge = q.oldestMessageAgeAlarmSeconds;
  return q.oldestMessageAgeSeconds !== null && alarmAge !== undefined && q.oldestMessageAgeSeconds > alarmAge
    ? alarmAge
    : undefined;
}

/** A count as a cell: `unknown` where it could not be read (a line under the table says why). */
const countCell = (count: number | null) => (count === null ? 'unknown' : String(count));

export function renderStatus(output: Output, result: StatusResult): void {
  const c = output.colors;
  output.line(`${c.bold('hookline status')}: ${result.target}`);
  if (result.queues.length === 0) {
    output.line('no queues');
    return;
  }
  const rows = [
    ['QUEUE', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DLQ', 'OLDEST', 'CONSUMER'],
    ...result.queues.map((q) => [
      `${q.queue}${q.fifo ? ' (fifo)' : ''}`,
      countCell(q.visible),
      countCell(q.inFlight),
      countCell(q.delayed),
      countCell(q.deadLettered),
      humanAge(q.oldestMessageAgeSeconds),
      q.consumer === undefined ? 'unknown' : (q.consumer ?? '-'),
    ]),
  ];
  output.line(table(rows, c));
  const scheduled = scheduledJobsLine(output, result);
  if (scheduled) output.line(scheduled);
  for (const line of oldestAgeNotes(result.queues)) output.line(c.dim(line));
  const idempotency = idempotencyLine(result.queues);
  if (idempotency) output.line(c.dim(idempotency));
  for (const q of result.queues) renderQueueNotes(output, q);
  for (const line of unreadableLines(result.unreadable ?? [])) output.line(c.yellow(line));
  for (const d of result.otherDeadLetterQueues ?? []) {
    // An unknown count is said with the parts that could not be read.
    if (d.deadLettered === null) continue;
    const line = `${d.name} (${d.holds}): ${d.deadLettered} dead-lettered`;
    output.line(
      d.deadLettered > 0
        ? c.red(`${line}; inspect with: ${next(output, `failed list ${d.name}`)}`)
        : c.dim(line),
    );
  }
  const { unconfiguredQueues } = result;
  const unconfigured =
    unconfiguredQueues &&
    unconfiguredQueuesNotice(unconfiguredQueues.queues, unconfiguredQueues.dataDir, output);
  if (unconfigured) output.line(c.yellow(unconfigured));
  for (const queue of result.queuesMissingOutputs ?? []) {
    output.line(
      c.yellow(
        `queue ${queue}: not in the stack outputs, so it is not counted here; redeploy with npx cdk deploy`,
      ),
    );
  }
  for (const schedule of result.schedulesMissingOutputs ?? []) {
    output.line(
      c.yellow(
        `schedule ${schedule}: its dead-letter queue is not in the stack outputs, so it is not counted here; redeploy with npx cdk deploy`,
      ),
    );
  }
  const missing = missingPermissionsLine(result.unreadable ?? []);
  if (missing) output.line(c.red(missing));
}

/**
 * The jobs delayed beyond SQS's 15 minutes, as `status` prints them: `count` a number counted, `unknown` where they
 * could not be counted (denied, throttled, a nested stack), `hint` where they were not (where to look instead).
 */
export interface ScheduledJobsSentence {
  readonly text: string;
  readonly tone: 'count' | 'unknown' | 'hint';
}

/**
 * The jobs delayed beyond SQS's 15 minutes: they wait in one-time schedules, in no queue's DELAYED until sent. Local
 * mode counts them, and so does a deployed stack's `status` (from EventBridge Scheduler's list of its schedules), up
 * to a bound, past which it says "at least"; where they could not be counted, it says why, never 0. A status that did
 * not count them (a deployed stack whose producers may delay jobs) says where to look instead. The console's
 * overview says the same sentence.
 *
 * A count of none says nothing unless `sayNone`: `status` counts when it is run, so no line there is "none, now"; the
 * console's overview reuses a deployed stack's count for a while, and says "none" with its age instead, so that it is
 * not taken for a count not made.
 */
export function scheduledJobsSentence(
  hints: CommandHints,
  result: StatusResult,
  { sayNone = false }: { readonly sayNone?: boolean } = {},
): ScheduledJobsSentence | undefined {
  const list = next(hints, 'jobs list --state scheduled');
  if (result.scheduledJobsNote !== undefined)
    return {
      text: `jobs scheduled for later, beyond SQS's 15-minute delay: ${result.scheduledJobsNote} (${list})`,
      tone: 'unknown',
    };
  if (result.scheduledJobs !== undefined) {
    const count = result.scheduledJobs;
    if (result.scheduledJobsAtLeast)
      return {
        text: `at least ${plural(count, 'job')} scheduled for later, beyond SQS's 15-minute delay, so in no queue yet: counting stopped after the stack's first ${SCHEDULED_JOBS_COUNTED} schedules, and more wait; a cancelled one counts until its time (${list})`,
        tone: 'count',
      };
    if (count > 0)
      return {
        text: `${plural(count, 'job')} scheduled for later, beyond SQS's 15-minute delay, so in no queue yet; a cancelled one counts until its time (${list})`,
        tone: 'count',
      };
    return sayNone
      ? { text: `no jobs scheduled for later, beyond SQS's 15-minute delay (${list})`, tone: 'count' }
      : undefined;
  }
  if (!result.otherDeadLetterQueues?.some((d) => d.name === JOB_SCHEDULES)) return undefined;
  return {
    text: `jobs delayed beyond 15 minutes wait in EventBridge Scheduler, not in DELAYED: ${list}`,
    tone: 'hint',
  };
}

/** {@link scheduledJobsSentence} coloured as `status` prints it. */
function scheduledJobsLine(output: Output, result: StatusResult): string | undefined {
  const sentence = scheduledJobsSentence(output, result);
  if (!sentence) return undefined;
  if (sentence.tone === 'unknown') return output.colors.yellow(sentence.text);
  return sentence.tone === 'hint' ? output.colors.dim(sentence.text) : sentence.text;
}

/** The lines under the status table about one queue: what it holds, how long it waited, its consumer. */
function renderQueueNotes(output: Output, q: QueueStatus): void {
  const c = output.colors;
  if (q.quietTenants) {
    const { visible, oldestMessageAgeSeconds, note } = q.quietTenants;
    output.line(
      `${q.queue}: quiet tenants ${visible ?? '-'} visible, oldest ${humanAge(oldestMessageAgeSeconds)} (tenant fairness: SQS serves them ahead of a noisy tenant's backlog)`,
    );
    if (note !== undefined) output.line(c.dim(`${q.queue}: quiet tenants: ${note}`));
  }
  if (q.deadLettered !== null && q.deadLettered > 0) {
    output.line(
      c.red(
        `${q.queue}: ${q.deadLettered} dead-lettered; inspect with: ${next(output, `failed list ${q.queue}`)}`,
      ),
    );
  }
  const alarmAge = pastOldestMessageAlarm(q);
  if (alarmAge !== undefined) {
    output.line(
      c.yellow(
        `${q.queue}: oldest message has waited ${humanAge(q.oldestMessageAgeSeconds)}, past its oldest-message alarm's threshold of ${humanAge(alarmAge)}: its consumer is failing, paused or too slow`,
      ),
    );
  }
  if (q.consumer === MAPPING_MISSING) {
    output.line(
      c.red(
        `${q.queue}: its consumer's event source mapping is gone from Lambda (deleted outside the stack): nothing consumes the queue; redeploy with npx cdk deploy`,
      ),
    );
  }
  // A breaker's pause is told from the moment its mapping starts disabling, as the console tells it.
  if (q.consumer === 'Disabled' || q.circuitBreaker) {
    const by = q.circuitBreaker ? describeBreakerState(q.circuitBreaker) : 'paused';
    output.line(c.yellow(`${q.queue}: consumer ${by}; resume with: ${next(output, `resume ${q.queue}`)}`));
  }
}

export function renderFailedList(output: Output, result: FailedListResult): void {
  const c = output.colors;
  const of = result.failure === null ? '' : ` of failure ${result.failure}`;
  output.line(
    `${c.bold(`${result.queue} dead-letter queue`)}: ~${plural(result.approximateDepth, 'message')}, showing ${result.messages.length}${of}${eventsOf(result.events, result.messages.length)} (left in place)`,
  );
  for (const note of failedListNotes(result, output)) output.line(c.yellow(note));
  if (result.messages.length === 0) return;
  // What each delivery Scheduler gave up on is, in the dead-letter queues it fills (a breaker's step has no id).
  const scheduled = isOtherDeadLetterQueueName(result.queue);
  const rows = [
    ['ID', 'SOURCE', 'TYPE', ...(scheduled ? ['WHAT'] : []), 'RECEIVED', 'TRIES', 'ERROR'],
    ...result.messages.map((m) => [
      m.id === null
        ? `(sqs ${m.messageId})`
        : m.replayId
          ? `${m.id} (replay ${m.replayId.slice(0, 8)})`
          : m.id,
      m.source ?? '-',
      m.type ?? '-',
      ...(scheduled ? [m.scheduled?.description ?? '-'] : []),
      m.receivedAt ?? m.sentAt ?? '-',
      m.receiveCount !== null ? String(m.receiveCount) : '-',
      truncate(m.error ?? m.envelopeError ?? noReasonRecorded(result.queue), 100),
    ]),
  ];
  output.line(table(rows, c));
  const soonest = soonestDeletion(result.messages.map((m) => m.deletedBySqsAt));
  if (soonest !== null && expiresSoon(soonest))
    output.line(c.red(savedWarning(output, result.queue, 'the oldest shown', soonest)));
  const then =
    result.queue === JOB_SCHEDULES
      ? `fix the reason, then ${JOB_SCHEDULES_RESEND} (this queue cannot be redriven)`
      : result.queue === BREAKER_SCHEDULES
        ? `fix the reason, then ${BREAKER_SCHEDULES_RECOVER} (this queue cannot be redriven)${resumesOf(output, result.messages)}`
        : `redrive: ${next(output, `redrive ${result.queue}`)}`;
  hint(output, `details: ${next(output, `failed show ${result.queue} <id>`)}    ${then}`);
}

/** The resumes the breakers' steps shown call for, by the queue each step names: `; here: hookline resume events`. */
function resumesOf(output: Output, letters: readonly FailedLetter[]): string {
  const queues = new Set<string>();
  for (const m of letters) if (m.scheduled?.breaker && m.scheduled.queue) queues.add(m.scheduled.queue);
  if (queues.size === 0) return '';
  return `; here: ${[...queues].map((q) => next(output, `resume ${q}`)).join(', ')}`;
}

export function renderFailedSummary(output: Output, result: FailedSummaryResult): void {
  const c = output.colors;
  const groups = plural(result.groups.length, 'distinct failure');
  output.line(
    `${c.bold(`${result.queue} dead-letter queue`)}: ${plural(result.read, 'message')} read${eventsOf(result.events, result.read)}, ${groups} (left in place)`,
  );
  for (const note of failedSummaryNotes(result, output)) output.line(c.yellow(note));
  if (result.groups.length === 0) return;
  const concerns = result.groups.some((g) => g.subjects !== undefined);
  const rows = [
    [
      'KEY',
      'COUNT',
      'FAILURE',
      'TYPES',
      ...(concerns ? ['CONCERNS'] : []),
      'FIRST',
      'LAST',
      'OLDEST DELETED BY SQS',
      'EXAMPLE',
    ],
    ...result.groups.map((g) => [
      g.key,
      String(g.count),
      truncate(g.pattern, 80),
      [...g.types.map((t) => `${t.type} ${t.count}`), ...(g.otherTypes > 0 ? [`+${g.otherTypes}`] : [])].join(
        ', ',
      ),
      ...(concerns ? [(g.subjects ?? []).map((s) => `${s.subject} ${s.count}`).join(', ') || '-'] : []),
      g.firstFailedAt ?? '-',
      g.lastFailedAt ?? '-',
      g.oldestDeletedBySqsAt ? timeLeft(g.oldestDeletedBySqsAt) : '-',
      g.exampleIds[0] ?? '-',
    ]),
  ];
  output.line(table(rows, c));
  for (const g of result.groups) {
    const at = g.oldestDeletedBySqsAt ?? null;
    if (at !== null && expiresSoon(at))
      output.line(c.red(savedWarning(output, result.queue, `failure ${g.key}: its oldest`, at)));
  }
  if (result.deadLetterRetentionSeconds === null) output.line(c.yellow(RETENTION_UNKNOWN));
  const then =
    result.queue === JOB_SCHEDULES
      ? `fix the reason, then ${JOB_SCHEDULES_RESEND}`
      : result.queue === BREAKER_SCHEDULES
        ? `fix the reason, then ${BREAKER_SCHEDULES_RECOVER}`
        : `once fixed: ${next(output, `redrive ${result.queue} --failure <key>`)}`;
  hint(output, `details: ${next(output, `failed show ${result.queue} <example>`)}    ${then}`);
  hint(output, `never to run again: ${next(output, `failed delete ${result.queue} --failure <key>`)}`);
}

/**
 * Dead letters that reached the DLQ after a redrive's last read found it empty: which they are it cannot tell
 * without reading them, so both are named, and the moved ids to compare with.
 */
function deadLetteredAfterTheRunLine(result: RedriveResult): string {
  const n = result.deadLetteredAfterTheRun ?? 0;
  const which = n === result.deadLetterDepthAfter ? (n === 1 ? 'it' : `all ${n}`) : `${n} of them`;
  const moved =
    result.movedIds.length > 0 && result.movedIds.length <= 3 ? ` (${result.movedIds.join(', ')})` : '';
  return `${which} reached the dead-letter queue after this run's last read found it empty: a message this run moved${moved} that failed again, or another failure`;
}

/** A letter SQS deletes soon, as the console says it too, and the command that saves the queue's dead letters. */
const savedWarning = (output: Output, queue: string, which: string, at: string) =>
  `${expiryWarning(which, at)}, or save it with ${next(output, saveDeadLettersArgs(queue))}`;

/** How many events `messages` dead letters are copies of, when fewer: ` (3 events)`. */
const eventsOf = (events: number, messages: number) =>
  events < messages ? ` (${plural(events, 'event')})` : '';

export function renderFailedShow(output: Output, result: FailedShowResult): void {
  const c = output.colors;
  // One line per field, whatever the sender or the consumer's error put in it; the body has its own block. A
  // value is escaped before it is painted, so only hookline's own colour codes reach the terminal.
  const field = (
    name: string,
    value: string | number | null | undefined,
    paint: (text: string) => string = (text) => text,
  ) =>
    output.line(
      terminalLine(`${c.bold(name.padEnd(12))} ${value == null ? '-' : paint(foreignText(String(value)))}`),
    );
  if (result.matches > 1) renderSameIdNote(output, result);
  field('id', result.id);
  field('sqs id', result.messageId);
  if (result.replayId) field('replay', `${result.replayId} (a copy sent by hookline replay)`);
  field('source', result.source);
  field('type', result.type);
  field('received', result.receivedAt);
  field('sent', result.sentAt);
  const deletedAt = result.deletedBySqsAt;
  const soon = deletedAt !== null && expiresSoon(deletedAt);
  field('sqs deletes', deletedAt && `${deletedAt} (${timeLeft(deletedAt)})`, soon ? c.red : undefined);
  field('tries', result.receiveCount);
  if (result.messageGroupId && result.messageGroupId !== result.tenant) field('group', result.messageGroupId);
  if (result.tenant) field('tenant', result.tenant);
  if (result.error) field('error', result.error, c.red);
  else field('error', noReasonRecorded(result.queue));
  if (result.scheduled) scheduledFields(result.scheduled, field);
  if (result.failure.consumer) field('consumer', result.failure.consumer);
  if (result.failure.failedAt) field('failed at', result.failure.failedAt);
  // A breaker's step is no envelope by design: `what` says what it is.
  if (result.envelopeError && !result.scheduled?.breaker) field('envelope', result.envelopeError, c.yellow);
  if (result.superseded) field('superseded', SUPERSEDED_LETTER, c.yellow);
  // Under the fields, before headers and body, as the console's event page warns.
  if (soon) output.line(c.red(savedWarning(output, result.queue, 'this', deletedAt)));
  renderLetterHeaders(output, result);
  if (result.payloadRef) {
    field(
      'payload',
      `s3://${result.payloadRef.bucket}/${result.payloadRef.key} (${result.payloadRef.sizeBytes} bytes)`,
    );
  }
  if (result.body !== null) renderLetterBody(output, result.body, result.bodyEncoding);
  // A breaker's step cannot be redriven: the consumer it names is resumed by hand once the reason is fixed.
  const resume = result.scheduled?.breaker ? result.scheduled.queue : null;
  if (resume) hint(output, `fix the reason, then resume the consumer: ${next(output, `resume ${resume}`)}`);
}

/** `failed show`'s note when several dead letters share the id: copies of one event, or an original and its replays. */
function renderSameIdNote(output: Output, result: FailedShowResult): void {
  const copies =
    result.events >= result.matches
      ? ''
      : result.events === 1
        ? ': copies of one event, held more than once'
        : `: ${result.events} events (an original and its replays), some held more than once`;
  output.line(
    output.colors.yellow(
      `${result.matches} messages in the ${result.queue} DLQ have id ${result.id}${copies}; showing the first: pick one by its sqs id (${next(output, `failed list ${result.queue}`)})`,
    ),
  );
}

/** The dead letter's kept headers, escaped, and the names of credential headers an older version kept. */
function renderLetterHeaders(output: Output, result: FailedShowResult): void {
  const c = output.colors;
  const headers = Object.entries(result.headers);
  if (headers.length === 0 && result.hiddenHeaders.length === 0) return;
  output.line(c.bold('headers'));
  for (const [k, v] of headers) output.line(terminalLine(`  ${foreignText(k)}: ${foreignText(v)}`));
  if (result.hiddenHeaders.length > 0) {
    output.line(
      c.dim(
        terminalLine(
          `  hidden: ${result.hiddenHeaders.join(', ')} (credentials, kept by an older version; their values are not shown)`,
        ),
      ),
    );
  }
}

/** The body, laid out when it is JSON (token for token as sent) and cut at 4,000 characters. */
function renderLetterBody(output: Output, body: string, encoding: FailedShowResult['bodyEncoding']): void {
  // Bytes that are not UTF-8 text are shown as base64, said so, rather than decoded into replacement characters.
  output.line(output.colors.bold(encoding === 'base64' ? 'body (base64: not UTF-8 text)' : 'body'));
  // Laid out, never parsed and printed again: the operator reads the numbers, keys and escapes that were sent.
  const pretty = layoutJson(body) ?? body;
  output.line(
    foreignText(
      pretty.length > 4000 ? `${pretty.slice(0, 4000)}\n... (${pretty.length} characters)` : pretty,
    ),
  );
}

/** The lines of `failed show` that say what a delivery Scheduler gave up on is. */
function scheduledFields(
  scheduled: UndeliveredSchedule,
  field: (name: string, value: string | number | null | undefined) => void,
): void {
  field('what', scheduled.description);
  if (scheduled.breaker) field('alarm', scheduled.breaker.alarmName);
  if (scheduled.schedule)
    field(
      'schedule',
      `${scheduled.schedule}${scheduled.scheduleGroup ? ` (group ${scheduled.scheduleGroup})` : ''}`,
    );
  if (scheduled.targetArn) field('target', scheduled.targetArn);
  const count = scheduled.retryAttempts;
  const retries = count === null ? null : plural(count, 'retry', 'retries');
  const run = scheduled.executionId === null ? null : `run ${scheduled.executionId}`;
  if (run || retries)
    field('scheduler', [run, retries && `gave up after ${retries}`].filter(Boolean).join(', '));
}

export function renderRedrive(output: Output, result: RedriveResult): void {
  const c = output.colors;
  if (result.method === 'none') {
    output.line(`redrive ${result.queue}: the dead-letter queue is empty, nothing to do`);
    return;
  }
  const how =
    result.method === 'move-task'
      ? `SQS move task${result.task?.handle ? ` ${result.task.handle.slice(0, 24)}...` : ''} (${result.task?.status ?? '?'})` +
        (result.task?.followed
          ? ', started by another redrive and followed: its counts, not moves of this run'
          : '')
      : `one by one${result.fallbackReason ? ` (${result.fallbackReason})` : ''}`;
  output.line(`${c.bold(`redrive ${result.queue}`)}: ${how}`);
  output.line(
    `moved ${c.green(String(result.moved))}, skipped ${result.skipped}, failed ${result.failed > 0 ? c.red(String(result.failed)) : '0'}` +
      (result.notDeleted > 0
        ? `, sent but not deleted from the DLQ ${c.yellow(String(result.notDeleted))}`
        : '') +
      (result.deleteUnknown > 0
        ? `, sent but whether deleted from the DLQ is not known ${c.yellow(String(result.deleteUnknown))} (its delete got no answer: a copy may remain)`
        : ''),
  );
  output.line(
    result.deadLetterDepthAfter === null
      ? `left in the dead-letter queue: not known, it could not be read after the run (${next(output, 'status')} once it is reachable)`
      : result.deadLetterDepthAfter > 0
        ? `left in the dead-letter queue: ${c.yellow(String(result.deadLetterDepthAfter))} (${next(output, `failed list ${result.queue}`)})`
        : 'left in the dead-letter queue: 0',
  );
  if (result.deadLetteredAfterTheRun) output.line(c.yellow(deadLetteredAfterTheRunLine(result)));
  if (result.returned > 0) {
    const messages = plural(result.returned, 'redriven message');
    output.line(
      c.yellow(
        `${messages} failed again and came back to the DLQ during this run: fix the consumer (${next(output, `failed list ${result.queue}`)}), then redrive again`,
      ),
    );
  }
  if (result.bodyGone.length > 0) {
    const n = result.bodyGone.length;
    output.line(
      c.yellow(
        `${plural(n, 'dead letter')} left, not moved: ${n === 1 ? 'its' : 'their'} stored body is gone from the payload bucket (PayloadGoneError), so a redrive cannot succeed; send ${n === 1 ? 'the event' : 'each event'} again from its source, or delete ${n === 1 ? 'it' : 'them'}: ${next(output, `failed delete ${result.queue} --id ${result.bodyGone.slice(0, 20).join(' ')}`)}${n > 20 ? ` (and ${n - 20} more)` : ''}`,
      ),
    );
  }
  if (result.superseded.length > 0) output.line(c.yellow(supersededLeft(output, result)));
  if (result.movedByAnotherRedrive > 0) {
    const n = result.movedByAnotherRedrive;
    output.line(
      c.yellow(
        `${plural(n, 'message')} moved by another redrive while this one ran came back to the DLQ: left to that redrive, not moved again (the consumer still fails on ${n === 1 ? 'it' : 'them'})`,
      ),
    );
  }
  if (result.heldByOthers) {
    // Only a run over the whole DLQ goes one by one with a reason: one that selects never needs one.
    const whole = result.method === 'one-by-one' && result.fallbackReason !== undefined;
    output.line(
      c.yellow(
        whole ? unreadWhenTheRunEnded(result.heldByOthers) : unreadWhileHeld(result.heldByOthers, 'moved'),
      ),
    );
  }
  // A failed move task's reason is the task's, not a message's: it has neither id.
  for (const f of result.failures.slice(0, 20))
    output.line(c.red(`  ${f.id ?? (f.messageId || 'move task')}: ${f.reason}`));
  if (result.stoppedBy && result.method === 'move-task') {
    output.line(
      c.yellow(
        `stopped early: ${result.stoppedBy}; the task keeps moving messages in SQS, ${next(output, `redrive ${result.queue}`)} follows it again`,
      ),
    );
  } else if (result.stoppedBy) {
    output.line(c.red(`stopped early: ${result.stoppedBy}; the rest stays in the DLQ, run it again`));
  }
}

/**
 * The redrive's line for the debounced dead letters it left because a later send of their job replaced them: left,
 * never dropped, so it says how to delete them.
 */
function supersededLeft(output: Output, result: RedriveResult): string {
  // By SQS message id: a later dead letter of the same job has its envelope id, and that one runs once redriven.
  const ids = result.superseded.map((letter) => letter.messageId);
  const n = ids.length;
  const [letters, them, their] =
    n === 1 ? ['1 debounced dead letter', 'it', 'its'] : [`${n} debounced dead letters`, 'them', 'their'];
  const more = n > 20 ? ` (and ${n - 20} more)` : '';
  return `${letters} left, not moved: a later send of ${their} job replaced ${them}, so ${their} consumer would skip ${them} as superseded and ${their} payload never runs (the job runs the send its record names); delete ${them}: ${next(output, `failed delete ${result.queue} --id ${ids.slice(0, 20).join(' ')}`)}${more}`;
}

export function renderPurge(output: Output, result: PurgeResult): void {
  const what = result.deadLetter ? `the ${result.queue} dead-letter queue` : `the ${result.queue} queue`;
  const count = plural(result.purged, 'message');
  output.line(`purged ${what} (~${count}${purgeStillRunning(result.finishesWithinSeconds, '; ')})`);
}

export function renderSend(output: Output, result: SendResult): void {
  const c = output.colors;
  const status = result.ok ? c.green(String(result.status)) : c.red(String(result.status));
  output.line(
    `${status} ${result.source}${result.type ? ` ${result.type}` : ''} -> ${result.url}${result.id ? ` id ${c.bold(result.id)}` : ''}`,
  );
  if (result.response) output.line(c.dim(result.response));
}

export function renderConsumer(output: Output, result: ConsumerStateResult): void {
  output.line(`${result.queue} consumer: ${result.state}`);
  const trip = result.clearedCircuitBreaker;
  if (!trip) return;
  output.line(
    result.state === 'Disabled' || result.state === 'Disabling'
      ? `${result.queue}: paused by you after it was ${describeEndedBreaker(trip)}${trip.circuit ? '; no probe resumes it' : ''}`
      : `${result.queue}: resumed after it was ${describeEndedBreaker(trip)}`,
  );
}

export function renderSecretsSet(output: Output, result: SecretsSetResult): void {
  const what =
    result.mode === 'remove-old'
      ? 'kept only the newest signing secret'
      : result.mode === 'add'
        ? 'added the signing secret (previous ones stay active)'
        : 'set the signing secret';
  output.line(`${result.source}: ${what} in ${result.secretId}; ${result.activeSecrets} active`);
  output.line(
    'the ingest function picks it up within its secret cache time (ingest.secretCache, default 5 minutes)',
  );
}

export function renderReplay(output: Output, result: ReplayResult): void {
  const c = output.colors;
  const queues = Object.entries(result.byQueue)
    .map(([queue, n]) => `${queue} ${n}`)
    .join(', ');
  const verb = result.dryRun ? 'would send' : 'sent';
  const unknown = result.sentUnknown.length;
  output.line(
    `${c.bold(`replay ${result.source}`)}${result.type ? ` --type ${result.type}` : ''} ${result.since} .. ${result.until}${result.dryRun ? ' (dry run)' : ''}`,
  );
  const read = result.archiveHoursRead;
  const matched = read
    ? `matched ${result.matched} in the ${read.read} of ${read.of} archive hours read`
    : `matched ${result.matched}`;
  output.line(
    `${matched}, ${verb} ${result.dryRun ? Object.values(result.byQueue).reduce((a, b) => a + b, 0) : c.green(String(result.sent))}${queues ? ` (${queues})` : ''}${unknown > 0 ? `, sent, answer not known ${c.yellow(String(unknown))}` : ''}${result.ignored === null ? '' : `, ignored by routes ${result.ignored}`}, failed ${result.failed > 0 ? c.red(String(result.failed)) : '0'}`,
  );
  // Nothing was sent under a run that stopped while reading, as under a dry run.
  if (!result.dryRun && !read)
    output.line(`replay id ${result.replayId} (consumers see it as envelope.replay.id)`);
  for (const f of result.failures.slice(0, 20)) output.line(c.red(`  ${f.id} -> ${f.queue}: ${f.reason}`));
  for (const f of result.sentUnknown.slice(0, 20))
    output.line(
      c.yellow(`  ${f.id} -> ${f.queue}: sent, answer not known (${f.reason}): it may have arrived`),
    );
  if (result.stoppedBy && read) {
    output.line(
      c.yellow(
        `stopped early: ${result.stoppedBy}: nothing was replayed (a new replay of the same window reads it all again)`,
      ),
    );
  } else if (result.stoppedBy) {
    const left = result.planned - result.sent - result.failed - unknown;
    output.line(
      c.yellow(
        `stopped early: ${result.stoppedBy}; ${left} of ${plural(result.planned, 'message')} ${left === 1 ? 'was' : 'were'} not sent (a new replay of the same window sends them all again, as a new run)`,
      ),
    );
    if (result.resumeSince)
      output.line(
        c.yellow(
          `to send only the rest (as a new run): the same replay with --since ${result.resumeSince} --until ${result.until}${unknown > 0 ? `; it sends the ${unknown} whose answer is not known again, and consumers run any that had arrived a second time (a new run is new work to their idempotency)` : ''}`,
        ),
      );
  }
}

/** One line per step: time, step, and what is known about it. */
export function renderTrace(output: Output, result: TraceResult): void {
  const c = output.colors;
  output.line(
    `${c.bold(`trace ${result.id}`)}${result.source ? ` ${result.source}` : ''}${result.type ? ` ${result.type}` : ''}`,
  );
  for (const s of result.steps) output.line(`${s.at}  ${s.step.padEnd(13)} ${stepDetails(c, s).join(' ')}`);
  if (result.job) {
    output.line(`job state now: ${result.job.state}${result.job.reason ? ` (${result.job.reason})` : ''}`);
  }
  for (const note of result.notes ?? []) output.line(c.yellow(note));
}

/** What a trace step's line says after its time and name (`trace` and `tail` write the same words). */
export function stepDetails(c: Output['colors'], s: TraceStep): string[] {
  return [
    s.via ? `via ${s.via}` : undefined,
    s.queues ? `-> ${s.queues.join(', ')}` : undefined,
    s.queue ? `queue=${s.queue}` : undefined,
    s.tenant ? `tenant=${s.tenant}` : undefined,
    s.attempt !== undefined ? `attempt=${s.attempt}` : undefined,
    s.outcome ? s.outcome : undefined,
    s.status !== undefined ? `status=${s.status}` : undefined,
    s.latencyMs !== undefined ? `${Math.round(s.latencyMs)}ms` : undefined,
    s.durationMs !== undefined ? `took ${Math.round(s.durationMs)}ms` : undefined,
    s.replayId ? `replay=${s.replayId}` : undefined,
    s.dueAt ? `due ${s.dueAt}` : undefined,
    s.scheduleName ? `schedule=${s.scheduleName}` : undefined,
    s.pending ? c.yellow('(not yet)') : undefined,
    s.inferred ? c.dim('(inferred)') : undefined,
    s.sentAfter503 ? c.yellow('sent after its 503: the caller was told to retry') : undefined,
    s.error ? c.red(truncate(s.error, 160)) : undefined,
  ].filter((detail): detail is string => Boolean(detail));
}
