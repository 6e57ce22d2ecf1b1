/**
 * Development signing secrets of local mode. Each source reads `HOOKLINE_SECRET_<SOURCE>` (upper-cased, dashes
 * to underscores); when unset, a documented default applies so the README's signed `curl` works out of the box.
 */
import { parseSecretValue } from '../../lambda/ingest/secrets';
import { SENDERS, signingSecretProblem } from '../../lambda/shared/senders';
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

/**
 * The secret each source uses locally: the environment variable when set, else the development default. A variable
 * set empty counts as set (and is refused by `localSecretProblems`): it is most often `HOOKLINE_SECRET_X=$REAL` with
 * `REAL` unset, and quietly verifying with the published development default instead would be the wrong secret.
 */
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
          given !== undefined
            ? { envName, value: given, isDefault: false }
            : { envName, value: defaultDevSecret(s), isDefault: true },
        ];
      }),
  );
}

/**
 * What is wrong with each signing secret given in the environment, one line per variable: a value the ingest
 * could not verify any request with would answer every webhook of that source 503, so local mode refuses to
 * start with it instead. The rotation form `{"secrets": [...]}` is read as the ingest reads it.
 */
export function localSecretProblems(
  sources: readonly Pick<ResolvedSource, 'name' | 'type'>[],
  env: Record<string, string | undefined> = process.env,
): string[] {
  const problems: string[] = [];
  for (const [name, secret] of Object.entries(localSecrets(sources, env))) {
    if (secret.isDefault) continue;
    const type = sources.find((s) => s.name === name)?.type;
    if (type === undefined) continue;
    let values: string[];
    try {
      values = parseSecretValue(secret.value);
    } catch (error) {
      problems.push(`${secret.envName} (source ${name}): ${(error as Error).message}`);
      continue;
    }
    const problem = values.map((value) => signingSecretProblem(type, value)).find(Boolean);
    if (problem) problems.push(`${secret.envName} (source ${name}): ${problem}`);
  }
  return problems;
}
