/**
 * The one "did you mean" hookline says: the known name a misspelt one most likely meant, for an unknown
 * configuration key, a name the configuration refers to (a queue, a source, a source type, an option) and a name an
 * operator gives the CLI (`--queue`, `--source`).
 */

/** Edits between two words, a swap of neighbours counting as one (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The known name `name` was most likely meant to be: the same word in another case, or one a typo or two away (one
 * for a name of six letters or fewer, so that a short name is not offered for another that merely looks like it:
 * `gitlab` is no misspelt `github`). Undefined where none is that close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const sameWord = known.find((k) => k.toLowerCase() === name.toLowerCase());
  if (sameWord) return sameWord;
  const most = name.length <= 6 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d <= most && (!best || d < best.distance)) best = { name: candidate, distance: d };
  }
  return best?.name;
}

/**
 * `did you mean <name>?` for the known name `name` most likely meant ({@link closestName}), else undefined. With
 * a `prefix` (`schedule:`), only the known names under it are offered, measured without it, so that the prefix
 * does not let a short name pass as close to another. `shown` says the name meant as the operator would write it,
 * where that differs from the word it is measured by (an enum's value, shown as its member).
 */
export function didYouMean(
  name: string,
  known: readonly string[],
  prefix = '',
  shown = (meant: string) => `${prefix}${meant}`,
): string | undefined {
  const under = known.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  const meant = closestName(name.startsWith(prefix) ? name.slice(prefix.length) : name, under);
  return meant === undefined ? undefined : `did you mean ${shown(meant)}?`;
}

/**
 * A message about a name that is none of the `known` ones, with the one it most likely meant: `names a queue that
 * is not configured: did you mean events?`, as an unknown configuration key's message says it; `shown` as for
 * {@link didYouMean}.
 */
export function withDidYouMean(
  message: string,
  name: string,
  known: readonly string[],
  shown?: (meant: string) => string,
): string {
  const suggestion = didYouMean(name, known, '', shown);
  return suggestion ? `${message}: ${suggestion}` : message;
}

/**
 * ` (did you mean events?)` after an unknown name in a one-line error, where one of the `known` names is close
 * (measured without a `prefix` they all share, {@link didYouMean});
 * nothing where none is: `unknown queue "event" in local mode (did you mean events?): use one of events, orders`.
 */
export function didYouMeanAside(name: string, known: readonly string[], prefix = ''): string {
  const suggestion = didYouMean(name, known, prefix);
  return suggestion ? ` (${suggestion})` : '';
}
