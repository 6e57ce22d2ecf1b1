import { afterEach, describe, expect, it, vi } from 'vitest';

// Local mode itself is exercised end to end in test/integration/local-start.test.ts; here only what `npm start`
// does around it: the order of the ready line and the signal handlers, which a separate process can hit only by
// chance, the lines it prints and the stop.
const stop = vi.fn(async () => undefined);
const startLocalMode = vi.fn(async (_options: { watchFiles?: readonly string[]; configFile?: string }) => ({
  url: 'http://127.0.0.1:1',
  webhookUrls: { github: 'http://127.0.0.1:1/webhooks/github' },
  stop,
}));
vi.mock('../../../lib/local/local-mode', () => ({ startLocalMode }));

const { forcedQuitNotice, runLocalMode } = await import('../../../lib/local/dev');
const { configPath } = await import('../../../lib/load-config');
const { Reporter } = await import('../../../lib/local/reporter');
const { localModeHints } = await import('../../../lib/local/command-hints');

const signals = ['SIGINT', 'SIGTERM'] as const;
/** Every signal that stops local mode: the operator's, and the terminal's when it is closed. */
const stopSignals = [...signals, 'SIGHUP'] as const;
const before = Object.fromEntries(stopSignals.map((s) => [s, process.listeners(s)]));

afterEach(() => {
  vi.restoreAllMocks();
  stop.mockClear();
  startLocalMode.mockClear();
  for (const signal of stopSignals)
    for (const listener of process.listeners(signal))
      if (!before[signal]?.includes(listener)) process.removeListener(signal, listener);
});

/** Runs `npm start` with the reporter's lines collected; resolves once it said it is running. */
async function runUntilReady(): Promise<{ exitCode: Promise<number>; lines: string[]; handlers: number }> {
  const lines: string[] = [];
  let handlers: number | undefined;
  vi.spyOn(Reporter.prototype, 'info').mockImplementation((message: string) => {
    lines.push(message);
    if (message.includes('local mode is running')) handlers = process.listenerCount('SIGINT');
  });
  const exitCode = runLocalMode();
  await vi.waitFor(() => expect(lines.at(-1)).toMatch(/^status: /), { timeout: 20_000 });
  return { exitCode, lines, handlers: handlers ?? -1 };
}

