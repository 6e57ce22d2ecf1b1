/**
 * Small pieces shared by the pages: sparklines, a job's progress, notes and errors.
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { FlowParentLinks } from './flow-parents';
import { html } from './html';
import { jobSummaryLine } from './job-summary-line';
import type { Job } from './types';

/** A tiny line chart of counts per bucket, with the total. */
export function Sparkline({ values, kind }: { values: number[]; kind: string }) {
  const width = 90;
  const height = 22;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`,
  );
  const total = values.reduce((a, b) => a + b, 0);
  return html`<span class=${`spark ${kind}`} title=${`${kind}: ${total} in the last ${values.length} buckets`}>
    <svg width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} aria-hidden="true">
      <polyline points=${points.join(' ')} fill="none" stroke-width="1.5" />
    </svg>
    <b data-total=${kind}>${total}</b>
  </span>`;
}

export function ErrorNote({ error }: { error: string | null | undefined }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

/**
 * The error of a read that failed after an earlier one succeeded: the page keeps what it read then, so it says
 * those figures are not current and since when (its caller dims them with the `stale` class).
 */
export function StaleNote({ error, updatedAt }: { error: string | null; updatedAt: Date | null }) {
  if (!error) return null;
  if (!updatedAt) return html`<${ErrorNote} error=${error} />`;
  const at = updatedAt.toISOString().slice(11, 19);
  return html`<p class="error" role="alert" data-stale>${error}. Not current: what this page shows was read at ${at} UTC, and actions fail until the console can read again.</p>`;
}

/** Follows a job until it ends, showing its progress, notes and result. */
export function JobPanel({ id, onDone }: { id: string; onDone?: (job: Job) => void }) {
  const [job, setJob] = useState<Job | null>(null);
  const [unread, setUnread] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      let next: Job;
      try {
        next = await get<Job>(`/api/jobs/${id}`);
      } catch (error) {
        // The progress shown is the last read: say so, and keep asking rather than leave it "running" for good.
        if (stopped) return;
        setUnread((error as Error).message);
        setTimeout(tick, 2000);
        return;
      }
      if (stopped) return;
      setUnread(null);
      setJob(next);
      if (next.state === 'running') setTimeout(tick, 300);
      else onDone?.(next);
    };
    void tick();
    return () => {
      stopped = true;
    };
  }, [id]);
  const unreadNote =
    unread && html`<div class="error" data-job-unread>cannot read this job's progress: ${unread}</div>`;
  // There from the start, so a screen reader announces how the job ended, and not each step of its progress.
  const outcome = html`<div role="status" key="outcome">
    ${job?.state === 'done' && html`<div class="result">${job.summary ? job.summary.map((line) => html`<div>${line}</div>`) : jobSummaryLine(job)}</div>`}
    ${job?.state === 'done' && job.kind === 'delete' && html`<${FlowParentLinks} result=${job.result} />`}
    ${job?.state === 'failed' && html`<div class="error">${job.error}</div>`}
  </div>`;
  if (!job) return html`<div class="job">starting...${unreadNote}${outcome}</div>`;
  const p = job.progress;
  const ratio = p?.total ? Math.min(1, p.done / p.total) : 0;
  return html`<div class=${`job ${job.state}`} data-job-state=${job.state}>
    <div><b>${job.label}</b>: ${job.state}</div>
    ${
      p &&
      html`<div class="bar"><span style=${`width:${Math.round(ratio * 100)}%`}></span></div>
      <div class="muted">${p.done}${p.total !== null ? `/${p.total}` : ''} ${p.label}</div>`
    }
    ${job.notes.map((n) => html`<div class="muted">${n}</div>`)}
    ${unreadNote}
    ${outcome}
  </div>`;
}

/** The counts of one page of a list the server pages (`lib/console/paging.ts`), newest first. */
export interface PageAnswer {
  total: number;
  newer: number;
  older: number;
  next: string | null;
  previous: string | null;
}

/**
 * Where a page is in its list, with exact counts (`201-400 of 1234`), and the links to the newer and older pages;
 * `go('')` is the newest page.
 */
export function Pager({
  page,
  shown,
  noun,
  go,
}: {
  page: PageAnswer;
  /** How many rows the page shows. */
  shown: number;
  noun: string;
  go: (cursor: string) => void;
}) {
  if (page.total === 0) return null;
  const first = page.newer + 1;
  const last = page.newer + shown;
  const where =
    shown === 0
      ? `None of the ${page.total} ${noun} is on this page: they changed since it was read.`
      : `Showing ${first}-${last} of ${page.total} ${noun}, newest first.`;
  return html`<div class="toolbar pager" data-pager>
    <span data-page-counts>${where}</span>
    ${page.newer > 0 && html`<button class="small" onClick=${() => go('')}>Newest</button>`}
    <button class="small" disabled=${page.previous === null} onClick=${() => go(page.previous ?? '')}>Previous</button>
    <button class="small" disabled=${page.next === null} onClick=${() => go(page.next ?? '')}>Next</button>
  </div>`;
}
