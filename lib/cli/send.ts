/**
 * `hookline send`: posts a correctly signed webhook for a configured source, from a file or a built-in sample,
 * to local mode, the deployed stack or any URL.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { httpHeaderCarries } from '../../lambda/shared/contracts';
import { INGEST_CONFIG_ENV, readIngestConfig } from '../../lambda/shared/runtime-config';
import { senderFor } from '../../lambda/shared/senders';
import { toBytes } from '../../lambda/shared/senders/sign-kit';
import { publicWebhookUrl, signWebhook } from '../../lambda/shared/webhook-signing';
import type { ResolvedConfig, ResolvedSource } from '../config';
import { defaultDevSecret, secretEnvName } from '../local/secrets';
import { sourceNeedsSecret, sourceRuntimeConfig } from '../runtime-wiring';
import type { Backend } from './backend';
import {
  CliError,
  causeChain,
  codeOrMessage,
  explainError,
  explainStep,
  UnknownSourceError,
  UsageError,
} from './errors';
import { type CommandHints, nextCommand } from './output';
import { describedType, sampleRequest, typeHeadersFor, typeOverrideProblem } from './samples';
import { type StackTarget, type Target, webhookUrlOf } from './target';

export interface SendOptions {
  readonly source: string;
  /** Path of a body to send as-is. Default: the built-in sample. */
  readonly file?: string;
  /** Event type for the sample (or the type header for a file, where the sender uses one). */
  readonly type?: string;
  /** Post here instead of the target's webhook URL. */
  readonly url?: string;
  /**
   * Signing secret. @default HOOKLINE_SECRET_<SOURCE>; else in local mode the development default, and for a
   * deployed stack the source's Secrets Manager secret (named in the ingest function's configuration)
   */
  readonly secret?: string;
  /** Delivery id. @default a new UUID */
  readonly id?: string;
  /** Content type of a file body. @default application/json */
  readonly contentType?: string;
}

export interface SendResult {
  readonly source: string;
  readonly url: string;
  readonly status: number;
  readonly ok: boolean;
  /** The event id the pipeline answered with (202 `{"id": ...}`), or null. */
  readonly id: string | null;
  /**
   * The event type the ingest derives: the sample's, or for a file the one its sender reads from the file and the
   * type header (null for a file body the sender cannot read).
   */
  readonly type: string | null;
  /** Where the signing secret came from. */
  readonly secretFrom: 'option' | 'environment' | 'development default' | 'secrets manager' | 'none';
  /** The response body when it is not the usual `{"id"}` (e.g. an error message). */
  readonly response?: string;
}

/** What `send` needs; the Lambda and Secrets Manager clients are used only to read a deployed secret. */
export type SendBackend = Pick<Backend, 'http' | 'clock'> &
  Partial<Pick<Backend, 'lambda' | 'secretsManager'>>;

/**
 * A deployed source's current signing secret: the ingest function's configuration names the secret, Secrets
 * Manager holds it (plain, or the rotation form, which `signWebhook` understands).
 */
async function deployedSecret(
  backend: SendBackend,
  target: StackTarget,
  sourceName: string,
): Promise<string> {
  const envName = secretEnvName(sourceName);
  const fix = `pass --secret or set ${envName}`;
  if (!target.ingestFunctionName || !backend.lambda || !backend.secretsManager) {
    throw new CliError(`no signing secret for source ${sourceName}: ${fix}`);
  }
  try {
    const fn = await backend.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: target.ingestFunctionName }),
    );
    const config = readIngestConfig({
      [INGEST_CONFIG_ENV]: fn.Environment?.Variables?.[INGEST_CONFIG_ENV],
    });
    const source = config.sources[sourceName];
    if (!source || !('secretId' in source))
      throw new CliError(
        `source ${sourceName} is not deployed in ${target.description}: redeploy with npx cdk deploy`,
      );
    const secret = await backend.secretsManager.send(
      new GetSecretValueCommand({ SecretId: source.secretId }),
    );
    if (!secret.SecretString)
      throw new CliError(
        `the signing secret of ${sourceName} is empty: set it in Secrets Manager, or ${fix}`,
      );
    return secret.SecretString;
  } catch (error) {
    // AWS's refusal in its own terms (a KMS key, an explicit deny, throttling), and --secret as the way around it.
    throw explainStep(error, {
      target: target.description,
      local: false,
      permissions: ['lambda:GetFunctionConfiguration', 'secretsmanager:GetSecretValue'],
      step: `read the signing secret of ${sourceName}`,
      otherwise: fix,
    });
  }
}

