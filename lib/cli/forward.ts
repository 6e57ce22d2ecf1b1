/**
 * `hookline forward secret <queue>`: the Standard Webhooks signing secret a forwarding consumer signs with, for
 * the destination to verify with. Deployed, it reads the secret the stack publishes as `ForwardSecretId<Queue>`
 * (`secretsmanager:GetSecretValue` on that secret is all it needs); locally, the file local mode keeps it in.
 * This command prints a secret on purpose: it is the one way to hand it to the destination.
 *
 * `--rotate` adds a new secret before the current one, so every request is signed with both until `--remove-old`:
 * the destination moves to the new secret whenever it likes, and no request in between fails to verify.
 */
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { parseSecretValue } from '../../lambda/ingest/secrets';
import { urlWithQueryHidden } from '../../lambda/shared/forward-config';
import { jsonErrorWithoutInput } from '../../lambda/shared/json-text';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { newStandardWebhooksSecret } from '../../lambda/shared/senders/standard-webhooks';
import { didYouMeanAside } from '../closest-name';
import type { ResolvedConfig, ResolvedForward } from '../config';
import type { Backend } from './backend';
import { CliError } from './errors';
import { nextCommand, type Output } from './output';
import { nextSecrets, secretStepFailure, storedSecrets } from './secrets';
import type { Target } from './target';

/** What the destination needs: where the events come to, and the secret that signs them. */
export interface ForwardSecretResult {
  readonly queue: string;
  /** Where the events are posted (local mode: `localUrl`, else `url`). */
  readonly url: string;
  /** `whsec_` and the base64 key, as Standard Webhooks libraries take it. */
  readonly secret: string;
  /** Where it was read: the Secrets Manager id, or local mode's file. */
  readonly from: string;
}

/** The queue's forwarding settings; an error naming the forwarding queues when it has none. */
export function forwardOf(config: ResolvedConfig, queue: string): ResolvedForward {
  const forwarding = config.queues.filter((q) => q.consumer?.forward);
  const found = config.queues.find((q) => q.name === queue);
  const forwardingNames = forwarding.map((q) => q.name);
  const names = forwardingNames.join(', ') || 'none: set consumer.forward on a queue';
  if (!found)
    throw new CliError(
      `unknown queue "${queue}"${didYouMeanAside(queue, forwardingNames)}: the forwarding queues are ${names}`,
    );
  if (!found.consumer?.forward)
    throw new CliError(
      `queue ${queue} does not forward (its consumer has no forward): the forwarding queues are ${names}`,
    );
  return found.consumer.forward;
}

/**
 * A stored secret as the destination takes it: the signing (first) one of a rotation list, with the `whsec_` prefix
 * a generated secret is stored without (Secrets Manager generates the base64 key alone).
 */
export function shownSecret(stored: string): string {
  const signing = parseSecretValue(stored)[0] ?? '';
  return signing.startsWith('whsec_') ? signing : `whsec_${signing}`;
}

/** The running local mode's forwarding of `queue`, or the error naming the queues that forward there. */
function localForward(target: Target & { kind: 'local' }, queue: string) {
  const forwards = target.forwards ?? {};
  const forward = forwards[queue];
  if (!forward) {
    const names =
      Object.keys(forwards).join(', ') ||
      `none: set consumer.forward on a queue and restart local mode (${START_LOCAL_MODE})`;
    throw new CliError(
      `queue ${queue} does not forward in the running local mode: its forwarding queues are ${names}`,
    );
  }
  return forward;
}

