/**
 * Local mode's bundle cache: an esbuild result is reused while nothing it was built from changed, so a warm
 * `npm start` skips esbuild entirely.
 *
 * An entry is keyed by the esbuild version and the complete build options (entry, output path, target, banner,
 * ...). It records the SHA-256 of every input file esbuild read (from the metafile), of every `package.json`,
 * `tsconfig.json` and `jsconfig.json` in those files' folders and above (or that there was none: adding one
 * changes resolution), and of each output file. A hit needs every one of those hashes to match again, so an
 * edit anywhere in the bundle's sources, a dependency upgrade or a damaged entry rebuilds. The cache is an
 * optimisation only: an unreadable or unwritable cache never fails a build.
 *
 * A warm start checks ~2,000 input files (mostly the AWS SDK), so an input left alone for {@link SETTLED_MS}
 * before it was hashed also records its stat signature (inode, size, mtime and ctime): while that signature is
 * unchanged the file is not read again. Any write changes the ctime, which no tool can set back (npm, for one,
 * gives every package file the same mtime), and the settling time keeps a write within the file system's
 * timestamp granularity of the hashing from going unnoticed. On any difference the hash decides.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, type Stats, statSync, utimesSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type BuildOptions, version as esbuildVersion, type Metafile, type OutputFile } from 'esbuild';
import { writeFileAtomically } from './atomic-write';

/** Files next to a module that steer how esbuild resolves and compiles it. */
const RESOLUTION_FILES = ['package.json', 'tsconfig.json', 'jsconfig.json'] as const;
/** Bumped when the entry layout changes, so older entries are never read. */
const FORMAT = 2;
const ABSENT = 'absent';
/** How long an input must have been unchanged before it was hashed for its stat signature to be recorded. */
export const SETTLED_MS = 2_000;
/** More than a scheduler tick (1 to 10 ms), by how much a file's timestamp can trail the clock it was written at. */
const FILE_CLOCK_LAG_MS = 100;
/**
 * Entries kept: each is one bundle at one output path (~1 MB plus its source map), and every edit or new
 * output folder (tests use one per run) adds one; the least recently used go first.
 */
export const MAX_ENTRIES = 48;

/** A file esbuild produced (or the cache kept), with its absolute path. */
export interface BuiltFile {
  readonly path: string;
  readonly contents: Uint8Array;
}

/** What {@link cachedBuild} returns. */
export interface CachedBuildResult {
  readonly outputFiles: readonly BuiltFile[];
  /** True when the files came from the cache and esbuild did not run. */
  readonly fromCache: boolean;
}

/** The SHA-256 of a file's content, or `absent`. */
export type FileHasher = (path: string) => Promise<string>;

/**
 * A hasher that reads each file once, for the lookups of bundles checked together (the functions share most
 * of their inputs, e.g. the AWS SDK). Storing an entry always reads the files again.
 */
export function sharedFileHasher(): FileHasher {
  const hashes = new Map<string, Promise<string>>();
  return (path) => {
    let hash = hashes.get(path);
    if (!hash) {
      hash = hashFile(path);
      hashes.set(path, hash);
    }
    return hash;
  };
}

/** Runs esbuild (with `write: false` and `metafile: true`). */
export type Builder = (options: BuildOptions) => Promise<{ outputFiles?: OutputFile[]; metafile?: Metafile }>;

interface Manifest {
  readonly format: number;
  /** Absolute path -> SHA-256 of its content, or `absent`. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Absolute path -> stat signature taken before its hash, for the inputs that had settled then. */
  readonly signatures: Readonly<Record<string, string>>;
  /** Output path -> SHA-256 of the copy kept in the entry's folder (named by its position). */
  readonly outputs: readonly { readonly path: string; readonly sha256: string }[];
}

/**
 * The outputs of `options` from the cache in `cacheDir` when every recorded hash still matches; otherwise runs
 * `builder` and stores the result. Without `cacheDir` it only builds.
 */
export async function cachedBuild(
  options: BuildOptions,
  cacheDir: string | undefined,
  builder: Builder,
  hasher: FileHasher = hashFile,
): Promise<CachedBuildResult> {
  if (cacheDir === undefined) return { outputFiles: await buildOutputs(options, builder), fromCache: false };
  const entryDir = join(cacheDir, entryKey(options));
  const cached = await readEntry(entryDir, hasher);
  if (cached) {
    markUsed(entryDir);
    return { outputFiles: cached, fromCache: true };
  }
  const started = Date.now();
  const result = await builder({ ...options, write: false, metafile: true });
  const outputFiles = toBuiltFiles(result.outputFiles);
  if (result.metafile) {
    await storeEntry(entryDir, options, result.metafile, outputFiles, started)
      .then(() => prune(cacheDir))
      .catch(() => undefined);
  }
  return { outputFiles, fromCache: false };
}

async function buildOutputs(options: BuildOptions, builder: Builder): Promise<BuiltFile[]> {
  return toBuiltFiles((await builder({ ...options, write: false })).outputFiles);
}

function toBuiltFiles(files: readonly OutputFile[] | undefined): BuiltFile[] {
  return (files ?? []).map((f) => ({ path: f.path, contents: f.contents }));
}

