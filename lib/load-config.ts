/**
 * The one configuration loader, used by the CDK app (`cdk synth`/`deploy`), local mode (`npm start`) and the
 * `hookline` CLI: it finds the file, imports it and validates it, including that consumer entry files exist.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { type HooklineConfig, HooklineConfigError, type ResolvedConfig, resolveConfig } from './config';
import { ESM_REQUIRE_BANNER } from './esm-require-banner';
import { projectRootOf } from './project-root';

/** The configuration file cannot be read or imported, or has no default export. */
export class ConfigLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigLoadError';
  }
}

/**
 * The configuration file: `explicit` (the CLI's `--config`), else `HOOKLINE_CONFIG`, else `hookline.config.ts`,
 * relative to the working directory (the project folder, where `cdk.json` is).
 */
export function configPath(
  env: Record<string, string | undefined> = process.env,
  explicit?: string,
  cwd = process.cwd(),
): string {
  return path.resolve(cwd, explicit ?? (env.HOOKLINE_CONFIG || 'hookline.config.ts'));
}

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
async function importConfigModule(file: string): Promise<{ default?: HooklineConfig }> {
  if (!/\.[cm]?ts$/.test(file))
    return (await import(pathToFileURL(file).href)) as { default?: HooklineConfig };
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [file],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
    // A `require` that resolves as the file would, for {@link requireCdkRoot}.
    banner: { js: ESM_REQUIRE_BANNER },
    plugins: [requireCdkRoot],
  });
  const code = result.outputFiles[0]?.text ?? '';
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.mjs`);
  writeFileSync(temporary, code);
  try {
    return (await import(pathToFileURL(temporary).href)) as { default?: HooklineConfig };
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Imports and resolves the configuration. Throws {@link ConfigLoadError} when the file cannot be loaded and
 * {@link HooklineConfigError} listing every problem when it is invalid.
 */
export async function readConfig(
  file = configPath(),
  projectRoot = projectRootOf(),
): Promise<ResolvedConfig> {
  if (!existsSync(file)) {
    throw new ConfigLoadError(
      `no configuration at ${file}: create hookline.config.ts or set HOOKLINE_CONFIG`,
    );
  }
  let input: HooklineConfig | undefined;
  try {
    input = (await importConfigModule(file)).default;
  } catch (error) {
    const reason = loadFailureReason(error);
    throw new ConfigLoadError(`cannot load the configuration ${file}: ${reason}`);
  }
  if (!input)
    throw new ConfigLoadError(`${file} has no default export: export default defineConfig({ ... })`);
  return resolveConfig(input, { entryExists: (entry) => entryExistsInProject(entry, projectRoot) });
}

/** The first line of why a module failed to load (esbuild's first error, with its line, for syntax errors). */
function loadFailureReason(error: unknown): string {
  const first = (error as { errors?: { text: string; location?: { line: number } | null }[] }).errors?.[0];
  if (first) return first.location ? `line ${first.location.line}: ${first.text}` : first.text;
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
    return await readConfig(file);
  } catch (error) {
    const message = configFailureMessage(error);
    if (message === undefined) throw error;
    process.stderr.write(`hookline: ${message}\n`);
    process.exit(1);
  }
}
