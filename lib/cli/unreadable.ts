/**
 * Results an operator's AWS identity may read only part of. A call the identity may not make leaves its part of the
 * result unknown, named with the IAM action it needs, and the command shows everything else; it never fills the
 * part with a value it did not read. Any other failure (throttling, the network, a deleted resource) is not a part
 * the operator may not see, and still fails the command.
 */

import { ActionDeniedError, type Denial, denialOf, deniedBecause } from './errors';

/** A part of a result that could not be read because the caller may not make the call that reads it. */
export interface UnreadablePart extends Denial {
  /**
   * The queue (or dead-letter queue, as `failed list` names it) the part belongs to; absent for a part of the whole
   * stack (the jobs scheduled for later, counted for every queue; the console's rates and live events), which a
   * queue's name would misname in `--json`.
   */
  readonly queue?: string;
  /** What of it is unknown: `messages`, `dead letters`, `oldest message age`, `consumer`, `circuit breaker`. */
  readonly part: string;
  /** The IAM action the caller needs to read it, as a policy names it (`lambda:GetEventSourceMapping`). */
  readonly action: string;
}

/** A read's value, or the part it left unknown because its call was denied. */
export type Read<T> =
  | { readonly value: T; readonly denied?: undefined }
  | { readonly value?: undefined; readonly denied: UnreadablePart };

/** `read`'s value, or the part of `queue` it leaves unknown when it was denied ({@link needing}); else it throws. */
export async function unlessDenied<T>(read: Promise<T>, queue: string, part: string): Promise<Read<T>> {
  try {
    return { value: await read };
  } catch (error) {
    if (!(error instanceof ActionDeniedError)) throw error;
    return { denied: { queue, part, ...denialOf(error) } };
  }
}

/**
 * The parts of a queue's status a denial can leave unknown. The oldest age (with a fair queue's quiet tenants, read
 * by the same call) is said in place by the row's own note on why it has no age.
 */
export const STATUS_PARTS = {
  messages: 'messages',
  deadLetters: 'dead letters',
  oldestAge: 'oldest message age',
  consumer: 'consumer',
  circuitBreaker: 'circuit breaker',
  /** Of the whole stack (no queue) or of the one asked for: said in place by the scheduled jobs line. */
  scheduledJobs: 'scheduled jobs',
} as const;

/**
 * What is shown in place of a value the caller may not read: the action it needs, or, where a policy explicitly
 * denies it, that policy (a grant would not lift it).
 */
export const deniedValue = (denial: Denial): string => `unknown: access denied (${deniedBecause(denial)})`;

/** How the human text names what a part of the whole stack, which has no queue, belongs to. */
const ALL_QUEUES = 'all queues';

/** Parts a line of their own says in place (a row's note on its age, the scheduled jobs line), not in a list. */
const SAID_IN_PLACE: ReadonlySet<string> = new Set([STATUS_PARTS.oldestAge, STATUS_PARTS.scheduledJobs]);

/**
 * One line per unknown part, in the result's order (`orders consumer: unknown: access denied (needs ...)`), but for
 * those said in place: the oldest age, which its row's note says, and the scheduled jobs, which their line says.
 */
export function unreadableLines(parts: readonly UnreadablePart[]): string[] {
  return parts
    .filter((p) => !SAID_IN_PLACE.has(p.part))
    .map((p) => `${p.queue ?? ALL_QUEUES} ${p.part}: ${deniedValue(p)}`);
}

/** What a command's unknown parts leave out, and what the operator sees once the actions are allowed. */
export interface Incomplete {
  /** What is shown in place of what the identity may not read (`what it reads is shown as unknown`). */
  readonly unknown: string;
  /** What the grant shows (`the whole pipeline`). */
  readonly whole: string;
}

/**
 * The line that ends a result with unknown parts: every IAM action missing, once each, what it leaves unknown
 * (`status`'s by default) and the fix: allow the actions, but for those a policy explicitly denies, whose owner
 * must lift the deny; undefined when nothing was denied.
 */
export function missingPermissionsLine(
  parts: readonly UnreadablePart[],
  what?: Incomplete,
): string | undefined {
  const actions = [...new Set(parts.map((p) => p.action))];
  if (actions.length === 0) return undefined;
  const one = actions.length === 1;
  const unknown = what?.unknown ?? `what ${one ? 'it reads is' : 'they read is'} shown as unknown`;
  const whole = what?.whole ?? 'the whole pipeline';
  const denies = explicitDenies(parts);
  if (denies.size === 0)
    return `incomplete: your AWS identity may not call ${actions.join(', ')}: ${unknown}; allow ${one ? 'it' : 'them'} to see ${whole}`;
  // No grant lifts an explicit deny: the line names the policy and asks its owner, and allows only the rest.
  const explicit = [...denies].map(([policy, denied]) =>
    deniedBecause({ action: denied.join(', '), explicitDeny: policy }),
  );
  const granted = actions.filter((action) => ![...denies.values()].some((denied) => denied.includes(action)));
  const allow = granted.length > 0 ? `, and allow ${granted.join(', ')}` : '';
  return `incomplete: your AWS identity may not call ${actions.join(', ')}: ${unknown}; ${explicit.join(' and ')}, which no grant overrides: ask the owner of ${denies.size === 1 ? 'that policy' : 'those policies'} to lift the deny${allow} to see ${whole}`;
}

/** The actions a policy explicitly denies, by the policy named. */
function explicitDenies(parts: readonly UnreadablePart[]): Map<string, string[]> {
  const denies = new Map<string, string[]>();
  for (const { action, explicitDeny } of parts) {
    if (explicitDeny === undefined) continue;
    const denied = denies.get(explicitDeny) ?? [];
    if (!denied.includes(action)) denies.set(explicitDeny, [...denied, action]);
  }
  return denies;
}
