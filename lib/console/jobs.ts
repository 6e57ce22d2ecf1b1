/**
 * Long operations started from the console (redrive, delete, purge, replay, cancel of matching jobs) run as jobs: the request answers at once with the
 * job id, the page polls the job for its progress, notes and result. A job talks to the command core through
 * the same {@link Output} the terminal uses, so progress bars become progress fields.
 */
import { randomUUID } from 'node:crypto';
import { CliError, errorLine } from '../cli/errors';
import type { CommandHints, Output } from '../cli/output';

export type JobState = 'running' | 'done' | 'failed';

export interface Job {
  readonly id: string;
  /** `redrive`, `purge`... */
  readonly kind: string;
  /** What it does, for a person: `redrive events: 2 selected`. */
  readonly label: string;
  state: JobState;
  progress: { done: number; total: number | null; label: string } | null;
  readonly notes: string[];
  result: unknown;
  /**
   * The command's own summary of its result, line by line as the terminal prints it (a redrive's moved, left
   * and why it stopped early), or null where the page words the result itself.
   */
  summary: string[] | null;
  /** The one-line error of a failed job. */
  error: string | null;
  readonly startedAt: string;
  finishedAt: string | null;
}

const noColor = (text: string) => text;

/** An {@link Output} that records into a job; it never prompts (the page confirmed before the job started). */
export function jobOutput(job: Job, hints: CommandHints = {}): Output {
  return {
    ...(hints.command ? { command: hints.command } : {}),
    json: true,
    interactive: false,
    colors: { bold: noColor, dim: noColor, red: noColor, green: noColor, yellow: noColor },
    line: () => {},
    note: (text) => {
      job.notes.push(text);
    },
    progress(label, total) {
      job.progress = { done: 0, total: total ?? null, label };
      return {
        update(done, newTotal) {
          job.progress = { done, total: newTotal ?? job.progress?.total ?? null, label };
        },
        done: () => {},
      };
    },
    confirm: async () => false,
    result: () => {},
  };
}

/** What `render` prints for `result`, line by line, without colours. */
export function summaryLines<T>(
  render: (output: Output, result: T) => void,
  result: T,
  hints: CommandHints,
): string[] {
  const lines: string[] = [];
  render({ ...discardOutput(hints), json: false, line: (text) => lines.push(text) }, result);
  return lines;
}

/** An {@link Output} that keeps nothing (calls whose progress nobody follows). */
export function discardOutput(hints: CommandHints = {}): Output {
  return jobOutput(runningJob('', 'discard', '', ''), hints);
}

/** A job just started: running, nothing reported yet. */
function runningJob(id: string, kind: string, label: string, startedAt: string): Job {
  return {
    id,
    kind,
    label,
    state: 'running',
    progress: null,
    notes: [],
    result: null,
    summary: null,
    error: null,
    startedAt,
    finishedAt: null,
  };
}

/** The jobs of one console run; finished ones are kept (the newest 50) so the page can show their results. */
export class Jobs {
  private readonly jobs = new Map<string, Job>();

  /**
   * `hints`: the console's target flags, for the commands its summaries and notes name; `tell`: a failed job's
   * error as its one line (the console's last resort, which logs what it cannot explain).
   */
  constructor(
    private readonly hints: CommandHints = {},
    private readonly tell: (error: unknown, label: string) => string = errorLine,
  ) {}
  /** Aborted when the console stops: every job's work stops at its next safe point. */
  private readonly stopping = new AbortController();

  /**
   * Runs `work` as a job. `signal` is aborted when the console stops; work that takes long (a redrive, a
   * replay) checks it between batches, as the CLI's commands do on Ctrl-C, and resolves with what it did.
   */
  start<T>(
    kind: string,
    label: string,
    work: (output: Output, signal: AbortSignal) => Promise<T>,
    render?: (output: Output, result: T) => void,
  ): Job {
    if (this.stopping.signal.aborted) throw new CliError('the console is stopping: no new job was started');
    const job = runningJob(randomUUID(), kind, label, new Date().toISOString());
    this.jobs.set(job.id, job);
    this.trim();
    void work(jobOutput(job, this.hints), this.stopping.signal).then(
      (result) => {
        if (render) job.summary = summaryLines(render, result, this.hints);
        this.finish(job, 'done', result, null);
      },
      (error: unknown) => this.finish(job, 'failed', null, this.tell(error, label)),
    );
    return job;
  }

  private finish(job: Job, state: JobState, result: unknown, error: string | null): void {
    job.state = state;
    job.result = result;
    job.error = error;
    job.finishedAt = new Date().toISOString();
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  /** Jobs running now, newest first. */
  running(): Job[] {
    return this.list().filter((j) => j.state === 'running');
  }

  /**
   * Asks every running job to stop at its next safe point, refuses new ones, and resolves once they have all
   * finished, with the jobs that were running (their results say how far they got).
   */
  async stop(): Promise<Job[]> {
    const running = this.running();
    this.stopping.abort();
    await this.idle();
    return running;
  }

  /** Resolves when no job runs any more (tests, shutdown). */
  async idle(pollMs = 50): Promise<void> {
    while ([...this.jobs.values()].some((j) => j.state === 'running')) {
      await new Promise((done) => setTimeout(done, pollMs));
    }
  }

  private trim(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - 50))) this.jobs.delete(job.id);
  }
}
