/**
 * When each step of local mode's start began and ended, relative to the start, so a slow start can be read as
 * a breakdown (`HOOKLINE_VERBOSE=1` prints it; the local benchmark reports it). Steps may overlap: several
 * run in parallel.
 */

/** One step of the start: offsets in ms from the start of {@link startLocalMode}. */
export interface StartupPhase {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Records the steps of one start. */
export class StartupPhases {
  private readonly origin = performance.now();
  private readonly recorded: StartupPhase[] = [];

  /** Runs `work` as the step `name`, recording when it began and ended (also when it fails). */
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const startMs = this.now();
    try {
      return await work();
    } finally {
      this.recorded.push({ name, startMs, endMs: this.now() });
    }
  }

  /** The steps in the order they began. */
  list(): readonly StartupPhase[] {
    return [...this.recorded].sort((a, b) => a.startMs - b.startMs);
  }

  /** One line: `name start-end ms, ...`. */
  describe(): string {
    return this.list()
      .map((p) => `${p.name} ${Math.round(p.startMs)}-${Math.round(p.endMs)}`)
      .join(', ');
  }

  private now(): number {
    return Math.round((performance.now() - this.origin) * 10) / 10;
  }
}
