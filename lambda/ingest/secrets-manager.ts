/**
 * Reads a signing secret's value from Secrets Manager (`./secrets` caches it and parses rotation lists).
 *
 * Its own module because the handler loads it, and with it the Secrets Manager client, when a secret is first
 * fetched (`import()`, see ../shared/on-first-use): local mode's `env:` secrets never need it.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { clientOptions } from '../shared/aws-clients';

/** Fetches `SecretString`s with one Secrets Manager client made from `options`. */
export function secretsManagerFetcher(
  options: ReturnType<typeof clientOptions>,
): (secretId: string) => Promise<string | undefined> {
  const secretsManager = new SecretsManagerClient(options);
  return async (secretId) =>
    (await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}
