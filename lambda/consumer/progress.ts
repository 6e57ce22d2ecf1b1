/**
 * `ctx.progress(value)`: a job handler's progress, kept in its job record (`lambda/shared/job-record.ts`). A value
 * is checked when it is reported; writes are coalesced so a handler reporting in a tight loop costs at most one
 * write per {@link PROGRESS_INTERVAL_MS} per job, and the last value is written before the attempt's outcome.
 */

/** What a handler may report: a percentage, or a small JSON value (`{ step: 2, of: 5 }`). */
export type JobProgress =
  | number
  | string
  | boolean
  | null
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/** The largest progress value kept, as JSON: a status, not a result (those may take 256 KiB). */
export const MAX_PROGRESS_BYTES = 1024;

/** The least time between two progress writes of one job's attempt. */
export const PROGRESS_INTERVAL_MS = 1000;

/** A value `ctx.progress` refuses; thrown to the handler that reported it, a mistake in its code. */
export class InvalidProgressError extends TypeError {
  constructor(message: string) {
    super(`ctx.progress: ${message}`);
    this.name = 'InvalidProgressError';
  }
}

/**
 * The value as the record keeps it (JSON), or an {@link InvalidProgressError}: a number is a percentage from 0 to
 * 100; anything else must be JSON of at most {@link MAX_PROGRESS_BYTES} bytes.
 */
export function progressJson(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      throw new InvalidProgressError(
        `${value} is not a percentage: pass a number from 0 to 100, or a small JSON value such as { step: 2, of: 5 }`,
      );
    }
    return JSON.stringify(value);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined || typeof value === 'function') {
    throw new InvalidProgressError(
      'the value is not JSON (undefined, a function, a cycle or a BigInt): pass a number from 0 to 100 or a JSON value',
    );
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_PROGRESS_BYTES) {
    throw new InvalidProgressError(
      `the value is ${bytes} bytes of JSON, more than ${MAX_PROGRESS_BYTES}: report a summary (a percentage, a step), keep the rest in the result`,
    );
  }
  return json;
}

/** Writes one value to the record; resolves false when the record no longer belongs to this attempt. */
export type ProgressWrite = (json: string, at: Date) => Promise<boolean>;

/** What the coalescer needs from the outside world (a fake clock in tests). */
export interface ProgressClock {
  readonly now: () => number;
  /** Calls `ring` once, `delayMs` from now, unless the returned cancel is called first (`setTimeout`). */
  readonly alarm: (delayMs: number, ring: () => void) => () => void;
}

/**
 * One attempt's progress: at most one write in flight and one per {@link PROGRESS_INTERVAL_MS}; a value reported
 * meanwhile waits, and only the latest one is written. A failed write is logged, never thrown: progress is a
 * status, and the job goes on. Once the record says the attempt is over (a write refused), or once
 * {@link settle} ran, later reports are dropped.
 */
export class ProgressReporter {
  #pending: string | undefined;
  #lastWriteMs = Number.NEGATIVE_INFINITY;
  #writing: Promise<void> | undefined;
  #cancelAlarm: (() => void) | undefined;
  /** Settled: the outcome is being recorded. */
  #closed = false;
  /** The record refused a write: it no longer says this attempt runs. */
  #refused = false;

  constructor(
    private readonly write: ProgressWrite,
    private readonly clock: ProgressClock,
    private readonly warn: (message: string, error: unknown) => void,
  ) {}

  /** Takes a value checked by {@link progressJson}; writes it now, or when the interval allows. */
  report(json: string): void {
    if (this.#closed || this.#refused) return;
    this.#pending = json;
    this.#pump();
  }

  /** Writes the value still waiting, if any, and drops later reports: called before the outcome is recorded. */
  async settle(): Promise<void> {
    this.#closed = true;
    this.#cancelAlarm?.();
    this.#cancelAlarm = undefined;
    while (this.#writing) await this.#writing;
    if (!this.#refused && this.#pending !== undefined) this.#start();
    while (this.#writing) await this.#writing;
  }

  #pump(): void {
    if (this.#writing || this.#cancelAlarm || this.#pending === undefined || this.#closed || this.#refused)
      return;
    const waitMs = this.#lastWriteMs + PROGRESS_INTERVAL_MS - this.clock.now();
    if (waitMs <= 0) {
      this.#start();
      return;
    }
    this.#cancelAlarm = this.clock.alarm(waitMs, () => {
      this.#cancelAlarm = undefined;
      this.#pump();
    });
  }

  #start(): void {
    const json = this.#pending as string;
    this.#pending = undefined;
    const at = this.clock.now();
    this.#lastWriteMs = at;
    this.#writing = this.write(json, new Date(at)).then(
      (applied) => {
        if (!applied) this.#refused = true;
      },
      (error: unknown) => this.warn('could not record the job progress', error),
    );
    void this.#writing.then(() => {
      this.#writing = undefined;
      this.#pump();
    });
  }
}
