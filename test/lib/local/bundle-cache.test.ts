import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build as esbuild } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedBuild, MAX_ENTRIES, SETTLED_MS, sharedFileHasher } from '../../../lib/local/bundle-cache';
import { bundle } from '../../../lib/local/function-runtime';

let project: string;
let cacheDir: string;
let outFile: string;
let entry: string;

/** Bundles the test project's entry; resolves with whether the cache served it. */
const build = () => bundle(entry, outFile, { cacheDir });
const output = () => readFileSync(outFile, 'utf8');
/**
 * Writes a source as an editor saves it, a moment before the next build: a file modified within the build's
 * own millisecond is (rightly) treated as possibly changed while esbuild ran, and that build is not kept.
 */
const writeSource = (path: string, text: string) => {
  writeFileSync(path, text);
  const aMomentAgo = new Date(Date.now() - 1_000);
  utimesSync(path, aMomentAgo, aMomentAgo);
};
const onlyEntry = () => {
  const [entryDir] = readdirSync(cacheDir);
  if (!entryDir) throw new Error('no cache entry');
  return join(cacheDir, entryDir);
};

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'hookline-bundle-cache-'));
  cacheDir = join(project, 'cache');
  outFile = join(project, 'build', 'fn.mjs');
  entry = join(project, 'src', 'handler.ts');
  mkdirSync(join(project, 'src'));
  writeSource(
    entry,
    "import { greeting } from './greeting';\nexport const handler = async () => greeting('world');\n",
  );
  writeSource(
    join(project, 'src', 'greeting.ts'),
    'export const greeting = (name: string) => "hello " + name;\n',
  );
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('the bundle cache', () => {
  it('serves an unchanged build from the cache, restoring the bundle and its source map', async () => {
    expect(await build()).toBe(false);
    const first = output();
    const firstMap = readFileSync(`${outFile}.map`, 'utf8');
    rmSync(join(project, 'build'), { recursive: true });

    expect(await build()).toBe(true);
    expect(output()).toBe(first);
    expect(readFileSync(`${outFile}.map`, 'utf8')).toBe(firstMap);
  });

  it('rebuilds after an edit to an imported file, and caches the new build', async () => {
    await build();
    writeSource(
      join(project, 'src', 'greeting.ts'),
      'export const greeting = (name: string) => "goodbye " + name;\n',
    );

    expect(await build()).toBe(false);
    expect(output()).toContain('goodbye');
    expect(output()).not.toContain('hello');
    expect(await build()).toBe(true);
    expect(output()).toContain('goodbye');
  });

  it('does not keep a build during which one of its sources changed, even stamped a tick before the build began (it would describe the newer file)', async () => {
    const options = { entryPoints: [entry], bundle: true, format: 'esm' as const, outfile: outFile };
    const greetingFile = join(project, 'src', 'greeting.ts');
    const editedWhileBuilding = async (o: Parameters<typeof esbuild>[0]) => {
      const result = await esbuild(o);
      writeFileSync(greetingFile, 'export const greeting = (name: string) => "late " + name;\n');
      // The file system's clock trails Date.now() by up to a scheduler tick: the edit may look a little older.
      const trailing = new Date(Date.now() - 50);
      utimesSync(greetingFile, trailing, trailing);
      return result;
    };
    const text = (r: Awaited<ReturnType<typeof cachedBuild>>) =>
      new TextDecoder().decode(r.outputFiles.find((f) => f.path === outFile)?.contents);

    const raced = await cachedBuild(options, cacheDir, editedWhileBuilding);
    expect(text(raced)).toContain('hello');
    const next = await cachedBuild(options, cacheDir, esbuild);

    expect(next.fromCache).toBe(false);
    expect(text(next)).toContain('late');
  });

  it.each([
    ['tsconfig.json', 'next to the sources', 'src'],
    ['jsconfig.json', 'next to the sources', 'src'],
    ['tsconfig.json', 'in the project folder above them', '.'],
  ])('rebuilds when a %s appears %s (it can change how they compile)', async (name, _, folder) => {
    await build();
    writeFileSync(join(project, folder, name), '{"compilerOptions":{}}\n');

    expect(await build()).toBe(false);
  });

  it('rebuilds when the tsconfig.json next to the sources is removed', async () => {
    writeSource(join(project, 'src', 'tsconfig.json'), '{"compilerOptions":{}}\n');
    await build();
    rmSync(join(project, 'src', 'tsconfig.json'));

    expect(await build()).toBe(false);
  });

  it("rebuilds when a package's package.json points its entry at another file, though no bundled file changed", async () => {
    const pkg = join(project, 'node_modules', 'greet');
    mkdirSync(pkg, { recursive: true });
    writeSource(join(pkg, 'a.js'), 'export const word = "from-a";\n');
    writeSource(join(pkg, 'b.js'), 'export const word = "from-b";\n');
    writeSource(join(pkg, 'package.json'), '{"name":"greet","main":"a.js"}\n');
    writeSource(entry, "import { word } from 'greet';\nexport const handler = async () => word;\n");
    await build();
    expect(output()).toContain('from-a');
    writeSource(join(pkg, 'package.json'), '{"name":"greet","main":"b.js"}\n');

    expect(await build()).toBe(false);
    expect(output()).toContain('from-b');
  });

  it('ignores an entry whose manifest is damaged, and replaces it', async () => {
    await build();
    const first = output();
    writeFileSync(join(onlyEntry(), 'manifest.json'), '{"format":1,"inputs":');

    expect(await build()).toBe(false);
    expect(output()).toBe(first);
    expect(await build()).toBe(true);
  });

  it('ignores an entry whose cached bundle is damaged, never serving it', async () => {
    await build();
    const first = output();
    const entryDir = onlyEntry();
    for (const file of readdirSync(entryDir).filter((f) => f.endsWith('.out'))) {
      writeFileSync(join(entryDir, file), 'export const handler = () => "damaged";\n');
    }

    expect(await build()).toBe(false);
    expect(output()).toBe(first);
  });

  it('is keyed by the build options: another output path is another entry', async () => {
    await build();
    const other = join(project, 'build', 'other.mjs');

    expect(await bundle(entry, other, { cacheDir })).toBe(false);
    expect(await bundle(entry, other, { cacheDir })).toBe(true);
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it(`keeps at most ${MAX_ENTRIES} entries, dropping the least recently used`, async () => {
    await build();
    const oldest = onlyEntry();
    utimesSync(join(oldest, 'manifest.json'), new Date(0), new Date(0));
    for (let i = 0; i < MAX_ENTRIES; i++) {
      const dir = join(cacheDir, `filler-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'manifest.json'), '{}');
    }
    await bundle(entry, join(project, 'build', 'newest.mjs'), { cacheDir });

    expect(readdirSync(cacheDir)).toHaveLength(MAX_ENTRIES);
    expect(existsSync(oldest)).toBe(false);
  });

  it('counts serving an entry as its use, so the entry every start reuses is not the one dropped', async () => {
    await build();
    const reused = onlyEntry();
    utimesSync(join(reused, 'manifest.json'), new Date(0), new Date(0));
    for (let i = 0; i < MAX_ENTRIES; i++) {
      const dir = join(cacheDir, `filler-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'manifest.json'), '{}');
      utimesSync(join(dir, 'manifest.json'), new Date(1_000), new Date(1_000));
    }
    expect(await build()).toBe(true);
    await bundle(entry, join(project, 'build', 'newest.mjs'), { cacheDir });

    expect(readdirSync(cacheDir)).toHaveLength(MAX_ENTRIES);
    expect(existsSync(reused)).toBe(true);
  });

  describe('once the sources have been left alone for a while', () => {
    const greeting = () => join(project, 'src', 'greeting.ts');
    /** Lets the test project's files settle, then builds, so the entry records their stat signatures. */
    const settleAndBuild = async () => {
      await new Promise((r) => setTimeout(r, SETTLED_MS + 100));
      expect(await build()).toBe(false);
    };
    /** Bundles with a hasher that counts the files it reads; resolves with whether the cache served it. */
    const buildCountingReads = async () => {
      const shared = sharedFileHasher();
      const read: string[] = [];
      const hasher = (path: string) => {
        read.push(path);
        return shared(path);
      };
      return { fromCache: await bundle(entry, outFile, { cacheDir, hasher }), read };
    };

    it('serves the cache without reading the unchanged sources again', async () => {
      await settleAndBuild();
      const { fromCache, read } = await buildCountingReads();

      expect(fromCache).toBe(true);
      expect(read).toEqual([]);
    }, 10_000);

    it('rebuilds after an edit that keeps the size and the modification time (as npm installs files)', async () => {
      await settleAndBuild();
      const before = statSync(greeting());
      writeFileSync(greeting(), 'export const greeting = (name: string) => "howdy " + name;\n');
      utimesSync(greeting(), before.atime, before.mtime);
      expect(statSync(greeting()).size).toBe(before.size);

      const { fromCache, read } = await buildCountingReads();
      expect(fromCache).toBe(false);
      expect(read).toContain(greeting());
      expect(output()).toContain('howdy');
    }, 10_000);
  });

  it('always builds without a cache folder', async () => {
    expect(await bundle(entry, outFile, {})).toBe(false);
    expect(await bundle(entry, outFile, {})).toBe(false);
    expect(output()).toContain('hello');
  });
});
