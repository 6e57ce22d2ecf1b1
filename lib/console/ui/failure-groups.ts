/**
 * The failures page's "By failure" view: one row per distinct failure of the dead letters the page read, as
 * `hookline failed summary` groups a whole DLQ (the server groups them with the CLI's code and sends the groups);
 * ticking a group selects exactly its letters, on every page, so the page's redrive and delete act on that failure;
 * its row's own actions redrive or delete every dead letter of the failure in the whole DLQ, past what the page read.
 */
import { plural } from '../../../lambda/shared/plural';
import { DeletedBySqs, ExpiryWarnings } from './deleted-by-sqs';
import { heldByOthers } from './held-by-others';
import { html } from './html';
import { WholeFailureActions, type WholeFailureRequest } from './whole-failure';

export interface FailureGroupAnswer {
  /** The short stable name `failed summary` prints for the failure. */
  key: string;
  /** `ErrorName: message` with what varies per event masked. */
  pattern: string;
  /** Dead letters of this failure among those read (two copies of one event are two). */
  count: number;
  types: { type: string; count: number }[];
  otherTypes: number;
  firstFailedAt: string | null;
  lastFailedAt: string | null;
  /** When SQS deletes the group's oldest letter read (`failed summary`'s); null when it is not known. */
  oldestDeletedBySqsAt?: string | null;
  /** The ids the page selects the group's letters by, all of those read, each once. */
  ids: string[];
  /** How many of `ids` also name a letter of another failure: a redrive or delete by id takes every copy. */
  sharedIds: number;
}

const sharedNote = (shared: number) =>
  `${shared === 1 ? '1 of its events has' : `${shared} of its events have`} a copy under another failure too, which a redrive or delete by id also takes`;

const deadLetters = (n: number) => plural(n, 'dead letter');

/** What a screen reader says of a group's checkbox: how many letters ticking it selects. */
export const selectGroupLabel = (group: Pick<FailureGroupAnswer, 'count' | 'key'>): string =>
  `select the ${plural(group.count, 'dead letter')} of failure ${group.key}`;

/**
 * Says when the groups count fewer letters than the DLQ holds (the read stopped at its bound, or another reader held
 * some: SQS's approximate count of them, said as the CLI says it), so no count reads as the whole failure's; null
 * when the read got them all.
 */
export function partialReadNote(read: {
  read: number;
  approximateDepth: number;
  capped: boolean;
  /** Messages another reader held when the read started (`failed list`'s `heldByOthers`). */
  heldByOthers: number;
}): string | null {
  const counts = `Counts are of the ${deadLetters(read.read)} read`;
  if (read.capped) return `${counts} (the read's bound): the queue may hold more of each failure.`;
  if (read.read >= read.approximateDepth) return null;
  const others = read.heldByOthers > 0 ? heldByOthers(read.heldByOthers) : 'the others could not be read';
  return `${counts} of ~${read.approximateDepth}: ${others} and may add to a failure.`;
}

/** Each type isolated (`bdi`): a right-to-left type would otherwise draw its count before it. */
const typesOf = (group: FailureGroupAnswer) =>
  [
    ...group.types.map((t) => html`<bdi>${t.type}</bdi> (${t.count})`),
    ...(group.otherTypes > 0 ? [`${group.otherTypes} of other types`] : []),
  ].flatMap((part, i) => (i === 0 ? [part] : [', ', part]));

export function FailureGroupsView({
  groups,
  selected,
  select,
  partial,
  save,
  busy,
  redriveRefused,
  ask,
}: {
  groups: FailureGroupAnswer[];
  selected: Set<string>;
  /** Adds the ids to the selection, or takes them out of it. */
  select: (ids: string[], on: boolean) => void;
  /** Why the counts are of fewer letters than the DLQ holds, or null when the read got all of them. */
  partial: string | null;
  /** The command that saves a dead letter on this pipeline, which a warning of one SQS deletes soon names. */
  save: string;
  /** An operation of this DLQ runs from the page. */
  busy: boolean;
  /** Why this DLQ cannot be redriven (the CLI's reason), or null. */
  redriveRefused: string | null;
  /** Asks to redrive or delete every dead letter of a failure in the whole DLQ (the page confirms first). */
  ask: (request: WholeFailureRequest) => void;
}) {
  if (groups.length === 0) return null;
  const all = (g: FailureGroupAnswer) => g.ids.length > 0 && g.ids.every((id) => selected.has(id));
  return html`<div class="card" id="failure-groups">
    <h3>By failure <span class="count">${plural(groups.length, 'failure')}</span></h3>
    ${partial && html`<p class="note" data-failure-groups-partial>${partial}</p>`}
    <table class="grid">
      <thead><tr><th><span class="visually-hidden">Select</span></th><th>Key</th><th>Count</th><th>Failure</th><th>Types</th><th>First failure</th><th>Last failure</th><th class="deleted-by-sqs">Oldest deleted by SQS</th><th>In the whole DLQ</th></tr></thead>
      <tbody>${groups.map(
        (g) => html`<tr data-failure-key=${g.key}>
        <td><input type="checkbox" aria-label=${selectGroupLabel(g)} checked=${all(g)} onChange=${() => select(g.ids, !all(g))} /></td>
        <td><code>${g.key}</code></td><td class="num" data-col="count">${g.count}</td><td><bdi class="bad">${g.pattern}</bdi>${g.sharedIds > 0 && html`<br /><span class="muted" data-shared-ids=${g.sharedIds}>${sharedNote(g.sharedIds)}</span>`}</td>
        <td>${typesOf(g)}</td><td class="muted">${g.firstFailedAt ?? ''}</td><td class="muted">${g.lastFailedAt ?? ''}</td>
        <td data-col="deleted-by-sqs"><${DeletedBySqs} at=${g.oldestDeletedBySqsAt} /></td>
        <${WholeFailureActions} group=${g} busy=${busy} redriveRefused=${redriveRefused} ask=${ask} /></tr>`,
      )}</tbody>
    </table>
    <${ExpiryWarnings} letters=${groups.map((g) => ({ which: `failure ${g.key}: its oldest`, at: g.oldestDeletedBySqsAt }))} save=${save} />
  </div>`;
}
