/**
 * AWS's refusals as the SDK v3 throws them (the service's exception class where it models one, else its service
 * exception with the wire's name, status and fault), with the line the CLI and the console answer each with.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LimitExceededException } from '@aws-sdk/client-cloudwatch-logs';
import { ProvisionedThroughputExceededException, RequestLimitExceeded } from '@aws-sdk/client-dynamodb';
import { LambdaServiceException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { DecryptionFailure, EncryptionFailure } from '@aws-sdk/client-secrets-manager';
import { KmsAccessDenied, KmsThrottled, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { vi } from 'vitest';

export const TARGET = 'stack Hookline in us-east-1';
/** What the SDK's answers carry besides the name: a request AWS answered, after the SDK's tries. */
const answered = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'req-1', attempts: 3 });

/** An error the service models no class for, as the SDK builds it from the answer's code and status. */
function unmodeled(
  Service: typeof LambdaServiceException | typeof S3ServiceException | typeof SQSServiceException,
  name: string,
  message: string,
  httpStatusCode: number,
): Error {
  return new Service({
    name,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: answered(httpStatusCode),
  });
}

/** What a command (or a console request) is, as far as the line it answers a refusal with depends on it. */
export interface Caller {
  readonly name: string;
  /** It paces its calls with --rate, so its throttling line names that fix too. */
  readonly paced?: boolean;
  /** The IAM actions it names for a denial that names none (S3's). */
  readonly permissions?: readonly string[];
}

export interface Refusal {
  readonly kind: string;
  /** The error; one the SDK itself throws may first set the environment it comes from (restore it after). */
  readonly error: () => Error | Promise<Error>;
  /** The line, without the CLI's `error: `. */
  readonly line: (caller: Caller) => string;
  /** It refuses the credentials themselves, which every command answers alike. */
  readonly credentials?: boolean;
  /**
   * It refuses access to what the call reads, as a policy or a key's does: a command that shows what it may not read
   * as unknown (status) shows it so.
   */
  readonly denial?: boolean;
  /**
   * The policy its message says explicitly denies the call, with its article (`a service control policy`): a part
   * left unknown names it rather than the grant, which would not lift it.
   */
  readonly explicitDeny?: string;
  /** Only these commands make the call it comes from. @default every command */
  readonly only?: readonly string[];
}

const kmsFix =
  '(your AWS identity needs kms:Decrypt on the key to read, and kms:GenerateDataKey to send: grant them in the key policy or your IAM policy)';

const secretKmsFix =
  "(your AWS identity needs kms:Decrypt on the secret's key to read it, and kms:GenerateDataKey to store a value; grant them in the key policy or your IAM policy, and check that the key is enabled)";

const KMS_REFUSALS: readonly Refusal[] = [
  {
    kind: 'SQS KmsAccessDenied',
    error: () =>
      new KmsAccessDenied({
        message:
          'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
        $metadata: answered(400),
      }),
    line: () =>
      `access denied in ${TARGET} by KMS (KmsAccessDenied): The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access. ${kmsFix}`,
  },
  {
    kind: 'SQS KMS.AccessDeniedException',
    error: () =>
      unmodeled(
        LambdaServiceException,
        'KMS.AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/k-1 because no identity-based policy allows the kms:GenerateDataKey action',
        400,
      ),
    line: () =>
      `access denied in ${TARGET} by KMS (KMS.AccessDeniedException): User: arn:aws:iam::123456789012:user/ops is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/k-1 because no identity-based policy allows the kms:GenerateDataKey action ${kmsFix}`,
  },
  {
    kind: 'KmsAccessDeniedException',
    error: () => unmodeled(LambdaServiceException, 'KmsAccessDeniedException', 'KMS key access denied', 400),
    line: () =>
      `access denied in ${TARGET} by KMS (KmsAccessDeniedException): KMS key access denied ${kmsFix}`,
  },
  {
    kind: 'Secrets Manager DecryptionFailure',
    error: () =>
      new DecryptionFailure({
        message:
          'Access to KMS is not allowed. This version of secret is not encrypted with the current KMS key.',
        $metadata: answered(400),
      }),
    line: () =>
      `access denied in ${TARGET} by KMS (DecryptionFailure): Access to KMS is not allowed. This version of secret is not encrypted with the current KMS key. ${secretKmsFix}`,
    only: ['secrets set --add (its read of the stored secrets)'],
  },
  {
    kind: 'Secrets Manager EncryptionFailure',
    error: () =>
      new EncryptionFailure({
        message: 'Access to KMS is not allowed',
        $metadata: answered(400),
      }),
    line: () =>
      `access denied in ${TARGET} by KMS (EncryptionFailure): Access to KMS is not allowed ${secretKmsFix}`,
    only: ['secrets set (its write)'],
  },
  {
    kind: 'S3 AccessDenied naming kms:Decrypt',
    error: () =>
      unmodeled(
        LambdaServiceException,
        'AccessDenied',
        'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access',
        403,
      ),
    line: () =>
      `access denied in ${TARGET} by KMS (AccessDenied): User: arn:aws:iam::123456789012:user/ops is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access ${kmsFix}`,
  },
];

