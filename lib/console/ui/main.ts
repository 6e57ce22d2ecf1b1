/**
 * The console page: a header with the target, five pages (overview, events, jobs, failures, actions), the event
 * page and the job page, switched by the address's hash so each page has a link.
 */
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { ActionsPage } from './actions';
import { usePoll, useRoute } from './api';
import { deadLetterBadge } from './dead-letter-badge';
import { EventPage } from './event-page';
import { EventsPage } from './events';
import { FailuresPage } from './failures';
import { html } from './html';
import { JobPage, JobsPage } from './jobs';
import { OverviewPage } from './overview';
import type { Overview } from './types';
import { StaleNote } from './widgets';
import './styles.css';

const PAGES = [
  ['overview', 'Overview'],
  ['events', 'Events'],
  ['jobs', 'Jobs'],
  ['failures', 'Failures'],
  ['actions', 'Actions'],
] as const;

/** The server's title (the console and its target): each page puts its own name before it. */
const consoleTitle = document.title;

/** The name of the page a route shows, as the tab's title says it. */
function pageName(page: string, arg: string | undefined): string {
  if (page === 'event' || page === 'job') return `${page === 'event' ? 'Event' : 'Job'} ${arg ?? ''}`;
  const name = PAGES.find(([key]) => key === page)?.[1] ?? 'Overview';
  return page === 'failures' && arg ? `${name}: ${arg}` : name;
}

function App() {
  const [page = 'overview', arg] = useRoute();
  const { data: overview, error, updatedAt, reload } = usePoll<Overview>('/api/overview', 2000);
  const dlq = deadLetterBadge(overview);
  const current = page === '' ? 'overview' : page;
  // An event's or a job's page belongs to the Events or Jobs page.
  const isCurrent = (key: string) => current === key || `${current}s` === key;
  // A screen reader says the title when the page changes; one title for every page would not say which it is.
  useEffect(() => {
    document.title = `${pageName(current, arg)} - ${consoleTitle}`;
  }, [current, arg]);
  return html`<header>
      <h1>hookline</h1><span class="target">${overview?.target ?? ''}</span>
      <nav>${PAGES.map(
        ([
          key,
          label,
        ]) => html`<a href=${`#/${key}`} class=${isCurrent(key) ? 'active' : ''} aria-current=${isCurrent(key) ? 'page' : undefined}>
        ${label}${key === 'failures' && dlq ? html` <span class="count bad">${dlq}</span>` : ''}</a>`,
      )}</nav>
    </header>
    <main class=${error && overview ? 'stale' : ''}>
      <${StaleNote} error=${error} updatedAt=${updatedAt} />
      ${current === 'overview' && (overview ? html`<${OverviewPage} data=${overview} />` : html`<p class="muted">Loading...</p>`)}
      ${current === 'events' && html`<${EventsPage} />`}
      ${current === 'event' && arg && html`<${EventPage} key=${arg} id=${arg} />`}
      ${current === 'jobs' && html`<${JobsPage} />`}
      ${current === 'job' && arg && html`<${JobPage} key=${arg} id=${arg} />`}
      ${current === 'failures' && html`<${FailuresPage} overview=${overview} queue=${arg} refresh=${reload} />`}
      ${current === 'actions' && html`<${ActionsPage} overview=${overview} refresh=${reload} />`}
    </main>`;
}

const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
