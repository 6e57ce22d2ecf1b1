/**
 * Signing secrets: `env:NAME` reads process.env.NAME (local mode); anything else is a Secrets Manager id.
 * The stored value is a plain secret or `{"secrets":["current","previous"]}` while rotating. Values are
 * cached per id for a bounded time; a failed load is never cached, so the next request tries again.
 */

import { isQuotedSecret, QUOTED_SECRET_PROBLEM } from '../shared/senders/sign-kit';

/** Raised when a secret cannot be loaded; the caller answers 503 (fail closed), never an unverified pass. */
export class SecretUnavailableError extends Error {
  constructor(
    readonly secretId: string,
    options?: { cause?: unknown },
  ) {
    super(`signing secret ${secretId} could not be loaded`, options);
    this.name = 'SecretUnavailableError';
  }
}

/**
 * Parses a stored secret value into the list of active secrets. A JSON object must be the rotation form: any
 * other object (a Secrets Manager key/value secret) is refused rather than used, braces and all, as the key; so
 * is a JSON list (the rotation secrets without their object), and a secret in JSON quotes: no sender issues either.
 */
export function parseSecretValue(value: string): string[] {
  if (value.trimStart().startsWith('[') && isJsonList(value)) {
    throw new Error(
      'the secret is a JSON list: store {"secrets": ["current", "previous"]} while rotating, else the plain secret',
    );
  }
  if (isQuotedSecret(value)) throw new Error(QUOTED_SECRET_PROBLEM);
  if (value.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      // Not JSON: a plain secret that starts with a brace.
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      if (!('secrets' in parsed) || !Array.isArray(parsed.secrets)) {
        throw new Error(
          'the secret is a JSON object without a "secrets" list (a key/value secret?): store the plain secret, or {"secrets": ["current", "previous"]}',
        );
      }
      const secrets = parsed.secrets.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
      if (secrets.length > 0) return secrets;
      throw new Error('the "secrets" list holds no non-blank string');
    }
  }
  if (value.trim().length === 0) throw new Error('the secret is empty (or only whitespace)');
  return [value];
}

function isJsonList(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

/** Collaborators of {@link createSecretLoader}. */
export interface SecretLoaderOptions {
  /** Fetches a Secrets Manager secret's SecretString. */
  readonly fetchSecretString: (secretId: string) => Promise<string | undefined>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cacheSeconds: number;
  readonly now?: () => number;
}

/** A cached, TTL-bounded loader; concurrent first loads of one id share a single fetch. */
export function createSecretLoader(options: SecretLoaderOptions): (secretId: string) => Promise<string[]> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { expiresAt: number; value: Promise<string[]> }>();

  const load = async (secretId: string): Promise<string[]> => {
    try {
      const raw = secretId.startsWith('env:')
        ? env[secretId.slice(4)]
        : await options.fetchSecretString(secretId);
      if (raw === undefined) throw new Error('no SecretString');
      return parseSecretValue(raw);
    } catch (error) {
      throw new SecretUnavailableError(secretId, { cause: error });
    }
  };

  return (secretId) => {
    const hit = cache.get(secretId);
    if (hit && hit.expiresAt > now()) return hit.value;
    const value = load(secretId);
    cache.set(secretId, { expiresAt: now() + options.cacheSeconds * 1000, value });
    value.catch(() => {
      if (cache.get(secretId)?.value === value) cache.delete(secretId);
    });
    return value;
  };
}
