/**
 * Expected failures of the `hookline` CLI, each turned into one line that says what is wrong and how to fix it.
 *
 * Anything that is not recognised here is an unexpected bug and keeps its stack trace (see `bin/hookline.ts`).
 */

import { credentialFailureOf, signInAgainCommand } from '../../lambda/shared/credential-failure';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { didYouMeanAside } from '../closest-name';
import { sharedAwsFiles, sharedProfileNames } from './aws-profile';

/** An expected failure: printed as one line (`error: <message>`), exit code 1, never a stack trace. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * A {@link CliError} about the command line itself, not the pipeline: a flag's value the CLI cannot read (`--since
 * yesterday`) or flags that contradict each other. The CLI exits {@link USAGE_EXIT_CODE} for it, as for the usage
 * errors its parser finds (an unknown option, a missing argument), so a script tells "fix the command" from "the
 * command failed".
 */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit status of a usage error: 2, as POSIX utilities and most CLIs use it; 1 stays "the command failed". */
export const USAGE_EXIT_CODE = 2;

/**
 * A {@link CliError} saying that what the operator named does not exist (a queue, a job id, an event id in a
 * dead-letter queue): the console answers it 404, so a script can tell it from a request it refused.
 */
export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * A {@link CliError} saying that a queue the operator named is not one of the target's. It is the request's error
 * where the name came from a filter or a body, and a 404 where the console's path named the queue.
 */
export class UnknownQueueError extends CliError {
  constructor(
    readonly queue: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnknownQueueError';
  }
}

/**
 * A {@link CliError} saying that a source the operator named is not one the target knows: the one wording of it
 * for every command that takes a source (`send`, `secrets set`, `replay --source`, `trace --source`).
 */
export class UnknownSourceError extends CliError {
  /** @param orElse what else the command can do with a source it does not know, said after the known ones */
  constructor(
    readonly source: string,
    known: readonly string[],
    orElse?: string,
  ) {
    super(
      `unknown source "${source}"${didYouMeanAside(source, known)}: use one of ${known.length > 0 ? known.join(', ') : '(none configured)'}${orElse ? `; ${orElse}` : ''}`,
    );
    this.name = 'UnknownSourceError';
  }
}

/**
 * A {@link CliError} about the state of what the command talks to (unreachable, throttled, credentials, access,
 * a missing queue), not about what the operator asked: the console answers it 503, not 400.
 */
export class BackendError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

/**
 * A {@link BackendError} saying AWS refused the caller access to what a call reads or writes, with the IAM action
 * that call needs where the command named it ({@link needing}): a command over several queues then leaves the one
 * it may not read unknown, naming the action, and shows the others.
 */
export class AccessDeniedError extends BackendError {
  constructor(
    message: string,
    readonly action?: string,
    /** As {@link Denial.explicitDeny}. */
    readonly explicitDeny?: string,
  ) {
    super(message);
    this.name = 'AccessDeniedError';
  }
}

/** An action a call was denied, and the policy that explicitly denies it when the denial says so. */
export interface Denial {
  /** The IAM action the call needs, as a policy names it (`sqs:ReceiveMessage`). */
  readonly action: string;
  /**
   * The policy that explicitly denies it, by the type AWS's message names (`service control policy`,
   * `identity-based policy`, `resource-based policy`, `permissions boundary`, `session policy`), or `policy` where it
   * names none; absent when the action is only not granted (then a grant lifts it, and no grant lifts this).
   */
  readonly explicitDeny?: string;
}

/**
 * The policy an access denial's message says explicitly denies the call (`... with an explicit deny in a service
 * control policy`), as {@link Denial.explicitDeny}; undefined for a denial for want of a grant.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
 */
export function explicitDenyIn(message: string): string | undefined {
  if (!/with an explicit deny/i.test(message)) return undefined;
  const named = /with an explicit deny in (?:an?|the) ((?:[\w-]+ ){0,3}?(?:policy|boundary))\b/i.exec(
    message,
  );
  return named?.[1]?.toLowerCase() ?? 'policy';
}

/** `error`'s denial as a part left unknown carries it: its action, and the policy explicitly denying it, if one does. */
export function denialOf(error: {
  readonly action: string;
  readonly explicitDeny?: string | undefined;
}): Denial {
  return { action: error.action, ...(error.explicitDeny ? { explicitDeny: error.explicitDeny } : {}) };
}

