/**
 * A deadline alarm (`lambda/shared/invocation-deadline.ts`'s `Alarm`) rung by the test: the delay each batch or
 * request asked for, and `ring()` to reach the deadline margin now (no timers, no waiting).
 */
export class FakeAlarm {
  readonly delays: number[] = [];
  #rings: Array<() => void> = [];
  readonly alarm = (delayMs: number, ring: () => void) => {
    this.delays.push(delayMs);
    this.#rings.push(ring);
    return () => {
      this.#rings = this.#rings.filter((r) => r !== ring);
    };
  };
  /** Rings every alarm still set; false when none was (every batch or request had finished, or none set one). */
  ring(): boolean {
    const rings = this.#rings;
    this.#rings = [];
    for (const ring of rings) ring();
    return rings.length > 0;
  }
}
