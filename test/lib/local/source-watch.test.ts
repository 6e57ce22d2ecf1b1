import { type FSWatcher, mkdirSync, mkdtempSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bundleSourceFiles,
  type SourceChange,
  sourceChangeNotice,
  watchSourceFiles,
} from '../../../lib/local/source-watch';

const dirs: string[] = [];
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-source-watch-'));
  dirs.push(dir);
  return dir;
}

/** Watches `files` as local mode does; resolves with the first file reported changed. */
function firstChange(files: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    stops.push(watchSourceFiles(files, resolve));
  });
}

/** Watches `files` as local mode does; resolves with the first file reported and what happened to it. */
function firstReport(
  files: readonly string[],
  deletedAfterMs?: number,
): Promise<[file: string, change: SourceChange]> {
  return new Promise((resolve) => {
    stops.push(
      watchSourceFiles(files, (file, change) => resolve([file, change]), {
        ...(deletedAfterMs !== undefined ? { deletedAfterMs } : {}),
      }),
    );
  });
}

/**
 * Resolves once a watcher opened on `file` now saw an event of `type`. Opened after local mode's watch on the
 * same file, it is told after it, so local mode has handled the event by then.
 */
function eventSeen(file: string, type: 'change' | 'rename'): Promise<void> {
  return new Promise((resolve) => {
    const probe: FSWatcher = watch(file, { persistent: false }, (eventType) => {
      if (eventType !== type) return;
      probe.close();
      setImmediate(resolve);
    });
  });
}

/** What an editor that saves by renaming does: writes a new file beside it and renames it over the old one. */
function saveByRenaming(file: string, content: string): void {
  writeFileSync(`${file}.swp`, content);
  renameSync(`${file}.swp`, file);
}