/** Why an action is denied, in a part left unknown: the grant it needs, or the policy that explicitly denies it. */
export function deniedBecause(denial: Denial): string {
  return denial.explicitDeny
    ? `${withArticle(denial.explicitDeny)} explicitly denies ${denial.action}`
    : `needs ${denial.action}`;
}

/** What lifts an explicit deny: no grant does (a deny wins over any allow), only the policy's owner. */
export const LIFT_THE_DENY = 'a deny wins over any grant: ask the owner of that policy to lift the deny';

const withArticle = (policy: string) => `${/^[aeiou]/i.test(policy) ? 'an' : 'a'} ${policy}`;

/**
 * A call's access denial with the IAM action the call needs. It keeps the denial's name and message, so that where
 * it is not a part left unknown it is explained as any access denial is ({@link explainError}, whose answer then
 * carries the action).
 */
export class ActionDeniedError extends Error {
  constructor(
    readonly action: string,
    denial: unknown,
  ) {
    super(denial instanceof Error ? denial.message : String(denial), { cause: denial });
    this.explicitDeny = explicitDenyIn(this.message);
    this.name = errorName(denial);
    // Kept so that a denial AWS answered with a bare 403 and no name is still told as one where it is not a part.
    this.$metadata = (denial as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  }

  /** The SDK's metadata of the denied call's answer (its HTTP status), when it had one. */
  readonly $metadata: { httpStatusCode?: number } | undefined;
  /** As {@link Denial.explicitDeny}: the policy the denial's message says explicitly denies the call. */
  readonly explicitDeny: string | undefined;
}

/**
 * A call's answer; its access denial as an {@link ActionDeniedError} naming `action`, or `keyAction` where KMS refused
 * the key of what it reads (a queue's with SSE-KMS: a receive needs `kms:Decrypt` on it, as CDK's
 * `grantConsumeMessages` grants), which no grant of `action` would lift.
 */
export async function needing<T>(action: string, call: Promise<T>, keyAction?: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (!isAccessDenial(error)) throw error;
    throw new ActionDeniedError(keyAction !== undefined && isKmsDenial(error) ? keyAction : action, error);
  }
}

/**
 * A {@link BackendError} about the AWS credentials themselves (none found, rejected, expired): its fix comes before
 * any other a command would suggest for the call that failed.
 */
export class CredentialsError extends BackendError {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

/**
 * A {@link BackendError} saying the stack the CLI looked for is not deployed in the region, naming the stacks there
 * that were deployed from the same configuration (`Dev-Hookline`, `Prod-Hookline`), if any: the operator picks one
 * with `--stack`; the CLI never picks one itself.
 */
export class StackNotFoundError extends BackendError {
  constructor(
    readonly stackName: string,
    readonly region: string,
    candidates: readonly string[] = [],
  ) {
    super(
      candidates.length === 0
        ? `stack ${stackName} not found in ${region}: deploy it with npx cdk deploy, or pass --stack/--region`
        : `stack ${stackName} not found in ${region}, where ${candidates.length === 1 ? 'this stack was' : 'these stacks were'} deployed from this configuration: ${candidates.join(', ')}: name one with --stack (--stack ${candidates[0]}), or deploy ${stackName} with npx cdk deploy`,
    );
    this.name = 'StackNotFoundError';
  }
}

/**
 * An error as one line: an expected failure is its message, anything else keeps its name (`ThrottlingException:
 * ...`, `TypeError: ...`) so that it is recognisable.
 */
export function errorLine(error: unknown): string {
  if (error instanceof CliError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** What the command was talking to, so an AWS error can be explained in the operator's terms. */
export interface ErrorContext {
  /** `local mode` or `stack Hookline in us-east-1`. */
  readonly target: string;
  /** True when the target is local mode (connection errors then mean it stopped). */
  readonly local: boolean;
  /** The queue (URL or name) the failing call was about, when there is one. */
  readonly queue?: string;
  readonly stackName?: string;
  readonly region?: string;
  /** The command paces its calls with `--rate` (redrive, replay): a lower one is a fix for throttling. */
  readonly paced?: boolean;
  /**
   * The failing call starts or reads a Logs Insights query (trace): its `LimitExceededException` is then the
   * account's bound on queries running at once, which waiting lifts, not a quota to raise.
   */
  readonly logsInsights?: boolean;
  /**
   * The IAM actions the failing call needs, for an access denial that names none (S3 answers `Access Denied`, or
   * a HEAD a bare 403 with no body to say it in).
   */
  readonly permissions?: readonly string[];
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'AWS.SimpleQueueService.RequestThrottled',
  // S3's, with HTTP 503: a pace to lower, not a fault of AWS's to wait out.
  'SlowDown',
  // DynamoDB's (the job records) for a table's or the account's throughput spent.
  'ProvisionedThroughputExceededException',
  // SQS's when KMS throttles the calls it makes for the queue's key.
  'KmsThrottled',
]);
/** HTTP's own status for throttling, whatever name the service gave it (none, when the answer had no body). */
const TOO_MANY_REQUESTS = 429;
/** HTTP's refusal of access: S3 answers a HEAD with it alone, no body to name the error in. */
const FORBIDDEN = 403;
const QUEUE_MISSING = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'AuthorizationError']);
/** Secrets Manager's names for a secret it could not decrypt, or encrypt to store, with its KMS key. */
const SECRET_KEY_REFUSED = new Set(['DecryptionFailure', 'EncryptionFailure']);
/**
 * KMS refusing the key of a queue, a bucket, a table or a secret, as the service that called KMS on the caller's
 * behalf names it: SQS (`KmsAccessDenied`, `KMS.AccessDeniedException` over its JSON protocol), DynamoDB, Lambda,
 * and Secrets Manager (`DecryptionFailure`, `EncryptionFailure`: it cannot decrypt the secret, or encrypt a value to
 * store, with the secret's key, which the caller may not use or which is disabled).
 */
