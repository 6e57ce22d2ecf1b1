/**
 * The console following local mode's journal across its stops and restarts, with local mode's real journal ring
 * and journal file behind the feed: every line it journaled is shown once, those the feed could not give read from
 * the file, and what neither had is counted, or said to be unknown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { CliError } from '../../lib/cli/errors';
import { resolveConfig } from '../../lib/config';
import { type EventFeed, journalFileLines, journalRecentLines } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import { EventJournal } from '../../lib/local/event-journal';
import { Journal } from '../../lib/local/journal';
import { localTestTarget, testBackend } from '../cli/helpers';

const config = resolveConfig(exampleConfig);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One run of local mode: its journal ring, writing to the journal file as local mode does. */
function run(
  path: string,
  name: string,
  options: { truncate: boolean; capacity?: number; now?: () => Date },
) {
  const file = new Journal(path, { truncate: options.truncate });
  return { journal: new EventJournal(options.capacity ?? 5_000, options.now, file, name), file };
}

const line = (event: string, n: number) => ({ event, id: `e${n}`, source: 'github', queue: 'events' });

/**
 * A console on local mode at one address (a fixed `PORT` and emulator ports, so only the feed tells a restart),
 * reconnecting to whatever run is current, or failing as the CLI does while none is.
 */
function consoleOn(path: string, first: EventJournal) {
  let current: EventJournal | undefined = first;
  const feed: EventFeed = {
    unavailable: null,
    after: async (seq) => {
      if (!current) throw new Error('fetch failed');
      return current.after(seq, 1_000, 'console');
    },
  };
  const connection = { backend: testBackend(), target: localTestTarget(), feed };
  const ops = new ConsoleOperations({
    ...connection,
    config,
    journalLines: journalFileLines(path),
    journalRecentLines: journalRecentLines(path),
    reconnect: async () => {
      if (!current)
        throw new CliError('local mode is not running: start it with npm start or npx hookline dev');
      return connection;
    },
  });
  return {
    ops,
    switchTo: (next: EventJournal | undefined) => {
      current = next;
    },
    shown: () =>
      ops
        .events({})
        .events.map((e) => `${e.seq} ${e.event} ${e.id}`)
        .reverse(),
  };
}

function journalPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-follower-'));
  dirs.push(dir);
  return join(dir, 'journal.jsonl');
}

