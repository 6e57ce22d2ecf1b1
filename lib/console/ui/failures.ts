/**
 * Failures: a queue's dead letters grouped by reason; redrive all, a selection or one; purge behind a typed
 * confirmation. Long operations show their progress while they run.
 */
import { useEffect, useState } from 'preact/hooks';
import { post, usePoll } from './api';
import { html } from './html';
import type { DeadLetterSummary, Overview } from './types';
import { ErrorNote, JobPanel } from './widgets';

interface FailuresAnswer {
  queue: string;
  approximateDepth: number;
  shown: number;
  groups: { reason: string; count: number; messages: DeadLetterSummary[] }[];
}

const keyOf = (m: DeadLetterSummary) => m.id ?? m.messageId;

function Group({
  group,
  selected,
  toggle,
  redriveOne,
}: {
  group: FailuresAnswer['groups'][number];
  selected: Set<string>;
  toggle: (key: string) => void;
  redriveOne: (key: string) => void;
}) {
  return html`<div class="card group" data-reason=${group.reason}>
    <h3><span class="bad">${group.reason}</span> <span class="count">${group.count}</span></h3>
    <table class="grid">
      <thead><tr><th></th><th>Id</th><th>Source</th><th>Type</th><th>Received</th><th>Tries</th><th></th></tr></thead>
      <tbody>${group.messages.map(
        (m) => html`<tr data-id=${keyOf(m)}>
        <td><input type="checkbox" aria-label=${`select ${keyOf(m)}`} checked=${selected.has(keyOf(m))} onChange=${() => toggle(keyOf(m))} /></td>
        <td><a href=${`#/event/${encodeURIComponent(keyOf(m))}`}>${keyOf(m)}</a></td><td>${m.source ?? ''}</td><td>${m.type ?? ''}</td>
        <td class="muted">${m.receivedAt ?? ''}</td><td class="num">${m.receiveCount ?? ''}</td>
        <td><button class="small" onClick=${() => redriveOne(keyOf(m))}>Redrive</button></td></tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function PurgeBox({ queue, start }: { queue: string; start: (confirm: string) => void }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  if (!open) return html`<button class="danger" onClick=${() => setOpen(true)}>Purge the DLQ...</button>`;
  return html`<div class="card danger-zone">
    <p>This deletes every message of the <b>${queue}</b> dead-letter queue. It cannot be undone.
      Type <code>${queue}</code> to confirm.</p>
    <input name="purge-confirm" value=${typed} onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} />
    <button class="danger" disabled=${typed !== queue} onClick=${() => start(typed)}>Purge</button>
    <button onClick=${() => setOpen(false)}>Cancel</button>
  </div>`;
}

function QueueFailures({ queue, onDepth }: { queue: string; onDepth: (depth: number) => void }) {
  const { data, error, reload } = usePoll<FailuresAnswer>(`/api/failures/${encodeURIComponent(queue)}`, 0);
  useEffect(() => {
    if (data) onDepth(data.approximateDepth);
  }, [data]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [job, setJob] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const toggle = (key: string) => {
    const next = new Set(selected);
    if (!next.delete(key)) next.add(key);
    setSelected(next);
  };
  const run = (path: string, body: unknown) => {
    setActionError(null);
    post<{ id: string }>(path, body).then(
      (j) => setJob(j.id),
      (e: Error) => setActionError(e.message),
    );
  };
  const redrive = (ids?: string[]) => run(`/api/queues/${queue}/redrive`, ids ? { ids } : {});
  const finished = () => {
    setSelected(new Set());
    reload();
  };
  return html`<div>
    <div class="toolbar">
      <button onClick=${() => redrive()} disabled=${!data || data.shown === 0}>Redrive all</button>
      <button onClick=${() => redrive([...selected])} disabled=${selected.size === 0}>Redrive selected (${selected.size})</button>
      <button onClick=${reload}>Refresh</button>
      <${PurgeBox} queue=${queue} start=${(confirm: string) => run(`/api/queues/${queue}/purge`, { deadLetter: true, confirm })} />
    </div>
    <${ErrorNote} error=${error ?? actionError} />
    ${job && html`<${JobPanel} key=${job} id=${job} onDone=${finished} />`}
    ${data && html`<p class="muted" data-dlq-depth=${data.approximateDepth}>~${data.approximateDepth} in the ${queue} dead-letter queue, ${data.shown} read (left in place).</p>`}
    ${data?.groups.map((g) => html`<${Group} group=${g} selected=${selected} toggle=${toggle} redriveOne=${(k: string) => redrive([k])} />`)}
  </div>`;
}

export function FailuresPage({ overview, queue }: { overview: Overview | null; queue: string | undefined }) {
  const current =
    queue || overview?.queues.find((q) => q.deadLettered > 0)?.queue || overview?.queues[0]?.queue;
  // While this page reads a DLQ its messages are briefly in flight, so the overview's count (visible only) dips:
  // the current tab shows what the read found.
  const [read, setRead] = useState<{ queue: string; depth: number } | null>(null);
  const countOf = (q: { queue: string; deadLettered: number }) =>
    read?.queue === q.queue ? Math.max(read.depth, q.deadLettered) : q.deadLettered;
  return html`<section>
    <h2>Failures</h2>
    <nav class="tabs">${overview?.queues.map(
      (q) => html`<a href=${`#/failures/${q.queue}`} class=${q.queue === current ? 'active' : ''}>
      ${q.queue} <span class=${countOf(q) > 0 ? 'count bad' : 'count'}>${countOf(q)}</span></a>`,
    )}</nav>
    ${current && html`<${QueueFailures} key=${current} queue=${current} onDepth=${(depth: number) => setRead({ queue: current, depth })} />`}
  </section>`;
}
