/**
 * A `Duration` made by another copy of aws-cdk-lib than the one hookline loads. It happens when hookline is
 * installed as a linked folder (a clone given to `npm install <folder>` or `npm link`): the app's
 * `Duration.seconds(30)` then fails hookline's `instanceof Duration` although it is one, so the configuration
 * names the cause instead of asking for a Duration.
 */
import { Duration } from 'aws-cdk-lib/core';

/** What a Duration of any aws-cdk-lib 2.x copy offers. */
interface DurationLike {
  toMilliseconds(opts?: { integral?: boolean }): number;
  toHumanString(): string;
}

/** True for a Duration of another aws-cdk-lib copy (never for one of hookline's own). */
export function isForeignDuration(value: unknown): value is DurationLike {
  if (typeof value !== 'object' || value === null || value instanceof Duration) return false;
  const candidate = value as Partial<Record<keyof DurationLike | 'toSeconds' | 'toIsoString', unknown>>;
  return (
    typeof candidate.toMilliseconds === 'function' &&
    typeof candidate.toSeconds === 'function' &&
    typeof candidate.toHumanString === 'function' &&
    typeof candidate.toIsoString === 'function'
  );
}

/** The problem a foreign Duration is reported with. */
export const FOREIGN_DURATION_MESSAGE =
  "is a Duration from another copy of aws-cdk-lib than hookline's, so hookline cannot read it";

/** Its fix: one aws-cdk-lib for the app and hookline (a peer dependency, shared unless linked). */
export const FOREIGN_DURATION_FIX =
  "install hookline from the registry or a packed tarball (npm pack), not a linked folder (a clone installed as a folder or with npm link loads that clone's own aws-cdk-lib), so it shares the app's; npm ls aws-cdk-lib lists the copies";
