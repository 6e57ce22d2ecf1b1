/**
 * JSON text as it arrives over HTTP. Some senders (notably .NET and PowerShell clients writing UTF-8 with a
 * signature) put a byte order mark before the JSON. RFC 8259 section 8.1 lets a parser ignore it, and refusing
 * such a body would lose an event that was signed and sent in good faith. Pure.
 */

const BYTE_ORDER_MARK = 0xfeff;

/** What `JSON.parse` passes a reviver about a primitive value: the text it was parsed from (ES2025). */
export interface JsonReviverContext {
  readonly source?: string;
}

/** A `JSON.parse` reviver that may read the source text of each primitive value. */
export type JsonReviver = (key: string, value: unknown, context?: JsonReviverContext) => unknown;

/** `JSON.parse`, ignoring one leading byte order mark; throws exactly as `JSON.parse` does otherwise. */
export function parseJsonText(text: string, reviver?: JsonReviver): unknown {
  return JSON.parse(text.charCodeAt(0) === BYTE_ORDER_MARK ? text.slice(1) : text, reviver);
}

/** `JSON.rawJSON` (ES2025, Node 21 and later): a value `JSON.stringify` writes out as the text it was given. */
const rawJson = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * A reviver for JSON parsed only to be written out again (a job request's payload): each integer a double cannot
 * hold (beyond 2^53, such as a 64-bit id) becomes a raw JSON value, which `JSON.stringify` writes back with the
 * digits written here rather than the nearest double's. Any other value stays as parsed. Where the runtime has no
 * source text or `JSON.rawJSON` (Node 20) the double stays too.
 */
export const integersAsWritten: JsonReviver = (_key, value, context) =>
  typeof value === 'number' &&
  !Number.isSafeInteger(value) &&
  rawJson !== undefined &&
  context?.source !== undefined &&
  /^-?\d+$/.test(context.source)
    ? rawJson(context.source)
    : value;

/**
 * What a `JSON.parse` failure says, less the text it quotes. V8 puts a stretch of the input in some of its messages
 * (`Unexpected token 'w', "whsec_abcd"... is not valid JSON`), and that input may be a request body or a file of
 * signing secrets, which a log line or an error on a terminal must not show. The token and any position stay.
 */
export function jsonErrorWithoutInput(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(
    /(?:, )?(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/,
    (_quoted, at: number) => (at === 0 ? 'not valid JSON' : ': not valid JSON'),
  );
}
