/**
 * Acting on a whole failure from its "By failure" row: redrive or delete every dead letter of that failure in the
 * whole DLQ (`hookline redrive <queue> --failure <key>`, `hookline failed delete <queue> --failure <key> --yes` on
 * the server), not only the letters the page read. The confirmation names the key and pattern, says how far it
 * reaches, and for a delete that it cannot be undone. No API call here: the By failure view, which shows the row's
 * actions, is also used where no page runs.
 */
import { Confirmation } from './confirmation';
import type { FailureGroupAnswer } from './failure-groups';
import { html } from './html';

export type WholeFailureAction = 'redrive' | 'delete';

/** A whole failure the operator asked to act on, waiting for the confirmation. */
export interface WholeFailureRequest {
  readonly action: WholeFailureAction;
  readonly group: FailureGroupAnswer;
}

/** The row's two actions; redrive is disabled with the CLI's reason where the DLQ cannot be redriven. */
export function WholeFailureActions({
  group,
  busy,
  redriveRefused,
  ask,
}: {
  group: FailureGroupAnswer;
  busy: boolean;
  redriveRefused: string | null;
  ask: (request: WholeFailureRequest) => void;
}) {
  return html`<td class="actions">
    <button class="small" data-whole-failure="redrive" disabled=${busy || redriveRefused !== null} title=${redriveRefused ?? ''} onClick=${() => ask({ action: 'redrive', group })}>Redrive every ${group.key} dead letter...</button>
    <button class="small danger" data-whole-failure="delete" disabled=${busy} onClick=${() => ask({ action: 'delete', group })}>Delete every ${group.key} dead letter...</button>
  </td>`;
}

const lettersRead = (n: number) => (n === 1 ? 'the 1 this page read' : `the ${n} this page read`);

/** Asks before acting on a whole failure; `busy` while another operation of this DLQ runs from the page. */
export function WholeFailureConfirm({
  queue,
  request,
  busy,
  confirm,
  cancel,
}: {
  queue: string;
  request: WholeFailureRequest;
  busy: boolean;
  confirm: () => void;
  cancel: () => void;
}) {
  const { action, group } = request;
  const verb = action === 'redrive' ? 'Redrive' : 'Delete';
  const question = html`<p>${verb} <b>every</b> dead letter of failure <code>${group.key}</code> (<bdi class="bad">${group.pattern}</bdi>) ${action === 'redrive' ? 'in' : 'from'} the whole <b>${queue}</b> dead-letter queue,
      not only ${lettersRead(group.count)}?
      Letters of other failures stay; the job's summary says how many it ${action === 'redrive' ? 'moved' : 'deleted'}.</p>
    ${
      action === 'delete' &&
      html`<p>This cannot be undone: a deleted event never runs again, a deleted job's record says an
      operator deleted it, and a flow's parent waiting for a deleted child can never be sent.</p>`
    }`;
  return html`<${Confirmation} label=${`${verb} every ${group.key} dead letter`} className=${action === 'delete' ? 'card danger-zone' : 'card'} question=${question} cancel=${cancel} data-whole-failure-confirm=${action}>
    <button class=${action === 'delete' ? 'danger' : ''} disabled=${busy} onClick=${confirm}>${verb} every ${group.key} dead letter</button>
  <//>`;
}
