/**
 * Pages of a list the console reads whole (job records, a dead-letter queue), newest first. A page is named by
 * the sort key of a row next to it, not by a position: rows that arrive between two reads are newer than every
 * row already shown, so the next page neither repeats a row nor skips one, and the counts said around a page
 * (how many are newer, how many older) are exact for the read that answered it.
 */
import { CliError } from '../cli/errors';

/** The rows of one page, newest first. */
export interface Page<T> {
  readonly items: T[];
  /** Every row of the read. */
  readonly total: number;
  /** Rows newer than the first one shown: the page starts at row `newer + 1`. */
  readonly newer: number;
  /** Rows older than the last one shown. */
  readonly older: number;
  /** The cursor of the next (older) page, or null on the last. */
  readonly next: string | null;
  /** The cursor of the previous (newer) page, or null on the first. */
  readonly previous: string | null;
}

/** Where a page starts: rows older than `before`, or (going back) rows newer than `after`. */
export interface PageCursor {
  readonly before?: string;
  readonly after?: string;
}

/** The size of a page: what the pages of the console have always shown. */
export const PAGE_SIZE = 200;

const BEFORE = 'b:';
const AFTER = 'a:';

/** A page cursor from a query's `page` parameter (`b:<key>` or `a:<key>`, as {@link Page} hands them out). */
export function pageCursorOf(page: string | null | undefined): PageCursor {
  if (page === null || page === undefined || page === '') return {};
  if (page.startsWith(BEFORE)) return { before: page.slice(BEFORE.length) };
  if (page.startsWith(AFTER)) return { after: page.slice(AFTER.length) };
  throw new CliError(
    `page ${page} is not a page of this list: follow the page's Next and Previous links, or leave page out for the newest`,
  );
}

/**
 * The page of `rows` that `cursor` names, newest first by `keyOf` (keys must be unique: a tie would make a row's
 * page depend on the order of the read). Without a cursor, the newest `size`.
 */
export function pageOf<T>(
  rows: readonly T[],
  keyOf: (row: T) => string,
  cursor: PageCursor,
  size = PAGE_SIZE,
): Page<T> {
  const keyed = rows.map((row) => ({ row, key: keyOf(row) }));
  keyed.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  let start = 0;
  if (cursor.before !== undefined) {
    const { before } = cursor;
    start = keyed.findIndex((k) => k.key < before);
    if (start < 0) start = keyed.length;
  } else if (cursor.after !== undefined) {
    const { after } = cursor;
    const firstNotNewer = keyed.findIndex((k) => k.key <= after);
    const end = firstNotNewer < 0 ? keyed.length : firstNotNewer;
    start = Math.max(0, end - size);
  }
  const shown = keyed.slice(start, start + size);
  const first = shown[0];
  const last = shown.at(-1);
  const older = keyed.length - start - shown.length;
  return {
    items: shown.map((k) => k.row),
    total: keyed.length,
    newer: start,
    older,
    next: last && older > 0 ? `${BEFORE}${last.key}` : null,
    previous: first && start > 0 ? `${AFTER}${first.key}` : null,
  };
}
