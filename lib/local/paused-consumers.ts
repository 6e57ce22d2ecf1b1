/**
 * Which consumers are paused, kept in the data directory (`<dataDir>/paused-consumers.json`) so a pause
 * survives a restart of local mode, as a disabled event source mapping stays disabled on AWS. Without a data
 * directory everything is in memory and a restart starts every consumer. A pause the circuit breaker made also
 * keeps what tripped it (`breaker`, by queue), so `hookline status` tells it from an operator's pause after a
 * restart too; with `halfOpenAfter` the record also keeps its circuit (`circuit`: open with the probe's time, or
 * half-open while a probe runs, the consumer then not paused), so a restart honours the probe.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BreakerCircuit, BreakerTrip } from '../../lambda/shared/circuit-breaker';
import { writeFileAtomically } from './atomic-write';
import { LocalStartProblem } from './start-problem';

const FILE = 'paused-consumers.json';

/** Where the paused consumers are stored. */
export function pausedConsumersPath(dataDir: string): string {
  return join(dataDir, FILE);
}

/**
 * The consumers saved as paused; an absent file means none. A file that cannot be read stops the start, naming
 * the file and the fix: starting every consumer instead would run what the operator paused.
 */
export function readPausedConsumers(dataDir: string): Set<string> {
  return readSavedPauses(dataDir).paused;
}

/** The circuit breaker's trips saved with the pauses, by queue; none when the file is absent. */
export function readBreakerTrips(dataDir: string): Map<string, BreakerTrip> {
  return readSavedPauses(dataDir).trips;
}

/** The paused consumers and the breaker's trips among them, from one read of the file (as the two above). */
export function readSavedPauses(dataDir: string): {
  paused: Set<string>;
  trips: Map<string, BreakerTrip>;
} {
  const path = pausedConsumersPath(dataDir);
  if (!existsSync(path)) return { paused: new Set(), trips: new Map() };
  let reason: string;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { paused?: unknown; breaker?: unknown } | null;
    const paused = parsed?.paused;
    const trips = tripsOf(parsed?.breaker);
    if (Array.isArray(paused) && paused.every((name) => typeof name === 'string') && trips instanceof Map)
      return { paused: new Set(paused), trips };
    reason = trips instanceof Map ? 'expected {"paused": ["<queue>", ...]}' : trips;
  } catch (error) {
    reason = (error as Error).message;
  }
  throw new LocalStartProblem(
    `${path} is unreadable (${reason}): it lists the consumers paused with hookline pause. ` +
      'Repair it (e.g. {"paused": ["events"]}), or delete it to start every consumer',
  );
}

const TRIP_SHAPE = '{"trippedAt", "failed", "ended", "windowMinutes", "circuit"?}';
const CIRCUIT_SHAPE =
  '{"state": "open", "since", "opens", "probeAt"?} or {"state": "half-open", "since", "opens", "closesAt"}';

/** The saved trips, or why they are not what this module writes. */
function tripsOf(value: unknown): Map<string, BreakerTrip> | string {
  if (value === undefined) return new Map();
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return `expected "breaker": {"<queue>": ${TRIP_SHAPE}}`;
  const trips = new Map<string, BreakerTrip>();
  for (const [queue, trip] of Object.entries(value)) {
    const t = trip as Partial<BreakerTrip> | null;
    const valid =
      typeof t?.trippedAt === 'string' &&
      [t.failed, t.ended, t.windowMinutes].every((n) => typeof n === 'number' && Number.isFinite(n));
    if (!valid) return `expected "breaker": {"${queue}": ${TRIP_SHAPE}}`;
    if (t.circuit !== undefined && !isCircuit(t.circuit))
      return `expected "breaker": {"${queue}": {"circuit": ${CIRCUIT_SHAPE}}}, with ISO 8601 times and opens 1 or more`;
    trips.set(queue, t as BreakerTrip);
  }
  return trips;
}

/**
 * Whether a saved circuit is one this module writes: its state, times that parse, its count of opens, and the time
 * its state moves on at. A half-open circuit without its close time would run at probe concurrency for good.
 */
function isCircuit(value: unknown): value is BreakerCircuit {
  const c = value as Partial<BreakerCircuit> | null;
  const time = (t: unknown) => typeof t === 'string' && !Number.isNaN(Date.parse(t));
  const optionalTime = (t: unknown) => t === undefined || time(t);
  const opens = Number.isInteger(c?.opens) && (c?.opens ?? 0) >= 1;
  if (!time(c?.since) || !opens) return false;
  if (c?.state === 'open') return optionalTime(c.probeAt) && c.closesAt === undefined;
  return c?.state === 'half-open' && time(c.closesAt) && c.probeAt === undefined;
}

/**
 * Saves the paused consumers, and the breaker's trips among them, atomically (write, then rename), so a crash
 * never leaves half a file.
 */
export function writePausedConsumers(
  dataDir: string,
  paused: Iterable<string>,
  trips: ReadonlyMap<string, BreakerTrip> = new Map(),
): void {
  const breaker = Object.fromEntries([...trips].sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomically(
    pausedConsumersPath(dataDir),
    `${JSON.stringify({ paused: [...paused].sort(), ...(trips.size > 0 ? { breaker } : {}) }, null, 2)}\n`,
  );
}
