/**
 * Where the console's live events come from. Local mode records its events in a journal served by its control
 * API (`GET /_hookline/events`); a deployed stack's are its outcome log lines, polled as `hookline tail` polls
 * them (`./deployed-feed`). Anything that can answer "the events after sequence N" plugs in as an
 * {@link EventFeed}.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import type { Backend, HttpFetch } from '../cli/backend';
import type { Target } from '../cli/target';
import type { JournalEntry } from '../local/journal';
import { JOURNAL_CHUNK_BYTES, journalChunksBack } from '../local/journal-read';
import { deployedEventFeed } from './deployed-feed';
import type { JournalRecentLines, JournalRunLines } from './feed-follower';

/** One pipeline event as the console shows it: what happened to which event, where and when. */
export interface FeedEvent {
  /** Increasing within a feed. */
  readonly seq: number;
  /** ISO time the event was recorded. */
  readonly at: string;
  /** `queued`, `processed`, `retried`, `dead-lettered`, `rejected`... */
  readonly event: string;
  readonly id?: string;
  readonly source?: string;
  readonly type?: string;
  /** A queue name, or several joined by commas (an event routed to more than one queue). */
  readonly queue?: string;
  /** The tenant it was queued under in its fair queues (distinct values, comma-separated). */
  readonly tenant?: string;
  readonly attempt?: number;
  readonly status?: number;
  readonly latencyMs?: number;
  readonly reason?: string;
  /** A consumer's retry or dead letter because another execution held the record's idempotency key. */
  readonly keyHeldElsewhere?: true;
  /** The WARN or ERROR level of the function line it was read from (local mode's event `level`); absent at INFO. */
  readonly level?: 'WARN' | 'ERROR';
  /**
   * The run of local mode that wrote it, which tells a line written before a restart from one written after (the
   * console numbers every run's lines on from the last); absent from a deployed stack's feed.
   */
  readonly run?: string;
}

/** A page of a feed: events after the number asked for, oldest first, and the newest number of the feed. */
export interface FeedPage {
  readonly events: readonly FeedEvent[];
  readonly latest: number;
  /** Which run of local mode numbered them (the numbers start at 1 again in the next); absent from older ones. */
  readonly run?: string;
  /** The run is stopping and has drained: nothing is numbered after `latest` in it. */
  readonly ended?: boolean;
  /**
   * Why the feed could not read what came after these events (a deployed stack's last poll failed): its reader
   * takes the events, then reports this as the feed's failure. A feed that has nothing to serve throws instead.
   */
  readonly failure?: Error;
}

/** A followable source of pipeline events. */
export interface EventFeed {
  /** Null when there is a feed; otherwise why there is none (shown instead of the live feed). */
  readonly unavailable: string | null;
  /** Events after `seq`, oldest first, and the newest sequence number of the feed. */
  after(seq: number): Promise<FeedPage>;
}

/**
 * Local mode's event journal, read through its control API under one follower name, so a stopping local mode
 * can wait for this reader to have its last lines.
 */
export function localEventFeed(
  controlUrl: string,
  http: HttpFetch,
  follower: string = randomUUID(),
): EventFeed {
  return {
    unavailable: null,
    async after(seq) {
      const response = await http(`${controlUrl}/events?after=${seq}&limit=1000&follower=${follower}`);
      if (response.status === 404) {
        throw new Error(
          `this local mode has no event journal: restart it with the current hookline (${START_LOCAL_MODE})`,
        );
      }
      if (!response.ok) throw new Error(`local mode answered HTTP ${response.status} for its events`);
      const page = (await response.json()) as Partial<FeedPage> & { events?: FeedEvent[] };
      return {
        events: page.events ?? [],
        latest: page.latest ?? seq,
        ...(typeof page.run === 'string' ? { run: page.run } : {}),
        ...(page.ended === true ? { ended: true } : {}),
      };
    },
  };
}

