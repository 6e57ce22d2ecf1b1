/**
 * `hookline pause|resume`: disable or enable a consumer's event source mapping (deployed), or the emulated
 * poller (local mode, through its control API). Messages wait in the queue meanwhile; nothing is lost.
 */
import { type BreakerTrip, scalingUpdate } from '../../lambda/shared/circuit-breaker';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import { type Backend, contextOf } from './backend';
import { CliError, errorName, explainError } from './errors';
import { nextCommand } from './output';
import { type LocalTarget, MAPPING_MISSING, type QueueTarget, queueOf, type Target } from './target';

/** Loaded for a deployed stack only: local mode's consumers answer through its control API. */
const lambdaCommands = () => import('@aws-sdk/client-lambda');

export interface ConsumerStateResult {
  readonly queue: string;
  /** `Enabled`, `Disabled`, or a transition such as `Disabling`. */
  readonly state: string;
  /** Event source mapping UUID (deployed). */
  readonly eventSourceMappingId?: string;
  /**
   * A pause or resume that ended the circuit breaker's record of the consumer: what tripped it, and its circuit (a
   * resume of a consumer the breaker paused; a pause of one it paused or was probing, with `halfOpenAfter`).
   */
  readonly clearedCircuitBreaker?: BreakerTrip;
}

export interface SetConsumerOptions {
  readonly queue: string;
  /**
   * Deployed: wait until `GetEventSourceMapping` reads `Disabled`/`Enabled`, with progress notes. Local mode
   * always answers once the change took effect. @default true
   */
  readonly wait?: boolean;
  /** How long `wait` waits. @default 300000 */
  readonly waitTimeoutMs?: number;
  /** @default 2000 */
  readonly pollIntervalMs?: number;
}

function mappingIdOf(target: Target, queue: QueueTarget): string {
  if (!queue.eventSourceMappingId) {
    throw new CliError(
      `queue ${queue.name} has no consumer event source mapping in ${target.description}: add a consumer to it in hookline.config.ts and redeploy`,
    );
  }
  return queue.eventSourceMappingId;
}

function stateFromControlAnswer(json: unknown, name: string, fallback: string): string {
  if (json && typeof json === 'object') {
    const record = json as { state?: unknown; consumers?: Record<string, { state?: unknown }> };
    if (typeof record.state === 'string') return record.state;
    const nested = record.consumers?.[name]?.state;
    if (typeof nested === 'string') return nested;
  }
  return fallback;
}

