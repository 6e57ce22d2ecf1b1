/**
 * The question the page asks before an action that cannot be undone (or that reaches further than the page shows),
 * as an alert dialog in the page's flow: focus moves into it as it opens (to its field, else to its cancel
 * button, so a second Enter does not confirm), Tab and Shift+Tab go round its controls without leaving it, Escape
 * cancels it, and focus goes back to the control that opened it as it closes, so a keyboard or screen-reader user
 * hears what it asks, answers it, and carries on where they were.
 *
 * Not a `<dialog>` opened with `showModal()`: a purge's progress and a cancel's refusal are told beside the dialog,
 * on the page, while it stays open, and a modal dialog would make them inert.
 */
import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';
import { html } from './html';

/** Moves focus into the dialog while it is open, and back to the control that had it once it closes. */
function useFocusWhileOpen() {
  const dialog = useRef<HTMLDivElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  // As the dialog is drawn, not a frame later: a key pressed meanwhile would land on the control focus was leaving.
  useLayoutEffect(() => {
    const opener = document.activeElement;
    (dialog.current?.querySelector('input') ?? cancelButton.current)?.focus();
    return () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, []);
  return { dialog, cancelButton };
}

/** What Tab stops on in the dialog: its enabled fields and buttons (a disabled confirm button is passed over). */
const TABBABLE =
  'a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled)';

/** Tab from the dialog's last control goes to its first, Shift+Tab from its first to its last; others move as usual. */
function keepTabInside(e: KeyboardEvent, dialog: HTMLElement) {
  const controls = Array.from(dialog.querySelectorAll<HTMLElement>(TABBABLE));
  const [first, last] = [controls[0], controls[controls.length - 1]];
  const [leaving, next] = e.shiftKey ? [first, last] : [last, first];
  if (!next || e.target !== leaving) return;
  e.preventDefault();
  next.focus();
}

export function Confirmation({
  label,
  className = 'card danger-zone',
  question,
  cancel,
  cancelText = 'Cancel',
  children,
  ...attributes
}: {
  /** The dialog's name, as a screen reader announces it. */
  label: string;
  className?: string;
  /** What it asks: the dialog's description. */
  question: ComponentChildren;
  cancel: () => void;
  cancelText?: string;
  /** The fields and the button that confirms, before the cancel button. */
  children: ComponentChildren;
  /** The `data-` attributes the page marks it with. */
  [attribute: `data-${string}`]: string | boolean;
}) {
  const { dialog, cancelButton } = useFocusWhileOpen();
  const described = useId();
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Tab' && dialog.current) keepTabInside(e, dialog.current);
    if (e.key !== 'Escape') return;
    e.preventDefault();
    cancel();
  };
  return html`<div class=${className} role="alertdialog" aria-label=${label} aria-describedby=${described} ref=${dialog} onKeyDown=${onKeyDown} ...${attributes}>
    <div id=${described}>${question}</div>
    ${children}
    <button ref=${cancelButton} onClick=${cancel}>${cancelText}</button>
  </div>`;
}
