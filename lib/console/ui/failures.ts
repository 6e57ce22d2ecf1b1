/**
 * Failures: a dead-letter queue's letters grouped by reason (a queue's, or one Scheduler fills), above them the
 * letters read grouped by failure as `failed summary` groups them (ticking one selects its letters; each row redrives
 * or deletes its failure's every dead letter in the whole DLQ); redrive all, a selection or one, or the reason it
 * cannot be; delete a selection after a confirmation; purge a queue's DLQ behind
 * a typed confirmation. Long operations show their progress while they run.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { post, usePoll } from './api';
import { Confirmation } from './confirmation';
import { DeleteConfirm, startDelete } from './dead-letter-delete';
import { RETENTION_UNKNOWN, soonestDeletion } from './dead-letter-expiry';
import { DeletedBySqs, ExpiryWarnings } from './deleted-by-sqs';
import { type FailureGroupAnswer, FailureGroupsView, partialReadNote } from './failure-groups';
import { html } from './html';
import type { DeadLetterSummary, Overview } from './types';
import { WholeFailureConfirm, type WholeFailureRequest } from './whole-failure';
import { ErrorNote, JobPanel, type PageAnswer, Pager, StaleNote } from './widgets';

interface FailuresAnswer {
  queue: string;
  /** Why this dead-letter queue cannot be redriven (the CLI's reason), or null. */
  redriveRefused: string | null;
  /** Only a queue's own dead-letter queue is purged here. */
  purgeable: boolean;
  approximateDepth: number;
  /** Dead letters this read received (all of the queue's but those another reader held, up to its bound). */
  read: number;
  /** Messages another reader held when the read started, which it could not receive (SQS's approximate count). */
  heldByOthers: number;
  /** The read stopped at its bound: the queue may hold more than the pages show. */
  capped: boolean;
  /** This page of the letters read, newest first; the groups hold this page's letters. */
  page: PageAnswer & { shown: number };
  /** Why fewer dead letters are shown than are there (held by another reader...), as `failed list` says it. */
  notes: string[];
  /** `count`: the group's letters among all those read; `messages`: those on this page. */
  groups: { reason: string; count: number; messages: DeadLetterSummary[] }[];
  /** Every letter read grouped by failure, as `failed summary` groups them, largest first. */
  failureGroups: FailureGroupAnswer[];
  /** The DLQ's retention, which each letter's `deletedBySqsAt` is counted with; null when it could not be read. */
  deadLetterRetentionSeconds: number | null;
  /** The command that saves the queue's dead letters on this pipeline, for `failed restore`: `hookline failed save <queue> --out <file>`. */
  saveCommand: string;
}

/** Starts the redrive or delete of every dead letter of a failure of the `queue` DLQ; resolves with its job. */
function startWholeFailure(queue: string, { action, group }: WholeFailureRequest) {
  const at = encodeURIComponent(queue);
  return action === 'redrive'
    ? post<{ id: string }>(`/api/queues/${at}/redrive`, { failure: group.key })
    : post<{ id: string }>(`/api/failures/${at}/delete`, { failure: group.key, yes: true });
}

const keyOf = (m: DeadLetterSummary) => m.id ?? m.messageId;

/** When SQS deletes the first of the letters on this page, as `failed list` says it of those it shows. */
const soonestOnPage = (answer: FailuresAnswer) =>
  soonestDeletion(answer.groups.flatMap((g) => g.messages.map((m) => m.deletedBySqsAt)));

/**
 * One reason's dead letters. The reason is isolated (`bdi`): the handler's or the sender's text, right-to-left, would
 * otherwise pull the count that follows it in front of it. Each row's Redrive names its event: a screen reader lists
 * buttons without their row.
 */
