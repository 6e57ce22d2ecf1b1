import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../../lib/local/atomic-write';

const dir = mkdtempSync(join(tmpdir(), 'hookline-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two versions of a JSON file of different sizes, each of which parses only when read whole. */
const VERSIONS = [256, 768].map(
  (kilobytes) => `${JSON.stringify({ kilobytes, filler: 'x'.repeat(kilobytes * 1024) }, null, 2)}\n`,
);

/** Reads `path` in a tight loop on another thread until stopped, counting reads and torn ones (empty, cut JSON). */
const READER = `
const { readFileSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const counts = new Int32Array(workerData.counts);
while (Atomics.load(counts, 2) === 0) {
  Atomics.add(counts, 0, 1);
  try { JSON.parse(readFileSync(workerData.path, 'utf8')); } catch { Atomics.add(counts, 1, 1); }
}
parentPort.postMessage('stopped');`;

/**
 * Rewrites `path` with `write`, alternating the two versions, while another thread reads it, for `writes` writes or
 * until a read was torn when `untilTorn`; resolves with the reads and the torn reads.
 */
async function readWhileRewriting(
  path: string,
  write: (path: string, text: string) => void,
  { writes, untilTorn = false }: { writes: number; untilTorn?: boolean },
): Promise<{ reads: number; torn: number }> {
  write(path, VERSIONS[0] as string);
  const counts = new Int32Array(new SharedArrayBuffer(12));
  const reader = new Worker(READER, { eval: true, workerData: { path, counts: counts.buffer } });
  const stopped = new Promise((resolve) => reader.once('message', resolve));
  await new Promise((resolve) => reader.once('online', resolve));
  for (let n = 1; n <= writes && !(untilTorn && Atomics.load(counts, 1) > 0); n++) {
    write(path, VERSIONS[n % 2] as string);
    // Let the reader run between writes too, as the CLI reads between two pauses.
    if (n % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  Atomics.store(counts, 2, 1);
  await stopped;
  await reader.terminate();
  return { reads: Atomics.load(counts, 0), torn: Atomics.load(counts, 1) };
}

describe('writeFileAtomically', () => {
  it('lets a concurrent reader see only whole versions while the file is rewritten', async () => {
    const counts = await readWhileRewriting(join(dir, 'state.json'), writeFileAtomically, { writes: 1500 });
    expect(counts.reads).toBeGreaterThan(20);
    expect(counts.torn).toBe(0);
  }, 60_000);

  it('is what the test above detects: the same rewrite in place is read torn', async () => {
    const counts = await readWhileRewriting(
      join(dir, 'in-place.json'),
      (path, text) => writeFileSync(path, text),
      { writes: 20_000, untilTorn: true },
    );
    expect(counts.torn).toBeGreaterThan(0);
  }, 60_000);

  it('writes the whole contents, creates the folder, and leaves no temporary file beside it', () => {
    const path = join(dir, 'nested', 'deeper', 'local.json');
    writeFileAtomically(path, '{"a":1}\n');
    writeFileAtomically(path, '{"a":2}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"a":2}\n');
    expect(readdirSync(join(dir, 'nested', 'deeper'))).toEqual(['local.json']);
  });
});