describe('watchSourceFiles', () => {
  it('reports a file whose content changed in place', async () => {
    const file = join(folder(), 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    const changed = firstChange([file]);
    writeFileSync(file, 'export const a = 2;');
    expect(await changed).toBe(file);
  });

  it('reports a file an editor replaced by renaming a new one over it', async () => {
    const file = join(folder(), 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    const changed = firstChange([file]);
    saveByRenaming(file, 'export const a = 2;');
    expect(await changed).toBe(file);
  });

  it('still reports an edit made after an editor saved the same bytes by renaming over the file', async () => {
    const file = join(folder(), 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    const changed = firstChange([file]);
    const replaced = eventSeen(file, 'rename');
    saveByRenaming(file, 'export const a = 1;');
    await replaced;
    writeFileSync(file, 'export const a = 2;');
    expect(await changed).toBe(file);
  });

  it('takes a save of the same bytes as no change: only the later edit of another file is reported', async () => {
    const dir = folder();
    const [same, edited] = [join(dir, 'same.ts'), join(dir, 'edited.ts')];
    writeFileSync(same, 'export const a = 1;');
    writeFileSync(edited, 'export const b = 1;');
    const changed = firstChange([same, edited]);
    const saved = eventSeen(same, 'change');
    writeFileSync(same, 'export const a = 1;');
    await saved;
    writeFileSync(edited, 'export const b = 2;');
    expect(await changed).toBe(edited);
  });
});

describe('watchSourceFiles on a deleted file', () => {
  it('reports a deleted file as deleted, not changed', async () => {
    const file = join(folder(), 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    const reported = firstReport([file]);
    rmSync(file);
    expect(await reported).toEqual([file, 'deleted']);
  });

  it('reports a file moved aside and written again (an editor saving) as changed, not deleted', async () => {
    const dir = folder();
    const file = join(dir, 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    // The file is back at once after the watch saw it go, well within the time a vanished file is given.
    const reported = firstReport([file], 2_000);
    const moved = eventSeen(file, 'rename');
    renameSync(file, join(dir, 'consumer.ts~'));
    await moved;
    writeFileSync(file, 'export const a = 2;');
    expect(await reported).toEqual([file, 'changed']);
  });
});

describe('sourceChangeNotice', () => {
  const none = { entryOf: [], importedBy: [] };

  it('says a changed file runs after a restart', () => {
    expect(sourceChangeNotice('lambda/consumers/orders.ts', 'changed', none)).toBe(
      'lambda/consumers/orders.ts changed: local mode still runs what it started with; stop it (Ctrl-C) and start it again to run the change',
    );
  });

  it("says a deleted consumer entry is what the next start refuses, at the entry's configuration path", () => {
    expect(
      sourceChangeNotice('lambda/consumers/orders.ts', 'deleted', { entryOf: ['orders'], importedBy: [] }),
    ).toBe(
      'lambda/consumers/orders.ts deleted: local mode still runs what it started with; it is the entry of consumer orders, so the next start stops with a configuration problem at queues.orders.consumer.entry (the file does not exist): restore it, or change the entry',
    );
  });

  it('names the consumers that import a deleted module, whose build the next start stops at', () => {
    expect(
      sourceChangeNotice('lambda/consumers/jobs.ts', 'deleted', {
        entryOf: [],
        importedBy: ['events', 'jobs'],
      }),
    ).toBe(
      'lambda/consumers/jobs.ts deleted: local mode still runs what it started with; consumers events, jobs import it, so the next start stops when it builds them: restore it, or remove the import',
    );
    expect(sourceChangeNotice('hookline.config.ts', 'deleted', none)).toBe(
      'hookline.config.ts deleted: local mode still runs what it started with; restore it before you start local mode again',
    );
  });
});

describe('watchSourceFiles refused a watch', () => {
  const refusal = (code: string): Error => Object.assign(new Error(`watch ${code}`), { code });

  it('tells once, naming every file there and why, when the system refuses to watch them', () => {
    const dir = folder();
    const [a, b, missing] = [join(dir, 'a.ts'), join(dir, 'b.ts'), join(dir, 'missing.ts')];
    writeFileSync(a, 'export const a = 1;');
    writeFileSync(b, 'export const b = 1;');
    const told: [readonly string[], string][] = [];
    const refuse = (() => {
      throw refusal('ENOSPC');
    }) as unknown as typeof watch;
    stops.push(
      watchSourceFiles([a, b, missing], () => {}, {
        onUnwatched: (files, reason) => told.push([files, reason]),
        watch: refuse,
      }),
    );
    expect(told).toEqual([[[a, b], expect.stringContaining('fs.inotify.max_user_watches')]]);
  });

  it('tells about a file it could not watch again after an editor saved the same bytes by renaming over it', async () => {
    const file = join(folder(), 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    let opened = 0;
    const firstOnly = ((path: string, options: { persistent: boolean }) => {
      opened += 1;
      if (opened > 1) throw refusal('EMFILE');
      return watch(path, options);
    }) as unknown as typeof watch;
    const told = new Promise<[readonly string[], string]>((resolve) => {
      stops.push(
        watchSourceFiles([file], () => {}, {
          onUnwatched: (files, reason) => resolve([files, reason]),
          watch: firstOnly,
        }),
      );
    });
    saveByRenaming(file, 'export const a = 1;');
    expect(await told).toEqual([[file], expect.stringContaining('too many open files')]);
  });
});

describe('watchSourceFiles stopped', () => {
  it('reports nothing once stopped', async () => {
    const file = join(folder(), 'consumer.ts');
    writeFileSync(file, 'export const a = 1;');
    const reported: string[] = [];
    const stop = watchSourceFiles([file], (changed) => reported.push(changed));
    stop();
    const edited = eventSeen(file, 'change');
    writeFileSync(file, 'export const a = 2;');
    await edited;
    expect(reported).toEqual([]);
  });
});

describe('bundleSourceFiles', () => {
  it("lists the project's files from the bundle's source map, resolved from the bundle's folder, without packages", async () => {
    const dir = folder();
    mkdirSync(join(dir, 'build'));
    const bundle = join(dir, 'build', 'index.mjs');
    writeFileSync(
      `${bundle}.map`,
      JSON.stringify({
        version: 3,
        sources: ['../src/consumer.ts', '../node_modules/zod/index.js', 42, '../lambda/shared/envelope.ts'],
      }),
    );
    expect(await bundleSourceFiles(bundle)).toEqual([
      join(dir, 'src', 'consumer.ts'),
      join(dir, 'lambda', 'shared', 'envelope.ts'),
    ]);
  });

  it.each([
    ['no source map', undefined],
    ['a source map that is not JSON', '{"sources": ['],
    ['a source map without a sources list', '{"version": 3, "sources": "a.ts"}'],
  ])('lists nothing for a bundle with %s', async (_, map) => {
    const bundle = join(folder(), 'index.mjs');
    if (map !== undefined) writeFileSync(`${bundle}.map`, map);
    expect(await bundleSourceFiles(bundle)).toEqual([]);
  });
});
