/**
 * CDK tokens in the configuration (`Fn.importValue(...)`, a `CfnParameter`'s value, `Lazy`, another construct's
 * attribute): a value known only once deployed. A field hookline hands to CloudFormation as it is takes one; a
 * field hookline computes with at synth (a derived visibility timeout, a payload expiry, a schedule it parses, a
 * runtime setting local mode reads) cannot, and would otherwise be refused for the token's encoding, crash CDK
 * mid-synthesis, or silently synthesize a wrong value. Such a token is refused here, with the reason and the fix.
 */
import { Duration, Token } from 'aws-cdk-lib/core';
import { durationIsToken, type Violation, violation } from '../violations';

/** What a token's field is, for the fix. */
type TokenKind = 'string' | 'number' | 'Duration';

/** A token: a string or number CDK encodes, or a Duration whose amount is one. */
function tokenKindOf(value: unknown): TokenKind | undefined {
  if (value instanceof Duration) return durationIsToken(value) ? 'Duration' : undefined;
  if ((typeof value === 'string' || typeof value === 'number') && Token.isUnresolved(value))
    return typeof value === 'string' ? 'string' : 'number';
  return undefined;
}

/** Whether a token Duration converts to seconds, the unit CloudFormation takes it in. */
function convertsToSeconds(d: Duration): boolean {
  try {
    d.toSeconds();
    return true;
  } catch {
    return false;
  }
}

/**
 * The fields whose value hookline passes to CloudFormation untouched, so a token there deploys as given; `*`
 * matches any name. `local`: local mode and the CLI do not read the field either, so they take the token too.
 * Every other field is read or computed with at synth.
 */
const TOKEN_FIELDS: readonly { readonly path: readonly string[]; readonly local: boolean }[] = [
  { path: ['sources', '*', 'secret', 'existingSecretName'], local: true },
  { path: ['queues', '*', 'consumer', 'forward', 'secret', 'existingSecretName'], local: true },
  { path: ['queues', '*', 'consumer', 'environment', '*'], local: true },
  { path: ['alarms', 'email'], local: true },
  { path: ['alarms', 'existingTopicArn'], local: true },
  { path: ['queues', '*', 'visibilityTimeout'], local: false },
  { path: ['queues', '*', 'oldestMessageAgeAlarm'], local: false },
  { path: ['ingest', 'rateLimit'], local: false },
  { path: ['ingest', 'timeout'], local: false },
];

function tokenField(path: readonly PropertyKey[]): (typeof TOKEN_FIELDS)[number] | undefined {
  return TOKEN_FIELDS.find(
    (f) => f.path.length === path.length && f.path.every((key, i) => key === '*' || key === path[i]),
  );
}

/** A token found, at its path. */
export interface FoundToken {
  readonly path: readonly PropertyKey[];
  readonly value: unknown;
}

/**
 * Every token in the configuration, depth first; a Duration is a value, not an object to look into, and an object
 * met again (a payload that holds itself) is not looked into twice.
 */
export function tokensIn(
  node: unknown,
  path: readonly PropertyKey[] = [],
  seen: Set<object> = new Set(),
): FoundToken[] {
  if (tokenKindOf(node)) return [{ path, value: node }];
  if (!node || typeof node !== 'object' || node instanceof Duration || seen.has(node)) return [];
  seen.add(node);
  const entries: [PropertyKey, unknown][] = Array.isArray(node)
    ? node.map((item, i) => [i, item])
    : Object.entries(node as Record<string, unknown>);
  return entries.flatMap(([key, value]) => tokensIn(value, [...path, key], seen));
}

/**
 * The problem with the token at `path`, or undefined where it is taken: for a deploy (`cdk synth`, a
 * HooklinePipeline) in the fields of {@link TOKEN_FIELDS}, for local mode and the CLI in those they do not read.
 */
export function tokenViolation(token: FoundToken, forDeploy: boolean): Violation | undefined {
  const kind = tokenKindOf(token.value) ?? 'string';
  const at = token.path.map(String).join('.');
  const field = tokenField(token.path);
  if (field && (forDeploy || field.local)) {
    return unconvertibleDurationViolation(at, token.value);
  }
  if (field)
    return violation(
      at,
      'is a CDK token, which has a value only in a deployed stack: local mode and the CLI need the value itself',
      token.value,
      `give the ${kind} itself in the configuration file, and pass the token in your CDK app only (a HooklinePipeline's config)`,
    );
  return violation(
    at,
    SYNTH_VALUE_MESSAGE,
    token.value,
    `give the ${kind} itself here, read in your app before it builds the pipeline (from context or the environment); see "Tokens" in the configuration reference in README.md for the fields that take one`,
  );
}

/** Why a token is refused where hookline computes with the value at synth. */
const SYNTH_VALUE_MESSAGE =
  'is a CDK token, known only at deploy: hookline needs this value at synth, to check it against AWS limits and derive other settings from it';

/** The problem with a Duration of a token that CDK cannot convert to seconds, the unit CloudFormation takes. */
function unconvertibleDurationViolation(path: string, value: unknown): Violation | undefined {
  if (!(value instanceof Duration) || !durationIsToken(value) || convertsToSeconds(value)) return undefined;
  return violation(
    path,
    'is a Duration of a CDK token in a unit CDK cannot convert: CloudFormation takes it in seconds',
    value,
    'give the token in seconds, e.g. Duration.seconds(parameter.valueAsNumber)',
  );
}

/**
 * The CDK tokens among a construct's props, by prop path: one in `computed` (a value the construct checks or
 * derives other settings from at synth) is refused, one in `passed` (handed to CloudFormation as it is) only when
 * it is a Duration CDK cannot convert to seconds. Without this, such a token crashed CDK mid-synthesis with an
 * error naming neither the prop nor the fix, or synthesized a wrong value.
 */
export function propTokenViolations(
  computed: Readonly<Record<string, unknown>>,
  passed: Readonly<Record<string, unknown>> = {},
): Violation[] {
  const refused = Object.entries(computed).flatMap(([path, value]) => {
    const kind = tokenKindOf(value);
    return kind
      ? [
          violation(
            path,
            SYNTH_VALUE_MESSAGE,
            value,
            `give the ${kind} itself, read in your app before it builds the construct (from context or the environment)`,
          ),
        ]
      : [];
  });
  const unconvertible = Object.entries(passed).flatMap(([path, value]) => {
    const problem = unconvertibleDurationViolation(path, value);
    return problem ? [problem] : [];
  });
  return [...refused, ...unconvertible];
}

/** Whether a construct prop is a CDK token (a Duration of one included), so rules that compute with it skip it. */
export function isTokenProp(value: unknown): boolean {
  return tokenKindOf(value) !== undefined;
}