async function resolveSecret(
  backend: SendBackend,
  options: SendOptions,
  source: ResolvedConfig['sources'][number],
  target: Target | undefined,
  env: Record<string, string | undefined>,
): Promise<{ secret: string; from: SendResult['secretFrom'] }> {
  if (!sourceNeedsSecret(source)) return { secret: '', from: 'none' };
  if (options.secret !== undefined) return { secret: options.secret, from: 'option' };
  const envName = secretEnvName(source.name);
  const fromEnv = env[envName];
  if (fromEnv) return { secret: fromEnv, from: 'environment' };
  if (target?.kind === 'local') return { secret: defaultDevSecret(source), from: 'development default' };
  if (target?.kind === 'stack')
    return { secret: await deployedSecret(backend, target, source.name), from: 'secrets manager' };
  throw new CliError(`no signing secret for source ${source.name}: pass --secret or set ${envName}`);
}

/** Refuses a --url that is not an http(s) URL before anything is signed. */
function checkUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') {
    throw new UsageError(
      `--url ${JSON.stringify(url)} is not an http(s) URL: pass the webhook URL, e.g. http://127.0.0.1:3000/webhooks/github`,
    );
  }
}

/** Why a post to the user's --url failed, in one line naming it. */
function unreachableUrl(error: unknown, url: string): CliError {
  // Already the operator's line (the URL did not answer in time).
  if (error instanceof CliError) return error;
  // fetch says only "fetch failed"; the innermost cause says why (ECONNREFUSED, bad port, ...).
  const reasons = [...causeChain(error)].map(codeOrMessage).filter((r) => r && r !== 'fetch failed');
  const reason = reasons.at(-1) ?? 'no answer';
  return new CliError(`cannot send to --url ${url} (${reason}): check the URL and that it is listening`);
}

/**
 * An option given empty (`--url "$URL"` with the variable unset) is refused: taken for left out, it would post to
 * the target's own URL (a deployed stack), send the sample instead of the file, or sign with another secret.
 */
function emptyOptionProblem(options: SendOptions): string | undefined {
  const empty = (value: string | undefined) => value !== undefined && value.trim() === '';
  if (empty(options.url))
    return "--url must not be empty: give the webhook URL, or leave --url out to post to the target's";
  if (empty(options.file))
    return '--file must not be empty: give the path of the body, or leave --file out to send the built-in sample';
  if (empty(options.secret))
    return `--secret must not be empty: give the signing secret, or leave --secret out to use ${secretEnvName(options.source)}`;
  if (empty(options.id)) return '--id must not be empty: give a delivery id, or leave --id out for a new one';
  return undefined;
}

/**
 * Why the request cannot leave, when a header holds a value HTTP cannot carry (a line break, a character above
 * U+00FF), or undefined: fetch would refuse it and the failure read as an unreachable URL. The flag that gave the
 * value is named, and its value unless it is the secret. (`--type` is checked first, with the header it sets.)
 */
function unsendableHeaderProblem(headers: Record<string, string>, options: SendOptions): string | undefined {
  const header = Object.entries(headers).find(([, value]) => !httpHeaderCarries(value))?.[0];
  if (header === undefined) return undefined;
  const flags = [
    ['--id', options.id],
    ['--content-type', options.contentType],
    ['--secret', options.secret],
  ] as const;
  const given = flags.find(([, value]) => value !== undefined && !httpHeaderCarries(value));
  const what =
    given === undefined
      ? 'a value'
      : given[0] === '--secret'
        ? '--secret'
        : `${given[0]} ${JSON.stringify(given[1])}`;
  return `${what} cannot be sent for source ${options.source}: it travels in the ${header} header, which holds no line break and no character above U+00FF; give a value without them`;
}

