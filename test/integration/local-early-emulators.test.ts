import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { PortInUseError } from '../../lib/local/http-api';
import { startDefaultEmulators } from '../../lib/local/local-dirs';
import { startLocalMode } from '../../lib/local/local-mode';
import { Reporter } from '../../lib/local/reporter';

const dir = mkdtempSync(join(tmpdir(), 'hookline-early-emulators-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('emulators started before local mode (as npm start does)', () => {
  it('are stopped by local mode when its start fails', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const starting = startDefaultEmulators(process.cwd(), { HOOKLINE_CACHE_DIR: join(dir, 'cache') });
      const { endpoints } = await starting;
      expect((await fetch(endpoints.dynamodb, { method: 'POST' })).status).toBeGreaterThan(0);

      const failed = startLocalMode({
        config: resolveConfig(exampleConfig),
        emulators: starting,
        port,
        stateDir: false,
        cacheDir: join(dir, 'cache'),
        reporter: new Reporter({ json: true, color: false, write: () => undefined }),
      });

      await expect(failed).rejects.toBeInstanceOf(PortInUseError);
      await expect(fetch(endpoints.dynamodb, { method: 'POST' })).rejects.toThrow();
    } finally {
      blocker.close();
    }
  }, 60_000);
});
