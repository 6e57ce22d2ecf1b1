/**
 * `hookline forward secret <queue>`: the Standard Webhooks signing secret a forwarding consumer signs with, for
 * the destination to verify with. Deployed, it reads the secret the stack publishes as `ForwardSecretId<Queue>`
 * (`secretsmanager:GetSecretValue` on that secret is all it needs); locally, the file local mode keeps it in.
 * This command prints a secret on purpose: it is the one way to hand it to the destination.
 */
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { parseSecretValue } from '../../lambda/ingest/secrets';
import type { ResolvedConfig, ResolvedForward } from '../config';
import type { Backend } from './backend';
import { CliError, explainError } from './errors';
import type { Output } from './output';
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

/** The forwarding queue by name, refused when it is unknown or does not forward. */
function forwardOf(config: ResolvedConfig, queue: string): ResolvedForward {
  const forwarding = config.queues.filter((q) => q.consumer?.forward);
  const found = config.queues.find((q) => q.name === queue);
  const names = forwarding.map((q) => q.name).join(', ') || 'none: set consumer.forward on a queue';
  if (!found) throw new CliError(`unknown queue "${queue}": the forwarding queues are ${names}`);
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

/** Local mode's secret, from the file its state names: the running local mode is what signs, whatever the config says. */
function localSecret(target: Target & { kind: 'local' }, queue: string): ForwardSecretResult {
  const forwards = target.forwards ?? {};
  const forward = forwards[queue];
  if (!forward) {
    const names = Object.keys(forwards).join(', ') || 'none';
    throw new CliError(
      `queue ${queue} does not forward in the running local mode: its forwarding queues are ${names}`,
    );
  }
  const file = forward.secretFile;
  if (!file)
    throw new CliError(
      `local mode keeps queue ${queue}'s forwarding secret in no file (it runs without a state or data directory): the secret is new for each run`,
    );
  let kept: unknown;
  try {
    kept = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const secret = (kept as Record<string, unknown> | null)?.[queue];
  if (typeof secret !== 'string')
    throw new CliError(`${file} holds no secret for queue ${queue}: restart local mode to make one`);
  return { queue, url: forward.url, secret, from: file };
}

async function deployedSecret(
  backend: Backend,
  target: Target,
  queue: string,
): Promise<{ secret: string; from: string }> {
  const id = target.kind === 'stack' ? target.forwardSecretIds?.[queue] : undefined;
  if (!id)
    throw new CliError(
      `queue ${queue} has no ForwardSecretId output in ${target.description}: deploy with npx cdk deploy`,
    );
  try {
    const answer = await backend.secretsManager.send(new GetSecretValueCommand({ SecretId: id }));
    if (answer.SecretString === undefined) throw new CliError(`secret ${id} holds no string value`);
    return { secret: shownSecret(answer.SecretString), from: id };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw explainError(error, { target: target.description, local: false });
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
  output.note(
    `queue ${result.queue} signs each event it posts to ${result.url} with it (read from ${result.from}); verify the webhook-signature header with a Standard Webhooks library`,
  );
}
