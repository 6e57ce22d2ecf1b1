/**
 * The console's pages of a long list (job records, dead letters): newest first, every row on exactly one page
 * however the pages are walked, exact counts around each page, and a page that stays put when newer rows arrive.
 */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/errors';
import { type Page, pageCursorOf, pageOf } from '../../lib/console/paging';

/** Rows keyed `k0000`..., in a shuffled order, as a read hands them over. */
const rows = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `k${String(from + i).padStart(4, '0')}`).sort(
    () => Math.random() - 0.5,
  );
const key = (row: string) => row;

/** Every page from the newest, following Next. */
function walk(all: readonly string[], size: number): Page<string>[] {
  const pages = [pageOf(all, key, {}, size)];
  for (let last = pages[0]; last?.next; ) {
    last = pageOf(all, key, pageCursorOf(last.next), size);
    pages.push(last);
  }
  return pages;
}

describe('console pages', () => {
  it('puts every row on exactly one page, newest first, with the counts before and after each page', () => {
    const all = rows(450);
    const pages = walk(all, 200);
    expect(pages.map((p) => [p.newer, p.items.length, p.older, p.total])).toEqual([
      [0, 200, 250, 450],
      [200, 200, 50, 450],
      [400, 50, 0, 450],
    ]);
    const seen = pages.flatMap((p) => p.items);
    expect(seen).toEqual([...all].sort().reverse());
    expect(pages.map((p) => [p.previous === null, p.next === null])).toEqual([
      [true, false],
      [false, false],
      [false, true],
    ]);
  });

  it('goes back with Previous to the very rows of the page before', () => {
    const all = rows(450);
    const [first, second, third] = walk(all, 200);
    const back = pageOf(all, key, pageCursorOf(third?.previous), 200);
    expect(back.items).toEqual(second?.items);
    expect(pageOf(all, key, pageCursorOf(back.previous), 200).items).toEqual(first?.items);
  });

  it('keeps the next page where it was when newer rows arrive between two reads: nothing twice, nothing skipped', () => {
    const before = rows(300);
    const first = pageOf(before, key, {}, 200);
    const after = [...before, ...rows(50, 300)];
    const second = pageOf(after, key, pageCursorOf(first.next), 200);
    expect(second.items).toEqual([...before].sort().reverse().slice(200));
    expect([second.newer, second.older, second.total]).toEqual([250, 0, 350]);
  });

  it('answers an empty list with an empty first page and no links', () => {
    expect(pageOf([], key, {})).toEqual({
      items: [],
      total: 0,
      newer: 0,
      older: 0,
      next: null,
      previous: null,
    });
  });

  it('refuses a page cursor it never handed out rather than showing the first page as if it were asked for', () => {
    expect(() => pageCursorOf('7')).toThrow(CliError);
    expect(pageCursorOf('')).toEqual({});
  });
});