/** Local mode's secret, from the file its state names: the running local mode is what signs, whatever the config says. */
function localSecret(target: Target & { kind: 'local' }, queue: string): ForwardSecretResult {
  const forward = localForward(target, queue);
  const file = forward.secretFile;
  if (!file)
    throw new CliError(
      `local mode keeps queue ${queue}'s forwarding secret in no file (it runs without a state or data directory): the secret is new for each run`,
    );
  let kept: unknown;
  try {
    kept = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${jsonErrorWithoutInput(error)}`);
  }
  const secret = (kept as Record<string, unknown> | null)?.[queue];
  if (typeof secret !== 'string')
    throw new CliError(`${file} holds no secret for queue ${queue}: restart local mode to make one`);
  return { queue, url: forward.url, secret, from: file };
}

/** The deployed secret's id from the stack outputs. */
function deployedSecretId(target: Target, queue: string): string {
  const id = target.kind === 'stack' ? target.forwardSecretIds?.[queue] : undefined;
  if (!id)
    throw new CliError(
      `queue ${queue} has no ForwardSecretId output in ${target.description}: deploy with npx cdk deploy`,
    );
  return id;
}

async function deployedSecret(
  backend: Backend,
  target: Target,
  queue: string,
): Promise<{ secret: string; from: string }> {
  const id = deployedSecretId(target, queue);
  try {
    const answer = await backend.secretsManager.send(new GetSecretValueCommand({ SecretId: id }));
    if (answer.SecretString === undefined) throw new CliError(`secret ${id} holds no string value`);
    return { secret: shownSecret(answer.SecretString), from: id };
  } catch (error) {
    throw secretStepFailure(
      error,
      target,
      id,
      `read the forwarding secret of queue ${queue} in ${id}`,
      'secretsmanager:GetSecretValue',
    );
  }
}

/** The forwarding queue's destination and signing secret; `loadConfig` only for a deployed stack. */
export async function forwardSecret(
  backend: Backend,
  target: Target,
  loadConfig: () => Promise<ResolvedConfig>,
  queue: string,
): Promise<ForwardSecretResult> {
  if (target.kind === 'local') return localSecret(target, queue);
  const forward = forwardOf(await loadConfig(), queue);
  const { secret, from } = await deployedSecret(backend, target, queue);
  return { queue, url: forward.url, secret, from };
}

export function renderForwardSecret(output: Output, result: ForwardSecretResult): void {
  output.line(result.secret);
  // The note goes to stderr, which a CI log keeps while stdout is piped into a secret store: no query, which may hold
  // a token.
  output.note(
    `queue ${result.queue} signs each event it posts to ${urlWithQueryHidden(result.url)} with it (read from ${result.from}); verify the webhook-signature header with a Standard Webhooks library`,
  );
}

/** `--rotate`: a new secret signs first, the current ones too; `--remove-old`: only the newest signs. */
export type ForwardRotation = 'rotate' | 'remove-old';

/** What a rotation step did. */
export interface ForwardRotationResult {
  readonly queue: string;
  readonly mode: ForwardRotation;
  /** `--rotate`: the new secret, for the destination (`whsec_...`). */
  readonly secret?: string;
  readonly secretId: string;
  /** How many secrets now sign each request, the newest first. */
  readonly activeSecrets: number;
  /** False when there was nothing to change (`--remove-old` with one secret active). */
  readonly changed: boolean;
  /** How long the forwarding function may go on signing with the secrets it loaded before (`ingest.secretCache`). */
  readonly pickedUpWithin: string;
  readonly versionId?: string;
}

/**
 * One step of a rotation of a deployed forwarding queue's signing secret. Local mode signs with the secret it
 * generated at start and keeps in its file: it has nothing to rotate.
 */
export async function rotateForwardSecret(
  backend: Pick<Backend, 'secretsManager' | 'output'>,
  target: Target,
  loadConfig: () => Promise<ResolvedConfig>,
  queue: string,
  mode: ForwardRotation,
): Promise<ForwardRotationResult> {
  if (target.kind === 'local') {
    // A queue that does not forward is refused as without --rotate: there is no entry of it to remove.
    const file = localForward(target, queue).secretFile;
    throw new CliError(
      file
        ? `local mode has no forwarding secret to rotate: it signs with the one it keeps in ${file}; for a new one, remove queue ${queue}'s entry there and restart local mode`
        : `local mode has no forwarding secret to rotate: it makes a new one for each run (it runs without a state or data directory); restart local mode for a new one`,
    );
  }
  const config = await loadConfig();
  forwardOf(config, queue);
  const secretId = deployedSecretId(target, queue);
  const base = { queue, mode, secretId, pickedUpWithin: config.ingest.secretCache.toHumanString() };
  const stored = await storedSecrets(
    backend,
    secretId,
    'store the plain whsec_ secret, or {"secrets": ["whsec_...", ...]}, then rotate',
  ).catch((error: unknown) => {
    throw secretStepFailure(
      error,
      target,
      secretId,
      `read the forwarding secrets of queue ${queue} in ${secretId}, which the rotation keeps`,
      'secretsmanager:GetSecretValue',
    );
  });
  if (mode === 'remove-old' && stored.length <= 1)
    return { ...base, activeSecrets: stored.length, changed: false };
  const fresh = mode === 'rotate' ? newStandardWebhooksSecret() : undefined;
  const secrets = nextSecrets(mode === 'rotate' ? 'add' : 'remove-old', stored, fresh);
  const answer = await backend.secretsManager
    .send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ secrets }) }))
    .catch((error: unknown) => {
      throw secretStepFailure(
        error,
        target,
        secretId,
        `store the forwarding secrets of queue ${queue} in ${secretId}`,
        'secretsmanager:PutSecretValue',
      );
    });
  return {
    ...base,
    ...(fresh ? { secret: fresh } : {}),
    activeSecrets: secrets.length,
    changed: true,
    ...(answer.VersionId ? { versionId: answer.VersionId } : {}),
  };
}

export function renderForwardRotation(output: Output, result: ForwardRotationResult): void {
  if (result.mode === 'rotate') {
    output.line(result.secret ?? '');
    output.note(
      `queue ${result.queue} now signs each request with ${result.activeSecrets} secrets, this new one first (${result.secretId}); the forwarding function picks it up within ${result.pickedUpWithin} (ingest.secretCache). After that, configure your destination with it; once it verifies with it, run ${nextCommand(output, `forward secret ${result.queue} --remove-old`)}`,
    );
    return;
  }
  output.line(
    result.changed
      ? `${result.queue}: kept only the newest forwarding secret in ${result.secretId}; the forwarding function stops signing with the others within ${result.pickedUpWithin}`
      : `${result.queue}: signs with one secret only; nothing to remove, nothing changed`,
  );
}
