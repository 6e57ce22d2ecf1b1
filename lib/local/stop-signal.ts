/**
 * The operator's stop (Ctrl-C, SIGTERM, or SIGHUP when the terminal closes), caught from the first moment of
 * `npm start`: before local mode's modules load, so a Ctrl-C during start-up stops it cleanly (its data
 * directory's lock released, its state file removed) instead of Node's default of dying at once, which the next
 * start would report as a crash. No imports: the entry point loads it before anything else.
 */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal());
    process.once('SIGTERM', () => resolveSignal());
    // A closing terminal can send SIGHUP more than once (the kernel to the foreground group, the shell to its
    // jobs): every one is taken as this stop, none as the second Ctrl-C that quits at once, and none is left to
    // Node's default of dying with the lock and the state file left behind.
    process.on('SIGHUP', () => resolveSignal());
  });
}
