/**
 * The one configuration loader, used by the CDK app (`cdk synth`/`deploy`), local mode (`npm start`) and the
 * `hookline` CLI: it finds the file, imports it and validates it, including that consumer entry files exist and export their handler.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Message, Plugin } from 'esbuild';
import { type HooklineConfig, HooklineConfigError, type ResolvedConfig, resolveConfig } from './config';
import { configPath, missingConfiguration } from './config-file';
import { type EntryExports, entryExportNames } from './entry-exports';
import { esbuildApi } from './esbuild-api';
import { ESM_REQUIRE_BANNER } from './esm-require-banner';
import { entryOutsideBundleRoot, lockFileMissing, projectRootOf } from './project-root';
import { type Violation, violation } from './violations';

/** The configuration file cannot be read or imported, or has no default export. */
export class ConfigLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigLoadError';
  }
}

/** Where the file is: the CLI, local mode and the CDK app resolve it alike (`config-file.ts`). */
export { configPath };

/** A consumer entry exists when its file does, relative to the project root (as the stack bundles it). */
export function entryExistsInProject(entry: string, root = projectRootOf()): boolean {
  return existsSync(path.resolve(root, entry));
}

const CDK_ROOT = 'aws-cdk-lib';

/**
 * Loads `aws-cdk-lib` itself (not its subpaths) with `require`: an ES import of that CommonJS module reads every
 * export, which loads all of its ~300 service modules (about a second), where a require loads only what the
 * configuration uses (`Duration`). The module instance is the same either way.
 */
const requireCdkRoot: Plugin = {
  name: 'require-aws-cdk-lib',
  setup(build) {
    build.onResolve({ filter: /^aws-cdk-lib$/ }, (args) =>
      args.namespace === CDK_ROOT
        ? { path: CDK_ROOT, external: true }
        : { path: CDK_ROOT, namespace: CDK_ROOT },
    );
    build.onLoad({ filter: /.*/, namespace: CDK_ROOT }, () => ({
      contents: `module.exports = require('${CDK_ROOT}');`,
      loader: 'js',
    }));
  },
};

/**
 * Imports a configuration module. TypeScript is bundled by esbuild first (packages stay external, so
 * `aws-cdk-lib` and `hookline` are the app's own) into a temporary module next to the file, which resolves
 * imports exactly as the file would; the compiled CLI thus needs no TypeScript loader.
 */