/** The folder name of a build: esbuild's version and every option, so any change of either is another entry. */
export function entryKey(options: BuildOptions): string {
  const { write: _, metafile: __, ...relevant } = options;
  return sha256(JSON.stringify({ format: FORMAT, esbuild: esbuildVersion, options: relevant })).slice(0, 32);
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function hashFile(path: string): Promise<string> {
  try {
    return sha256(await readFile(path));
  } catch {
    return ABSENT;
  }
}

/** The cached outputs, or undefined when the entry is missing, damaged or out of date. */
async function readEntry(entryDir: string, hasher: FileHasher): Promise<BuiltFile[] | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(entryDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (!isManifest(manifest)) return undefined;
  const { signatures } = manifest;
  const current = await Promise.all(
    Object.entries(manifest.inputs).map(async ([path, hash]) => {
      const stats = fileStats(path);
      if (stats === null) return hash === ABSENT || (await hasher(path)) === hash;
      if (stats && signatures[path] !== undefined && signatures[path] === signatureOf(stats)) return true;
      return (await hasher(path)) === hash;
    }),
  );
  if (!current.every(Boolean)) return undefined;
  const outputs = manifest.outputs.map((output, index) => {
    try {
      const contents = readFileSync(join(entryDir, `${index}.out`));
      return sha256(contents) === output.sha256 ? { path: output.path, contents } : undefined;
    } catch {
      return undefined;
    }
  });
  return outputs.every((o) => o !== undefined) ? (outputs as BuiltFile[]) : undefined;
}

function isManifest(value: unknown): value is Manifest {
  const m = value as Partial<Manifest> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === FORMAT &&
    typeof m.inputs === 'object' &&
    m.inputs !== null &&
    Object.entries(m.inputs).every(([k, v]) => isAbsolute(k) && typeof v === 'string') &&
    typeof m.signatures === 'object' &&
    m.signatures !== null &&
    Object.values(m.signatures).every((v) => typeof v === 'string') &&
    Array.isArray(m.outputs) &&
    m.outputs.length > 0 &&
    m.outputs.every((o) => typeof o?.path === 'string' && typeof o?.sha256 === 'string')
  );
}

/**
 * Writes the outputs, then the manifest (each to a temporary name, then renamed), so a reader sees either the
 * old entry, the new one or a mismatch it treats as a miss. Not stored when an input changed while esbuild ran:
 * the recorded hash would then describe a newer file than the bundle was built from.
 */
async function storeEntry(
  entryDir: string,
  options: BuildOptions,
  metafile: Metafile,
  outputFiles: readonly BuiltFile[],
  buildStarted: number,
): Promise<void> {
  const sources = inputFiles(options, metafile);
  if (sources.some((path) => modifiedSince(path, buildStarted))) return;
  const inputs: Record<string, string> = {};
  const signatures: Record<string, string> = {};
  for (const path of [...sources, ...resolutionFiles(sources)]) {
    const settled = settledSignature(path);
    inputs[path] = await hashFile(path);
    if (settled !== undefined) signatures[path] = settled;
  }
  rmSync(entryDir, { recursive: true, force: true });
  mkdirSync(entryDir, { recursive: true });
  for (const [index, file] of outputFiles.entries())
    writeFileAtomically(join(entryDir, `${index}.out`), file.contents);
  const manifest: Manifest = {
    format: FORMAT,
    inputs,
    signatures,
    outputs: outputFiles.map((f) => ({ path: f.path, sha256: sha256(f.contents) })),
  };
  writeFileAtomically(join(entryDir, 'manifest.json'), JSON.stringify(manifest));
}

/** A file's stats; null when there is no such file (undefined when it cannot be read). */
function fileStats(path: string): Stats | null | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return undefined;
  }
}

function signatureOf(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** The file's signature when it was last changed at least {@link SETTLED_MS} ago, else undefined. */
function settledSignature(path: string): string | undefined {
  const stats = fileStats(path);
  if (!stats || Math.max(stats.mtimeMs, stats.ctimeMs) > Date.now() - SETTLED_MS) return undefined;
  return signatureOf(stats);
}

/** The real files among the metafile's inputs (paths relative to the working directory), absolute. */
function inputFiles(options: BuildOptions, metafile: Metafile): string[] {
  const base = options.absWorkingDir ?? process.cwd();
  return Object.keys(metafile.inputs)
    .filter((path) => !/^[a-z-]+:/i.test(path) || /^[a-z]:[\\/]/i.test(path))
    .map((path) => resolve(base, path));
}

/**
 * Whether the file may have changed at or after `time`. Linux stamps a write from a clock that lags `Date.now()`
 * by up to a scheduler tick, so an edit made just after the build started can carry an earlier time: anything
 * from {@link FILE_CLOCK_LAG_MS} before counts, which at worst leaves a build just after a save unstored.
 */
function modifiedSince(path: string, time: number): boolean {
  try {
    return statSync(path).mtimeMs >= time - FILE_CLOCK_LAG_MS;
  } catch {
    return true;
  }
}

/** Every resolution file that could apply to the sources: in each of their folders and every folder above. */
function resolutionFiles(sources: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const source of sources) {
    for (let dir = dirname(source); !folders.has(dir); dir = dirname(dir)) {
      folders.add(dir);
      if (dirname(dir) === dir) break;
    }
  }
  return [...folders].flatMap((dir) => RESOLUTION_FILES.map((name) => join(dir, name)));
}

/** The manifest's modification time is the entry's last use. */
function markUsed(entryDir: string): void {
  const now = new Date();
  try {
    utimesSync(join(entryDir, 'manifest.json'), now, now);
  } catch {
    // Only the pruning order depends on it.
  }
}

/** Removes the least recently used entries beyond {@link MAX_ENTRIES}. */
function prune(cacheDir: string): void {
  const entries = readdirSync(cacheDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({ dir: join(cacheDir, e.name), used: lastUse(join(cacheDir, e.name)) }))
    .sort((a, b) => b.used - a.used);
  for (const { dir } of entries.slice(MAX_ENTRIES)) rmSync(dir, { recursive: true, force: true });
}

function lastUse(entryDir: string): number {
  try {
    return statSync(join(entryDir, 'manifest.json')).mtimeMs;
  } catch {
    return 0;
  }
}
