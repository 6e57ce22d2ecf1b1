/**
 * One event: what the feed saw of it (attempts, outcomes, reasons), its dead-letter records (envelope, headers
 * without credentials, body, failure, when SQS deletes it as the Failures page says it) and, once the archive
 * exists, its full trace.
 */
import { useState } from 'preact/hooks';
import { post, usePoll } from './api';
import { DeleteConfirm, startDelete } from './dead-letter-delete';
import { DeletedBySqs, ExpiryWarnings } from './deleted-by-sqs';
import { RestartLine, restartedBetween } from './events';
import { html } from './html';
import { SUPERSEDED_LETTER } from './superseded-letter';
import type { DeadLetterSummary, FeedEvent } from './types';
import { ErrorNote, JobPanel, StaleNote } from './widgets';

interface DeadLetterDetail extends DeadLetterSummary {
  queue: string;
  /** Why this dead-letter queue cannot be redriven (the CLI's reason), or null. */
  redriveRefused: string | null;
  headers: Record<string, string>;
  /** Credential headers an older version kept in the envelope: named, never shown. */
  hiddenHeaders: string[];
  contentType: string | null;
  body: string | null;
  bodyEncoding: 'utf8' | 'base64' | null;
  payloadRef: { bucket: string; key: string; sizeBytes: number } | null;
  /** The command that saves the queue's dead letters on this pipeline, for `failed restore` (the Failures page's). */
  saveCommand: string;
  /**
   * A debounced job's letter: whether a later send of its job replaced it (`failed show`'s `superseded`); absent for
   * any other letter, or when its record could not be read.
   */
  superseded?: boolean;
}

interface EventAnswer {
  id: string;
  /** Every source that sent this id: more than one means as many events. */
  sources: string[];
  source: string | null;
  type: string | null;
  timeline: FeedEvent[];
  deadLetters: DeadLetterDetail[];
  /** Dead-letter queues whose read missed messages another reader holds: the event may be among them. */
  deadLetterNotes: string[];
  trace: unknown;
  traceNote: string | null;
  /** Set when the id has more lines in the feed than the timeline shows. */
  timelineNote: string | null;
}

/**
 * One dead-letter record with its redrive and delete. A delete's job is followed by the page (`onDeleting`): once it
 * ends the page reads the event again, and this record, gone, would take the job's result with it.
 */
