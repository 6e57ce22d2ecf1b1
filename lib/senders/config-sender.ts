/**
 * The configuration side of a sender type: what a user writes for a source of that type (with `Duration`s),
 * the rules `resolveConfig` checks beyond the shape, and the mapping to the runtime settings the ingest
 * function reads (defined with the rest of the sender in `lambda/shared/senders/<type>.ts`).
 */
import { Duration, Token } from 'aws-cdk-lib/core';
import { z } from 'zod';
import type { SourceSettings } from '../../lambda/shared/senders';
import { FOREIGN_DURATION_MESSAGE, isForeignDuration } from '../foreign-duration';
import type { Violation } from '../violations';

/**
 * A Duration of NaN or Infinity (`Duration.seconds(Number(process.env.X))` with X unset): CDK makes one, then
 * writes nothing or fails mid-synthesis on it. A token's amount is no number yet, and is taken (see `tokens.ts`).
 */
function nonFinite(d: Duration): boolean {
  try {
    const ms = d.toMilliseconds({ integral: false });
    return !Token.isUnresolved(ms) && !Number.isFinite(ms);
  } catch {
    return false;
  }
}

/** A `Duration` in the configuration. */
export const duration = z.custom<Duration>((value) => value instanceof Duration && !nonFinite(value), {
  // Read by the shape check, whose fix for a Duration field says how to write what was given as one.
  params: { expects: 'Duration' },
  error: (issue) =>
    isForeignDuration(issue.input)
      ? FOREIGN_DURATION_MESSAGE
      : issue.input instanceof Duration
        ? 'is a Duration of NaN or Infinity: AWS takes a finite amount'
        : 'expected a Duration, e.g. Duration.seconds(30)',
});

/**
 * An HTTP header name (a token of RFC 9110: letters, digits and !#$%&'*+-.^_`|~). A request cannot carry one with a
 * space, a colon or nothing, so a rule reading it would never find a value.
 */
export const headerName = z.string().refine((name) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name), {
  message: 'is not an HTTP header name, so no request carries it (letters, digits and -, no spaces or colon)',
  params: { fix: 'use the header name as the sender sends it, e.g. "x-request-id"' },
});

/** Whether CDK converts `d` to a whole number of `unit` (it throws otherwise, at synthesis). */
function convertsWhole(d: unknown, unit: 'toSeconds' | 'toDays'): boolean {
  if (!(d instanceof Duration)) return true; // reported by `duration` itself
  try {
    d[unit]();
    return true;
  } catch {
    return false;
  }
}

/**
 * A `Duration` that CloudFormation or a function's settings take in whole seconds (a Lambda timeout, a queue's
 * retention, an alarm threshold, a TTL): refused here, with the fix, rather than by CDK mid-synthesis.
 */
export const wholeSeconds = duration.refine((d) => convertsWhole(d, 'toSeconds'), {
  message: 'must be a whole number of seconds: CloudFormation and the functions take this setting in seconds',
  params: { fix: 'round it to whole seconds, e.g. Duration.seconds(2) rather than Duration.millis(1500)' },
});

/**
 * A `Duration` kept as an S3 lifecycle expiry, which counts whole days. One under a day is left to the setting's
 * own "at least one day" rule, whose fix says more.
 */
export const wholeDays = duration.refine(
  (d) => !(d instanceof Duration) || d.toHours({ integral: false }) < 24 || convertsWhole(d, 'toDays'),
  {
    message: 'must be a whole number of days: an S3 lifecycle expiry counts whole days',
    params: { fix: 'round it to whole days, e.g. Duration.days(2) rather than Duration.hours(36)' },
  },
);

const secretConfig = z
  .object({
    /**
     * Name (not ARN) of an existing Secrets Manager secret in the stack's account and region holding the
     * signing secret (plain string, or JSON `{"secrets": ["current", "previous"]}` while rotating).
     * @default - the stack creates one
     */
    // Its rules (an empty name too) are checkExistingSecretName's, which shows the name: it is no secret.
    existingSecretName: z.string().optional(),
  })
  .strict();

/** Fields of every source that has a signing secret. */
export const sourceCommon = {
  /**
   * Where the signing secret is kept.
   * @default - a secret the stack creates (set its value with `hookline secrets set`)
   */
  secret: secretConfig.optional(),
};

/** The replay window of a sender that signs a timestamp. */
export const timestampTolerance = {
  /**
   * How far the signed timestamp may be from now, both directions; positive, at most an hour.
   * @default Duration.minutes(5)
   */
  tolerance: wholeSeconds.optional(),
};

/** Where a generic sender finds the id and type. */
export const bodyHints = {
  /**
   * Header whose value is the delivery id (e.g. `x-request-id`).
   * @default - the id comes from `idPath`, if set
   */
  idHeader: headerName.optional(),
  /**
   * Dot path into a JSON body for the delivery id (e.g. `event.id`).
   * @default - not read from the body
   */
  idPath: z.string().min(1).optional(),
  /**
   * Dot path into a JSON body for the event type (e.g. `event.type`).
   * @default - the type comes from `typeHeader`, else it is `unknown`
   */
  typePath: z.string().min(1).optional(),
  /**
   * Header whose value is the event type.
   * @default - the type comes from `typePath`, else it is `unknown`
   */
  typeHeader: headerName.optional(),
};

/** The runtime form of the hints: header names lower-case, absent ones left out. */
export const runtimeHints = (s: z.output<z.ZodObject<typeof bodyHints>>) => ({
  ...(s.idHeader ? { idHeader: s.idHeader.toLowerCase() } : {}),
  ...(s.idPath ? { idPath: s.idPath } : {}),
  ...(s.typePath ? { typePath: s.typePath } : {}),
  ...(s.typeHeader ? { typeHeader: s.typeHeader.toLowerCase() } : {}),
});

/** What the mapping to runtime settings needs besides the source. */
export interface RuntimeContext {
  /** The source's secret id; throws when the wiring has none for a source that needs one. */
  readonly secretId: () => string;
}

/** The configuration side of one sender type. */
export interface ConfigSender<Schema extends z.ZodObject = z.ZodObject> {
  readonly type: z.output<Schema>['type'] & SourceSettings['type'];
  /** The source as written (strict: unknown keys are reported). */
  readonly schema: Schema;
  /** A source of this type as a user writes it (the documentation's example; tests drive every sender with it). */
  readonly example: z.input<Schema>;
  /** Rules beyond the shape, paths relative to the source. */
  violations(source: z.output<Schema>): readonly Violation[];
  /** The runtime settings of the source (its sender's settings schema must accept them). */
  runtimeSettings(
    source: z.output<Schema>,
    context: RuntimeContext,
  ): Extract<SourceSettings, { type: z.output<Schema>['type'] }>;
}

/** Declares the configuration side of a sender. */
export const defineConfigSender = <Schema extends z.ZodObject<{ type: z.ZodLiteral<string> }>>(
  sender: ConfigSender<Schema>,
): ConfigSender<Schema> => sender;

/** A source's `tolerance` in seconds, when it sets one: the runtime applies the default itself. */
export const toleranceSettings = (source: { tolerance?: Duration }) =>
  source.tolerance ? { toleranceSeconds: source.tolerance.toSeconds() } : {};
