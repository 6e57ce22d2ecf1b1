/**
 * Overview: every queue (visible, in flight, delayed, oldest age, DLQ, consumer) and source, with their recent rates.
 */

import { plural } from '../../../lambda/shared/plural';
import { consumerText } from './consumer-text';
import { html } from './html';
import { humanAge } from './human-age';
import { idempotencySentence } from './idempotency-note';
import { oldestAgeSentences } from './oldest-age-notes';
import type { DeadLetterQueueRow, Overview, QueueRow, Rates } from './types';
import { Sparkline } from './widgets';

/** A row's rates; unknown ones (`rates` null: the note under the table says why) as `-`, never as zero. */
function RateCells({ rates }: { rates: Rates | null }) {
  if (!rates) {
    return html`${['received', 'processed', 'failed'].map(
      (kind) =>
        html`<td class="muted" data-rates="unknown" title=${`${kind}: unknown (see the note on rates)`}>-</td>`,
    )}`;
  }
  return html`<td><${Sparkline} values=${rates.received} kind="received" /></td>
    <td><${Sparkline} values=${rates.processed} kind="processed" /></td>
    <td><${Sparkline} values=${rates.failed} kind="failed" /></td>`;
}

/** As `hookline status` colours its scheduled jobs line: a count plain, an unknown one as a note, a hint muted. */
const SCHEDULED_JOBS_CLASS = { count: '', unknown: 'note', hint: 'muted' } as const;

/** A count, or `unknown` where it may not be read (a note under the table says why). */
const count = (n: number | null) => (n === null ? 'unknown' : n);

function QueueLine({ q }: { q: QueueRow }) {
  const unknown = q.consumer === undefined;
  const paused = !unknown && q.consumer !== null && q.consumer !== 'Enabled';
  return html`<tr data-queue=${q.queue}>
    <td><b>${q.queue}</b>${q.fifo ? html` <span class="tag">fifo</span>` : ''}</td>
    <td class="num" data-col="visible">${count(q.visible)}</td>
    <td class="num" data-col="inFlight">${count(q.inFlight)}</td>
    <td class="num" data-col="delayed">${count(q.delayed)}</td>
    <td class="num" title=${q.oldestMessageAgeNote ?? ''}>${humanAge(q.oldestMessageAgeSeconds)}</td>
    <td class="num" data-col="dlq"><a href="#/failures/${q.queue}" class=${(q.deadLettered ?? 0) > 0 ? 'bad' : ''}>${count(q.deadLettered)}</a></td>
    <td data-col="consumer" class=${unknown || paused ? 'warn' : 'ok'}>${consumerText(q)}</td>
    <${RateCells} rates=${q.rates} />
  </tr>`;
}

/** The dead-letter queues Scheduler fills, which belong to no queue: what each holds and how many it holds. */
function SchedulerDeadLetterQueues({ rows, missing }: { rows: DeadLetterQueueRow[]; missing: string[] }) {
  if (rows.length === 0 && missing.length === 0) return null;
  return html`<h2>Other dead-letter queues</h2>
    <table class="grid" id="other-dlqs">
      <thead><tr><th>Dead-letter queue</th><th>Holds</th><th>DLQ</th></tr></thead>
      <tbody>${rows.map(
        (d) => html`<tr data-dlq=${d.name}><td><b>${d.name}</b></td><td>${d.holds}</td>
        <td class="num" data-col="dlq"><a href=${`#/failures/${encodeURIComponent(d.name)}`} class=${(d.deadLettered ?? 0) > 0 ? 'bad' : ''}>${count(d.deadLettered)}</a></td></tr>`,
      )}</tbody>
    </table>
    ${missing.map(
      (s) =>
        html`<p class="note" data-missing-schedule=${s}>schedule ${s}: its dead-letter queue is not in the stack outputs, so it is not counted here; redeploy with npx cdk deploy</p>`,
    )}`;
}

export function OverviewPage({ data }: { data: Overview }) {
  const bucket = data.queues[0]?.rates?.bucketSeconds ?? data.sources[0]?.rates?.bucketSeconds ?? 10;
  // Whether each consumer skips a copy it completed: what a redrive from these pages will do, as `status` says it.
  const idempotency = idempotencySentence(data.queues);
  return html`<section>
    <h2>Queues</h2>
    <table class="grid" id="queues">
      <thead><tr><th>Queue</th><th>Visible</th><th>In flight</th><th>Delayed</th><th>Oldest</th><th>DLQ</th><th>Consumer</th>
        <th>Received</th><th>Processed</th><th>Failed</th></tr></thead>
      <tbody>${data.queues.map((q) => html`<${QueueLine} q=${q} />`)}</tbody>
    </table>
    <p class="muted">${data.ratesNote ?? `Rates: events per ${bucket} s over the last ${(bucket * 30) / 60} minutes, from the live feed.`}
      ${oldestAgeSentences(data.queues).map((sentence) => html` <span data-oldest-note>${sentence}</span>`)}</p>
    ${data.scheduledJobs && html`<p class=${SCHEDULED_JOBS_CLASS[data.scheduledJobs.tone]} data-scheduled-jobs>${data.scheduledJobs.text}</p>`}
    ${idempotency && html`<p class="muted" data-idempotency>${idempotency}</p>`}
    ${data.queues.map(
      (q) =>
        q.quietTenants &&
        html`<p data-quiet-tenants=${q.queue}>${q.queue}: quiet tenants ${q.quietTenants.visible ?? '-'} visible, oldest ${humanAge(q.quietTenants.oldestMessageAgeSeconds)} (tenant fairness: SQS serves them ahead of a noisy tenant's backlog)${q.quietTenants.note && html` <span class="muted" data-quiet-tenants-note>(${q.quietTenants.note})</span>`}</p>`,
    )}
    <${SchedulerDeadLetterQueues} rows=${data.deadLetterQueues} missing=${data.schedulesMissingOutputs} />
    ${data.unconfiguredQueuesNote && html`<p class="error" data-unconfigured-queues>${data.unconfiguredQueuesNote}</p>`}
    ${data.unreadableNotes.map((note) => html`<p class="note" data-unreadable>${note}</p>`)}
    ${data.missingPermissions && html`<p class="error" data-missing-permissions>${data.missingPermissions}</p>`}
    ${data.feed.unavailable && html`<p class="note">${data.feed.unavailable}</p>`}
    ${data.feed.error && html`<p class="error">event feed: ${data.feed.error}</p>`}
    ${data.feed.missed > 0 && html`<p class="error" data-feed-missed>event feed: ${plural(data.feed.missed, 'event')} left local mode's journal before the console read them, and its journal file does not have them either; the rates undercount</p>`}
    ${data.feed.unreadEnds && html`<p class="error" data-feed-unread-ends>event feed: ${data.feed.unreadEnds}</p>`}
    <h2>Sources</h2>
    <table class="grid" id="sources">
      <thead><tr><th>Source</th><th>Type</th><th>Received</th><th>Processed</th><th>Failed</th></tr></thead>
      <tbody>${data.sources.map(
        (s) =>
          html`<tr data-source=${s.name}><td><b>${s.name}</b></td><td>${s.type}</td><${RateCells} rates=${s.rates} /></tr>`,
      )}</tbody>
    </table>
  </section>`;
}
