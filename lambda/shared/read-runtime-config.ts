/** Reads a function's runtime configuration (`./ingest-config`, `./consumer-config`) from its environment. */
import type { z } from 'zod/mini';
import { START_LOCAL_MODE } from './local-mode-command';

/** Reads and validates a JSON configuration from the environment; the message names the variable and the fix. */
export function readRuntimeConfig<T>(
  schema: z.ZodMiniType<T>,
  variable: string,
  env: Record<string, string | undefined> = process.env,
): T {
  const raw = env[variable];
  if (raw === undefined || raw === '') {
    throw new Error(
      `${variable} is not set: deploy with the hookline stack or run through local mode (${START_LOCAL_MODE})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`${variable} is not valid JSON: redeploy so the stack writes it again`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `${variable} is invalid at ${first?.path.join('.') || '(root)'}: ${first?.message}${
        first && 'expected' in first ? ` (expected ${String(first.expected)})` : ''
      }; redeploy with a valid configuration`,
    );
  }
  return parsed.data;
}