describe('npm start and Ctrl-C', () => {
  it.each(stopSignals)(
    'handles %s from the moment it says it is running, so a stop sent on that line drains and exits 0',
    async (signal) => {
      const { exitCode, handlers, lines } = await runUntilReady();
      expect(handlers).toBeGreaterThan(before.SIGINT?.length ?? 0);
      process.emit(signal);
      expect(await exitCode).toBe(0);
      expect(stop).toHaveBeenCalledOnce();
      expect(lines).toContain('stopping: draining in-flight work (Ctrl-C again to quit at once)...');
    },
    30_000,
  );

  it.each(signals)(
    'quits at once with 130 on a second %s while in-flight work drains',
    async (signal) => {
      let drained = () => {};
      stop.mockImplementationOnce(() => new Promise<undefined>((r) => (drained = () => r(undefined))));
      const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
      const { exitCode } = await runUntilReady();
      process.emit(signal);
      await vi.waitFor(() => expect(stop).toHaveBeenCalledOnce());
      expect(exit).not.toHaveBeenCalled();
      const problems = vi.spyOn(Reporter.prototype, 'problem').mockImplementation(() => undefined);
      process.emit(signal);
      expect(exit).toHaveBeenCalledWith(130);
      // Quitting at once says what it leaves behind, before it exits.
      expect(problems.mock.calls.map(([line]) => line)).toEqual([
        forcedQuitNotice(process.env.HOOKLINE_DATA_DIR || undefined),
      ]);
      drained();
      expect(await exitCode).toBe(0);
    },
    30_000,
  );

  it('drains on, rather than quitting at once or dying, when a closing terminal sends SIGHUP again', async () => {
    let drained = () => {};
    stop.mockImplementationOnce(() => new Promise<undefined>((r) => (drained = () => r(undefined))));
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const { exitCode } = await runUntilReady();
    process.emit('SIGHUP');
    await vi.waitFor(() => expect(stop).toHaveBeenCalledOnce());
    // Without a listener, Node's default for the second one would end the process with the lock held.
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(before.SIGHUP?.length ?? 0);
    process.emit('SIGHUP');
    expect(exit).not.toHaveBeenCalled();
    drained();
    expect(await exitCode).toBe(0);
  }, 30_000);

  it('stops cleanly once its start ends on a Ctrl-C during start-up, instead of dying with the lock held', async () => {
    let started = () => {};
    startLocalMode.mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          started = () =>
            resolve({
              url: 'http://127.0.0.1:1',
              webhookUrls: { github: 'http://127.0.0.1:1/webhooks/github' },
              stop,
            });
        }),
    );
    const lines: string[] = [];
    vi.spyOn(Reporter.prototype, 'info').mockImplementation((message: string) => void lines.push(message));
    const exitCode = runLocalMode();
    await vi.waitFor(() => expect(startLocalMode).toHaveBeenCalledOnce(), { timeout: 20_000 });
    process.emit('SIGINT');
    await vi.waitFor(() =>
      expect(lines).toContain(
        'stopping: local mode stops as soon as its start ends (Ctrl-C again to quit at once)...',
      ),
    );
    expect(stop).not.toHaveBeenCalled();
    started();
    expect(await exitCode).toBe(0);
    expect(stop).toHaveBeenCalledOnce();
    // Nothing answers the URLs of a local mode that is stopping, so they are not printed.
    expect(lines.filter((line) => /is running|^status: /.test(line))).toEqual([]);
    expect(lines.at(-1)).toBe('stopped');
  }, 30_000);

  it('starts nothing on a stop caught before its configuration is read, and stops the emulators already starting', async () => {
    const lines: string[] = [];
    vi.spyOn(Reporter.prototype, 'info').mockImplementation((message: string) => void lines.push(message));
    const emulatorsStop = vi.fn(async () => undefined);
    const emulators = Promise.resolve({ stop: emulatorsStop } as never);
    // The entry point caught the Ctrl-C while local mode's modules loaded.
    expect(await runLocalMode(undefined, emulators, Promise.resolve())).toBe(0);
    expect(startLocalMode).not.toHaveBeenCalled();
    expect(emulatorsStop).toHaveBeenCalledOnce();
    expect(lines).toEqual([
      'stopping: local mode stops as soon as its start ends (Ctrl-C again to quit at once)...',
      'stopped',
    ]);
  }, 30_000);

  it('prints the webhook URLs and the status URL once running, and watches the configuration file', async () => {
    const { exitCode, lines } = await runUntilReady();
    expect(lines).toContain(
      '  github       POST http://127.0.0.1:1/webhooks/github  (github, secret dev default "dev-secret-github")',
    );
    expect(lines.at(-1)).toBe(
      'status: http://127.0.0.1:1/_hookline/status   (Ctrl-C to stop; times are UTC; HOOKLINE_LOG=json for JSON lines)',
    );
    expect(startLocalMode.mock.calls[0]?.[0].watchFiles).toEqual([configPath(process.env)]);
    process.emit('SIGINT');
    expect(await exitCode).toBe(0);
  }, 30_000);

  it('gives local mode the configuration as HOOKLINE_CONFIG names it, for the commands its notices name', async () => {
    vi.stubEnv('HOOKLINE_CONFIG', './hookline.config.ts');
    try {
      const { exitCode } = await runUntilReady();
      expect(startLocalMode.mock.calls[0]?.[0].configFile).toBe('./hookline.config.ts');
      process.emit('SIGINT');
      expect(await exitCode).toBe(0);
    } finally {
      vi.unstubAllEnvs();
    }
  }, 30_000);
});

describe('quitting at once', () => {
  it('says a cut-off batch waits for its visibility timeout with a data directory, and is lost without', () => {
    expect(forcedQuitNotice('/data')).toMatch(
      /stays in flight until its queue's visibility timeout runs out, then runs again/,
    );
    expect(forcedQuitNotice(undefined)).toMatch(/what the queues held is discarded/);
  });

  it('names the status command with the configuration local mode was started with', () => {
    expect(forcedQuitNotice('/data', localModeHints('staging.config.ts'))).toMatch(
      /\(hookline status --local --config staging\.config\.ts shows it IN FLIGHT until then;/,
    );
  });
});