const KMS_ACCESS_DENIED = new Set([
  'KmsAccessDenied',
  'KmsAccessDeniedException',
  'KMSAccessDeniedException',
  'KMS.AccessDeniedException',
  ...SECRET_KEY_REFUSED,
]);
/**
 * What a service answers for a resource its id names and it does not have (an event source mapping, a log group,
 * a secret): the stack's outputs name something deleted since. `QueueDoesNotExist` has its own message.
 */
const RESOURCE_MISSING = new Set(['ResourceNotFoundException', 'ResourceNotFound', 'NoSuchBucket']);

/** The first line of an error message (an AWS message may go on for several). */
function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? '';
}

/** The HTTP status of AWS's answer, when there was one. */
export function httpStatus(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * An AWS answer that is the service's fault (HTTP 5xx), which the SDK already retried: its status and how many
 * tries the SDK made, else undefined.
 */
function serverFault(error: unknown): { readonly status: number; readonly attempts: number } | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const { $fault, $metadata } = error as { $fault?: unknown; $metadata?: { attempts?: unknown } };
  const status = httpStatus(error);
  if ($fault !== 'server' && !(status !== undefined && status >= 500)) return undefined;
  const attempts = typeof $metadata?.attempts === 'number' ? $metadata.attempts : 1;
  return { status: status ?? 500, attempts };
}

/**
 * How long the CLI and the console wait for local mode to answer one request (its control API, its emulators):
 * generous, as a loaded machine makes them slow, but bounded, so a stopped (Ctrl-Z, `kill -STOP`) or stuck local
 * mode ends the command with a message instead of holding it forever.
 */
export const LOCAL_ANSWER_SECONDS = 20;

/**
 * How long a console page waits for a read of local mode before it says local mode is not answering: a person is
 * looking at it. The read itself goes on within {@link LOCAL_ANSWER_SECONDS} per request, and the page's next poll
 * joins it; commands (and the console's redrive and replay jobs) keep the longer bound.
 */
export const LOCAL_PAGE_ANSWER_SECONDS = 5;

/** The error for a request local mode accepted and did not answer within `seconds`. */
export function localModeNotAnswering(where?: string, seconds = LOCAL_ANSWER_SECONDS): BackendError {
  return new BackendError(
    `local mode${where ? ` at ${where}` : ''} did not answer within ${seconds} s: is local mode (${START_LOCAL_MODE}) running and responsive? (resume it if it was suspended, else stop and restart it); what the command did before is in its output, and a change it asked for last may still be made once local mode resumes: check with hookline status --local before repeating it`,
  );
}

/** True when a request was given up for want of an answer (the SDK's request/connection timeout, a fetch timeout). */
export function isTimeout(error: unknown): boolean {
  return [...causeChain(error)].some((e) => field(e, 'name') === 'TimeoutError');
}

const CONNECTION = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ETIMEDOUT',
]);

