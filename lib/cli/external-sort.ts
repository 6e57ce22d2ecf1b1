/**
 * A stable sort of more items than memory should hold (an external merge sort): items are added one by one and
 * kept in a run until the run's serialized size passes a byte budget; the run is then sorted and written, one JSON
 * line per item, to a file in a private temporary folder. `sorted()` merges the runs written and the one in memory,
 * reading each file line by line, so memory holds about one budget at a time whatever the number of items. When
 * nothing was written (a small input), nothing touches the disk.
 *
 * The order equals a stable in-memory sort by `keyOf`: each run is sorted stably, and among equal keys the merge
 * takes the earlier run first, whose items were all added before the later run's.
 */
import { createReadStream, rmSync } from 'node:fs';
import { chmod, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { CliError } from './errors';

export interface ExternalSortOptions<T> {
  /** The number to sort by; items with equal keys keep the order they were added in. */
  readonly keyOf: (item: T) => number;
  /** Serialized (JSON) characters a run holds in memory before it is written to disk. */
  readonly budgetBytes: number;
  /** Where the private folder of the runs is made. @default os.tmpdir() (TMPDIR) */
  readonly tempRoot?: string;
  /** Called with each run file once written (how many spills a sort made). */
  readonly onSpill?: (file: string) => void;
}

interface Entry {
  readonly key: number;
  readonly line: string;
}

/** A run being merged: its next entry, and how to read the one after. */
interface Head {
  entry: Entry | undefined;
  readonly next: () => Promise<Entry | undefined>;
  readonly close: () => void;
}

const byKey = (a: Entry, b: Entry) => a.key - b.key;

export class ExternalSorter<T> {
  private run: Entry[] = [];
  private runBytes = 0;
  private readonly files: string[] = [];
  private folder: string | undefined;
  private removeOnExit: (() => void) | undefined;
  private added = 0;

  constructor(private readonly options: ExternalSortOptions<T>) {}

  /** How many items were added. */
  get count(): number {
    return this.added;
  }

  /** How many runs were written to disk so far. */
  get spills(): number {
    return this.files.length;
  }

  /** Adds one item; writes the run to disk (and resolves once written) when it passes the budget. */
  async add(item: T): Promise<void> {
    const line = JSON.stringify(item);
    this.run.push({ key: this.options.keyOf(item), line });
    this.runBytes += line.length + 1;
    this.added++;
    if (this.runBytes > this.options.budgetBytes) await this.spill();
  }

  /**
   * Every item added, in key order. Ends by removing the temporary folder, also when the consumer stops early
   * or throws.
   */
  async *sorted(): AsyncGenerator<T> {
    const memory = this.run.sort(byKey);
    this.run = [];
    this.runBytes = 0;
    let position = 0;
    const heads: Head[] = this.files.map((file) => fileHead(file));
    heads.push({ entry: undefined, next: async () => memory[position++], close: () => {} });
    try {
      for (const head of heads) head.entry = await head.next();
      for (;;) {
        const head = earliest(heads);
        if (!head?.entry) return;
        const { line } = head.entry;
        head.entry = await head.next();
        yield JSON.parse(line) as T;
      }
    } finally {
      for (const head of heads) head.close();
      await this.dispose();
    }
  }

  /** Removes the temporary folder and what it holds (idempotent): call it in `finally` when `sorted()` may not run. */
  async dispose(): Promise<void> {
    const folder = this.folder;
    this.folder = undefined;
    this.run = [];
    if (this.removeOnExit) process.off('exit', this.removeOnExit);
    this.removeOnExit = undefined;
    if (folder) await rm(folder, { recursive: true, force: true });
  }

  private async spill(): Promise<void> {
    const run = this.run.sort(byKey);
    this.run = [];
    this.runBytes = 0;
    const folder = await this.ensureFolder();
    const file = path.join(folder, `run-${String(this.files.length).padStart(6, '0')}.jsonl`);
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        // Written in chunks of about a megabyte: one string of the whole run would double the memory it holds.
        let chunk: string[] = [];
        let size = 0;
        for (const { key, line } of run) {
          chunk.push(`${key}\t${line}\n`);
          size += line.length;
          if (size >= 1_048_576) {
            await handle.write(chunk.join(''));
            chunk = [];
            size = 0;
          }
        }
        if (chunk.length) await handle.write(chunk.join(''));
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw unwritable(folder, error);
    }
    this.files.push(file);
    this.options.onSpill?.(file);
  }

  /** The private folder of the runs (owner only: the items may hold personal data), made on the first spill. */
  private async ensureFolder(): Promise<string> {
    if (this.folder) return this.folder;
    const root = this.options.tempRoot ?? tmpdir();
    let folder: string;
    try {
      folder = await mkdtemp(path.join(root, 'hookline-sort-'));
      await chmod(folder, 0o700);
    } catch (error) {
      throw unwritable(root, error);
    }
    this.folder = folder;
    // A second Ctrl-C ends the process at once, past every `finally`: the runs must not outlive it.
    this.removeOnExit = () => rmSync(folder, { recursive: true, force: true });
    process.on('exit', this.removeOnExit);
    return folder;
  }
}

/** The run with the smallest next key; among equal keys the earliest run (the order items were added in). */
function earliest(heads: readonly Head[]): Head | undefined {
  let best: Head | undefined;
  for (const head of heads) {
    if (head.entry && (!best?.entry || head.entry.key < best.entry.key)) best = head;
  }
  return best;
}

/** Reads a run file line by line (`<key>\t<json>`). */
function fileHead(file: string): Head {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[
    Symbol.asyncIterator
  ]();
  return {
    entry: undefined,
    next: async () => {
      const { value, done } = await lines.next().catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new CliError(
          `cannot read back the sorted run ${file} (${reason}): was the temporary folder cleaned meanwhile?`,
        );
      });
      if (done) return undefined;
      const tab = (value as string).indexOf('\t');
      return { key: Number((value as string).slice(0, tab)), line: (value as string).slice(tab + 1) };
    },
    close: () => {
      void lines.return?.();
      stream.destroy();
    },
  };
}

/** A folder the runs cannot be written to (full, read-only, missing): where and why, for the caller to explain. */
export class SpillError extends CliError {
  constructor(
    readonly folder: string,
    readonly reason: string,
  ) {
    super(
      `cannot write to the temporary folder ${folder} (${reason}): free space there, or set TMPDIR to a folder with room for the data sorted`,
    );
    this.name = 'SpillError';
  }
}

function unwritable(folder: string, error: unknown): SpillError {
  return new SpillError(folder, error instanceof Error ? error.message : String(error));
}
