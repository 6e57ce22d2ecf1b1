/**
 * The web console in Debian's headless Chromium (driven by playwright-core), for the browser tests: the console
 * (the server in this process, or the real `hookline console --local` process) and Chromium start side by side,
 * and stop together.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadConsoleAssets } from '../../lib/console/assets';
import type { ConsoleOperations } from '../../lib/console/operations';
import { type ConsoleServer, startConsoleServer } from '../../lib/console/server';
import { startConsoleProcess, stopConsoleProcess } from './console-process';

/** Debian's chromium (CI installs it in .ci/run); CHROMIUM_PATH overrides. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium, and a page in it on a desktop-sized window whose waits give up after 20 s. */
export interface InChromium {
  readonly browser: Browser;
  readonly page: Page;
}

/**
 * A console starting beside Chromium. `close` closes Chromium, then stops the console, whatever of them started:
 * call it in `afterAll` even when `started` failed or never settled.
 */
export interface ConsoleInChromium<Started> {
  readonly started: Promise<Started & InChromium>;
  close(): Promise<void>;
}

/** Throws, naming the path and the fix, when Chromium is not where the browser tests look for it. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: the console's browser tests need it. Install it with apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`,
    );
  }
}

async function launchChromium(): Promise<InChromium> {
  requireChromium();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  return { browser, page };
}

/** Launches Chromium while the console starts; `stop` stops the console, started or not. */
function besideChromium<Started>(
  starting: Promise<Started>,
  stop: () => Promise<void> | void,
): ConsoleInChromium<Started> {
  const launching = launchChromium();
  return {
    started: Promise.all([starting, launching]).then(([console, shown]) => ({ ...console, ...shown })),
    close: async () => {
      await launching.then(
        ({ browser }) => browser.close(),
        () => undefined,
      );
      await stop();
    },
  };
}

/** The console server in this process, for `operations`, with the token `browser-token`. */
export function consoleServerInChromium(
  operations: ConsoleOperations,
): ConsoleInChromium<{ server: ConsoleServer }> {
  const starting = loadConsoleAssets().then((assets) =>
    startConsoleServer({ operations, assets, token: 'browser-token' }),
  );
  return besideChromium(
    starting.then((server) => ({ server })),
    () =>
      starting.then(
        (server) => server.close(),
        () => undefined,
      ),
  );
}

/**
 * The real `hookline console --local` on the local mode whose state is in `stateDir`; `url` is the one it prints,
 * with its token. Stopped with the Ctrl-C an operator would press, even before it printed one.
 */
export function consoleProcessInChromium(stateDir: string): ConsoleInChromium<{ url: URL }> {
  const started = startConsoleProcess(stateDir);
  return besideChromium(
    started.url.then((url) => ({ url })),
    () => stopConsoleProcess(started),
  );
}