function field(error: unknown, key: string): string | undefined {
  if (error && typeof error === 'object' && key in error) {
    const value = (error as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/** The AWS error code (SDK v3 `name`, or the legacy `Code`/`code`). */
export function errorName(error: unknown): string {
  return field(error, 'name') ?? field(error, 'Code') ?? field(error, 'code') ?? '';
}

/** The error and its causes, outermost first (at most five: a cause chain can loop). */
export function* causeChain(error: unknown): Generator<unknown> {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

/** The error's own `code` when it has one, else its message. */
export function codeOrMessage(error: unknown): string {
  return field(error, 'code') ?? (error instanceof Error ? error.message : String(error));
}

function connectionCode(error: unknown): string | undefined {
  for (const e of causeChain(error)) {
    const code = field(e, 'code');
    if (code && CONNECTION.has(code)) return code;
  }
  return undefined;
}

/**
 * True when a call failed without an answer (no connection, a reset, a timeout): whether the endpoint did what it
 * asked is not known, since an earlier try of the SDK's retries may have reached it before it stopped answering.
 */
export function isUnanswered(error: unknown): boolean {
  return isTimeout(error) || connectionCode(error) !== undefined;
}

/** True when the error says the API call does not exist on this endpoint (e.g. fauxqs 2.4.1 and move tasks). */
export function isUnsupportedAction(error: unknown): boolean {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  return (
    ['InvalidAction', 'UnknownOperationException', 'UnsupportedOperation', 'NotImplemented'].includes(name) ||
    /unknown action|unknown operation|not implemented|invalidaction/i.test(message)
  );
}

/** True for a throttling answer from any AWS service: a name one of them gives it, or HTTP 429. */
export function isThrottling(error: unknown): boolean {
  return THROTTLING.has(errorName(error)) || httpStatus(error) === TOO_MANY_REQUESTS;
}

/**
 * The SDK found no credentials. With `AWS_PROFILE` set it says only "Could not load credentials from any
 * providers" whether the profile is missing or holds none, so the shared files are read to tell which.
 */
export function noCredentials(
  env: Readonly<Record<string, string | undefined>> = process.env,
): CredentialsError {
  const profile = env.AWS_PROFILE;
  if (!profile) return new CredentialsError('no AWS credentials: set AWS_PROFILE or run aws configure');
  const files = sharedAwsFiles(env);
  if (!sharedProfileNames(files).has(profile)) {
    return new CredentialsError(
      `no AWS credentials: the profile AWS_PROFILE names, ${profile}, is not in ${files.config.shown} or ${files.credentials.shown}: list the profiles with aws configure list-profiles, or create it with aws configure --profile ${profile} (aws configure sso --profile ${profile} for IAM Identity Center)`,
    );
  }
  return new CredentialsError(
    `no AWS credentials from the profile AWS_PROFILE names, ${profile}: give it keys with aws configure --profile ${profile}, or sign in with ${signInAgainCommand(env)}`,
  );
}

/**
 * The SSO session of the profile expired (or its cached sign-in is unreadable), or AWS refused temporary credentials
 * as expired: each is fixed by signing in again, with the profile the CLI ran with when one was selected.
 */
export function expiredSignIn(
  name: string,
  message: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CredentialsError | undefined {
  const login = signInAgainCommand(env);
  const failure = credentialFailureOf(name, message);
  if (failure === 'SSO_SESSION_EXPIRED') {
    return new CredentialsError(
      `the AWS SSO session expired (${name}): sign in again with ${login}, then run it again`,
    );
  }
  if (failure === 'CREDENTIALS_EXPIRED') {
    return new CredentialsError(
      `AWS credentials expired (${name}): sign in again with ${login} (credentials you exported: get new ones), then run it again`,
    );
  }
  return undefined;
}

/**
 * AWS refused the credentials as unknown or badly signed: new ones come from signing in again or from new keys, both
 * for the profile the CLI ran with when one was selected (without `--profile` the AWS CLI sets up the default one).
 */
export function rejectedCredentials(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CredentialsError {
  const profile = env.AWS_PROFILE ? ` --profile ${env.AWS_PROFILE}` : '';
  return new CredentialsError(
    `AWS rejected the credentials (${name}): refresh them (${signInAgainCommand(env)}, or aws configure${profile})`,
  );
}

/**
 * Which of the SDK's own timeouts ended a call, from its message (`@smithy/node-http-handler`): no connection
 * within the connection timeout (`connect`), or no answer within the request timeout (`answer`). The request timeout
 * also counts the connecting, but the connection timeout is the shorter, so by then a connection was made.
 */
function sdkTimeout(
  error: unknown,
): { readonly kind: 'connect' | 'answer'; readonly ms: number } | undefined {
  for (const e of causeChain(error)) {
    if (field(e, 'name') !== 'TimeoutError') continue;
    const message = field(e, 'message') ?? '';
    const answer = /exceeded the configured (\d+) ms requestTimeout/.exec(message);
    if (answer) return { kind: 'answer', ms: Number(answer[1]) };
    const connect = /did not establish a connection .* timeout of (\d+) ms/.exec(message);
    if (connect) return { kind: 'connect', ms: Number(connect[1]) };
  }
  return undefined;
}

/** A deployed call the SDK gave up: AWS unreachable, or reached and slow to answer (so "check --region" is no fix). */
function deployedTimeout(timeout: {
  readonly kind: 'connect' | 'answer';
  readonly ms: number;
}): BackendError {
  const seconds = timeout.ms / 1000;
  return new BackendError(
    timeout.kind === 'connect'
      ? `cannot reach AWS (no connection within ${seconds} s): check your network or --region`
      : `AWS did not answer within ${seconds} s (ETIMEDOUT after connecting): AWS or your network is slow right now; run it again`,
  );
}

/**
 * True when KMS refused the key of what the call reads or writes: named so by the service, or an access denial
 * whose message names KMS (S3 says `AccessDenied`, naming kms:Decrypt, for an object whose key it may not use).
 */
function isKmsRefusal(name: string, message: string): boolean {
  return KMS_ACCESS_DENIED.has(name) || (ACCESS_DENIED.has(name) && /\bkms\b/i.test(message));
}

/**
 * What AWS's answer said (its error's name, its message), leaving out the SDK's stand-ins for an answer with no body:
 * `Unknown`, `UnknownError` or the status for a name, `UnknownError` for a message.
 */
function saidByAws(name: string, message: string): string {
  const stated = /^(Unknown|UnknownError|\d*)$/.test(name) ? undefined : name;
  const said = /^(UnknownError)?$/.test(firstLine(message).trim()) ? undefined : firstLine(message);
  return [stated, said].filter(Boolean).join(': ');
}

/** Who answers the calls of a command: local mode's emulators stand in for AWS there. */
function answerer(context: ErrorContext): string {
  return context.local ? "local mode's emulators" : 'AWS';
}

/**
 * An answer of AWS (or of local mode's emulators) that {@link explainError} does not explain, as one line naming
 * who answered, its HTTP status and what it said; undefined for an error no endpoint answered.
 */
export function unexplainedAnswer(error: unknown, context: ErrorContext): BackendError | undefined {
  const status = httpStatus(error);
  if (status === undefined) return undefined;
  const said = saidByAws(errorName(error), error instanceof Error ? error.message : String(error));
  return new BackendError(
    `${answerer(context)} answered HTTP ${status}${said ? ` (${said})` : ''}, which hookline does not explain`,
  );
}

/**
 * An access denial in the operator's terms: a policy's explicit deny (which no grant overrides, so only its owner
 * can lift it), KMS refusing a key (granted on the key, not on the queue or the bucket), a 403 that names nothing
 * (the actions the call needs, when the caller named them), or the action AWS named.
 */
function accessDenied(
  name: string,
  message: string,
  context: ErrorContext,
  status: number | undefined,
  action: string | undefined,
): BackendError {
  // Local mode's emulators have no IAM to grant in: they refuse only callers that are not on this machine.
  if (context.local) return localRefusal(name, message, context, status);
  const explicitDeny = explicitDenyIn(message);
  const denied = (line: string) => new AccessDeniedError(line, action, explicitDeny);
  const grant = context.permissions?.length
    ? `grant your AWS identity ${context.permissions.join(' and ')}`
    : undefined;
  if (explicitDeny) {
    return denied(
      `access denied in ${context.target}: ${firstLine(message)} (a policy explicitly denies it, and ${LIFT_THE_DENY})`,
    );
  }
  if (isKmsRefusal(name, message)) {
    return denied(
      `access denied in ${context.target} by KMS (${name}): ${firstLine(message)} (${SECRET_KEY_REFUSED.has(name) ? "your AWS identity needs kms:Decrypt on the secret's key to read it, and kms:GenerateDataKey to store a value; grant them in the key policy or your IAM policy, and check that the key is enabled" : 'your AWS identity needs kms:Decrypt on the key to read, and kms:GenerateDataKey to send: grant them in the key policy or your IAM policy'})`,
    );
  }
  if (!ACCESS_DENIED.has(name)) {
    const said = saidByAws(name, message);
    return denied(
      `access denied in ${context.target}: AWS answered HTTP 403${said ? ` (${said})` : ''} without naming the permission it lacks: ${grant ?? 'grant your AWS identity the permissions the command needs (the CLI reference lists them)'}`,
    );
  }
  return denied(
    `access denied in ${context.target}: ${message} (${grant ?? 'grant that permission to your AWS identity'})`,
  );
}

/**
 * Local mode's emulators refusing a call: their loopback gate (`lib/loopback-gate.ts`) answers HTTP 403, saying why,
 * to a caller it does not take for one on this machine (another host name, a proxy's or tunnel's headers, a web
 * page's origin), and the fix is to call them as the CLI does from there, not a grant.
 */
function localRefusal(
  name: string,
  message: string,
  context: ErrorContext,
  status: number | undefined,
): BackendError {
  const said = saidByAws(name, message);
  return new BackendError(
    `access denied in ${context.target}: ${answerer(context)} answered${status === undefined ? '' : ` HTTP ${status}`}${said ? ` (${said})` : ''}: they answer only callers on this machine, directly, not through a proxy or tunnel, under another host name or from a web page: run the command on the machine where local mode runs, with no proxy in between`,
  );
}

/**
 * True when AWS refused the call's access: by its name for it, by KMS's, or by any other HTTP 403 (the credentials'
 * own 403s are told before this is asked).
 */
function isAccessDenied(name: string, message: string, error: unknown): boolean {
  return ACCESS_DENIED.has(name) || isKmsRefusal(name, message) || httpStatus(error) === FORBIDDEN;
}

/** True when KMS refused the key of what the call reads or writes (not the call's own action). */
export function isKmsDenial(error: unknown): boolean {
  return isKmsRefusal(errorName(error), error instanceof Error ? error.message : String(error));
}

/**
 * True when AWS refused the caller access to what the call reads or writes, however the service said it: the one
 * test of an access denial, for a command that reports what it may not read in place rather than failing.
 */
export function isAccessDenial(error: unknown): boolean {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  // The credentials' own refusals come with a 403 too, and fail every call alike, so they are no part to leave out.
  return !isCredentialsRefusal(name, message) && isAccessDenied(name, message, error);
}

/** True when AWS or the SDK refused the credentials themselves: none found, expired, not AWS's, or mis-signed. */
function isCredentialsRefusal(name: string, message: string): boolean {
  const failure = credentialFailureOf(name, message);
  return failure !== undefined && failure !== 'NO_REGION';
}

/** One step of a command, for the line a failure of it is told with. */
export interface StepContext extends ErrorContext {
  /** What the step does, as the line says it could not: `read the signing secret of github`. */
  readonly step: string;
  /** The way around the step the command offers (`pass --secret or set HOOKLINE_SECRET_GITHUB`), if it has one. */
  readonly otherwise?: string;
}

/**
 * A failure of one step of a command: AWS's refusal as {@link explainError} tells it (a denial that names no action
 * names the step's `permissions`), after the step and before the way around it, so the operator learns what could
 * not be done as well as why. Refused credentials are told alone: their fix comes before any other. An error nothing
 * explains is the step's (with its name) where the command offers a way around it, else it is returned unchanged,
 * an unexpected one.
 */
export function explainStep(error: unknown, context: StepContext): unknown {
  if (error instanceof CliError) return error;
  const explained = explainError(error, context);
  if (explained instanceof CredentialsError) return explained;
  const otherwise = context.otherwise ? `; or ${context.otherwise}` : '';
  if (explained instanceof BackendError) {
    return new BackendError(`cannot ${context.step}: ${explained.message}${otherwise}`);
  }
  if (!context.otherwise) return explained;
  return new CliError(`cannot ${context.step} (${errorName(error) || 'error'}): ${context.otherwise}`);
}

/** What an explanation of a failed move task names: the queue it redrives and how to redrive what is left. */
export interface MoveTaskContext extends ErrorContext {
  /** The queue the task moves its dead-letter queue's messages back to, by its CLI name (`events`). */
  readonly queue: string;
  /** The dead-letter queue's ARN, the task's source: `aws sqs list-message-move-tasks` shows the task by it. */
  readonly deadLetterArn: string;
  /** The command that redrives what the task left, with the run's target flags (`hookline redrive events`). */
  readonly rerun: string;
}

const KEY_DISABLED = 'is disabled: enable it (aws kms enable-key)';
const KEY_MISSING =
  'does not exist: it was deleted, or the queue names a key of another region or account; messages encrypted under a deleted key cannot be read again';
const KEY_STATE =
  'is in a state that cannot be used (pending deletion, or without its imported key material): cancel its deletion with aws kms cancel-key-deletion and enable it, or import its key material again';
const KEY_USAGE = 'is not a symmetric encryption key, the only kind SQS encrypts with';

/**
 * What is wrong with a KMS key of the queues, for the reasons SQS gives when the key itself, not a grant on it, stops
 * a move task: as SQS's API names them, and in the `KMS.` form of its query protocol.
 */
const KMS_KEY_UNUSABLE: ReadonlyMap<string, string> = new Map([
  ['KmsDisabled', KEY_DISABLED],
  ['KMS.DisabledException', KEY_DISABLED],
  ['KmsNotFound', KEY_MISSING],
  ['KMS.NotFoundException', KEY_MISSING],
  ['KmsInvalidState', KEY_STATE],
  ['KMS.InvalidStateException', KEY_STATE],
  ['KmsInvalidKeyUsage', KEY_USAGE],
  ['KMS.InvalidKeyUsageException', KEY_USAGE],
]);

/**
 * Why SQS failed a move task (a redrive of a whole dead-letter queue), from the `FailureReason` of its
 * `ListMessageMoveTasks` entry, as one line that starts with SQS's reason verbatim and says what is wrong and what to
 * grant or do. SQS moves the messages with the permissions of the AWS identity that started the task: it receives and
 * deletes in the dead-letter queue and sends to the queue, decrypting and encrypting with their KMS keys. The reasons
 * AWS documents for move tasks, and SQS's own KMS and throttling errors, are explained; any other is passed through
 * with where to look.
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-dlq-redrive.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
 */
export function explainMoveTaskFailure(reason: string, context: MoveTaskContext): string {
  const said = reason.trim();
  // The reason is a code (`AccessDenied`), which a message may follow.
  const code = said.split(/[\s:]/, 1)[0] ?? '';
  const { queue, rerun } = context;
  const dlq = `the ${queue} dead-letter queue`;
  const again = `then run ${rerun} again for what is left`;
  if (explicitDenyIn(said)) {
    return `${said}: a policy explicitly denies the AWS identity that started the task something it does (a deny wins over any grant): ask the owner of that policy to lift the deny, ${again}`;
  }
  if (isKmsRefusal(code, said)) {
    return `${said}: KMS refused a key the task needs: the AWS identity that started it needs kms:Decrypt on the keys of ${dlq} and of the ${queue} queue (whose messages it holds), and kms:GenerateDataKey on the ${queue} queue's key: grant them in the key policies or its IAM policy, ${again}`;
  }
  if (ACCESS_DENIED.has(code)) {
    return `${said}: the AWS identity that started the task may not do all it does: grant it sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on ${dlq} and sqs:SendMessage on the ${queue} queue (and, for a queue encrypted with a KMS key, kms:Decrypt on both queues' keys and kms:GenerateDataKey on the ${queue} queue's); a queue policy that admits only a VPC must also admit the calls SQS makes for the task (aws:CalledViaLast sqs.amazonaws.com); ${again}`;
  }
  const unusable = KMS_KEY_UNUSABLE.get(code);
  if (unusable) {
    return `${said}: the KMS key of ${dlq} or of the ${queue} queue ${unusable}; ${again}`;
  }
  if (THROTTLING.has(code) || /throttl/i.test(code)) {
    return `${said}: SQS or KMS throttled the task: wait a minute, ${again}, with a lower --rate`;
  }
  if (QUEUE_MISSING.has(code) || code === 'NonExistentQueue') {
    return `${said}: ${dlq} or the ${queue} queue does not exist any more: ${context.local ? `restart local mode with ${START_LOCAL_MODE}` : `it was deleted outside ${context.target}: redeploy with npx cdk deploy`}, ${again}`;
  }
  if (code === 'CouldNotDetermineMessageSource') {
    return `${said}: the task was started without a destination (the AWS console's redrive to the source queues), and SQS cannot tell where messages it did not dead-letter itself came from, as the ${queue} consumer's own dead letters: ${rerun} names the ${queue} queue as the destination; run it again for what is left`;
  }
  if (/\bkms\b/i.test(said)) {
    return `${said}: KMS failed the task: check the keys of ${dlq} and of the ${queue} queue in the KMS console (enabled, not pending deletion, and usable by the AWS identity that started the task), ${again}`;
  }
  return `${said}: a reason hookline does not explain: AWS's guide to dead-letter queue redrive issues lists the permissions a task needs, and aws sqs list-message-move-tasks --source-arn ${context.deadLetterArn} shows the task; ${again}`;
}

/** Maps an error to a one-line {@link BackendError} when it is an expected failure; returns other errors unchanged. */
export function explainError(error: unknown, context: ErrorContext): unknown {
  if (error instanceof CliError) return error;
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  const expired = expiredSignIn(name, message);
  if (expired) return expired;
  const failure = credentialFailureOf(name, message);
  if (failure === 'NO_CREDENTIALS') return noCredentials();
  if (failure === 'CREDENTIALS_REJECTED') return rejectedCredentials(name);
  if (name === 'ValidationError' && /does not exist/i.test(message) && context.stackName) {
    return new StackNotFoundError(context.stackName, context.region ?? '');
  }
  if (isThrottling(error)) {
    return new BackendError(
      `AWS throttled the request (${THROTTLING.has(name) ? name : `HTTP ${TOO_MANY_REQUESTS}`}) after retries: wait a minute and run it again${context.paced ? ', or lower --rate' : ''}`,
    );
  }
  if (name === 'LimitExceededException' && context.logsInsights) {
    return new BackendError(
      `too many Logs Insights queries are running in the account (${name}: ${firstLine(message)}): CloudWatch Logs runs only so many at once, dashboards' included; wait a minute for some to finish, then run it again`,
    );
  }
  if (QUEUE_MISSING.has(name)) {
    const queue = context.queue ? `queue ${context.queue}` : 'the queue';
    return new BackendError(
      context.local
        ? `${queue} does not exist in local mode: restart it with ${START_LOCAL_MODE}`
        : `${queue} does not exist in ${context.target}: redeploy with npx cdk deploy`,
    );
  }
  if (isAccessDenied(name, message, error)) {
    const action = error instanceof ActionDeniedError ? error.action : undefined;
    return accessDenied(name, message, context, httpStatus(error), action);
  }
  if (RESOURCE_MISSING.has(name) && !context.local) {
    return new BackendError(
      `${context.target} has no such resource (${name}: ${firstLine(message)}): it was deleted outside the stack or the stack is out of date; redeploy with npx cdk deploy`,
    );
  }
  const fault = serverFault(error);
  if (fault) {
    const tries = fault.attempts > 1 ? ` on all ${fault.attempts} tries` : '';
    return new BackendError(
      context.local
        ? `local mode answered with a server error (${name}, HTTP ${fault.status})${tries}: check the output of local mode (${START_LOCAL_MODE}), then run it again`
        : `AWS answered with a server error (${name}, HTTP ${fault.status})${tries}: a fault on AWS's side, not in your request; run it again in a minute (the AWS Health Dashboard says when a service is degraded)`,
    );
  }
  if (name === 'PurgeQueueInProgress' || name === 'AWS.SimpleQueueService.PurgeQueueInProgress') {
    return new BackendError(
      `a purge of ${context.queue ?? 'this queue'} is already running: SQS allows one per 60 seconds, wait a minute`,
    );
  }
  // Before the connection codes: the SDK's request timeout also carries ETIMEDOUT, and local mode did answer the
  // connection, so "start it" would be wrong.
  if (context.local && isTimeout(error)) return localModeNotAnswering();
  const timeout = context.local ? undefined : sdkTimeout(error);
  if (timeout) return deployedTimeout(timeout);
  const connection = connectionCode(error);
  if (connection) {
    return new BackendError(
      context.local
        ? `local mode is not reachable (${connection}): start it with ${START_LOCAL_MODE}`
        : `cannot reach AWS (${connection}): check your network or --region`,
    );
  }
  if (name === 'TimeoutError') {
    return new BackendError(
      `the request to ${context.target} timed out: check your network and run it again`,
    );
  }
  return error;
}
