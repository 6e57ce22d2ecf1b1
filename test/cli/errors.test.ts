import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { explainError } from '../../lib/cli/errors';

const deployed = { target: 'stack Hookline in eu-west-1', local: false };

/** What the SDK's default credential chain throws under the environment the test set: the real error. */
async function credentialsError(): Promise<unknown> {
  const client = new SQSClient({ region: 'eu-west-1' });
  try {
    await client.config.credentials();
  } catch (error) {
    return error;
  } finally {
    client.destroy();
  }
  throw new Error('the SDK found credentials');
}

describe('no AWS credentials, in one line', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-aws-'));
    writeFileSync(
      join(dir, 'config'),
      '[default]\nregion = eu-west-1\n\n[profile staging]\nregion = eu-west-1\n',
    );
    writeFileSync(join(dir, 'credentials'), '[ops]\naws_access_key_id = AKIAEXAMPLE\n');
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_WEB_IDENTITY_TOKEN_FILE', '');
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', '');
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', '');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('names the profile AWS_PROFILE names when the shared files do not define it, and how to list or create one', async () => {
    vi.stubEnv('AWS_PROFILE', 'prod');
    const error = await credentialsError();
    expect((explainError(error, deployed) as Error).message).toBe(
      `no AWS credentials: the profile AWS_PROFILE names, prod, is not in ${join(dir, 'config')} or ${join(dir, 'credentials')}: list the profiles with aws configure list-profiles, or create it with aws configure --profile prod (aws configure sso --profile prod for IAM Identity Center)`,
    );
  });

  it('says a profile the shared files define gave no credentials, not that it is missing', async () => {
    vi.stubEnv('AWS_PROFILE', 'staging');
    const error = await credentialsError();
    expect((explainError(error, deployed) as Error).message).toBe(
      'no AWS credentials from the profile AWS_PROFILE names, staging: give it keys with aws configure --profile staging, or sign in with aws sso login --profile staging',
    );
  });

  it('finds a profile of the credentials file, named there without the profile prefix', async () => {
    writeFileSync(join(dir, 'credentials'), '[ops]\nregion = eu-west-1\n');
    vi.stubEnv('AWS_PROFILE', 'ops');
    expect((explainError(await credentialsError(), deployed) as Error).message).toMatch(
      /^no AWS credentials from the profile AWS_PROFILE names, ops:/,
    );
  });

  it('says to set AWS_PROFILE or run aws configure when no profile is named', async () => {
    vi.stubEnv('AWS_PROFILE', '');
    const error = await credentialsError();
    expect((explainError(error, deployed) as Error).message).toBe(
      'no AWS credentials: set AWS_PROFILE or run aws configure',
    );
  });
});