function Group({
  group,
  selected,
  toggle,
  redriveOne,
  refused,
  busy,
  readOf,
  paged,
}: {
  group: FailuresAnswer['groups'][number];
  selected: Set<string>;
  toggle: (key: string) => void;
  redriveOne: (key: string) => void;
  refused: string | null;
  busy: boolean;
  /** How many dead letters were read, when fewer than the queue holds: a group counts only those. */
  readOf: number | null;
  /** The letters read span several pages: say how many of the group this one shows. */
  paged: boolean;
}) {
  return html`<div class="card group" data-reason=${group.reason}>
    <h3><bdi class="bad">${group.reason}</bdi> <span class="count" data-group-count>${readOf === null ? group.count : `${group.count} of the ${readOf} read`}${paged ? `, ${group.messages.length} on this page` : ''}</span></h3>
    <table class="grid">
      <thead><tr><th><span class="visually-hidden">Select</span></th><th>Id</th><th>Source</th><th>Type</th><th>Received</th><th>Tries</th><th>Deleted by SQS</th><th><span class="visually-hidden">Action</span></th></tr></thead>
      <tbody>${group.messages.map(
        (m) => html`<tr data-id=${keyOf(m)}>
        <td><input type="checkbox" aria-label=${`select ${keyOf(m)}`} checked=${selected.has(keyOf(m))} onChange=${() => toggle(keyOf(m))} /></td>
        <td><a href=${`#/event/${encodeURIComponent(keyOf(m))}`}>${keyOf(m)}</a></td><td>${m.source ?? ''}</td><td>${m.type ?? ''}${m.scheduled && html`<div class="muted" data-field="scheduled">${m.scheduled.description}</div>`}</td>
        <td class="muted">${m.receivedAt ?? ''}</td><td class="num">${m.receiveCount ?? ''}</td>
        <td data-col="deleted-by-sqs"><${DeletedBySqs} at=${m.deletedBySqsAt} /></td>
        <td><button class="small" aria-label=${`Redrive ${keyOf(m)}`} disabled=${busy || refused !== null} title=${refused ?? ''} onClick=${() => redriveOne(keyOf(m))}>Redrive</button></td></tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function PurgeBox({
  queue,
  busy,
  start,
}: {
  queue: string;
  busy: boolean;
  start: (confirm: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const close = () => {
    setOpen(false);
    setTyped('');
  };
  const question = html`<p>This deletes every message of the <b>${queue}</b> dead-letter queue. It cannot be undone.</p>`;
  return html`<button class="danger" aria-expanded=${open} onClick=${() => setOpen(true)}>Purge the DLQ...</button>
    ${
      open &&
      html`<${Confirmation} label=${`Purge the ${queue} dead-letter queue`} question=${question} cancel=${close}>
      <label>Type <code>${queue}</code> to confirm
        <input name="purge-confirm" value=${typed} onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} /></label>
      <button class="danger" disabled=${busy || typed !== queue} onClick=${() => start(typed)}>Purge</button>
    <//>`
    }`;
}

/** The dead letters ticked, by the id the page redrives and deletes them by: one at a time, or a failure's all. */
function useSelection() {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const select = (ids: readonly string[], on: boolean) => {
    const next = new Set(selected);
    for (const id of ids) {
      if (on) next.add(id);
      else next.delete(id);
    }
    setSelected(next);
  };
  return {
    selected,
    select,
    toggle: (id: string) => select([id], !selected.has(id)),
    clear: () => setSelected(new Set()),
  };
}

interface QueueFailuresProps {
  readonly queue: string;
  readonly onDepth: (depth: number) => void;
  /** A redrive, delete or purge ended: the counts shown elsewhere (the header, the overview) read again. */
  readonly onChanged: () => void;
}

function QueueFailures({ queue, onDepth, onChanged }: QueueFailuresProps) {
  const [cursor, setCursor] = useState('');
  const { data, error, updatedAt, reload } = usePoll<FailuresAnswer>(
    `/api/failures/${encodeURIComponent(queue)}?${new URLSearchParams({ page: cursor })}`,
    0,
  );
  useEffect(() => {
    if (data) onDepth(data.approximateDepth);
  }, [data]);
  const { selected, toggle, select, clear } = useSelection();
  const [job, setJob] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  // From the click until its job ends: a second click (a double-click, an impatient one) would start a second
  // job over the same dead letters, and the panel would report only one of them.
  const busy = useRef(false);
  const [running, setRunning] = useState(false);
  const settle = (value: boolean) => {
    busy.current = value;
    setRunning(value);
  };
  const run = (start: () => Promise<{ id: string }>) => {
    if (busy.current) return;
    settle(true);
    setActionError(null);
    start().then(
      (j) => setJob(j.id),
      (e: Error) => {
        settle(false);
        setActionError(e.message);
      },
    );
  };
  const path = `/api/queues/${encodeURIComponent(queue)}`;
  const redrive = (ids?: string[]) => run(() => post(`${path}/redrive`, ids ? { ids } : {}));
  const [confirming, setConfirming] = useState(false);
  const deleteSelected = () => {
    setConfirming(false);
    run(() => startDelete(queue, [...selected]));
  };
  const [wholeFailure, setWholeFailure] = useState<WholeFailureRequest | null>(null);
  const actOnWholeFailure = (request: WholeFailureRequest) => {
    setWholeFailure(null);
    run(() => startWholeFailure(queue, request));
  };
  const refused = data?.redriveRefused ?? null;
  const finished = () => {
    settle(false);
    clear();
    reload();
    onChanged();
  };
  return html`<div>
    <div class="toolbar">
      <button onClick=${() => redrive()} disabled=${running || !data || data.read === 0 || refused !== null}>Redrive all</button>
      <button onClick=${() => redrive([...selected])} disabled=${running || selected.size === 0 || refused !== null}>Redrive selected (${selected.size})</button>
      <button onClick=${() => setConfirming(true)} disabled=${running || selected.size === 0}>Delete selected (${selected.size})...</button>
      <button onClick=${reload}>Refresh</button>
      ${data?.purgeable && html`<${PurgeBox} queue=${queue} busy=${running} start=${(confirm: string) => run(() => post(`${path}/purge`, { deadLetter: true, confirm }))} />`}
    </div>
    ${confirming && selected.size > 0 && html`<${DeleteConfirm} queue=${queue} count=${selected.size} busy=${running} confirm=${deleteSelected} cancel=${() => setConfirming(false)} />`}
    ${wholeFailure && html`<${WholeFailureConfirm} queue=${queue} request=${wholeFailure} busy=${running} confirm=${() => actOnWholeFailure(wholeFailure)} cancel=${() => setWholeFailure(null)} />`}
    ${refused && html`<p class="note" data-redrive-refused>${refused}</p>`}
    <${StaleNote} error=${error} updatedAt=${updatedAt} />
    <${ErrorNote} error=${actionError} />
    ${job && html`<${JobPanel} key=${job} id=${job} onDone=${finished} />`}
    ${!data && !error && html`<p class="muted">Reading the ${queue} dead-letter queue (all of it, up to 5,000 letters, left in place)...</p>`}
    ${data && html`<p class="muted" data-dlq-depth=${data.approximateDepth}>~${data.approximateDepth} in the ${queue} dead-letter queue, ${data.read} read (left in place).</p>`}
    ${data?.capped && html`<p class="note" data-dlq-capped>The read stopped at its bound of ${data.read} dead letters: the pages show those, newest first, and the queue may hold more; redrive or purge some, then Refresh.</p>`}
    ${data && html`<${Pager} page=${data.page} shown=${data.page.shown} noun="dead letters read" go=${setCursor} />`}
    ${data?.notes.map((note) => html`<p class="note" data-dlq-note>${note}</p>`)}
    ${data && data.read > 0 && data.deadLetterRetentionSeconds === null && html`<p class="note" data-retention-unknown>${RETENTION_UNKNOWN}</p>`}
    ${data && html`<${ExpiryWarnings} letters=${[{ which: 'the oldest shown', at: soonestOnPage(data) }]} save=${data.saveCommand} />`}
    ${data && html`<${FailureGroupsView} groups=${data.failureGroups} selected=${selected} select=${select} partial=${partialReadNote(data)} save=${data.saveCommand} busy=${running} redriveRefused=${refused} ask=${setWholeFailure} />`}
    <div class=${error && data ? 'stale' : ''}>
    ${data?.groups.map((g) => html`<${Group} group=${g} selected=${selected} toggle=${toggle} redriveOne=${(k: string) => redrive([k])} refused=${refused} busy=${running} readOf=${data.read < data.approximateDepth ? data.read : null} paged=${data.page.total > data.page.shown} />`)}
    </div>
  </div>`;
}

export function FailuresPage({
  overview,
  queue,
  refresh,
}: {
  overview: Overview | null;
  queue: string | undefined;
  /** Reads the overview again (its counts), as an action here changes them. */
  refresh: () => void;
}) {
  // A queue's DLQ, or one Scheduler fills (schedule:<name>, job_schedules), each a tab under its CLI name.
  const tabs = [
    ...(overview?.queues ?? []).map((q) => ({ queue: q.queue, deadLettered: q.deadLettered })),
    ...(overview?.deadLetterQueues ?? []).map((d) => ({ queue: d.name, deadLettered: d.deadLettered })),
  ];
  const current = queue || tabs.find((q) => (q.deadLettered ?? 0) > 0)?.queue || tabs[0]?.queue;
  // While this page reads a DLQ its messages are briefly in flight, so the overview's count (visible only) dips:
  // the current tab shows what the read found.
  const [read, setRead] = useState<{ queue: string; depth: number } | null>(null);
  // A count the overview may not read is `?` until this page reads that DLQ itself.
  const countOf = (q: { queue: string; deadLettered: number | null }): number | null =>
    read?.queue === q.queue ? Math.max(read.depth, q.deadLettered ?? 0) : q.deadLettered;
  return html`<section>
    <h2>Failures</h2>
    <nav class="tabs">${tabs.map(
      (
        q,
      ) => html`<a href=${`#/failures/${encodeURIComponent(q.queue)}`} data-tab=${q.queue} class=${q.queue === current ? 'active' : ''} aria-current=${q.queue === current ? 'page' : undefined}>
      ${q.queue} <span class=${(countOf(q) ?? 0) > 0 ? 'count bad' : 'count'}>${countOf(q) ?? '?'}</span></a>`,
    )}</nav>
    ${current && html`<${QueueFailures} key=${current} queue=${current} onDepth=${(depth: number) => setRead({ queue: current, depth })} onChanged=${refresh} />`}
  </section>`;
}
