/**
 * Development signing secrets of local mode. Each source reads `HOOKLINE_SECRET_<SOURCE>` (upper-cased, dashes
 * to underscores); when unset, a documented default applies so the README's signed `curl` works out of the box.
 */
import { SENDERS } from '../../lambda/shared/senders';
import type { ResolvedSource } from '../config';

/** `github` -> `HOOKLINE_SECRET_GITHUB`, `billing-stripe` -> `HOOKLINE_SECRET_BILLING_STRIPE`. */
export function secretEnvName(sourceName: string): string {
  return `HOOKLINE_SECRET_${sourceName.toUpperCase().replaceAll('-', '_')}`;
}

/** The secret id the ingest function resolves from its environment in local mode. */
export function localSecretId(sourceName: string): string {
  return `env:${secretEnvName(sourceName)}`;
}

/**
 * The development default: `dev-secret-<source>`; for Standard Webhooks a valid `whsec_` secret whose key bytes
 * are that same text (so `whsec_ZGV2LXNlY3JldC1zdGFuZGFyZA==` for a source named `standard`).
 */
export function defaultDevSecret(source: Pick<ResolvedSource, 'name' | 'type'>): string {
  const plain = `dev-secret-${source.name}`;
  return SENDERS[source.type].secretFromKey(plain);
}

/** The secret each source uses locally: the environment variable when set, else the development default. */
export function localSecrets(
  sources: readonly Pick<ResolvedSource, 'name' | 'type'>[],
  env: Record<string, string | undefined> = process.env,
): Record<string, { envName: string; value: string; isDefault: boolean }> {
  return Object.fromEntries(
    sources
      .filter((s) => SENDERS[s.type].needsSecret)
      .map((s) => {
        const envName = secretEnvName(s.name);
        const given = env[envName];
        return [
          s.name,
          given
            ? { envName, value: given, isDefault: false }
            : { envName, value: defaultDevSecret(s), isDefault: true },
        ];
      }),
  );
}
