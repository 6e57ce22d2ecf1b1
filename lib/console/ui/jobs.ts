/**
 * Jobs: the job records `hookline jobs list` reads, newest first, by state, queue, type pattern and tenant, a page
 * at a time, with Cancel matching as `hookline jobs cancel --type ... --yes` does it; a job's page as `hookline jobs
 * show` prints it, with Cancel as `hookline jobs cancel` does it (confirmed first, refused in the CLI's words). The list is read on load and on Refresh, not polled: telling which jobs wait in a
 * dead-letter queue reads that queue, and a read holds its messages from a redrive for a moment.
 */
import { useRef, useState } from 'preact/hooks';
import { plural } from '../../../lambda/shared/plural';
import { post, usePoll } from './api';
import { Confirmation } from './confirmation';
import { html } from './html';
import { ErrorNote, JobPanel, type PageAnswer, Pager, StaleNote } from './widgets';

interface JobRecord {
  id: string;
  state: string;
  type?: string;
  queue?: string;
  /** Whom the job is for, as it was sent. */
  tenant?: string;
  dueAt?: string;
  enqueuedAt?: string;
  updatedAt?: string;
  attempt?: number;
  result?: unknown;
  /** What the handler last reported with `ctx.progress`, and when. */
  progress?: unknown;
  progressAt?: string;
  reason?: string;
  /** What the state alone would not say (retrying, redriven, no outcome recorded...): `jobs show`'s note line. */
  stateNote?: string;
  /** A flow child's parent. */
  parent?: string;
  /** A flow parent's children as `jobs show` counts them (completed, dead-lettered that fail it or are ignored). */
  childrenSummary?: string;
  scheduleName?: string;
  /** A debounced job: how many sends its cycle took (`jobs show`'s `sends`). */
  debounce?: { sends: number };
}

interface JobsAnswer extends PageAnswer {
  items: JobRecord[];
  state: string | null;
  queue: string | null;
  type: string | null;
  tenant: string | null;
  /** The CLI's job states, in its order: the state filter's choices. */
  states: string[];
  /** The states `hookline jobs cancel` changes (a job that has not started): where Cancel matching is offered. */
  cancellableStates: string[];
  queues: string[];
  /** Why jobs may be further along than listed: the dead-letter queues the console may not read, and the fix. */
  unreadableNotes: string[];
}

interface JobAnswer {
  job: JobRecord;
  /** The job's item in the dedupe table, which claims its id. */
  dedupeKey: string;
  /** Its tenant: the record's, and those this console run's feed saw it under. */
  tenants: string[];
  /** What of its queue the console may not read (its visibility timeout), and the fix. */
  unreadableNotes: string[];
}

/**
 * What a record says of a job's outcome: its reason, else what its state means, else its result as JSON, else
 * (while it runs) its progress.
 */
const outcomeOf = (j: JobRecord) =>
  j.reason ??
  j.stateNote ??
  (j.result !== undefined
    ? JSON.stringify(j.result)
    : j.progress !== undefined
      ? `progress ${JSON.stringify(j.progress)}`
      : '');

const jobLink = (id: string) => `#/job/${encodeURIComponent(id)}`;

function JobLine({ j }: { j: JobRecord }) {
  return html`<tr data-job=${j.id}>
    <td><a href=${jobLink(j.id)}>${j.id}</a></td>
    <td><span class=${`outcome ${j.state}`} data-col="state">${j.state}</span></td>
    <td>${j.type ?? ''}</td><td>${j.queue ?? ''}</td>
    <td class="muted">${j.enqueuedAt ?? ''}</td><td class="muted">${j.dueAt ?? ''}</td>
    <td class="muted">${j.updatedAt ?? ''}</td><td class="num">${j.attempt ?? ''}</td>
    <td class="reason" data-col="outcome">${outcomeOf(j)}</td>
  </tr>`;
}

