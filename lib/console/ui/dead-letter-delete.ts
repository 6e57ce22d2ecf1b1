/**
 * Deleting dead letters from the page (`hookline failed delete --id ... --yes` on the server): the confirmation,
 * which names how many events and that it cannot be undone, and the request (the flow parents a delete names are
 * `flow-parents.ts`).
 */

import { plural } from '../../../lambda/shared/plural';
import { post } from './api';
import { Confirmation } from './confirmation';
import { html } from './html';

/** Starts the delete of every copy of `ids` from the `queue` dead-letter queue; resolves with its job. */
export const startDelete = (queue: string, ids: readonly string[]) =>
  post<{ id: string }>(`/api/failures/${encodeURIComponent(queue)}/delete`, { ids, yes: true });

const eventsText = (count: number) => plural(count, 'event');

/** Asks before a delete; `busy` while another operation of this DLQ runs from the page. */
export function DeleteConfirm({
  queue,
  count,
  busy,
  confirm,
  cancel,
}: {
  queue: string;
  count: number;
  busy: boolean;
  confirm: () => void;
  cancel: () => void;
}) {
  const question = html`<p>Delete <b>${eventsText(count)}</b> from the <b>${queue}</b> dead-letter queue, every copy of each? This cannot
      be undone: a deleted event never runs again, a deleted job's record says an operator deleted it, and a flow's
      parent waiting for a deleted child can never be sent.</p>`;
  return html`<${Confirmation} label=${`Delete ${eventsText(count)}`} question=${question} cancel=${cancel} data-delete-confirm=${true}>
    <button class="danger" disabled=${busy} onClick=${confirm}>Delete ${eventsText(count)}</button>
  <//>`;
}
