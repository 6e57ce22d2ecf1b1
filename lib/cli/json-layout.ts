/**
 * JSON text laid out for reading, token for token as it was written. Parsing and printing it again would show
 * another document than the one received: an integer beyond 2^53 with other digits, one of two duplicate keys, an
 * escape decoded, `1.10` as `1.1`, `1E400` as `null`. Pure.
 */

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** `text` indented by `indent` per level when it is JSON (checked by `JSON.parse`), else undefined. */
export function layoutJson(text: string, indent = '  '): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let out = '';
  let depth = 0;
  const newline = () => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (char === '{' || char === '[') {
      const next = nextToken(text, i + 1);
      if (text[next] === (char === '{' ? '}' : ']')) {
        out += `${char}${text[next]}`;
        i = next;
      } else {
        depth++;
        out += `${char}${newline()}`;
      }
    } else if (char === '}' || char === ']') {
      depth--;
      out += `${newline()}${char}`;
    } else if (char === ',') out += `,${newline()}`;
    else if (char === ':') out += ': ';
    else if (!WHITESPACE.has(char)) out += char;
  }
  return out;
}

/** The index just past the string literal that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** The index of the first character at or after `from` that is not whitespace. */
function nextToken(text: string, from: number): number {
  let i = from;
  while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
  return i;
}