async function importConfigModule(file: string): Promise<ConfigModule> {
  if (!/\.[cm]?ts$/.test(file))
    return { module: (await import(pathToFileURL(file).href)) as ConfigExports, repeatedKeys: [] };
  const { build } = esbuildApi();
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.mjs`);
  const result = await build({
    entryPoints: [file],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Kept in memory, not written: it maps a frame of what the configuration throws back to the file's line.
    sourcemap: 'external',
    write: false,
    outfile: temporary,
    // The paths esbuild's warnings name are then relative to the configuration's folder, as its user reads them.
    absWorkingDir: path.dirname(file),
    logLevel: 'silent',
    // A `require` that resolves as the file would, for {@link requireCdkRoot}.
    banner: { js: ESM_REQUIRE_BANNER },
    plugins: [requireCdkRoot],
  });
  const output = (suffix: string): string =>
    result.outputFiles.find((out) => out.path.endsWith(suffix))?.text ?? '';
  writeFileSync(temporary, output('.mjs'));
  try {
    const module = (await import(pathToFileURL(temporary).href)) as ConfigExports;
    return { module, repeatedKeys: result.warnings.flatMap(repeatedKey) };
  } catch (error) {
    throw new ConfigModuleError(error, file, temporary, output('.mjs.map'));
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** What a configuration module exports. */
type ConfigExports = { default?: HooklineConfig };

/** A configuration module, and the keys its file writes twice in one object. */
interface ConfigModule {
  readonly module: ConfigExports;
  readonly repeatedKeys: readonly Violation[];
}

/**
 * A key an object of the configuration writes twice (`github` twice in `sources`), from esbuild's warning: JavaScript
 * keeps the later one, so the earlier entry would vanish without a word. Its path is the file, line and column, as the
 * object it is in has no path once one of the two is gone: the file relative to the configuration's folder
 * (`hookline.config.ts`, `config/sources.ts` for a file it imports), which esbuild names it by.
 */
function repeatedKey(warning: Message): Violation[] {
  const [at, first] = [warning.location, warning.notes[0]?.location];
  const key = /"(.*)"/.exec(warning.text)?.[1];
  if (warning.id !== 'duplicate-object-key' || !at || key === undefined) return [];
  // esbuild counts columns from 0, editors from 1.
  const earlier = first ? ` of line ${first.line}, column ${first.column + 1}` : '';
  return [
    violation(
      `${at.file}:${at.line}:${at.column + 1}`,
      `repeats the key "${key}"${earlier}: JavaScript keeps only the later one, so the earlier is silently dropped`,
      key,
      'give each entry a name of its own, or remove the one you do not mean',
    ),
  ];
}

/** What a bundled configuration threw while it ran, with the line of the file it threw at when one is known. */
class ConfigModuleError extends Error {
  constructor(thrown: unknown, file: string, temporary: string, sourceMap: string) {
    const frames = thrown instanceof Error ? (thrown.stack ?? '') : '';
    const line = lineInFile(frames, path.basename(temporary), sourceMap, path.basename(file));
    // The module that ran is a temporary copy, gone by now; the user knows their file.
    const message = (thrown instanceof Error ? thrown.message : String(thrown))
      .split(temporary)
      .join(file)
      .trimEnd();
    super(line ? `line ${line}: ${message}` : message);
  }
}

/**
 * The line of the configuration file at the first frame in the module that ran (`…/.x.mjs:5:21`), through the
 * bundle's source map; undefined when that frame is in a file the configuration imports, or there is none.
 * aws-cdk-lib's own errors (`Duration.seconds(-5)`) name a frame's module twice, the first time cut short
 * (`…/.x.mjs:5:2 (…/.x.mjs:5:21)`, `…/.x.mjs:5: (…/.x.mjs:5:7)`), so the frame is the first mention that ends the
 * frame's line or its parentheses.
 */
function lineInFile(frames: string, ran: string, sourceMap: string, fileName: string): number | undefined {
  const frame = new RegExp(`${escapeRegExp(ran)}:(\\d+):(\\d+)(?=\\)|$)`, 'm').exec(frames);
  if (!frame || sourceMap === '') return undefined;
  const entry = new SourceMap(JSON.parse(sourceMap)).findEntry(Number(frame[1]) - 1, Number(frame[2]) - 1);
  if (!('originalLine' in entry) || path.basename(entry.originalSource) !== fileName) return undefined;
  return entry.originalLine + 1;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Imports and resolves the configuration. Throws {@link ConfigLoadError} when the file cannot be loaded and
 * {@link HooklineConfigError} listing every problem when it is invalid.
 */
export async function readConfig(
  file = configPath(),
  projectRoot = projectRootOf(),
  /** `cdk synth` bundles the consumers: their project must then have a lockfile. @default false (local mode, the CLI) */
  forSynth = false,
  /**
   * Whether each consumer's `handler` must be an export of its entry, read by esbuild (about 30 ms an entry): synth
   * and local start refuse a wrong one before it runs; the CLI, which runs no consumer, leaves it to them.
   * @default true
   */
  checkHandlers = true,
): Promise<ResolvedConfig> {
  const missing = missingConfiguration(file);
  if (missing !== undefined) throw new ConfigLoadError(missing);
  let loaded: ConfigModule;
  try {
    loaded = await importConfigModule(file);
  } catch (error) {
    const reason = loadFailureReason(error);
    throw new ConfigLoadError(`cannot load the configuration ${file}: ${reason}`);
  }
  const { module, repeatedKeys } = loaded;
  const input = module.default;
  // `export default process.env.X ? a : null` exports a default, so "no default export" would send the reader to look for one.
  if (input === undefined || input === null)
    throw new ConfigLoadError(
      'default' in module
        ? `${file} exports ${input} as its default: export default defineConfig({ ... })`
        : `${file} has no default export: export default defineConfig({ ... })`,
    );
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(input, {
      entryExists: (entry) => entryExistsInProject(entry, projectRoot),
      entryOutsideBundleRoot: (entry) => entryOutsideBundleRoot(entry, projectRoot),
      ...(checkHandlers ? { entryExports: exportsReader(projectRoot) } : {}),
      ...(forSynth ? { lockFileMissing: () => lockFileMissing(projectRoot), forDeploy: true } : {}),
    });
  } catch (error) {
    // Listed with the other problems, first: one of them may come from the entry that was dropped.
    if (error instanceof HooklineConfigError && repeatedKeys.length > 0)
      throw new HooklineConfigError([...repeatedKeys, ...error.violations]);
    throw error;
  }
  if (repeatedKeys.length > 0) throw new HooklineConfigError(repeatedKeys);
  return resolved;
}

/**
 * An entry's export names ({@link entryExportNames}), read once per load however many consumers share the entry, and
 * read again at the next load (local mode reloads after the files change).
 */
function exportsReader(projectRoot: string): (entry: string) => EntryExports {
  const read = new Map<string, EntryExports>();
  return (entry) => {
    if (!read.has(entry)) read.set(entry, entryExportNames(path.resolve(projectRoot, entry)));
    return read.get(entry);
  };
}

/**
 * Why a module failed to load: esbuild's first error with its line for a syntax error; what the configuration threw
 * with its line in the file, whole; else the first line of the import's error.
 */
function loadFailureReason(error: unknown): string {
  const first = (error as { errors?: { text: string; location?: { line: number } | null }[] }).errors?.[0];
  if (first) return first.location ? `line ${first.location.line}: ${first.text}` : first.text;
  if (error instanceof ConfigModuleError) return error.message;
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/** The message of an expected configuration failure (every problem, one per line), or undefined for a bug. */
export function configFailureMessage(error: unknown): string | undefined {
  return error instanceof HooklineConfigError || error instanceof ConfigLoadError ? error.message : undefined;
}

/**
 * {@link readConfig} for the CDK app: on a configuration failure it prints the message (never a stack trace)
 * and exits 1, so `cdk synth` fails with the same readable message as `npm start` and the CLI.
 */
export async function loadConfig(file = configPath()): Promise<ResolvedConfig> {
  try {
    return await readConfig(file, projectRootOf(), true);
  } catch (error) {
    const message = configFailureMessage(error);
    if (message === undefined) throw error;
    process.stderr.write(`hookline: ${message}\n`);
    process.exit(1);
  }
}
