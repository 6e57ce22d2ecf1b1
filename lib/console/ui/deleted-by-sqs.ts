/**
 * When SQS deletes dead letters, on the failures page: a cell with the time left, and a warning line for a letter
 * with under two days left, in the words `hookline failed list` and `failed summary` print
 * (`dead-letter-expiry.ts`). The time left is counted on the browser's clock when the page is drawn; the time
 * itself is the cell's `datetime` and title.
 */
import { expiresSoon, expiryWarning, timeLeft } from './dead-letter-expiry';
import { html } from './html';

/** `in 2d 3h` (in the warning colour under two days), `-` when it is not known, as the CLI's column. */
export function DeletedBySqs({ at }: { at: string | null | undefined }) {
  if (!at) return html`<span class="muted">-</span>`;
  return html`<time datetime=${at} title=${at} class=${expiresSoon(at) ? 'warn' : 'muted'} data-deleted-by-sqs>${timeLeft(at)}</time>`;
}

/** A letter to warn of: `which` names it (`the oldest shown`, `failure 0a78ca1c: its oldest`); `at`, when SQS deletes it. */
export interface ExpiringLetter {
  readonly which: string;
  readonly at: string | null | undefined;
}

/**
 * One line per letter SQS deletes within two days, saying when and to act on it before then, or save it with
 * `save` (`saveDeadLettersArgs` on this pipeline: every letter of the queue, to a file `failed restore` puts back);
 * nothing for the others. Text, not a colour alone, says it.
 */
export function ExpiryWarnings({ letters, save }: { letters: readonly ExpiringLetter[]; save: string }) {
  const soon = letters.filter((l): l is ExpiringLetter & { at: string } => !!l.at && expiresSoon(l.at));
  return soon.map(
    (l) =>
      html`<p class="error" data-expiry-warning>${expiryWarning(l.which, l.at)}, or save it with <code>${save}</code></p>`,
  );
}
