/**
 * JSON text as it arrives over HTTP. Some senders (notably .NET and PowerShell clients writing UTF-8 with a
 * signature) put a byte order mark before the JSON. RFC 8259 section 8.1 lets a parser ignore it, and refusing
 * such a body would lose an event that was signed and sent in good faith. Pure.
 */

const BYTE_ORDER_MARK = 0xfeff;

/** `JSON.parse`, ignoring one leading byte order mark; throws exactly as `JSON.parse` does otherwise. */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === BYTE_ORDER_MARK ? text.slice(1) : text);
}