export function JobsPage() {
  const [state, setState] = useState('');
  const [queue, setQueue] = useState('');
  const [type, setType] = useState('');
  const [tenant, setTenant] = useState('');
  // What is typed in the text filters, applied on Enter or leaving the box: the box shows it whatever the page
  // re-renders meanwhile (a read arriving while one types would otherwise reset the box to the applied filter).
  const [typeTyped, setTypeTyped] = useState('');
  const [tenantTyped, setTenantTyped] = useState('');
  const [page, setPage] = useState('');
  const query = new URLSearchParams({ state, queue, type, tenant, page }).toString();
  const { data, error, updatedAt, reload } = usePoll<JobsAnswer>(`/api/job-records?${query}`, 0);
  const choose = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLSelectElement | HTMLInputElement).value.trim());
    setPage('');
  };
  const typed = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  const filtered = state !== '' || queue !== '' || type !== '' || tenant !== '';
  // The filters the list shows, as the server read them: what Cancel matching cancels is what is listed.
  const shownFilters = data && { state: data.state, queue: data.queue, type: data.type, tenant: data.tenant };
  return html`<section class=${error && data ? 'stale' : ''}>
    <h2>Jobs <button class="small" onClick=${reload}>Refresh</button></h2>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>State <select name="state" value=${state} onChange=${choose(setState)}>
        <option value="">any</option>${data?.states.map((s) => html`<option>${s}</option>`)}</select></label>
      <label>Queue <select name="queue" value=${queue} onChange=${choose(setQueue)}>
        <option value="">any</option>${data?.queues.map((q) => html`<option>${q}</option>`)}</select></label>
      <label>Type <input name="type" value=${typeTyped} placeholder="email.*" onInput=${typed(setTypeTyped)} onChange=${choose(setType)} /></label>
      <label>Tenant <input name="tenant" value=${tenantTyped} onInput=${typed(setTenantTyped)} onChange=${choose(setTenant)} /></label>
    </form>
    ${
      // Keyed by the filters: a question asked of others (its count, its button) is gone once they change.
      filtered &&
      shownFilters &&
      html`<${CancelMatchingBox} key=${JSON.stringify(shownFilters)} filters=${shownFilters} cancellable=${data.cancellableStates} done=${reload} />`
    }
    <${StaleNote} error=${error} updatedAt=${updatedAt} />
    ${!data && !error && html`<p class="muted">Reading the job records...</p>`}
    ${data && html`<${Pager} page=${data} shown=${data.items.length} noun=${filtered ? 'matching jobs' : 'jobs'} go=${setPage} />`}
    <table class="grid" id="jobs">
      <thead><tr><th>Id</th><th>State</th><th>Type</th><th>Queue</th><th>Enqueued</th><th>Due</th><th>Updated</th><th>Attempt</th><th>Result / reason</th></tr></thead>
      <tbody>${data?.items.map((j) => html`<${JobLine} key=${j.id} j=${j} />`)}</tbody>
    </table>
    ${data?.unreadableNotes.map((note) => html`<p class="note" data-unreadable>${note}</p>`)}
    ${data && data.total === 0 && html`<p class="muted" data-jobs-none>${filtered ? 'No job matches the filters.' : 'No jobs: send one with hookline/producer or the jobs endpoint.'}</p>`}
  </section>`;
}

type JobFilters = Pick<JobsAnswer, 'state' | 'queue' | 'type' | 'tenant'>;

/** What `jobs cancel` with filters answers: without `yes`, what it would cancel; with it, what it did. */
interface CancelMatchingAnswer {
  matched: number;
  dryRun: boolean;
  ids: string[];
  cancelled: string[];
  skipped: { id: string; state: string }[];
  /** `hookline jobs cancel`'s own lines. */
  summary: string[];
}

/**
 * Cancel matching, as `hookline jobs cancel --type ... --tenant ... --queue ... --state ...` does: the first click
 * asks the server what matches (its dry run, which changes nothing), the confirmation names how many and which, and
 * only its button cancels them (`yes`, with the dry run's ids: those the question counted, of them those that still
 * match; a job that matches only since is left alone), as a console job whose progress and summary show as a
 * redrive's do. Offered only for the states a cancel changes (any of them, or one), as the server lists them.
 */
