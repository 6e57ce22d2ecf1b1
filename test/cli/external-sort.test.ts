/**
 * The external merge sort behind `hookline replay`: the same order as a stable in-memory sort whatever the budget,
 * runs spilled to a private folder that is gone afterwards, however the merge ends.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExternalSorter, SpillError } from '../../lib/cli/external-sort';

interface Item {
  readonly at: number;
  readonly n: number;
  readonly body: string;
}

/** Many items whose keys repeat often (ties) and arrive out of order, with bodies that are not plain ASCII. */
function items(count: number): Item[] {
  return Array.from({ length: count }, (_, n) => ({
    at: (n * 7919) % 97,
    n,
    body: `é\t"${'x'.repeat(n % 50)}\n`,
  }));
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'sort-test-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function sortedBy(budgetBytes: number, input: readonly Item[], spills: string[] = []) {
  const sorter = new ExternalSorter<Item>({
    keyOf: (item) => item.at,
    budgetBytes,
    tempRoot: root,
    onSpill: (file) => spills.push(file),
  });
  for (const item of input) await sorter.add(item);
  const out: Item[] = [];
  for await (const item of sorter.sorted()) out.push(item);
  return out;
}

describe('ExternalSorter', () => {
  it('gives exactly the order of a stable in-memory sort, equal keys in the order added, when it spills many runs', async () => {
    const input = items(5_000);
    const spills: string[] = [];
    const out = await sortedBy(4_096, input, spills);
    expect(spills.length).toBeGreaterThan(20);
    expect(out).toEqual([...input].sort((a, b) => a.at - b.at));
  });

  it('keeps everything in memory and writes nothing when the input fits the budget', async () => {
    const input = items(200);
    const spills: string[] = [];
    expect(await sortedBy(64 * 1024 * 1024, input, spills)).toEqual([...input].sort((a, b) => a.at - b.at));
    expect(spills).toEqual([]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('writes its runs in a folder only its owner can open, and removes it once the merge has been read', async () => {
    const sorter = new ExternalSorter<Item>({ keyOf: (i) => i.at, budgetBytes: 1_000, tempRoot: root });
    for (const item of items(300)) await sorter.add(item);
    expect(sorter.spills).toBeGreaterThan(1);
    const [folder] = readdirSync(root);
    expect(statSync(path.join(root, folder as string)).mode & 0o777).toBe(0o700);
    let read = 0;
    for await (const _ of sorter.sorted()) read++;
    expect(read).toBe(300);
    expect(readdirSync(root)).toEqual([]);
  });

  it('removes its folder when the consumer of the merge stops early', async () => {
    const sorter = new ExternalSorter<Item>({ keyOf: (i) => i.at, budgetBytes: 1_000, tempRoot: root });
    for (const item of items(300)) await sorter.add(item);
    expect(readdirSync(root)).toHaveLength(1);
    for await (const _ of sorter.sorted()) break;
    expect(readdirSync(root)).toEqual([]);
  });

  it('removes its folder when the consumer of the merge throws', async () => {
    const sorter = new ExternalSorter<Item>({ keyOf: (i) => i.at, budgetBytes: 1_000, tempRoot: root });
    for (const item of items(300)) await sorter.add(item);
    const consume = async () => {
      for await (const item of sorter.sorted()) if (item.n >= 0) throw new Error('send failed');
    };
    await expect(consume()).rejects.toThrow('send failed');
    expect(readdirSync(root)).toEqual([]);
  });

  it('removes its folder on dispose when the merge never runs (an error before sending)', async () => {
    const sorter = new ExternalSorter<Item>({ keyOf: (i) => i.at, budgetBytes: 1_000, tempRoot: root });
    for (const item of items(300)) await sorter.add(item);
    expect(readdirSync(root)).toHaveLength(1);
    await sorter.dispose();
    expect(readdirSync(root)).toEqual([]);
  });

  it('removes its folder when the process exits before any finally runs (a second Ctrl-C quits at once)', async () => {
    const before = new Set(process.listeners('exit'));
    const sorter = new ExternalSorter<Item>({ keyOf: (i) => i.at, budgetBytes: 1_000, tempRoot: root });
    for (const item of items(300)) await sorter.add(item);
    const added = process.listeners('exit').filter((listener) => !before.has(listener));
    expect(added).toHaveLength(1);
    (added[0] as (code: number) => void)(130);
    expect(readdirSync(root)).toEqual([]);
    await sorter.dispose();
    expect(process.listeners('exit').filter((listener) => !before.has(listener))).toEqual([]);
  });

  it('fails naming the folder it cannot write to and TMPDIR, not with a stack trace, when it cannot spill', async () => {
    const missing = path.join(root, 'missing');
    const sorter = new ExternalSorter<Item>({ keyOf: (i) => i.at, budgetBytes: 10, tempRoot: missing });
    const error = await sorter.add({ at: 1, n: 1, body: 'longer than the budget' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpillError);
    expect((error as SpillError).folder).toBe(missing);
    expect((error as SpillError).message).toMatch(/missing \(ENOENT.*set TMPDIR/);
  });
});