/** The throttling line, naming --rate where the command has it. */
const throttled = (name: string) => (caller: Caller) =>
  `AWS throttled the request (${name}) after retries: wait a minute and run it again${caller.paced ? ', or lower --rate' : ''}`;

const THROTTLING_REFUSALS: readonly Refusal[] = [
  {
    kind: 'S3 SlowDown (HTTP 503)',
    error: () => unmodeled(S3ServiceException, 'SlowDown', 'Please reduce your request rate.', 503),
    line: throttled('SlowDown'),
  },
  {
    kind: 'HTTP 429 without a body',
    error: () => unmodeled(SQSServiceException, 'Unknown', 'UnknownError', 429),
    line: throttled('HTTP 429'),
  },
  {
    kind: 'SQS KmsThrottled',
    error: () => new KmsThrottled({ message: 'Rate exceeded for KMS', $metadata: answered(400) }),
    line: throttled('KmsThrottled'),
  },
  {
    kind: 'ThrottledException',
    error: () => unmodeled(LambdaServiceException, 'ThrottledException', 'Rate exceeded', 429),
    line: throttled('ThrottledException'),
  },
  {
    kind: 'DynamoDB ProvisionedThroughputExceededException',
    error: () =>
      new ProvisionedThroughputExceededException({
        message: 'The level of configured provisioned throughput for the table was exceeded.',
        $metadata: answered(400),
      }),
    line: throttled('ProvisionedThroughputExceededException'),
  },
  {
    kind: 'DynamoDB RequestLimitExceeded',
    error: () =>
      new RequestLimitExceeded({
        message: 'Throughput exceeds the current throughput limit for your account.',
        $metadata: answered(400),
      }),
    line: throttled('RequestLimitExceeded'),
  },
  {
    kind: 'Lambda TooManyRequestsException',
    error: () =>
      new TooManyRequestsException({
        message: 'Rate exceeded',
        Reason: 'CallerRateLimitExceeded',
        $metadata: answered(429),
      }),
    line: throttled('TooManyRequestsException'),
  },
];

const LOGS_INSIGHTS_REFUSALS: readonly Refusal[] = [
  {
    kind: 'Logs Insights LimitExceededException (queries running at once)',
    error: () =>
      new LimitExceededException({
        message: 'Account maximum query concurrency limit of [100] reached.',
        $metadata: answered(400),
      }),
    line: () =>
      "too many Logs Insights queries are running in the account (LimitExceededException: Account maximum query concurrency limit of [100] reached.): CloudWatch Logs runs only so many at once, dashboards' included; wait a minute for some to finish, then run it again",
    only: ['trace'],
  },
];

/**
 * What the SDK's credential chain throws for the profile `profile` whose SSO session expired: the profile signed in
 * with `aws sso login` once, its cached token past its end, in a home folder of the test's own.
 */
