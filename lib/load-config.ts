import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type HooklineConfig, HooklineConfigError, type ResolvedConfig, resolveConfig } from './config';
import { PROJECT_ROOT } from './hookline-function';

/** The configuration file: `HOOKLINE_CONFIG`, else `hookline.config.ts` in the project root. */
export function configPath(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(PROJECT_ROOT, env.HOOKLINE_CONFIG ?? 'hookline.config.ts');
}

/**
 * Imports and resolves the configuration. On a configuration error it prints every problem and exits 1, so
 * `cdk synth` and `npm start` fail with the same readable message.
 */
export async function loadConfig(file = configPath()): Promise<ResolvedConfig> {
  let input: HooklineConfig;
  try {
    const mod = (await import(pathToFileURL(file).href)) as { default?: HooklineConfig };
    if (!mod.default) throw new Error(`${file} has no default export: export default defineConfig({ ... })`);
    input = mod.default;
  } catch (error) {
    console.error(`hookline: cannot load the configuration ${file}: ${(error as Error).message}`);
    process.exit(1);
  }
  try {
    return resolveConfig(input);
  } catch (error) {
    if (error instanceof HooklineConfigError) {
      console.error(`hookline: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
