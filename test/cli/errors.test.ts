import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { explainError, explicitDenyIn } from '../../lib/cli/errors';

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

  it('names the profile AWS_PROFILE selects in the fix for credentials AWS rejected, and none without it', () => {
    const rejected = Object.assign(new Error('The security token included in the request is invalid.'), {
      name: 'UnrecognizedClientException',
    });
    vi.stubEnv('AWS_PROFILE', 'prod');
    expect((explainError(rejected, deployed) as Error).message).toBe(
      'AWS rejected the credentials (UnrecognizedClientException): refresh them (aws sso login --profile prod, or aws configure --profile prod)',
    );
    vi.stubEnv('AWS_PROFILE', '');
    expect((explainError(rejected, deployed) as Error).message).toBe(
      'AWS rejected the credentials (UnrecognizedClientException): refresh them (aws sso login, or aws configure)',
    );
  });

  it("tells an SSO token provider's failure that is no expiry as no credentials, as the producer does", () => {
    vi.stubEnv('AWS_PROFILE', 'staging');
    const error = Object.assign(
      new Error("Sso session 'dev' could not be found in shared credentials file."),
      {
        name: 'TokenProviderError',
      },
    );
    expect((explainError(error, deployed) as Error).message).toBe(
      'no AWS credentials from the profile AWS_PROFILE names, staging: give it keys with aws configure --profile staging, or sign in with aws sso login --profile staging',
    );
  });
});

/** An error as the SDK throws it once its retries are spent: the service's name for it and the answer's metadata. */
function sdkError(
  name: string,
  message: string,
  fault: 'client' | 'server',
  status: number,
  attempts: number,
) {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status, attempts },
  });
}

describe('AWS answers the CLI cannot act on, in one line', () => {
  it('says a server error AWS gave on every try is on its side, with the status and how many tries', () => {
    const error = sdkError('InternalFailure', 'We encountered an internal error.', 'server', 503, 5);

    expect(explainError(error, deployed)).toMatchObject({
      name: 'BackendError',
      message:
        "AWS answered with a server error (InternalFailure, HTTP 503) on all 5 tries: a fault on AWS's side, not in your request; run it again in a minute (the AWS Health Dashboard says when a service is degraded)",
    });
  });

  it('points a server error of local mode at its output instead', () => {
    const error = sdkError('InternalError', 'boom', 'server', 500, 2);

    expect(explainError(error, { target: 'local mode', local: true })).toMatchObject({
      message:
        'local mode answered with a server error (InternalError, HTTP 500) on all 2 tries: check the output of local mode (npm start or npx hookline dev), then run it again',
    });
  });

  it('says a resource the stack outputs name is gone, and to redeploy', () => {
    const error = sdkError(
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
      'client',
      404,
      1,
    );

    expect(explainError(error, deployed)).toMatchObject({
      name: 'BackendError',
      message:
        'stack Hookline in eu-west-1 has no such resource (ResourceNotFoundException: The resource you requested does not exist.): it was deleted outside the stack or the stack is out of date; redeploy with npx cdk deploy',
    });
  });

  it('names --rate as a fix for throttling only for a command that has it', () => {
    const throttled = sdkError('ThrottlingException', 'Rate exceeded', 'client', 400, 5);

    expect((explainError(throttled, deployed) as Error).message).toBe(
      'AWS throttled the request (ThrottlingException) after retries: wait a minute and run it again',
    );
    expect((explainError(throttled, { ...deployed, paced: true }) as Error).message).toBe(
      'AWS throttled the request (ThrottlingException) after retries: wait a minute and run it again, or lower --rate',
    );
  });

  it("says a LimitExceededException is Logs Insights' bound on queries at once only for a Logs Insights call", () => {
    const limit = sdkError(
      'LimitExceededException',
      'Account maximum query concurrency limit of [100] reached.',
      'client',
      400,
      1,
    );

    expect((explainError(limit, { ...deployed, logsInsights: true }) as Error).message).toMatch(
      /^too many Logs Insights queries are running in the account \(LimitExceededException: Account maximum query concurrency limit of \[100\] reached\.\): .*wait a minute for some to finish, then run it again$/,
    );
    expect(explainError(limit, deployed)).toBe(limit);
  });

  it('leaves a client error it does not know as it is', () => {
    const error = sdkError('InvalidParameterValue', 'bad', 'client', 400, 1);

    expect(explainError(error, deployed)).toBe(error);
  });
});

describe('the policy an access denial says explicitly denies the call', () => {
  const user =
    'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:eu-west-1:123456789012:q';

  it.each([
    ['with an explicit deny in a service control policy', 'service control policy'],
    [
      'with an explicit deny in a service control policy: arn:aws:organizations::123456789012:policy/o-1/service_control_policy/p-1',
      'service control policy',
    ],
    ['with an explicit deny in an identity-based policy', 'identity-based policy'],
    ['with an explicit deny in a resource-based policy', 'resource-based policy'],
    ['with an explicit deny in a permissions boundary', 'permissions boundary'],
    ['with an explicit deny in a session policy', 'session policy'],
    ['with an explicit deny', 'policy'],
  ])('reads "%s" as %s', (said, policy) => {
    expect(explicitDenyIn(`${user} ${said}`)).toBe(policy);
  });

  it('finds none in a denial for want of a grant', () => {
    expect(
      explicitDenyIn(`${user} because no identity-based policy allows the sqs:receivemessage action`),
    ).toBeUndefined();
  });
});