async function expiredSsoSession(profile: string): Promise<Error> {
  const home = mkdtempSync(join(tmpdir(), 'hookline-sso-'));
  const startUrl = 'https://example.awsapps.com/start';
  const cache = join(home, '.aws', 'sso', 'cache');
  mkdirSync(cache, { recursive: true });
  writeFileSync(
    join(home, '.aws', 'config'),
    `[profile ${profile}]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Operator\nregion = us-east-1\n`,
  );
  writeFileSync(
    join(cache, `${createHash('sha1').update(startUrl).digest('hex')}.json`),
    JSON.stringify({
      startUrl,
      region: 'us-east-1',
      accessToken: 'token',
      expiresAt: '2026-01-01T00:00:00Z',
    }),
  );
  vi.stubEnv('HOME', home);
  vi.stubEnv('AWS_CONFIG_FILE', join(home, '.aws', 'config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(home, '.aws', 'credentials'));
  vi.stubEnv('AWS_PROFILE', profile);
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
    vi.stubEnv(name, '');
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  const client = new SQSClient({ region: 'us-east-1' });
  try {
    await client.config.credentials();
  } catch (error) {
    return error as Error;
  } finally {
    client.destroy();
  }
  throw new Error('the SDK found credentials');
}

const EXPIRED_SIGN_IN_REFUSALS: readonly Refusal[] = [
  {
    kind: "the SDK's expired SSO session of AWS_PROFILE prod",
    error: () => expiredSsoSession('prod'),
    credentials: true,
    line: () =>
      'the AWS SSO session expired (CredentialsProviderError): sign in again with aws sso login --profile prod, then run it again',
  },
  {
    kind: 'an expired SSO token (TokenProviderError), no profile selected',
    error: () => {
      vi.stubEnv('AWS_PROFILE', '');
      return Object.assign(
        new Error(
          "Token is expired. To refresh this SSO session run 'aws sso login' with the corresponding profile.",
        ),
        { name: 'TokenProviderError', tryNextLink: false },
      );
    },
    credentials: true,
    line: () =>
      'the AWS SSO session expired (TokenProviderError): sign in again with aws sso login, then run it again',
  },
  {
    kind: 'ExpiredTokenException under AWS_PROFILE ops',
    error: () => {
      vi.stubEnv('AWS_PROFILE', 'ops');
      return unmodeled(
        LambdaServiceException,
        'ExpiredTokenException',
        'The security token included in the request is expired',
        403,
      );
    },
    credentials: true,
    line: () =>
      'AWS credentials expired (ExpiredTokenException): sign in again with aws sso login --profile ops (credentials you exported: get new ones), then run it again',
  },
  {
    kind: 'ExpiredToken (SQS, S3), no profile selected',
    error: () => {
      vi.stubEnv('AWS_PROFILE', '');
      return unmodeled(S3ServiceException, 'ExpiredToken', 'The provided token has expired.', 400);
    },
    credentials: true,
    line: () =>
      'AWS credentials expired (ExpiredToken): sign in again with aws sso login (credentials you exported: get new ones), then run it again',
  },
];

const denied = (message: string) => () =>
  `access denied in ${TARGET}: ${message} (a policy explicitly denies it, and a deny wins over any grant: ask the owner of that policy to lift the deny)`;

const EXPLICIT_DENY_REFUSALS: readonly Refusal[] = [
  {
    kind: "SQS AccessDenied by a service control policy's explicit deny",
    explicitDeny: 'a service control policy',
    error: () =>
      unmodeled(
        SQSServiceException,
        'AccessDenied',
        'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:us-east-1:123456789012:Hookline-events-dlq with an explicit deny in a service control policy',
        403,
      ),
    line: denied(
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sqs:receivemessage on resource: arn:aws:sqs:us-east-1:123456789012:Hookline-events-dlq with an explicit deny in a service control policy',
    ),
  },
  {
    kind: "AccessDeniedException by an identity-based policy's explicit deny",
    explicitDeny: 'an identity-based policy',
    error: () =>
      unmodeled(
        LambdaServiceException,
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: lambda:UpdateEventSourceMapping on resource: arn:aws:lambda:us-east-1:123456789012:event-source-mapping:esm-events-uuid with an explicit deny in an identity-based policy',
        403,
      ),
    line: denied(
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: lambda:UpdateEventSourceMapping on resource: arn:aws:lambda:us-east-1:123456789012:event-source-mapping:esm-events-uuid with an explicit deny in an identity-based policy',
    ),
  },
  {
    kind: "KMS.AccessDeniedException by the key policy's explicit deny",
    explicitDeny: 'a resource-based policy',
    error: () =>
      unmodeled(
        SQSServiceException,
        'KMS.AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/k-1 with an explicit deny in a resource-based policy',
        400,
      ),
    line: denied(
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/k-1 with an explicit deny in a resource-based policy',
    ),
  },
];

/** What the caller grants for a denial that names no action: the actions it named, else the CLI reference's. */
const grant = (caller: Caller) =>
  caller.permissions
    ? `grant your AWS identity ${caller.permissions.join(' and ')}`
    : 'grant your AWS identity the permissions the command needs (the CLI reference lists them)';

const UNNAMED_DENIAL_REFUSALS: readonly Refusal[] = [
  {
    kind: 'a bare HTTP 403 (S3 HeadObject: no body, no code)',
    error: () => unmodeled(S3ServiceException, 'Unknown', 'UnknownError', 403),
    line: (caller) =>
      `access denied in ${TARGET}: AWS answered HTTP 403 without naming the permission it lacks: ${grant(caller)}`,
  },
  {
    kind: 'a bare HTTP 403 the SDK names by its status',
    error: () => unmodeled(S3ServiceException, '403', 'UnknownError', 403),
    line: (caller) =>
      `access denied in ${TARGET}: AWS answered HTTP 403 without naming the permission it lacks: ${grant(caller)}`,
  },
  {
    kind: 'a bare HTTP 403 named Forbidden',
    error: () => unmodeled(S3ServiceException, 'Forbidden', 'UnknownError', 403),
    line: (caller) =>
      `access denied in ${TARGET}: AWS answered HTTP 403 (Forbidden) without naming the permission it lacks: ${grant(caller)}`,
  },
  {
    kind: "S3's AccessDenied that names no action",
    error: () => unmodeled(S3ServiceException, 'AccessDenied', 'Access Denied', 403),
    line: (caller) =>
      `access denied in ${TARGET}: Access Denied (${caller.permissions ? grant(caller) : 'grant that permission to your AWS identity'})`,
  },
];

const denials = (refusals: readonly Refusal[]) => refusals.map((r) => ({ ...r, denial: true }));

export const REFUSALS: readonly Refusal[] = [
  ...denials(KMS_REFUSALS),
  ...THROTTLING_REFUSALS,
  ...LOGS_INSIGHTS_REFUSALS,
  ...EXPIRED_SIGN_IN_REFUSALS,
  ...denials(EXPLICIT_DENY_REFUSALS),
  ...denials(UNNAMED_DENIAL_REFUSALS),
];
