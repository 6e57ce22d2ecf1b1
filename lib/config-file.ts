/**
 * Where the configuration file is, and the rule that a named file must exist: node's own modules only, so the CLI
 * checks `--config` without loading the configuration (local mode's commands never do).
 */
import { existsSync, statSync } from 'node:fs';
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
 * Why `file` cannot be the configuration when there is nothing at it, or a folder (`--config .`, which node's import
 * would refuse naming hookline's own loader), for the loader's error and the CLI's; else undefined.
 */
export function missingConfiguration(file: string): string | undefined {
  if (!existsSync(file))
    return `no configuration at ${file}: create it, or give the path of your configuration (--config, or HOOKLINE_CONFIG)`;
  if (statSync(file).isDirectory())
    return `${file} is a folder, not a configuration: give the path of the configuration file in it, such as ${path.join(file, 'hookline.config.ts')} (--config, or HOOKLINE_CONFIG)`;
  return undefined;
}
