/**
 * Where the configuration file is, and the rule that a named file must exist: node's own modules only, so the CLI
 * checks `--config` without loading the configuration (local mode's commands never do).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

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

/**
 * Why `file` cannot be the configuration when there is nothing at it (the loader's error and the CLI's), else
 * undefined.
 */
export function missingConfiguration(file: string): string | undefined {
  if (existsSync(file)) return undefined;
  return `no configuration at ${file}: create it, or give the path of your configuration (--config, or HOOKLINE_CONFIG)`;
}
