/**
 * `hookline secrets set <source>`: stores a source's signing secret in the Secrets Manager secret the stack
 * publishes as `SigningSecretId<Source>`, in the format the ingest function reads (`{"secrets":[newest, ...]}`),
 * so rotation keeps the previous secret active until `--remove-old`. Never prints a secret value.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { parseSecretValue } from '../../lambda/ingest/secrets';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { signingSecretProblem } from '../../lambda/shared/senders';
import type { ResolvedConfig, ResolvedSource } from '../config';
import { secretEnvName } from '../local/secrets';
import { sourceNeedsSecret } from '../runtime-wiring';
import type { Backend } from './backend';
import { CliError, errorName, explainStep, UnknownSourceError } from './errors';
import { nextCommand } from './output';
import type { Target } from './target';

/** What `secrets set` does with the secrets already stored. */
export type SecretsSetMode = 'replace' | 'add' | 'remove-old';

/** Options of {@link setSigningSecret}. */
export interface SecretsSetOptions {
  readonly source: string;
  /** `replace`: the value becomes the only secret; `add`: it goes first, the old ones stay; `remove-old`: only the newest stays. */
  readonly mode: SecretsSetMode;
  /** Reads the new value (stdin or a hidden prompt); not called for `remove-old`. */
  readonly readValue: () => Promise<string>;
}

/** The outcome; it never holds a secret value. */
export interface SecretsSetResult {
  readonly source: string;
  readonly secretId: string;
  readonly mode: SecretsSetMode;
  /** How many secrets the ingest function now accepts for this source (newest first). */
  readonly activeSecrets: number;
  readonly versionId?: string;
}

/** The source by name, refused when it is unknown or verifies nothing. */
function verifyingSource(config: ResolvedConfig, name: string): ResolvedSource {
  const source = config.sources.find((s) => s.name === name);
  if (!source) {
    throw new UnknownSourceError(
      name,
      config.sources.map((s) => s.name),
    );
  }
  if (!sourceNeedsSecret(source)) {
    throw new CliError(`source ${name} is ${source.type}: it verifies nothing, so it has no signing secret`);
  }
  return source;
}

/**
 * Local mode keeps no secret store: each source's secret comes from `HOOKLINE_SECRET_<SOURCE>` in the environment
 * of `npm start`. Says so (after checking the source), rather than pretending to store anything.
 */
export function refuseLocalSecret(config: ResolvedConfig, name: string): never {
  const source = verifyingSource(config, name);
  throw new CliError(
    `local mode stores no secrets: it reads ${secretEnvName(source.name)} from the environment local mode was started in (else the development default); set it there and restart local mode (${START_LOCAL_MODE})`,
  );
}

function secretIdOf(target: Target, config: ResolvedConfig, source: string): string {
  if (target.kind === 'local') refuseLocalSecret(config, source);
  const id = target.signingSecretIds?.[source];
  if (!id) {
    throw new CliError(
      `source ${source} has no SigningSecretId output in ${target.description}: redeploy with npx cdk deploy`,
    );
  }
  return id;
}

/** A value from stdin loses its trailing newline (`echo ... |`); anything else is kept as given. */
export function normaliseSecretValue(raw: string): string {
  const value = raw.replace(/\r?\n$/, '');
  if (value.trim().length === 0) throw new CliError('the secret is empty: pass it on stdin or at the prompt');
  return value;
}

/**
 * The secrets a Secrets Manager secret holds, newest first (none when it has no value yet); `fix` says what to do
 * when the value is not one hookline reads.
 */
export async function storedSecrets(
  backend: Pick<Backend, 'secretsManager'>,
  secretId: string,
  fix = 'set it without --add',
): Promise<string[]> {
  let stored: string | undefined;
  try {
    stored = (await backend.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId })))
      .SecretString;
  } catch (error) {
    // A secret without a current value holds nothing to keep.
    if (errorName(error) === 'ResourceNotFoundException' && /value/i.test(String(error))) return [];
    throw error;
  }
  try {
    return stored ? parseSecretValue(stored) : [];
  } catch (error) {
    throw new CliError(`the stored secret ${secretId} is not readable (${(error as Error).message}): ${fix}`);
  }
}

/**
 * A failed read or write of a deployed secret: a secret that is gone says to redeploy; any other refusal is told as
 * the step that failed with AWS's reason, naming `permission` where the denial names none.
 */