function CancelMatchingBox({
  filters,
  cancellable,
  done,
}: {
  filters: JobFilters;
  cancellable: readonly string[];
  done: () => void;
}) {
  const [matching, setMatching] = useState<CancelMatchingAnswer | null>(null);
  const [job, setJob] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pending = useRef(false);
  const [busy, setBusy] = useState(false);
  const request = <A>(
    confirmation: { yes: false } | { yes: true; ids: string[] },
    answered: (answer: A) => void,
  ) => {
    if (pending.current) return;
    pending.current = true;
    setBusy(true);
    setError(null);
    post<A>('/api/job-records/cancel', { ...filters, ...confirmation })
      .then(answered, (e: Error) => setError(e.message))
      .finally(() => {
        pending.current = false;
        setBusy(false);
      });
  };
  if (filters.state !== null && !cancellable.includes(filters.state)) return '';
  const ask = () => {
    setJob(null);
    request<CancelMatchingAnswer>({ yes: false }, setMatching);
  };
  const cancel = (asked: CancelMatchingAnswer) =>
    request<{ id: string }>({ yes: true, ids: asked.ids }, (started) => {
      setMatching(null);
      setRunning(true);
      setJob(started.id);
    });
  const finished = () => {
    setRunning(false);
    done();
  };
  const question =
    matching &&
    html`<p>Cancel the <b>${matching.matched}</b> ${matching.matched === 1 ? 'job' : 'jobs'} that match these filters and have not
      started? ${matching.summary[0]}. Only these are cancelled: a job that starts meanwhile is left running, and named, and
      one that matches only since is left alone.</p>`;
  return html`<div data-cancel-matching>
    <button aria-expanded=${matching !== null} disabled=${busy || running} onClick=${ask}>Cancel matching...</button>
    ${
      matching &&
      html`<${Confirmation} label="Cancel matching jobs" question=${question} cancel=${() => setMatching(null)} cancelText="Keep them">
        <button class="danger" disabled=${busy} onClick=${() => cancel(matching)}>Cancel ${plural(matching.matched, 'job')}</button>
      <//>`
    }
    <${ErrorNote} error=${error} />
    ${job && html`<div data-cancelled><${JobPanel} key=${job} id=${job} onDone=${finished} /></div>`}
  </div>`;
}

/**
 * Cancel, behind a confirmation; the answer is the CLI's own lines (in a live region there from the start, so a
 * screen reader announces them), a refusal its error.
 */
function CancelBox({ id, done }: { id: string; done: () => void }) {
  const [open, setOpen] = useState(false);
  const [summary, setSummary] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // From the click on: a double-click would send two cancels, and the second would report the first's "cancelled".
  const pending = useRef(false);
  const [busy, setBusy] = useState(false);
  const cancel = () => {
    if (pending.current) return;
    pending.current = true;
    setBusy(true);
    setError(null);
    post<{ summary: string[] }>(`/api/job-records/${encodeURIComponent(id)}/cancel`)
      .then(
        (answer) => {
          setSummary(answer.summary);
          setOpen(false);
          done();
        },
        (e: Error) => setError(e.message),
      )
      .finally(() => {
        pending.current = false;
        setBusy(false);
      });
  };
  const question = html`<p>Cancel job <b><bdi>${id}</bdi></b>? Only a job that has not started (scheduled, waiting for its children or
    failed by one of them, or waiting in its queue) can be cancelled: the consumer then skips it.</p>`;
  return html`<div data-cancel>
    <button aria-expanded=${open} onClick=${() => setOpen(true)}>Cancel...</button>
    ${
      open &&
      html`<${Confirmation} label=${`Cancel job ${id}`} question=${question} cancel=${() => setOpen(false)} cancelText="Keep it">
        <button class="danger" disabled=${busy} onClick=${cancel}>Cancel the job</button>
      <//>`
    }
    <${ErrorNote} error=${error} />
    <div role="status">${summary && html`<div class="result" data-cancelled>${summary.map((line) => html`<div>${line}</div>`)}</div>`}</div>
  </div>`;
}

export function JobPage({ id }: { id: string }) {
  const path = `/api/job-records/${encodeURIComponent(id)}`;
  const { data, error, updatedAt, reload } = usePoll<JobAnswer>(path, 0);
  const job = data?.job;
  const field = (name: string, label: string, value: unknown) =>
    value === undefined || value === ''
      ? ''
      : html`<dt>${label}</dt><dd data-field=${name}>${String(value)}</dd>`;
  return html`<section class=${error && data ? 'stale' : ''}>
    <h2>Job <code><bdi>${id}</bdi></code> <button class="small" onClick=${reload}>Refresh</button></h2>
    <p><a href="#/jobs">All jobs</a></p>
    <${StaleNote} error=${error} updatedAt=${updatedAt} />
    ${!data && !error && html`<p class="muted">Reading the job record...</p>`}
    ${
      job &&
      html`<div class="card"><dl>
        ${field('id', 'Id', job.id)}
        ${field('state', 'State', job.state)}
        ${field('type', 'Type', job.type)}
        ${field('queue', 'Queue', job.queue)}
        ${field('attempt', 'Attempts', job.attempt)}
        ${field('enqueued', 'Enqueued', job.enqueuedAt)}
        ${field('due', 'Due', job.dueAt)}
        ${field('updated', 'Updated', job.updatedAt)}
        ${field('schedule', 'Schedule', job.scheduleName)}
        ${field('sends', 'Debounced sends', job.debounce?.sends)}
        ${field('dedupe-key', 'Dedupe key', data.dedupeKey)}
        <dt>Tenant</dt><dd data-field="tenant">${data.tenants.length > 0 ? data.tenants.join(', ') : html`<span class="muted">none: sent without a tenant (or before job records kept it)</span>`}</dd>
        ${field('reason', 'Reason', job.reason)}
        ${field('note', 'Note', job.stateNote)}
        ${field('children', 'Children', job.childrenSummary)}
        ${job.parent !== undefined && html`<dt>Flow parent</dt><dd data-field="parent"><a href=${jobLink(job.parent)}>${job.parent}</a></dd>`}
        ${field('progress', 'Progress', job.progress === undefined ? undefined : `${JSON.stringify(job.progress)}${job.progressAt ? ` (at ${job.progressAt})` : ''}`)}
      </dl>
      ${job.result !== undefined && html`<h4>Result</h4><pre data-field="result">${JSON.stringify(job.result, null, 2)}</pre>`}
      <p><a href=${`#/event/${encodeURIComponent(job.id)}`}>Event and trace</a>: its timeline in the live feed, its dead letter and, with the event archive, its trace.</p>
      <${CancelBox} id=${job.id} done=${reload} />
      </div>`
    }
    ${data?.unreadableNotes.map((note) => html`<p class="note" data-unreadable>${note}</p>`)}
  </section>`;
}
