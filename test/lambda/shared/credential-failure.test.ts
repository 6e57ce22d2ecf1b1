import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  credentialFailureOf,
  credentialFailureOfError,
  signInAgainCommand,
} from '../../../lambda/shared/credential-failure';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** The SDK's environment for a process given no credentials and no region anywhere, instance metadata off. */
function stubNoAwsSetup(): void {
  for (const name of Object.keys(process.env).filter((n) => n.startsWith('AWS_')))
    vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/credentials');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
}

describe('credentialFailureOf', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("tells the SDK's own failure of a process with no credentials, and with no region", async () => {
    stubNoAwsSetup();
    const noCredentials = await defaultProvider({})().catch((e: unknown) => e);
    expect(credentialFailureOfError(noCredentials)).toBe('NO_CREDENTIALS');
    const client = new SQSClient({ credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const noRegion = await client.send(new ListQueuesCommand({})).catch((e: unknown) => e);
    expect(credentialFailureOfError(noRegion)).toBe('NO_REGION');
  });

  it("cannot tell a container credential endpoint failing for a moment from no credentials: the SDK's error is the same", async () => {
    let asked = 0;
    const endpoint = createServer((_request, response) => {
      asked++;
      response.statusCode = 500;
      response.end('try again');
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      stubNoAwsSetup();
      const nothingConfigured = await defaultProvider({})().catch((e: unknown) => e);
      const { port } = endpoint.address() as AddressInfo;
      vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', `http://127.0.0.1:${port}/credentials`);
      // A short timeout only shortens the provider's pauses between its own tries; the error is the same.
      const endpointFailed = await defaultProvider({ timeout: 200 })().catch((e: unknown) => e);
      const shape = (e: unknown) => ({
        ...(e as object),
        name: (e as Error).name,
        message: (e as Error).message,
      });
      expect(shape(endpointFailed)).toEqual(shape(nothingConfigured));
      expect(credentialFailureOfError(endpointFailed)).toBe('NO_CREDENTIALS');
      // The SDK's container providers asked it again themselves before giving up (fromHttp four times).
      expect(asked).toBeGreaterThanOrEqual(4);
    } finally {
      endpoint.close();
    }
  });

  it.each([
    [
      'CredentialsProviderError',
      'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
      'SSO_SESSION_EXPIRED',
    ],
    ['TokenProviderError', 'The SSO session token is invalid: run aws sso login', 'SSO_SESSION_EXPIRED'],
    ['ExpiredToken', 'The provided token has expired.', 'CREDENTIALS_EXPIRED'],
    ['ExpiredTokenException', 'The security token included in the request is expired', 'CREDENTIALS_EXPIRED'],
    ['CredentialsProviderError', 'Could not load credentials from any providers', 'NO_CREDENTIALS'],
    [
      'TokenProviderError',
      "Sso session 'dev' could not be found in shared credentials file.",
      'NO_CREDENTIALS',
    ],
    ['Error', 'Could not load credentials from any providers', 'NO_CREDENTIALS'],
    [
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      'CREDENTIALS_REJECTED',
    ],
    [
      'InvalidClientTokenId',
      'The security token included in the request is invalid.',
      'CREDENTIALS_REJECTED',
    ],
    ['SignatureDoesNotMatch', 'The request signature we calculated does not match', 'CREDENTIALS_REJECTED'],
    ['InvalidSignatureException', 'Signature expired', 'CREDENTIALS_REJECTED'],
    ['Error', 'Region is missing', 'NO_REGION'],
  ])('reads %s "%s" as %s', (name, message, failure) => {
    expect(credentialFailureOf(name, message)).toBe(failure);
    expect(credentialFailureOfError(named(name, message))).toBe(failure);
  });

  it('leaves any other failure, and a thrown value that is no error, to the caller', () => {
    expect(
      credentialFailureOf('AccessDenied', 'User is not authorized to perform sqs:SendMessage'),
    ).toBeUndefined();
    expect(credentialFailureOf('TimeoutError', 'socket hang up')).toBeUndefined();
    expect(credentialFailureOf('Error', 'the Region is missing a queue')).toBeUndefined();
    expect(credentialFailureOfError('Could not load credentials from any providers')).toBeUndefined();
    expect(credentialFailureOfError({ name: 'CredentialsProviderError', message: 'x' })).toBeUndefined();
  });
});

describe('signInAgainCommand', () => {
  it('names the profile AWS_PROFILE selects, so the sign-in is the one the process runs with', () => {
    expect(signInAgainCommand({ AWS_PROFILE: 'prod' })).toBe('aws sso login --profile prod');
  });

  it('is the bare command without AWS_PROFILE, which signs in the default profile', () => {
    expect(signInAgainCommand({})).toBe('aws sso login');
    expect(signInAgainCommand({ AWS_PROFILE: '' })).toBe('aws sso login');
  });
});
