/**
 * Text on its way to a person's terminal. Much of what hookline shows comes from outside: a webhook's source
 * name (from the URL), type, body and headers, a consumer's error message. A control character in it would reach
 * the terminal as an instruction (move the cursor over earlier lines, hide text, set the window title, write the
 * clipboard), so the operator's view could be forged by whoever sends a request. Every such character is written
 * as a visible `\uXXXX` escape instead, like the dead-letter error text; hookline's own colour codes pass. Pure.
 */

/**
 * One of the colour codes hookline writes itself (reset, bold, dim, normal intensity, a foreground colour other
 * than black), or one character a terminal acts on: C0 and C1 controls, DEL, and the bidirectional overrides
 * that display text in another order than it is stored.
 */
const OWN_COLOUR_OR_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is escaped.
  /\u001b\[(?:[012]|22|3[1-9])m|[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const visible = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

function escapeControls(text: string, kept: string): string {
  return text.replace(OWN_COLOUR_OR_CONTROL, (match) =>
    match.length > 1 || kept.includes(match) ? match : visible(match),
  );
}

/** Text that may span lines (a body, a table): line feeds and tabs stay, every other control is escaped. */
export const terminalText = (text: string): string => escapeControls(text, '\n\t');

/** Text that must stay on one line (a table cell, an event line): line feeds and tabs are escaped too. */
export const terminalLine = (text: string): string => escapeControls(text, '');

/**
 * Text that came from outside (a sender's body or header, a dead-lettered message's fields): every control is
 * escaped but line feeds and tabs, hookline's colour codes among them, since in such text a colour code is the
 * sender's and would restyle what the operator reads. Compose it into a line, then pass the line through
 * {@link terminalText} or {@link terminalLine} as any other.
 */
export const foreignText = (text: string): string =>
  escapeControls(text.replaceAll('\u001b', visible('\u001b')), '\n\t');

/**
 * Whether a stream is a terminal that acts on ANSI codes (a progress bar erasing and redrawing its line): not when it
 * is a file or a pipe, nor on `TERM=dumb` (an editor's shell or compilation buffer, which prints the codes as text).
 */
export function ansiTerminal(isTty: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTty && env.TERM !== 'dumb';
}

/** Whether a stream gets colours: such a terminal, and `NO_COLOR` unset or empty (https://no-color.org). */
export function coloursWanted(isTty: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return ansiTerminal(isTty, env) && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