function DeadLetterBlock({
  d,
  id,
  onDeleting,
}: {
  d: DeadLetterDetail;
  id: string;
  onDeleting: (job: string) => void;
}) {
  const [job, setJob] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  // Set from the click on: a double-click would otherwise start two redrives (or deletes) of this one event.
  const [pending, setPending] = useState(false);
  const start = (request: () => Promise<{ id: string }>, started: (job: string) => void) => {
    if (pending) return;
    setPending(true);
    setConfirming(false);
    request().then(
      (j) => started(j.id),
      (e: Error) => {
        setPending(false);
        setError(e.message);
      },
    );
  };
  const redrive = () =>
    start(() => post(`/api/queues/${encodeURIComponent(d.queue)}/redrive`, { ids: [id] }), setJob);
  const remove = () => start(() => startDelete(d.queue, [id]), onDeleting);
  return html`<div class="card" data-dead-letter=${d.queue}>
    <h3>Dead-lettered in ${d.queue}${d.source ? ` (from ${d.source})` : ''}</h3>
    <dl>
      <dt>Reason</dt><dd class="bad" data-field="reason">${d.error ?? 'none recorded (moved by SQS after maxReceiveCount)'}</dd>
      ${d.scheduled && html`<dt>What</dt><dd data-field="scheduled">${d.scheduled.description}</dd>`}
      <dt>Attempts</dt><dd data-field="attempts">${d.receiveCount ?? '?'}</dd>
      ${d.tenant && html`<dt>Tenant</dt><dd data-field="tenant">${d.tenant}</dd>`}
      ${d.failure.consumer && html`<dt>Consumer</dt><dd>${d.failure.consumer}</dd>`}
      ${d.failure.failedAt && html`<dt>Failed at</dt><dd>${d.failure.failedAt}</dd>`}
      <dt>Received</dt><dd>${d.receivedAt ?? '?'}</dd>
      <dt>SQS id</dt><dd>${d.messageId}</dd>
      <dt>Deleted by SQS</dt><dd data-field="deleted-by-sqs"><${DeletedBySqs} at=${d.deletedBySqsAt} /></dd>
      <dt>Content type</dt><dd>${d.contentType ?? '?'}</dd>
      ${d.superseded && html`<dt>Superseded</dt><dd class="warn" data-field="superseded">${SUPERSEDED_LETTER}</dd>`}
    </dl>
    <${ExpiryWarnings} letters=${[{ which: 'this', at: d.deletedBySqsAt }]} save=${d.saveCommand} />
    <h4>Headers</h4>
    <table class="grid" data-headers><thead><tr><th>Header</th><th>Value</th></tr></thead>
      <tbody>${Object.entries(d.headers).map(([k, v]) => html`<tr><td>${k}</td><td>${v}</td></tr>`)}</tbody></table>
    <p class="muted">Signature and credential headers are never kept in the envelope, nor shown.</p>
    ${d.hiddenHeaders.length > 0 && html`<p class="note" data-hidden-headers>Hidden: ${d.hiddenHeaders.join(', ')} (credentials an older version kept in this record; their values are not shown)</p>`}
    <h4>Body${d.bodyEncoding === 'base64' ? ' (base64: not UTF-8 text)' : ''}</h4>
    ${d.payloadRef ? html`<p>In S3: s3://${d.payloadRef.bucket}/${d.payloadRef.key} (${d.payloadRef.sizeBytes} bytes)</p>` : html`<pre>${d.body}</pre>`}
    <div class="toolbar">
      <button onClick=${redrive} disabled=${pending || d.redriveRefused !== null} title=${d.redriveRefused ?? ''}>Redrive this event</button>
      <button onClick=${() => setConfirming(true)} disabled=${pending}>Delete this event...</button>
    </div>
    ${confirming && html`<${DeleteConfirm} queue=${d.queue} count=${1} busy=${pending} confirm=${remove} cancel=${() => setConfirming(false)} />`}
    ${d.redriveRefused && html`<p class="note" data-redrive-refused>${d.redriveRefused}</p>`}
    <${ErrorNote} error=${error} />
    ${job && html`<${JobPanel} id=${job} />`}
  </div>`;
}

/** Every tenant the event was queued or dead-lettered under, once each (a webhook may fan out to several queues). */
function tenantsOf(data: EventAnswer): string[] {
  const named = [...data.timeline.map((e) => e.tenant), ...data.deadLetters.map((d) => d.tenant)];
  return [...new Set(named.flatMap((t) => (t ? t.split(',') : [])))];
}

export function EventPage({ id }: { id: string }) {
  const { data, error, updatedAt, reload } = usePoll<EventAnswer>(`/api/events/${encodeURIComponent(id)}`, 0);
  const [deleting, setDeleting] = useState<string[]>([]);
  // Bumped when a delete ends: the records read again start afresh (a failed delete's buttons wait no more).
  const [deletesEnded, setDeletesEnded] = useState(0);
  const deleteEnded = () => {
    setDeletesEnded((n) => n + 1);
    reload();
  };
  // A tenant column only where there is one to show: a queue without `tenants` has none.
  const fair = data?.timeline.some((e) => e.tenant) ?? false;
  return html`<section class=${error && data ? 'stale' : ''}>
    <h2>Event <code><bdi>${id}</bdi></code> <button class="small" onClick=${reload}>Refresh</button></h2>
    <${StaleNote} error=${error} updatedAt=${updatedAt} />
    ${!data && !error && html`<p class="muted">Reading the feed and the dead-letter queues...</p>`}
    ${
      data &&
      html`${
        data.sources.length > 1
          ? html`<p class="note" data-several-sources>${data.sources.length} events have this id, from ${data.sources.join(', ')} (ids are unique per source): the Source column says which is which.</p>`
          : html`<p>${data.source ?? '?'} <b><bdi>${data.type ?? ''}</bdi></b></p>`
      }
      ${tenantsOf(data).length > 0 && html`<p>Tenant <b data-field="event-tenant">${tenantsOf(data).join(', ')}</b></p>`}
      <h3>Timeline</h3>
      ${data.timelineNote && html`<p class="note" data-timeline-note>${data.timelineNote}</p>`}
      ${
        data.timeline.length === 0
          ? html`<p class="muted">Not seen in the live feed of this console run.</p>`
          : html`<table class="grid" id="timeline">
        <thead><tr><th>Time (UTC)</th><th>Outcome</th><th>Source</th><th>Queue</th>${fair && html`<th>Tenant</th>`}<th>Attempt</th><th>Latency</th><th>Reason</th></tr></thead>
        <tbody>${data.timeline.map(
          (
            e,
            i,
          ) => html`${restartedBetween(data.timeline[i - 1], e) && html`<${RestartLine} columns=${fair ? 8 : 7} earlier="above" />`}<tr data-event=${e.event}><td>${e.at.slice(11, 23)}</td><td><span class=${`outcome ${e.event}`}>${e.event}</span></td>
          <td>${e.source ?? ''}</td><td>${e.queue ?? ''}</td>${fair && html`<td data-col="tenant">${e.tenant ?? ''}</td>`}<td class="num">${e.attempt ?? ''}</td><td class="num">${e.latencyMs !== undefined ? `${Math.round(e.latencyMs)} ms` : ''}</td><td class="reason">${e.reason ?? ''}</td></tr>`,
        )}</tbody></table>`
      }
      ${deleting.map((job) => html`<${JobPanel} key=${job} id=${job} onDone=${deleteEnded} />`)}
      ${data.deadLetters.map((d) => html`<${DeadLetterBlock} key=${`${d.queue}#${deletesEnded}`} d=${d} id=${id} onDeleting=${(job: string) => setDeleting((jobs) => [...jobs, job])} />`)}
      ${data.deadLetterNotes.map((note) => html`<p class="note" data-dead-letter-note>${note}</p>`)}
      ${data.deadLetters.length === 0 && data.deadLetterNotes.length === 0 && html`<p class="muted">Not in any dead-letter queue.</p>`}
      ${data.trace !== null && html`<h3>Trace</h3><pre>${JSON.stringify(data.trace, null, 2)}</pre>`}
      ${data.traceNote && html`<p class="note">${data.traceNote}</p>`}`
    }
  </section>`;
}
