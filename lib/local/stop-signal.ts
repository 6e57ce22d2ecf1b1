/**
 * The operator's stop (Ctrl-C, or SIGTERM), caught from the first moment of `npm start`: before local mode's modules
 * load, so a Ctrl-C during start-up stops it cleanly (its data directory's lock released, its state file removed)
 * instead of Node's default of dying at once, which the next start would report as a crash. No imports: the
 * entry point loads it before anything else.
 */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal());
    process.once('SIGTERM', () => resolveSignal());
  });
}
