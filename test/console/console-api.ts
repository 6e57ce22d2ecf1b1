/**
 * The console's HTTP API over real HTTP for a file's tests: one server for the file, started before its tests and
 * closed after them, its operations on a deployed stack's target with the CLI's mocked SDK clients.
 */
import { afterAll, beforeAll } from 'vitest';
import exampleConfig from '../../hookline.config';
import type { StackTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import { type ConsoleServer, startConsoleServer } from '../../lib/console/server';
import { testBackend } from '../cli/helpers';

/** The token the file's server takes changes with. */
export const CONSOLE_TOKEN = 'test-token';

/** An API answer: its status and its JSON body. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: { error?: string } & Record<string, unknown>;
}

export interface ConsoleApi {
  readonly server: ConsoleServer;
  readonly operations: ConsoleOperations;
  /** What the server wrote to its output (the console's stderr) so far. */
  logged(): string;
  /** A request with the token, its body as JSON when there is one. */
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiAnswer>;
}

/** Starts the file's console server on `target` before its tests; what it returns is usable from then on. */
export function consoleApiFor(target: StackTarget, assets = { js: 'export {};', css: 'body{}' }): ConsoleApi {
  let server: ConsoleServer | undefined;
  let operations: ConsoleOperations | undefined;
  const log: string[] = [];
  beforeAll(async () => {
    operations = new ConsoleOperations({
      backend: testBackend(),
      target,
      config: resolveConfig(exampleConfig),
      feed: unavailableFeed('no feed for a deployed stack'),
      log: (text) => log.push(text),
    });
    server = await startConsoleServer({
      operations,
      assets: { js: Buffer.from(assets.js), css: Buffer.from(assets.css) },
      token: CONSOLE_TOKEN,
    });
  });
  afterAll(() => server?.close());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the console API is started in beforeAll: use it in a test');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get operations() {
      return started(operations);
    },
    logged: () => log.join(''),
    async call(method, path, body) {
      const answer = await fetch(`http://127.0.0.1:${started(server).port}${path}`, {
        method,
        headers: { 'x-hookline-token': CONSOLE_TOKEN, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: answer.status, body: (await answer.json()) as ApiAnswer['body'] };
    },
  };
}
