/**
 * The `hookline` commands local mode's notices name, built by the CLI's one hint builder with the target local
 * mode was started for: `--local`, and `--config` when it runs a configuration other than the default.
 */
import { type CommandHints, hooklineCommandFor } from '../cli/output';

/**
 * `configFile`: the configuration as the operator named it (`hookline dev --config`, else `HOOKLINE_CONFIG`);
 * undefined for the default `hookline.config.ts`, which the command finds without the flag.
 */
export function localModeHints(configFile?: string): CommandHints {
  const target = { local: true, ...(configFile ? { config: configFile } : {}) };
  return { command: (args) => hooklineCommandFor(target, args) };
}