/** Signs and posts one webhook; a non-2xx answer is returned with `ok: false`, not thrown. */
export async function sendWebhook(
  backend: SendBackend,
  target: Target | undefined,
  config: ResolvedConfig,
  options: SendOptions,
  env: Record<string, string | undefined>,
): Promise<SendResult> {
  const problem = emptyOptionProblem(options);
  if (problem) throw new UsageError(problem);
  const source = config.sources.find((s) => s.name === options.source);
  if (!source) {
    throw new UnknownSourceError(
      options.source,
      config.sources.map((s) => s.name),
    );
  }
  if (options.type !== undefined) {
    const problem = typeOverrideProblem(source, options.type, options.file !== undefined);
    if (problem) throw new UsageError(problem);
  }
  let url = options.url;
  if (url !== undefined) checkUrl(url);
  else {
    if (!target) throw new CliError('no target for send: pass --local, --url, or a deployed --stack');
    url = webhookUrlOf(target, source.name);
  }
  const { secret, from } = await resolveSecret(backend, options, source, target, env);
  const now = new Date(backend.clock.now());
  const id = options.id ?? randomUUID();
  const { body, contentType, eventHeaders, type } = await requestContent(source, options, id, now);
  const runtime = sourceRuntimeConfig(source, sourceNeedsSecret(source) ? 'cli' : undefined);
  // Where the sender would post this body (Twilio adds a JSON body's hash to the URL it signs).
  url = senderFor(runtime).requestUrl(runtime, url, toBytes(body), contentType);
  // The ingest checks the signature against the public URL when the source has one, not the URL posted to.
  const signedUrl =
    'publicUrl' in runtime && runtime.publicUrl
      ? publicWebhookUrl(runtime.publicUrl, source.name, new URL(url).search)
      : url;
  const signature = signWebhook(runtime, secret, body, { url: signedUrl, now, id });
  const headers = { 'content-type': contentType, ...eventHeaders, ...signature };
  const unsendable = unsendableHeaderProblem(headers, options);
  if (unsendable) throw new UsageError(unsendable);
  let response: Response;
  try {
    response = await backend.http(url, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
  } catch (error) {
    // With --url the URL is the user's, so that is what to check, whatever --local says.
    if (options.url !== undefined) throw unreachableUrl(error, url);
    throw explainError(error, { target: target?.description ?? url, local: target?.kind === 'local' });
  }
  const text = await response.text();
  // A sender that reads the answer (Slack's slash commands, Twilio) is answered in its own form, the id in a header.
  let answeredId: string | null = response.headers.get('x-hookline-id');
  try {
    const parsed = JSON.parse(text) as { id?: unknown };
    if (typeof parsed.id === 'string') answeredId = parsed.id;
  } catch {
    // Not JSON: keep the raw text in `response`.
  }
  return {
    source: source.name,
    url,
    status: response.status,
    ok: response.ok,
    id: answeredId,
    type,
    secretFrom: from,
    ...(answeredId === null && text ? { response: text.slice(0, 500) } : {}),
  };
}

/** What is sent: the file as-is (`--file`), else the sender's sample for the type. */
async function requestContent(
  source: ResolvedSource,
  options: SendOptions,
  id: string,
  now: Date,
): Promise<{
  body: string | Buffer;
  contentType: string;
  eventHeaders: Record<string, string>;
  type: string | null;
}> {
  if (options.file === undefined) {
    const sample = sampleRequest(source, {
      id,
      now,
      ...(options.type !== undefined ? { type: options.type } : {}),
    });
    return {
      body: sample.body,
      contentType: sample.contentType,
      eventHeaders: { ...sample.headers },
      type: sample.type,
    };
  }
  let body: Buffer;
  try {
    body = await readFile(options.file);
  } catch (error) {
    throw new CliError(
      `cannot read ${options.file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the --file path`,
    );
  }
  const contentType = options.contentType ?? 'application/json';
  const eventHeaders = typeHeadersFor(source, options.type);
  return {
    body,
    contentType,
    eventHeaders,
    type: describedType(source, { 'content-type': contentType, ...eventHeaders }, body),
  };
}

/**
 * The fix to suggest for a rejected webhook. The console has no `--secret`: it signs with the secret of its own
 * environment, so its fix is to start it with the source's variable set (`from: 'console'`), with the target flags
 * it was started with (`hints`).
 */
export function sendFailureHint(
  result: SendResult,
  from: 'cli' | 'console' = 'cli',
  hints: CommandHints = {},
): string {
  if (result.status === 401) {
    return from === 'console'
      ? `the signature was rejected: the ${result.secretFrom} secret is not the one the pipeline has; start ${nextCommand(hints, 'console')} with ${secretEnvName(result.source)} set to that secret`
      : `the signature was rejected: pass the source's secret with --secret or ${secretEnvName(result.source)}`;
  }
  if (result.status === 400) return 'the body was rejected as malformed: check the --file content and --type';
  if (result.status === 404) return 'no such source at that URL: check the source name and --url';
  if (result.status === 413) return 'the body is too large';
  if (result.status >= 500) return 'the pipeline could not enqueue it: check the ingest logs, then retry';
  return 'see the response body';
}
