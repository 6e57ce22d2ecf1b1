/**
 * Local mode's forwarding consumers (`consumer.forward`): the same function as the stack's, posting to `localUrl`
 * (else `url`) over real HTTP, signed with a secret generated once per queue and kept in `forward-secrets.json`, in
 * the data directory when there is one (else the state directory), so a destination configured with it keeps
 * verifying across restarts. `hookline forward secret <queue> --local` prints it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import {
  FORWARD_CONFIG_ENV,
  type ForwardRuntimeConfig,
  urlWithQueryHidden,
} from '../../lambda/shared/forward-config';
import { jsonErrorWithoutInput } from '../../lambda/shared/json-text';
import { newStandardWebhooksSecret } from '../../lambda/shared/senders/standard-webhooks';
import { type CommandHints, nextCommand } from '../cli/output';
import type { ResolvedConfig, ResolvedForward } from '../config';
import { writeFileAtomically } from './atomic-write';
import { localModeHints } from './command-hints';
import { LocalStartProblem } from './start-problem';

/** The file holding each forwarding queue's secret, by queue name. */
export const FORWARD_SECRETS_FILE = 'forward-secrets.json';

/** The variable a local forwarding consumer reads its secret from (an `env:` secret, as local sources' are). */
export const LOCAL_FORWARD_SECRET_ENV = 'HOOKLINE_FORWARD_SECRET';

/** Where local mode posts a queue's events. */
export function localForwardUrl(forward: ResolvedForward): string {
  return forward.localUrl ?? forward.url;
}

/** The queues that forward, with their settings. */
export function forwardingQueues(config: ResolvedConfig): { queue: string; forward: ResolvedForward }[] {
  return config.queues.flatMap((q) =>
    q.consumer?.forward ? [{ queue: q.name, forward: q.consumer.forward }] : [],
  );
}

/** Each queue's secret, as kept in `file`; a file that is not an object of strings counts as empty. */
function readSecrets(file: string, hints: CommandHints): Record<string, string> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw unusableSecretsFile(file, `it is not JSON (${jsonErrorWithoutInput(error)})`, hints);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw unusableSecretsFile(file, 'it is not a JSON object', hints);
  const notText = Object.entries(parsed).filter(([, secret]) => typeof secret !== 'string');
  if (notText.length > 0)
    throw unusableSecretsFile(
      file,
      `the secret of ${notText.map(([queue]) => queue).join(', ')} is not a string`,
      hints,
    );
  return parsed as Record<string, string>;
}

/**
 * A kept secrets file local mode cannot read (a hand edit that broke it) stops the start: new secrets in its place
 * would make every destination verifying the kept ones answer 401, which dead-letters each event.
 */
function unusableSecretsFile(file: string, why: string, hints: CommandHints): LocalStartProblem {
  return new LocalStartProblem(
    `cannot read the forwarding secrets in ${file}: ${why}\nFix: make it one JSON object of queue name to secret ({"<queue>": "whsec_..."}) as your destinations know them, or delete it (or a queue's entry) for new secrets, which the destinations must then be given (${nextCommand(hints, 'forward secret <queue>')})`,
  );
}

/**
 * The secret of each forwarding queue: the one kept in `folder` when there is one, else a new one, written back
 * (readable by you alone). Without a folder (a run that keeps no files) new secrets live as long as the run.
 */
export function localForwardSecrets(
  queues: readonly string[],
  folder: string | undefined,
  hints: CommandHints = localModeHints(),
): {
  readonly secrets: Readonly<Record<string, string>>;
  readonly file: string | undefined;
} {
  if (queues.length === 0) return { secrets: {}, file: undefined };
  const file = folder === undefined ? undefined : join(folder, FORWARD_SECRETS_FILE);
  const kept = file ? readSecrets(file, hints) : {};
  const secrets = { ...kept };
  for (const queue of queues) secrets[queue] ??= newStandardWebhooksSecret();
  if (file && queues.some((q) => kept[q] === undefined)) {
    writeFileAtomically(file, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
  }
  return { secrets, file };
}

/**
 * The forwarding function's own variables: where it posts, its secret as an `env:` secret, and how long it keeps
 * that secret: `ingest.secretCache`, as the stack gives a forwarding consumer (`forward.secretCache`).
 */
export function localForwardEnvironment(
  forward: ResolvedForward,
  secret: string,
  secretCache: Duration,
): Record<string, string> {
  const runtime: ForwardRuntimeConfig = {
    url: localForwardUrl(forward),
    timeoutMs: forward.timeout.toMilliseconds(),
    secretId: `env:${LOCAL_FORWARD_SECRET_ENV}`,
    secretCacheSeconds: secretCache.toSeconds(),
  };
  return { [FORWARD_CONFIG_ENV]: JSON.stringify(runtime), [LOCAL_FORWARD_SECRET_ENV]: secret };
}

/**
 * The start line of a forwarding queue: where its events go, and how to read its signing secret (the command with
 * the configuration local mode runs, as its other notices name it).
 */
export function forwardNotice(
  queue: string,
  forward: ResolvedForward,
  file: string | undefined,
  hints: CommandHints = localModeHints(),
): string {
  const secret = file
    ? `signing secret: ${nextCommand(hints, `forward secret ${queue}`)} (kept in ${file})`
    : 'signing secret: new for this run (no state or data directory to keep it in)';
  return `consumer ${queue} forwards each event to ${urlWithQueryHidden(localForwardUrl(forward))} (Standard Webhooks; ${secret})`;
}
