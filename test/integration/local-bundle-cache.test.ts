import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import type { ResolvedConfig } from '../../lib/config';
import { startLocalMode } from '../../lib/local/local-mode';
import { Reporter } from '../../lib/local/reporter';
import { localSecrets } from '../../lib/local/secrets';
import type { StartupPhase } from '../../lib/local/startup-phases';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { recordingQueue, testConfig } from '../helpers/local/pipeline';

const dir = mkdtempSync(join(tmpdir(), 'hookline-cache-start-'));
const consumerEntry = join(dir, 'consumer.ts');
const recordFile = join(dir, 'records.txt');
const cacheDir = join(dir, 'cache');
// Both starts bundle to the same place, so the second one looks the consumer up in the cache.
const buildDir = join(process.cwd(), '.hookline', 'build', `cache-test-${process.pid}`);
const consumerRuntime = fileURLToPath(new URL('../../lambda/consumer/index.ts', import.meta.url));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
});

/** A consumer that records `<version> <id>` for every event. */
function writeConsumer(version: string): void {
  writeFileSync(
    consumerEntry,
    `import { appendFileSync } from 'node:fs';
import { defineConsumer } from ${JSON.stringify(consumerRuntime)};
export const handler = defineConsumer({
  handlers: {},
  default: async (event) => appendFileSync(${JSON.stringify(recordFile)}, ${JSON.stringify(version)} + ' ' + event.id + '\\n'),
});
`,
  );
}

const config: ResolvedConfig = testConfig({ events: recordingQueue({}, { entry: consumerEntry }) });

/** Starts local mode, posts one webhook and resolves with the version the consumer recorded for it. */
async function startAndProcessOne(): Promise<{ version: string; startup: readonly StartupPhase[] }> {
  const local = await startLocalMode({
    config,
    port: 0,
    stateDir: false,
    env: {},
    reporter: new Reporter({ json: true, write: () => undefined }),
    buildDir,
    cacheDir,
    waitTimeSeconds: 1,
  });
  try {
    const id = `evt-${randomUUID()}`;
    const body = JSON.stringify({ id, type: 'order.created' });
    const source = config.sources.find((s) => s.name === 'generic');
    if (!source) throw new Error('no generic source');
    const secret = localSecrets(config.sources, {}).generic;
    const signature = signWebhook(
      sourceRuntimeConfig(source, `env:${secret?.envName}`),
      secret?.value ?? '',
      body,
    );
    const response = await fetch(local.webhookUrls.generic ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signature },
      body,
    });
    expect(response.status).toBe(202);
    const until = Date.now() + 30_000;
    for (;;) {
      const line = existsSync(recordFile)
        ? readFileSync(recordFile, 'utf8')
            .split('\n')
            .find((l) => l.endsWith(` ${id}`))
        : undefined;
      if (line) return { version: line.split(' ')[0] ?? '', startup: local.startup };
      if (Date.now() > until) throw new Error(`event ${id} was not processed`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await local.stop();
  }
}

describe('local mode with the bundle cache', () => {
  it('runs the edited consumer on the next start, never the cached bundle of the old one', async () => {
    writeConsumer('v1');
    expect((await startAndProcessOne()).version).toBe('v1');
    expect(readdirSync(join(cacheDir, 'bundles')).length).toBeGreaterThan(0);

    writeConsumer('v2');
    const second = await startAndProcessOne();
    expect(second.version).toBe('v2');
    // The emulators start while the bundles are checked and built, not after.
    const phase = (name: string) => second.startup.find((p) => p.name === name);
    expect(second.startup.map((p) => p.name)).toEqual(
      expect.arrayContaining(['bundles', 'emulators', 'topology', 'sandboxes', 'http api']),
    );
    expect(phase('emulators')?.startMs).toBeLessThan(phase('bundles')?.endMs ?? 0);
  }, 120_000);
});