describe('the console following local mode through a stop and a restart', () => {
  it("shows the lines a stopped run journaled after the console's last read, read from the journal file, then the next run's", async () => {
    const path = journalPath();
    const first = run(path, 'run-1', { truncate: true });
    const view = consoleOn(path, first.journal);
    for (let n = 0; n < 3; n++) first.journal.record(line('queued', n));
    await view.ops.pump();
    // Its last moments, which the console did not read before the feed went away.
    for (let n = 0; n < 3; n++) first.journal.record(line('processed', n));
    await first.file.close();
    view.switchTo(undefined);
    await view.ops.pump();
    expect(view.ops.events({}).feed.error).toMatch(/not running/);
    expect(view.shown()).toEqual([
      '1 queued e0',
      '2 queued e1',
      '3 queued e2',
      '4 processed e0',
      '5 processed e1',
      '6 processed e2',
    ]);

    // Restarted on the same data directory and address: the new run numbers from 1 again.
    const second = run(path, 'run-2', { truncate: false });
    second.journal.record(line('queued', 3));
    second.journal.record(line('processed', 3));
    view.switchTo(second.journal);
    await view.ops.pump();
    await view.ops.pump();
    expect(view.shown().slice(6)).toEqual(['7 queued e3', '8 processed e3']);
    expect(view.ops.events({}).feed).toEqual({ unavailable: null, error: null, missed: 0, unreadEnds: null });
    await second.file.close();
  });

  it("restarted under it without a pause between two reads: the old run's unread end comes from the file, the new run is not hidden behind the old numbers", async () => {
    const path = journalPath();
    const first = run(path, 'run-1', { truncate: true });
    const view = consoleOn(path, first.journal);
    for (let n = 0; n < 5; n++) first.journal.record(line('queued', n));
    await view.ops.pump();
    for (let n = 0; n < 5; n++) first.journal.record(line('processed', n));
    await first.file.close();
    const second = run(path, 'run-2', { truncate: false });
    second.journal.record(line('queued', 5));
    view.switchTo(second.journal);
    await view.ops.pump();
    expect(view.shown()).toHaveLength(11);
    expect(view.shown().at(-1)).toBe('11 queued e5');
    expect(view.ops.events({}).feed).toMatchObject({ missed: 0, unreadEnds: null });
    await second.file.close();
  });

  it('says plainly that it missed an unknown number when a restart without a data directory emptied the file first', async () => {
    const path = journalPath();
    const first = run(path, 'run-1', { truncate: true });
    const view = consoleOn(path, first.journal);
    first.journal.record(line('queued', 0));
    await view.ops.pump();
    first.journal.record(line('processed', 0));
    await first.file.close();
    const second = run(path, 'run-2', { truncate: true });
    second.journal.record(line('queued', 1));
    view.switchTo(second.journal);
    await view.ops.pump();
    expect(view.shown()).toEqual(['1 queued e0', '2 queued e1']);
    const { feed } = view.ops.events({});
    expect(feed.missed).toBe(0);
    expect(feed.unreadEnds).toMatch(
      /^a run of local mode ended before this console read its last events, and the journal no longer holds them .*an unknown number of events is missing here/,
    );
    await second.file.close();
  });

  it('claims nothing missing after a run it read to its end, however the file was emptied', async () => {
    const path = journalPath();
    const first = run(path, 'run-1', { truncate: true });
    const view = consoleOn(path, first.journal);
    first.journal.record(line('queued', 0));
    first.journal.end();
    await view.ops.pump();
    await first.file.close();
    const second = run(path, 'run-2', { truncate: true });
    view.switchTo(second.journal);
    await view.ops.pump();
    expect(view.ops.events({}).feed).toMatchObject({ missed: 0, unreadEnds: null });
    await second.file.close();
  });

  it('reads from the file the lines the ring dropped before the console read them, so none is counted missed', async () => {
    const path = journalPath();
    const first = run(path, 'run-1', { truncate: true, capacity: 5 });
    const view = consoleOn(path, first.journal);
    for (let n = 0; n < 2; n++) first.journal.record(line('queued', n));
    await view.ops.pump();
    for (let n = 2; n < 22; n++) first.journal.record(line('queued', n));
    // The file is written asynchronously; closing it here stands for the lines having reached the disk.
    await first.file.close();
    await view.ops.pump();
    expect(view.shown().map((s) => s.split(' ')[2])).toEqual(Array.from({ length: 22 }, (_, n) => `e${n}`));
    expect(view.ops.events({}).feed.missed).toBe(0);
  });
});

describe('a console started after local mode was restarted on its data directory', () => {
  it("shows the earlier runs' lines within its five minutes, then the current run's, each once: those its ring dropped from the file, those it serves from the feed", async () => {
    const path = journalPath();
    const old = run(path, 'run-0', { truncate: true, now: () => new Date(Date.now() - 6 * 60_000) });
    old.journal.record(line('processed', 0));
    await old.file.close();
    const earlier = run(path, 'run-1', { truncate: false });
    for (let n = 1; n < 3; n++) earlier.journal.record(line('processed', n));
    await earlier.file.close();
    const current = run(path, 'run-2', { truncate: false, capacity: 2 });
    for (let n = 3; n < 7; n++) current.journal.record(line('processed', n));
    await current.file.close();

    const view = consoleOn(path, current.journal);
    await view.ops.pump();
    expect(view.shown()).toEqual([
      '1 processed e1',
      '2 processed e2',
      '3 processed e3',
      '4 processed e4',
      '5 processed e5',
      '6 processed e6',
    ]);
    const runs = view.ops
      .events({})
      .events.reverse()
      .map((e) => e.run);
    expect(runs).toEqual(['run-1', 'run-1', 'run-2', 'run-2', 'run-2', 'run-2']);
    expect(view.ops.events({}).feed).toMatchObject({ missed: 0, unreadEnds: null });
  });

  it('keeps at most as many of the earlier lines as the console keeps events, the newest', async () => {
    const path = journalPath();
    const earlier = run(path, 'run-1', { truncate: true });
    for (let n = 0; n < 2_100; n++) earlier.journal.record(line('queued', n));
    await earlier.file.close();
    const current = run(path, 'run-2', { truncate: false });
    current.journal.record(line('queued', 2_100));
    await current.file.close();

    const view = consoleOn(path, current.journal);
    await view.ops.pump();
    const kept = view.ops.activity.list({}, 5_000).map((e) => `${e.seq} ${e.id}`);
    // The file's newest 2,000 lines of any run: the earlier run's e101 to e2099 numbered 1 to 1,999, then the current's.
    expect(kept).toHaveLength(2_000);
    expect(kept.at(-1)).toBe('1 e101');
    expect(kept[0]).toBe('2000 e2100');
  });
});