async function callControl(backend: Backend, target: LocalTarget, queue: string, action: 'pause' | 'resume') {
  const url = `${target.controlUrl}/consumers/${encodeURIComponent(queue)}/${action}`;
  const response = await backend.http(url, { method: 'POST' });
  if (response.status === 404) {
    throw new CliError(
      `queue ${queue} has no consumer in local mode: add one in hookline.config.ts and restart local mode (${START_LOCAL_MODE})`,
    );
  }
  if (!response.ok) {
    throw new CliError(
      `local mode refused to ${action} ${queue} (HTTP ${response.status}): check the output of local mode (${START_LOCAL_MODE})`,
    );
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const cleared = (json as { clearedCircuitBreaker?: BreakerTrip } | undefined)?.clearedCircuitBreaker;
  return {
    queue,
    state: stateFromControlAnswer(json, queue, action === 'pause' ? 'Disabled' : 'Enabled'),
    ...(cleared && typeof cleared === 'object' ? { clearedCircuitBreaker: cleared } : {}),
  };
}

/**
 * Deployed: the circuit breaker's record the operator's pause or resume ends (what tripped it, its circuit), and the
 * scaling a probe had lowered, to be written back with the change. A record that cannot be removed (no
 * `lambda:UntagResource`) is said, with what it means: a probe could still re-enable a paused consumer.
 */
async function endBreakerBeforeChange(
  backend: Backend,
  target: Target,
  queue: QueueTarget,
  enabled: boolean,
): Promise<{
  cleared: { clearedCircuitBreaker?: BreakerTrip };
  scaling: ReturnType<typeof scalingUpdate> | object;
}> {
  if (target.kind !== 'stack') return { cleared: {}, scaling: {} };
  const { endBreakerRecord } = await import('./breaker-status');
  const ended = await endBreakerRecord(backend, target, queue, enabled);
  if (ended.untagFailed)
    backend.output.note(
      enabled
        ? `could not remove the circuit breaker's record from the ${queue.name} mapping (${ended.untagFailed}): status shows its circuit until its next probe or close finds the consumer resumed and removes it; allow lambda:UntagResource on the mapping and run this again`
        : `could not remove the circuit breaker's record from the ${queue.name} mapping (${ended.untagFailed}): its probe may still re-enable the consumer; allow lambda:UntagResource on the mapping and run this again`,
    );
  return {
    cleared: ended.cleared ? { clearedCircuitBreaker: ended.cleared } : {},
    scaling: ended.restore ? scalingUpdate(ended.restore) : {},
  };
}

/** Polls the mapping until it reads `settled`, noting each state it passes through. */
async function waitUntilSettled(
  backend: Backend,
  queue: string,
  uuid: string,
  initial: string,
  settled: string,
  options: SetConsumerOptions,
): Promise<string> {
  let state = initial;
  if (state === settled) return state;
  const started = backend.clock.now();
  const deadline = started + (options.waitTimeoutMs ?? 300_000);
  backend.output.note(`waiting for the ${queue} consumer to be ${settled} (now ${state}; --no-wait to skip)`);
  let reversedReads = 0;
  while (state !== settled) {
    if (backend.clock.now() >= deadline) {
      throw new CliError(
        `the ${queue} consumer is still ${state} after ${Math.round((backend.clock.now() - started) / 1000)} s: check it with ${nextCommand(backend.output, 'status')}, Lambda may need a few minutes`,
      );
    }
    await backend.clock.sleep(options.pollIntervalMs ?? 2_000);
    const { GetEventSourceMappingCommand } = await lambdaCommands();
    const current = await backend.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    const next = current.State ?? 'Unknown';
    // Intermediate states only: the settled one is the command's result, printed once.
    if (next !== state && next !== settled) backend.output.note(`${queue} consumer: ${next}`);
    state = next;
    // This change never settles the other way by itself: another pause or resume came after it. Read twice, so a
    // read that lags the update is not taken for one.
    reversedReads = state === reversedState(settled) ? reversedReads + 1 : 0;
    if (reversedReads === 2) throw reversedByAnother(backend, queue, settled);
  }
  return state;
}

const reversedState = (settled: string) => (settled === 'Enabled' ? 'Disabled' : 'Enabled');

/** A wait the other way's change ended: the operator's change is undone, and waiting would last to the timeout. */
function reversedByAnother(backend: Backend, queue: string, settled: string): CliError {
  const [mine, theirs] = settled === 'Disabled' ? ['pause', 'resume'] : ['resume', 'pause'];
  return new CliError(
    `the ${queue} consumer is ${reversedState(settled)} again: another ${theirs} changed it after this ${mine} (another operator, the console or a circuit breaker); run ${nextCommand(backend.output, `${mine} ${queue}`)} again to ${mine} it`,
  );
}

/** Pauses (`enabled` false) or resumes a queue's consumer. */
export async function setConsumerEnabled(
  backend: Backend,
  target: Target,
  enabled: boolean,
  options: SetConsumerOptions,
): Promise<ConsumerStateResult> {
  const queue = queueOf(target, options.queue);
  try {
    if (target.kind === 'local') {
      return await callControl(backend, target, queue.name, enabled ? 'resume' : 'pause');
    }
    const uuid = mappingIdOf(target, queue);
    const { cleared, scaling } = await endBreakerBeforeChange(backend, target, queue, enabled);
    const { UpdateEventSourceMappingCommand } = await lambdaCommands();
    const updated = await backend.lambda.send(
      new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled, ...scaling }),
    );
    const state = updated.State ?? 'Unknown';
    const settled = enabled ? 'Enabled' : 'Disabled';
    return {
      queue: queue.name,
      state:
        options.wait === false
          ? state
          : await waitUntilSettled(backend, queue.name, uuid, state, settled, options),
      eventSourceMappingId: uuid,
      ...cleared,
    };
  } catch (error) {
    throw explainError(error, contextOf(target, queue.name));
  }
}

/** The consumer state of one queue, or null when the queue has no consumer. */
export async function consumerState(
  backend: Backend,
  target: Target,
  queue: QueueTarget,
): Promise<string | null> {
  if (target.kind === 'local') {
    try {
      const response = await backend.http(`${target.controlUrl}/status`);
      if (response.ok) {
        const json = (await response.json()) as unknown;
        const state = stateFromControlAnswer(json, queue.name, '');
        if (state) return state;
      }
    } catch {
      // Fall back to the state file written at start.
    }
    return target.consumers[queue.name]?.state ?? null;
  }
  if (!queue.eventSourceMappingId) return null;
  const { GetEventSourceMappingCommand } = await lambdaCommands();
  try {
    const mapping = await backend.lambda.send(
      new GetEventSourceMappingCommand({ UUID: queue.eventSourceMappingId }),
    );
    return mapping.State ?? 'Unknown';
  } catch (error) {
    // One queue's mapping deleted outside the stack must not hide every queue's depth from the status.
    if (errorName(error) === 'ResourceNotFoundException') return MAPPING_MISSING;
    throw error;
  }
}
