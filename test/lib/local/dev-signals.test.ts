import { afterEach, describe, expect, it, vi } from 'vitest';

// Local mode itself is exercised end to end in test/integration/local-start.test.ts; here only the order of the
// ready line and the signal handlers matters, which a separate process can hit only by chance.
const stop = vi.fn(async () => undefined);
vi.mock('../../../lib/local/local-mode', () => ({
  startLocalMode: async () => ({ url: 'http://127.0.0.1:1', webhookUrls: {}, stop }),
}));

const { runLocalMode } = await import('../../../lib/local/dev');
const { Reporter } = await import('../../../lib/local/reporter');

const signals = ['SIGINT', 'SIGTERM'] as const;
const before = Object.fromEntries(signals.map((s) => [s, process.listeners(s)]));

afterEach(() => {
  vi.restoreAllMocks();
  for (const signal of signals)
    for (const listener of process.listeners(signal))
      if (!before[signal]?.includes(listener)) process.removeListener(signal, listener);
});

describe('npm start and Ctrl-C', () => {
  it('handles Ctrl-C from the moment it says it is running, so a stop sent on that line drains and exits 0', async () => {
    let handlersWhenReady: number | undefined;
    vi.spyOn(Reporter.prototype, 'info').mockImplementation((message: string) => {
      if (message.includes('local mode is running')) handlersWhenReady = process.listenerCount('SIGINT');
    });
    const exitCode = runLocalMode();
    await vi.waitFor(() => expect(handlersWhenReady).toBeDefined(), { timeout: 20_000 });
    expect(handlersWhenReady).toBeGreaterThan(before.SIGINT?.length ?? 0);
    process.emit('SIGINT');
    expect(await exitCode).toBe(0);
    expect(stop).toHaveBeenCalledOnce();
  }, 30_000);
});
