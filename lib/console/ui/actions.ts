/**
 * Actions: pause and resume consumers, send a signed test webhook, start a replay (when the archive exists).
 */
import { useState } from 'preact/hooks';
import { post } from './api';
import { html } from './html';
import type { Overview } from './types';
import { ErrorNote, JobPanel } from './widgets';

function Consumers({ overview, refresh }: { overview: Overview; refresh: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const act = (queue: string, what: 'pause' | 'resume') =>
    post(`/api/queues/${queue}/${what}`).then(refresh, (e: Error) => setError(e.message));
  return html`<div class="card"><h3>Consumers</h3>
    <table class="grid" id="consumers">
    <thead><tr><th>Queue</th><th>Consumer</th><th><span class="visually-hidden">Actions</span></th></tr></thead><tbody>${overview.queues.map(
      (q) => html`<tr data-queue=${q.queue}>
      <td><b>${q.queue}</b></td><td data-col="consumer">${q.consumer === undefined ? (q.consumerNote ?? 'unknown') : (q.consumer ?? 'no consumer')}</td>
      <td>${
        // A consumer whose state may not be read may still be paused or resumed (a separate permission): both are
        // offered, and a refusal is shown with the action it needs.
        q.consumer !== null &&
        html`<button onClick=${() => act(q.queue, 'pause')} disabled=${q.consumer !== undefined && q.consumer !== 'Enabled'}>Pause</button>
        <button onClick=${() => act(q.queue, 'resume')} disabled=${q.consumer === 'Enabled'}>Resume</button>`
      }</td></tr>`,
    )}</tbody></table>
    <p class="muted">Paused, messages wait in the queue (and keep ageing towards its retention period).</p>
    <${ErrorNote} error=${error} /></div>`;
}

interface SendResult {
  status: number;
  ok: boolean;
  id: string | null;
  type: string | null;
  source: string;
  url: string;
  secretFrom: string;
  response?: string;
  /** The fix, when the pipeline rejected it. */
  hint: string | null;
}

/** Sends one; its answer is in a live region there from the start, so a screen reader announces it. */
function SendWebhook({ overview }: { overview: Overview }) {
  const [source, setSource] = useState(overview.sources[0]?.name ?? '');
  const [type, setType] = useState('');
  const [result, setResult] = useState<SendResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = () => {
    setError(null);
    post<SendResult>(`/api/sources/${source}/send`, type ? { type } : {}).then(setResult, (e: Error) =>
      setError(e.message),
    );
  };
  return html`<div class="card"><h3>Send a signed test webhook</h3>
    <label>Source <select name="send-source" value=${source} onChange=${(e: Event) => setSource((e.target as HTMLSelectElement).value)}>
      ${overview.sources.map((s) => html`<option value=${s.name}>${s.name} (${s.type})</option>`)}</select></label>
    <label>Type <input name="send-type" placeholder="the sample's" value=${type} onInput=${(e: Event) => setType((e.target as HTMLInputElement).value)} /></label>
    <button onClick=${send}>Send</button>
    <div role="status">${
      result &&
      html`<p class=${result.ok ? 'ok' : 'bad'} data-send-status=${result.status}>${result.status} ${result.source} ${result.type ?? ''}
      ${result.id ? html` id <a href=${`#/event/${encodeURIComponent(result.id)}`}>${result.id}</a>` : ''} ${result.response ?? ''}
      <span class="muted"> (signed with the ${result.secretFrom} secret, not shown)</span></p>
      ${result.hint && html`<p class="note" data-send-hint>${result.hint}</p>`}`
    }</div>
    <${ErrorNote} error=${error} /></div>`;
}

/** One source and a window of receipt times, as `hookline replay` takes them; count first, then replay. */
function Replay({ overview }: { overview: Overview }) {
  const sources = overview.replaySources;
  const [form, setForm] = useState({ source: sources[0] ?? '', since: '1h', until: '', type: '', queue: '' });
  const [job, setJob] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const disabled = overview.replay !== null;
  const field = (name: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [name]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  const start = (dryRun: boolean) => {
    setError(null);
    setJob(null);
    post<{ id: string }>('/api/replay', { ...form, dryRun }).then(
      (j) => setJob(j.id),
      (e: Error) => setError(e.message),
    );
  };
  return html`<div class="card"><h3>Replay archived events</h3>
    <label>Source <select name="replay-source" value=${form.source} disabled=${disabled} onChange=${field('source')}>
      ${sources.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
    <label>Since <input name="replay-since" size="22" value=${form.since} disabled=${disabled} onInput=${field('since')}
      placeholder="2h or 2026-11-30T10:00:00Z" /></label>
    <label>Until <input name="replay-until" size="22" value=${form.until} disabled=${disabled} onInput=${field('until')}
      placeholder="now" /></label>
    <label>Type <input name="replay-type" value=${form.type} disabled=${disabled} onInput=${field('type')}
      placeholder="every type (or invoice.*)" /></label>
    <label>To <select name="replay-queue" value=${form.queue} disabled=${disabled} onChange=${field('queue')}>
      <option value="">the current routes</option>
      ${overview.queues.map((q) => html`<option value=${q.queue}>queue ${q.queue}</option>`)}</select></label>
    <button name="replay-count" onClick=${() => start(true)} disabled=${disabled} title=${overview.replay ?? ''}>Count</button>
    <button name="replay-start" onClick=${() => start(false)} disabled=${disabled} title=${overview.replay ?? ''}>Replay</button>
    ${overview.replay && html`<p class="note" data-replay-unavailable>${overview.replay}</p>`}
    <p class="muted">Each replayed event keeps its id and carries the replay run, so consumers run it once more.</p>
    <${ErrorNote} error=${error} />${job && html`<${JobPanel} id=${job} />`}</div>`;
}

export function ActionsPage({ overview, refresh }: { overview: Overview | null; refresh: () => void }) {
  if (!overview) return html`<p class="muted">Loading...</p>`;
  return html`<section><h2>Actions</h2>
    <${Consumers} overview=${overview} refresh=${refresh} />
    <${SendWebhook} overview=${overview} />
    <${Replay} overview=${overview} /></section>`;
}