export function secretStepFailure(
  error: unknown,
  target: Target,
  secretId: string,
  step: string,
  permission: string,
): unknown {
  if (!(error instanceof CliError) && errorName(error) === 'ResourceNotFoundException')
    return new CliError(
      `secret ${secretId} not found in ${target.description}: redeploy with npx cdk deploy`,
    );
  return explainStep(error, { target: target.description, local: false, permissions: [permission], step });
}

/** The secrets to store for a mode: the new one first, no duplicates. */
export function nextSecrets(mode: SecretsSetMode, stored: readonly string[], value?: string): string[] {
  if (mode === 'remove-old') return stored.slice(0, 1);
  if (value === undefined) return [...stored];
  return mode === 'add' ? [value, ...stored.filter((s) => s !== value)] : [value];
}

/** Stores a source's signing secret in the deployed stack's Secrets Manager secret. */
export async function setSigningSecret(
  backend: Pick<Backend, 'secretsManager' | 'output'>,
  target: Target,
  config: ResolvedConfig,
  options: SecretsSetOptions,
): Promise<SecretsSetResult> {
  const source = verifyingSource(config, options.source);
  const secretId = secretIdOf(target, config, source.name);
  const value = options.mode === 'remove-old' ? undefined : normaliseSecretValue(await options.readValue());
  const problem = value === undefined ? undefined : signingSecretProblem(source.type, value);
  if (problem) {
    throw new CliError(
      `not stored: ${problem} (source ${source.name} is ${source.type}); nothing was changed`,
    );
  }
  const failure = (error: unknown, step: string, permission: string) =>
    secretStepFailure(error, target, secretId, step, permission);
  let stored: string[] = [];
  if (options.mode !== 'replace') {
    try {
      stored = await storedSecrets(backend, secretId);
    } catch (error) {
      throw failure(
        error,
        `read the signing secrets stored for ${source.name} in ${secretId}, which ${options.mode === 'add' ? '--add keeps' : '--remove-old keeps the newest of'}`,
        'secretsmanager:GetSecretValue',
      );
    }
  }
  const secrets = nextSecrets(options.mode, stored, value);
  if (secrets.length === 0) {
    throw new CliError(
      `source ${source.name} has no stored secret to keep: set one with ${nextCommand(backend.output, `secrets set ${source.name}`)}`,
    );
  }
  let answer: PutSecretValueCommandOutput;
  try {
    answer = await backend.secretsManager.send(
      new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ secrets }) }),
    );
  } catch (error) {
    throw failure(
      error,
      `store the signing secret of ${source.name} in ${secretId}`,
      'secretsmanager:PutSecretValue',
    );
  }
  return {
    source: source.name,
    secretId,
    mode: options.mode,
    activeSecrets: secrets.length,
    ...(answer.VersionId ? { versionId: answer.VersionId } : {}),
  };
}

/** Input the secret is read from: piped stdin, or a terminal. */
export interface SecretInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/**
 * Reads a secret: all of stdin when it is piped, else a prompt on stderr whose typing is not echoed
 * (Enter ends it, Backspace deletes, Ctrl-C or Ctrl-D cancels). A stderr that is not a terminal (redirected to a
 * file) would hide the question, and the command would wait for a value no one saw asked: that is refused.
 */
export function readSecretInput(
  input: SecretInput,
  prompt: NodeJS.WritableStream & { readonly isTTY?: boolean },
  question: string,
): Promise<string> {
  if (input.isTTY && !prompt.isTTY) {
    return Promise.reject(
      new CliError(
        `cannot ask for the secret: stderr, where the question goes, is not a terminal; pipe the value on stdin instead (printf '%s' "$SECRET" | hookline secrets set <source>)`,
      ),
    );
  }
  if (!input.isTTY) {
    return new Promise((resolve, reject) => {
      let text = '';
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => {
        text += chunk;
      });
      input.once('end', () => resolve(text));
      input.once('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    let text = '';
    prompt.write(question);
    input.setRawMode?.(true);
    input.setEncoding('utf8');
    const finish = (done: () => void) => {
      input.setRawMode?.(false);
      input.removeListener('data', onData);
      input.pause();
      prompt.write('\n');
      done();
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish(() => resolve(text));
        if (char === '\u0003' || char === '\u0004') return finish(() => reject(new CliError('cancelled')));
        text = char === '\u007f' || char === '\b' ? text.slice(0, -1) : text + char;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
