/**
 * The archive's cost on the ingest path: the same signed webhooks through two local pipelines started from the
 * example configuration, one archiving (the ingest puts each record to the Firehose stand-in beside its SQS
 * send) and one not, in the same run. Requests go one at a time (how a Lambda sandbox serves them), rounds
 * alternate between the two pipelines, and the HTTP round trip's p50/p90 are compared.
 * Usage: npx tsx bench/archive.ts
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import exampleConfig from '../hookline.config';
import { signWebhook } from '../lambda/shared/webhook-signing';
import { type ResolvedConfig, resolveConfig } from '../lib/config';
import { type LocalMode, startLocalMode } from '../lib/local/local-mode';
import { Reporter } from '../lib/local/reporter';
import { localSecrets } from '../lib/local/secrets';
import { sourceRuntimeConfig } from '../lib/runtime-wiring';
import { percentile, writeResults } from './_shared';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 100);

async function start(name: string, archive: boolean): Promise<{ local: LocalMode; config: ResolvedConfig }> {
  const config = resolveConfig({ ...exampleConfig, stackName: name, archive: { enabled: archive } });
  const buildDir = join(process.cwd(), '.hookline', 'build', `bench-archive-${name}`);
  const reporter = new Reporter({ json: true, write: () => {} });
  const local = await startLocalMode({ config, port: 0, stateDir: false, reporter, env: {}, buildDir });
  return { local, config };
}

/** PER_ROUND signed GitHub pushes one after another; the round trip of each, in ms. */
async function round(local: LocalMode, config: ResolvedConfig): Promise<number[]> {
  const source = config.sources.find((s) => s.name === 'github');
  if (!source) throw new Error('the example configuration has no github source');
  const secret = localSecrets(config.sources, {}).github?.value ?? '';
  const runtime = sourceRuntimeConfig(source, 'env:HOOKLINE_SECRET_GITHUB');
  const times: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) {
    const body = JSON.stringify({ ref: 'refs/heads/main', commits: [], pad: 'x'.repeat(3800) });
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      ...signWebhook(runtime, secret, body),
    };
    const started = performance.now();
    const answer = await fetch(local.webhookUrls.github ?? '', { method: 'POST', headers, body });
    await answer.text();
    if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

async function main(): Promise<void> {
  const on = await start('BenchArchiveOn', true);
  const off = await start('BenchArchiveOff', false);
  try {
    await round(on.local, on.config);
    await round(off.local, off.config);
    const times = { on: [] as number[], off: [] as number[] };
    const roundP50s = { on: [] as number[], off: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of order) {
        const p = which === 'on' ? on : off;
        const measured = await round(p.local, p.config);
        times[which].push(...measured);
        roundP50s[which].push(percentile(measured, 50));
      }
    }
    const median = (values: number[]) => percentile(values, 50);
    const summary = {
      requests: times.on.length,
      // The median of the rounds' p50s: a round disturbed by another process on the machine counts once.
      medianOfRoundP50: { on: median(roundP50s.on), off: median(roundP50s.off) },
      ratioMedianOfRoundP50: median(roundP50s.on) / median(roundP50s.off),
      roundP50s,
      archiveOn: { p50: percentile(times.on, 50), p90: percentile(times.on, 90) },
      archiveOff: { p50: percentile(times.off, 50), p90: percentile(times.off, 90) },
      ratioP50: percentile(times.on, 50) / percentile(times.off, 50),
      ratioP90: percentile(times.on, 90) / percentile(times.off, 90),
      archivedRecords: on.local.archive?.accepted ?? 0,
    };
    console.log(JSON.stringify(summary, null, 2));
    writeResults('archive', { date: new Date().toISOString(), ...summary }, { biomeLayout: true });
  } finally {
    await on.local.stop();
    await off.local.stop();
    for (const name of ['BenchArchiveOn', 'BenchArchiveOff']) {
      rmSync(join(process.cwd(), '.hookline', 'build', `bench-archive-${name}`), {
        recursive: true,
        force: true,
      });
    }
  }
}

await main();
