/**
 * Ctrl-C for a command that can stop cleanly: the first SIGINT (or SIGTERM) aborts a signal the command checks
 * between steps, so it hands back what it holds and prints its summary; a second one quits at once.
 */
import { constants } from 'node:os';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** Where interrupts come from: the process (replaced in tests). */
export interface Interrupts {
  /** Calls `listener` on every SIGINT and SIGTERM until the returned function is called. */
  listen(listener: (signal: InterruptSignal) => void): () => void;
  /** Ends the process now with this exit code. */
  exit(code: number): void;
}

const SIGNALS: readonly InterruptSignal[] = ['SIGINT', 'SIGTERM'];

/** The process's own SIGINT and SIGTERM; while a listener is on, Node no longer ends the process for them. */
export const processInterrupts: Interrupts = {
  listen(listener) {
    for (const signal of SIGNALS) process.on(signal, listener);
    return () => {
      for (const signal of SIGNALS) process.off(signal, listener);
    };
  },
  exit: (code) => process.exit(code),
};

/** The exit status of a command ended by `signal`, as a shell reports it: 128 + the signal number (130 for Ctrl-C). */
export function interruptedExitCode(signal: InterruptSignal): number {
  return 128 + constants.signals[signal];
}

/** What an interruptible command returned, and the interrupt that stopped it early, if one did. */
export interface InterruptibleOutcome<T> {
  readonly result: T;
  readonly interruptedBy?: InterruptSignal;
}

/**
 * Runs `work` with a signal that the first interrupt aborts (after `onFirst`, which tells the operator); a
 * second interrupt ends the process at once. The listeners are on only while `work` runs.
 */
export async function runInterruptible<T>(
  interrupts: Interrupts,
  onFirst: (signal: InterruptSignal) => void,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<InterruptibleOutcome<T>> {
  const controller = new AbortController();
  let first: InterruptSignal | undefined;
  const stopListening = interrupts.listen((signal) => {
    if (first !== undefined) {
      interrupts.exit(interruptedExitCode(signal));
      return;
    }
    first = signal;
    onFirst(signal);
    controller.abort();
  });
  try {
    const result = await work(controller.signal);
    return first === undefined ? { result } : { result, interruptedBy: first };
  } finally {
    stopListening();
  }
}