/**
 * Local mode's journal file as the follower reads a run's lines from it: only the lines of the run it follows from
 * the last it has on (numbered `from` or later). They are the file's newest lines of that run, so the file is read
 * back from its end a chunk at a time and reading stops at the line numbered `from` (a run's lines are written in the
 * order they are numbered): what it costs is bounded by what the follower lacks, not by the journal, which a local
 * mode with a data directory keeps across restarts (it may hold gigabytes, more than one string can). The answer is
 * kept until the file changes (size or time), so a console that looks at it every second while local mode is down
 * reads it once.
 *
 * @param chunkBytes the most one read of the file takes.
 */
export function journalFileLines(path: string, chunkBytes = JOURNAL_CHUNK_BYTES): JournalRunLines {
  let read: { key: string; from: number; lines: FeedEvent[] } | undefined;
  return (run, from) => {
    let signature: string;
    try {
      const stat = statSync(path);
      signature = `${stat.size}:${stat.mtimeMs}`;
    } catch {
      return undefined;
    }
    const key = `${signature}\u0000${run}`;
    if (read?.key !== key || from < read.from)
      read = { key, from, lines: runLinesFrom(path, run, from, chunkBytes) };
    return read.lines.filter((line) => line.seq >= from);
  };
}

/** The lines of `run` in the journal file numbered `from` or later, oldest first, read back from the file's end. */
function runLinesFrom(path: string, run: string, from: number, chunkBytes: number): FeedEvent[] {
  const newestFirst: FeedEvent[][] = [];
  for (const entries of journalChunksBack(path, chunkBytes)) {
    const ofRun = entries.flatMap((entry) => numberedLine(entry) ?? []).filter((line) => line.run === run);
    newestFirst.push(ofRun.filter((line) => line.seq >= from));
    if (ofRun.some((line) => line.seq <= from)) break;
  }
  return newestFirst.reverse().flat();
}

/**
 * The lines of every run of local mode's journal file written at `since` or later, at most the newest `most`, oldest
 * first. The file is read back from its end a chunk at a time (a journal kept across restarts may hold gigabytes), so
 * what it costs is bounded by the window, not the journal: reading stops once it has `most` lines, or has read a
 * chunk whose runs' lines are all older than `since`. Not at the first older line: lines are written in the order
 * they are journalled, but the times of different functions' lines can interleave by a few milliseconds. The CLI's
 * own lines (no run) never stop it: a replay's carry the time its run started. It yields between chunks so the
 * console answers meanwhile.
 *
 * @param chunkBytes the most one read of the file takes.
 */
export function journalRecentLines(path: string, chunkBytes = JOURNAL_CHUNK_BYTES): JournalRecentLines {
  return async (since, most) => {
    const from = since.toISOString();
    const newestFirst: (FeedEvent & { readonly run: string })[][] = [];
    let kept = 0;
    for (const entries of journalChunksBack(path, chunkBytes)) {
      const runs = entries.flatMap((entry) => numberedLine(entry) ?? []);
      const lines = runs.filter((line) => line.at >= from);
      newestFirst.push(lines);
      kept += lines.length;
      if (kept >= most || (runs.length > 0 && lines.length === 0)) break;
      await nextTurn();
    }
    return newestFirst.reverse().flat().slice(-most);
  };
}

/** A journal entry as the feed serves it, with its run and number; undefined for the CLI's own lines (neither). */
function numberedLine(entry: JournalEntry): (FeedEvent & { readonly run: string }) | undefined {
  const { run, seq } = entry;
  if (typeof run !== 'string' || typeof seq !== 'number') return undefined;
  return { ...entry, run, seq } as unknown as FeedEvent & { readonly run: string };
}

/** A feed that has nothing to follow, with the reason. */
export function unavailableFeed(reason: string): EventFeed {
  return { unavailable: reason, after: async (seq) => ({ events: [], latest: seq }) };
}

/** The feed of a target: local mode's journal, or a deployed stack's outcome log lines from now on. */
export function feedFor(target: Target, backend: Backend): EventFeed {
  if (target.kind === 'local') return localEventFeed(target.controlUrl, backend.http);
  return deployedEventFeed(backend, target);
}
