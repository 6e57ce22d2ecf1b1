/**
 * Events: the live feed with filters by source, type and outcome.
 */
import { useState } from 'preact/hooks';
import { usePoll } from './api';
import { html } from './html';
import type { FeedEvent, FeedState } from './types';
import { ErrorNote, StaleNote } from './widgets';

interface EventsAnswer {
  /** The newest of the events that match, at most the server's page. */
  events: FeedEvent[];
  /** How many of the events the console keeps match the filters. */
  matching: number;
  /** How many events the console keeps (the newest of this run). */
  kept: number;
  sources: string[];
  types: string[];
  /** What the outcome filter takes: a rate kind, or an event name the feed carries. */
  outcomes: string[];
  feed: FeedState;
}

/** Two lines of the feed, one after the other, written by different runs of local mode: it was restarted between. */
export function restartedBetween(a: FeedEvent | undefined, b: FeedEvent | undefined): boolean {
  return a?.run !== undefined && b?.run !== undefined && a.run !== b.run;
}

/** A row across a table of feed lines where local mode was restarted, saying which side was written before. */
export function RestartLine({ columns, earlier }: { columns: number; earlier: 'above' | 'below' }) {
  return html`<tr class="restart" data-restart><td colspan=${columns} class="note">Local mode was restarted here: the lines ${earlier} were written before the restart.</td></tr>`;
}

function EventLine({ e }: { e: FeedEvent }) {
  return html`<tr data-event=${e.event} data-id=${e.id ?? ''}>
    <td class="muted">${e.at.slice(11, 19)}</td>
    <td><span class=${`outcome ${e.event}`}>${e.event}</span></td>
    <td>${e.source ?? ''}</td><td>${e.type ?? ''}</td>
    <td>${e.id ? html`<a href=${`#/event/${encodeURIComponent(e.id)}`}>${e.id}</a>` : ''}</td>
    <td>${e.queue ?? ''}</td><td class="num">${e.attempt ?? ''}</td>
    <td class="reason">${e.reason ?? (e.status !== undefined ? `HTTP ${e.status}` : '')}</td>
  </tr>`;
}

export function EventsPage() {
  const [source, setSource] = useState('');
  const [type, setType] = useState('');
  const [outcome, setOutcome] = useState('');
  const query = new URLSearchParams({ source, type, outcome }).toString();
  const filtered = source !== '' || type !== '' || outcome !== '';
  const { data, error, updatedAt } = usePoll<EventsAnswer>(`/api/events?${query}`, 1500);
  const value = (e: Event) => (e.target as HTMLInputElement).value;
  return html`<section class=${error && data ? 'stale' : ''}>
    <h2>Events</h2>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Source <select name="source" value=${source} onChange=${(e: Event) => setSource(value(e))}>
        <option value="">any</option>${data?.sources.map((s) => html`<option>${s}</option>`)}</select></label>
      <label>Type <input name="type" placeholder="contains" value=${type} onInput=${(e: Event) => setType(value(e))} /></label>
      <label>Outcome <select name="outcome" value=${outcome} onChange=${(e: Event) => setOutcome(value(e))}>
        <option value="">any</option>${data?.outcomes.map((o) => html`<option>${o}</option>`)}</select></label>
    </form>
    ${error ? html`<${StaleNote} error=${error} updatedAt=${updatedAt} />` : html`<${ErrorNote} error=${data?.feed.error} />`}
    ${data?.feed.unavailable && html`<p class="note">${data.feed.unavailable}</p>`}
    ${data && data.events.length < data.matching && html`<p class="note" data-events-shown>Showing the newest ${data.events.length} of ${data.matching} ${filtered ? 'matching events' : 'events'} (this console keeps the newest ${data.kept} of its run): filter to narrow the list.</p>`}
    <table class="grid" id="events">
      <thead><tr><th>Time (UTC)</th><th>Outcome</th><th>Source</th><th>Type</th><th>Id</th><th>Queue</th><th>Attempt</th><th>Reason</th></tr></thead>
      <tbody>${data?.events.map(
        (e, i) =>
          html`${restartedBetween(data.events[i - 1], e) && html`<${RestartLine} key=${`restart-${e.seq}`} columns=${8} earlier="below" />`}<${EventLine} key=${e.seq} e=${e} />`,
      )}</tbody>
    </table>
    ${data && data.events.length === 0 && html`<p class="muted" data-events-none>${filtered ? 'No event matches the filters.' : 'No events yet: send a test webhook from Actions.'}</p>`}
  </section>`;
}
