/**
 * The one configuration loader, used by the CDK app (`cdk synth`/`deploy`), local mode (`npm start`) and the
 * `hookline` CLI: it finds the file, imports it and validates it, including that consumer entry files exist.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type HooklineConfig, HooklineConfigError, type ResolvedConfig, resolveConfig } from './config';
import { PROJECT_ROOT } from './hookline-function';

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
export function entryExistsInProject(entry: string, root = PROJECT_ROOT): boolean {
  return existsSync(path.resolve(root, entry));
}

/**
 * Imports and resolves the configuration. Throws {@link ConfigLoadError} when the file cannot be loaded and
 * {@link HooklineConfigError} listing every problem when it is invalid.
 */
export async function readConfig(file = configPath()): Promise<ResolvedConfig> {
  if (!existsSync(file)) {
    throw new ConfigLoadError(
      `no configuration at ${file}: create hookline.config.ts or set HOOKLINE_CONFIG`,
    );
  }
  let input: HooklineConfig | undefined;
  try {
    input = ((await import(pathToFileURL(file).href)) as { default?: HooklineConfig }).default;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigLoadError(`cannot load the configuration ${file}: ${reason}`);
  }
  if (!input)
    throw new ConfigLoadError(`${file} has no default export: export default defineConfig({ ... })`);
  return resolveConfig(input, { entryExists: (entry) => entryExistsInProject(entry) });
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
