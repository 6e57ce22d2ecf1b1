/**
 * The flow parents a finished delete names, each linked to its job page: where one that can never be sent is
 * cancelled, and where one another child may still send says whether it can.
 */
import { html } from './html';

/**
 * The flow parents a finished delete names, as its summary splits them: those that can never be sent now, to
 * cancel, and those whose deleted children all ran and could not tell them (`untold`, `FlowParentError`), which
 * another child may still send (their job page says whether).
 */
export function flowParentsToShow(
  parents: readonly string[],
  untold: readonly string[],
): { readonly cancel: string[]; readonly check: string[] } {
  const mayBeSent = new Set(untold);
  return { cancel: parents.filter((id) => !mayBeSent.has(id)), check: [...untold] };
}

/** The ids a delete's result lists under `key` (`flowParents`, `untoldFlowParents`); none when it lists none. */
const idsOf = (result: Record<string, unknown> | null, key: string): string[] => {
  const ids = result?.[key];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
};

/**
 * The flow parents a finished delete's result names (its summary gives the command): each a link to its job page,
 * those to cancel apart from those another child may still send.
 */
export function FlowParentLinks({ result }: { result: Record<string, unknown> | null }) {
  const { cancel, check } = flowParentsToShow(
    idsOf(result, 'flowParents'),
    idsOf(result, 'untoldFlowParents'),
  );
  const links = (ids: readonly string[]) =>
    ids.map((id, i) => html`${i > 0 ? ', ' : ''}<a href=${`#/job/${encodeURIComponent(id)}`}>${id}</a>`);
  return html`${cancel.length > 0 && html`<div data-flow-parents>Cancel them on their job pages: ${links(cancel)}</div>`}
    ${check.length > 0 && html`<div data-untold-flow-parents>Whether anything can still send them, on their job pages: ${links(check)}</div>`}`;
}
