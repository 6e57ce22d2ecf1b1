/**
 * The one test for "this AWS call failed because of the process's AWS setup, not the call": no credentials, no
 * region, a sign-in that expired, or credentials AWS rejected. The producer and the CLI each word the fix their own
 * way; what counts as which is decided here, so the two never tell the same failure apart differently, and so is the
 * command that signs in again, so the two never name it differently.
 */

/**
 * What a failed AWS call says about the setup of the process that made it:
 * - `NO_CREDENTIALS`: the SDK's credential (or SSO token) providers found none;
 * - `NO_REGION`: no region was configured for the client;
 * - `SSO_SESSION_EXPIRED`: the SSO session the profile signs in with expired, or its cached sign-in is unreadable;
 * - `CREDENTIALS_EXPIRED`: AWS refused temporary credentials (an SSO sign-in's, an assumed role's) as past their end;
 * - `CREDENTIALS_REJECTED`: AWS does not know the credentials, or their signature does not match.
 */
export type CredentialFailure =
  | 'NO_CREDENTIALS'
  | 'NO_REGION'
  | 'SSO_SESSION_EXPIRED'
  | 'CREDENTIALS_EXPIRED'
  | 'CREDENTIALS_REJECTED';

/** What the SDK's credential and token providers throw, an SSO session that expired among others. */
const PROVIDER_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);
/** AWS refusing temporary credentials past their end: an SSO sign-in's, an assumed role's. */
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException']);
/**
 * AWS refusing credentials it does not know or whose signature does not match. The SDK already retried a signature
 * refusal after correcting its clock skew, so what reaches the caller stays refused.
 */
const REJECTED_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/**
 * The setup failure a failed AWS call shows, from the error's name (or code) and message; undefined for any other
 * failure. An expired SSO session is told before "no credentials": the SDK throws it as a provider's error too.
 */
export function credentialFailureOf(name: string, message: string): CredentialFailure | undefined {
  if (PROVIDER_ERRORS.has(name) && /\bsso\b/i.test(message) && /expired|invalid|sso login/i.test(message)) {
    return 'SSO_SESSION_EXPIRED';
  }
  if (EXPIRED_CREDENTIALS.has(name)) return 'CREDENTIALS_EXPIRED';
  if (PROVIDER_ERRORS.has(name) || /could not load credentials/i.test(message)) return 'NO_CREDENTIALS';
  if (REJECTED_CREDENTIALS.has(name)) return 'CREDENTIALS_REJECTED';
  if (/^Region is missing/.test(message)) return 'NO_REGION';
  return undefined;
}

/** {@link credentialFailureOf} of a thrown value: an `Error`'s name and message; undefined for anything else. */
export function credentialFailureOfError(error: unknown): CredentialFailure | undefined {
  return error instanceof Error ? credentialFailureOf(error.name, error.message) : undefined;
}

/**
 * The command that signs a process in again once its SSO session or temporary credentials expired: `aws sso login`,
 * with `--profile` naming the profile `AWS_PROFILE` selects when it is set, since without it the AWS CLI signs in the
 * default profile, not the one the process runs with.
 */
export function signInAgainCommand(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return `aws sso login${env.AWS_PROFILE ? ` --profile ${env.AWS_PROFILE}` : ''}`;
}
