/**
 * How `tail` follows local mode's journal: what it shows of lines written after it started, how it finds where to
 * start and notices a journal that started over, the pause between reads (which leaves nothing behind on the
 * Ctrl-C signal of a run that lasts hours), the timelines it remembers, its line's layout, and `--since`.
 */
import { getEventListeners } from 'node:events';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pause } from '../../lib/cli/backend';
import { colorsFor } from '../../lib/cli/output';
import {
  checkSince,
  renderTailLine,
  type TailLine,
  TailTimelines,
  tailJournal,
  tailSelection,
} from '../../lib/cli/tail';
import type { OutcomeRow } from '../../lib/cli/trace';
import { JournalFollower } from '../../lib/local/journal-read';
import { localTestTarget } from './helpers';

const line = (fields: Record<string, unknown>) =>
  `${JSON.stringify({ at: '2026-12-05T10:00:00.000Z', ...fields })}\n`;

describe("tail following local mode's journal", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-tail-follow-'));
    path = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `tail` on the journal until it emitted `count` lines (or 10 s passed), writing `write` once it started. */
  async function tailed(
    options: { select?: (row: OutcomeRow) => boolean; since?: Date; count: number },
    write: () => void,
  ): Promise<TailLine[]> {
    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    const run = tailJournal(path, options.select ?? (() => true), {
      emit: (tailLine) => {
        emitted.push(tailLine);
        if (emitted.length === options.count) stop.abort();
      },
      signal: stop.signal,
      ...(options.since ? { since: options.since } : {}),
      pollIntervalMs: 5,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    write();
    await run;
    clearTimeout(timer);
    return emitted;
  }

  it('shows only what is written after it started and what it selects, each step read against the lines it left out', async () => {
    writeFileSync(path, line({ event: 'dead-lettered', id: 'before', queue: 'events', attempt: 3 }));
    const shown = await tailed({ select: (row) => row.outcome !== 'dead-lettered', count: 3 }, () =>
      appendFileSync(
        path,
        line({ event: 'dead-lettered', id: 'e1', queue: 'events', attempt: 3 }) +
          // Local mode's own error line is no event's step.
          line({ event: 'error', message: 'consumer crashed' }) +
          line({ event: 'processed', id: 'e1', queue: 'events', attempt: 1 }) +
          line({ event: 'processed', id: 'before', queue: 'events', attempt: 1 }),
      ),
    );
    expect(shown.map((s) => `${s.id} ${s.step}`)).toEqual(['e1 redriven', 'e1 attempt', 'before attempt']);
  });

  it('shows a step whose line the journal got after a later step was shown where it was read, marked late', async () => {
    writeFileSync(path, '');
    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    const run = tailJournal(path, () => true, {
      emit: (tailLine) => {
        emitted.push(tailLine);
        // The ingest's line of an earlier time, written once the consumer's was shown: far past the settle window.
        if (emitted.length === 1) {
          appendFileSync(path, line({ event: 'queued', id: 'e1', status: 202, queue: 'events' }));
        }
        if (emitted.length === 3) stop.abort();
      },
      signal: stop.signal,
      pollIntervalMs: 5,
    });
    appendFileSync(
      path,
      line({ event: 'processed', id: 'e1', queue: 'events', attempt: 1, at: '2026-12-05T10:00:01.000Z' }),
    );
    await run;
    clearTimeout(timer);
    expect(emitted.map((s) => `${s.step}${s.late ? ' late' : ''}`)).toEqual([
      'attempt',
      'received late',
      'queued late',
    ]);
  });

  it('marks late only a step shown after a shown step of a later time, not after a line it left out', async () => {
    writeFileSync(path, '');
    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    const run = tailJournal(path, (row) => row.id !== 'left-out', {
      emit: (tailLine) => {
        emitted.push(tailLine);
        // Written once the line left out, of a later time, was let go: late in the journal, in place among those shown.
        if (emitted.length === 1) {
          appendFileSync(path, line({ event: 'processed', id: 'e2', queue: 'events', attempt: 1 }));
        }
        if (emitted.length === 2) stop.abort();
      },
      signal: stop.signal,
      pollIntervalMs: 5,
    });
    appendFileSync(
      path,
      line({ event: 'processed', id: 'e1', queue: 'events', attempt: 1, at: '2026-12-05T09:59:59.000Z' }) +
        line({
          event: 'processed',
          id: 'left-out',
          queue: 'events',
          attempt: 1,
          at: '2026-12-05T10:00:01.000Z',
        }),
    );
    await run;
    clearTimeout(timer);
    expect(emitted.map((s) => `${s.id}${s.late ? ' late' : ''}`)).toEqual(['e1', 'e2']);
  });

  it('reads the journal again only once its poll interval has passed', async () => {
    writeFileSync(path, '');
    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const run = tailJournal(path, () => true, {
      emit: (tailLine) => emitted.push(tailLine),
      signal: stop.signal,
      pollIntervalMs: 60_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    appendFileSync(path, line({ event: 'queued', id: 'later', status: 202, queue: 'events' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop.abort();
    await run;
    expect(emitted).toEqual([]);
  });

  it('with --since reads a journal longer than a read without waiting between its chunks', async () => {
    const lines = Array.from({ length: 2_000 }, (_, n) =>
      line({ event: 'queued', id: `e${n}`, status: 202, queue: 'events' }),
    );
    writeFileSync(path, lines.join(''));
    const emitted: TailLine[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 10_000);
    await tailJournal(path, () => true, {
      emit: (tailLine) => {
        emitted.push(tailLine);
        if (emitted.length === 4_000) stop.abort();
      },
      signal: stop.signal,
      since: new Date('2026-12-05T09:00:00.000Z'),
      // A pause this long between chunks would end the run at the timer, half read.
      pollIntervalMs: 60_000,
    });
    clearTimeout(timer);
    expect(emitted).toHaveLength(4_000);
  });

  it('from the end of a journal whose last line is still being written, shows that line once it is whole', () => {
    const partial = line({ event: 'queued', id: 'partial', status: 202, detail: 'x'.repeat(200) });
    // Written so far: more than a read of 64 bytes, and 63, where that read starts on the whole line's newline.
    for (const written of [150, 63]) {
      writeFileSync(path, line({ event: 'queued', id: 'whole', status: 202 }) + partial.slice(0, written));
      const follower = new JournalFollower(path, 'end', 64);
      appendFileSync(path, partial.slice(written));
      expect(follower.read().map((e) => e.id)).toEqual(['partial']);
    }
  });

  it('from the end of a journal holding no whole line yet, shows its first line once it is whole', () => {
    const first = line({ event: 'queued', id: 'first', status: 202, detail: 'x'.repeat(200) });
    writeFileSync(path, first.slice(0, 150));
    const follower = new JournalFollower(path, 'end', 64);
    appendFileSync(path, first.slice(150));
    expect(follower.read().map((e) => e.id)).toEqual(['first']);
  });

  it('from the end, reads a journal that started over and already holds more than it skipped from its start', () => {
    writeFileSync(path, line({ event: 'queued', id: 'old', status: 202 }));
    const follower = new JournalFollower(path, 'end');
    writeFileSync(
      path,
      line({ event: 'queued', id: 'new-first', status: 202, run: 'r2' }) +
        line({ event: 'queued', id: 'new-second', status: 202, run: 'r2' }),
    );
    expect(follower.read().map((e) => e.id)).toEqual(['new-first', 'new-second']);
  });

  it('reads a journal that started over while a line was half written from its start', () => {
    writeFileSync(path, line({ event: 'queued', id: 'run1-a', status: 202, run: 'r1' }));
    const follower = new JournalFollower(path, 'start');
    expect(follower.read().map((e) => e.id)).toEqual(['run1-a']);
    appendFileSync(path, line({ event: 'queued', id: 'run1-b', status: 202 }).slice(0, 20));
    expect(follower.read()).toEqual([]);
    writeFileSync(
      path,
      line({ event: 'queued', id: 'run2-first', status: 202, run: 'r2' }) +
        line({ event: 'queued', id: 'run2-second', status: 202, run: 'r2' }),
    );
    expect(follower.read().map((e) => e.id)).toEqual(['run2-first', 'run2-second']);
  });

  it('is not behind while the journal does not exist: tail waits between reads rather than spinning', () => {
    const follower = new JournalFollower(path, 'start');
    expect(follower.read()).toEqual([]);
    expect(follower.behind).toBe(false);
  });

  it('holds one file open between reads, however many it makes, and none once closed', () => {
    writeFileSync(path, line({ event: 'queued', id: 'a', status: 202 }));
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    const follower = new JournalFollower(path, 'end');
    for (let n = 0; n < 50; n++) follower.read();
    // The file it follows, held so that a rotation renaming it cannot take its last lines away.
    expect(open()).toBe(before + 1);
    follower.close();
    expect(open()).toBe(before);
  });
});

const attempt = (id: string, outcome = 'processed'): OutcomeRow => ({
  at: '2026-12-05T10:00:01.000Z',
  kind: 'consumer',
  id,
  source: 'github',
  type: 'invoice.paid',
  queue: 'events',
  attempt: 1,
  outcome,
});

describe('tail between reads', () => {
  it('leaves no listener on the Ctrl-C signal after each pause, however many a long tail makes', async () => {
    const stop = new AbortController();
    for (let n = 0; n < 20; n++) await pause(1, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('waits its time when nothing aborts it', async () => {
    const started = Date.now();
    await pause(40, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('ends a pause as soon as Ctrl-C aborts it, and pauses no more once aborted', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const paused = pause(60_000, stop.signal);
    setTimeout(() => stop.abort(), 5);
    await paused;
    await pause(60_000, stop.signal);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('tail timelines', () => {
  it('remember as many events as they may, the most recently seen, so a redriven event keeps its redrive', () => {
    const timelines = new TailTimelines(2);
    timelines.steps(attempt('e1', 'dead-lettered'));
    timelines.steps(attempt('e2'));
    // e1 is seen again (a line of it), so e2 is the oldest when e3 comes.
    timelines.steps({ ...attempt('e1', 'dead-lettered'), attempt: 2 });
    timelines.steps(attempt('e3'));
    expect(timelines.steps(attempt('e1')).map((s) => s.step)).toEqual(['redriven', 'attempt']);
  });

  it('tell events apart by source as well as id', () => {
    const timelines = new TailTimelines();
    timelines.steps(attempt('e1', 'dead-lettered'));
    expect(timelines.steps({ ...attempt('e1'), source: 'stripe' }).map((s) => s.step)).toEqual(['attempt']);
  });
});

describe('tail lines and filters', () => {
  it('show an event without a source or type by its id alone, and end with no space when the step says nothing more', () => {
    const c = colorsFor(false);
    const redriven = { at: '2026-12-05T10:00:00.000Z', step: 'redriven', id: 'e1' } as TailLine;
    expect(renderTailLine(c, redriven)).toBe('2026-12-05T10:00:00.000Z  redriven      e1');
    const [attempted] = new TailTimelines().steps({ ...attempt('e1'), source: undefined, type: undefined });
    expect(renderTailLine(c, attempted as TailLine)).toMatch(
      /^2026-12-05T10:00:01\.000Z {2}attempt {7}e1 queue=events attempt=1 processed$/,
    );
  });

  it('say of a step shown out of its place in time that its line was written late', () => {
    const late = { at: '2026-12-05T10:00:00.000Z', step: 'received', id: 'e1', late: true } as TailLine;
    expect(renderTailLine(colorsFor(false), late)).toBe(
      '2026-12-05T10:00:00.000Z  received      e1 (written late)',
    );
  });

  it('add no line for a row without an event id', () => {
    const { id: _, ...anonymous } = attempt('e1');
    expect(new TailTimelines().steps(anonymous)).toEqual([]);
  });

  it('select by --type only rows that have a type, even with **', () => {
    const { type: _, ...untyped } = attempt('e1');
    expect(tailSelection(localTestTarget(), { type: '**' })(untyped)).toBe(false);
  });

  it('refuse a blank --type, saying what leaving it out shows', () => {
    expect(() => tailSelection(localTestTarget(), { type: ' ' })).toThrow(
      '--type must not be empty: give an event type pattern such as "invoice.*", or leave --type out to see every type',
    );
  });

  it('refuse a blank --queue as empty, not as a queue that is not there', () => {
    expect(() => tailSelection(localTestTarget(), { queue: ' ' })).toThrow(
      '--queue is empty: name a queue, or leave it out',
    );
  });
});

describe('tail --since', () => {
  it('takes a time up to now', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(() => checkSince(new Date(now), now)).not.toThrow();
  });
});
