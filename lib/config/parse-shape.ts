/**
 * The shape check: every shape problem reported with its path, value and fix, and the rest of the configuration
 * still parsed so the rules after it run too.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib/core';
import { z } from 'zod';
import { plural } from '../../lambda/shared/plural';
import { closestName, withDidYouMean } from '../closest-name';
import { FOREIGN_DURATION_FIX, isForeignDuration } from '../foreign-duration';
import { SENDER_TYPE_NAMES } from '../senders';
import { duration, wholeDays, wholeSeconds } from '../senders/config-sender';
import { METRIC_TYPES_FIX } from '../validation';
import { type Violation, ViolationsError, violation } from '../violations';
import { knownKeysAt } from './known-keys';
import {
  BREAKER_SETTING_KEYS,
  CONSUMER_SETTING_KEYS,
  configSchema,
  type HooklineConfig,
  type ParsedConfig,
  REMOVAL_POLICIES,
  wholeNumber,
} from './schema';
import { isTokenProp, tokensIn, tokenViolation } from './tokens';

/** Thrown by `resolveConfig`; its message lists every issue with the value given and the fix. */
export class HooklineConfigError extends ViolationsError {
  constructor(issues: readonly Violation[]) {
    super(`Invalid hookline configuration (${plural(issues.length, 'problem')})`, issues);
    this.name = 'HooklineConfigError';
  }

  /** The same list as `violations`. */
  get issues(): readonly Violation[] {
    return this.violations;
  }
}

type ZodIssue = z.core.$ZodIssue;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, key) =>
      node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
}

const pathOf = (path: readonly PropertyKey[]): string => path.map(String).join('.') || '(root)';

/** Shown instead of a value that may be a secret: a configuration error is read in terminals and CI logs. */
export const HIDDEN_VALUE = 'a value not shown, as it may be a secret';

/** A key whose name says it may hold a credential (`secret`, `token`, `apiKey`, `password` ...). */
const CREDENTIAL_KEY = /secret|token|passw|credential|api[-_]?key|private[-_]?key|signing/i;

/** Settings named like a credential that hold none. */
const NOT_CREDENTIALS: ReadonlySet<string> = new Set(['secretCache']);

/**
 * Where a value given may be a secret: a source's `secret` (which only names where the secret is kept, so a
 * value there is likely the secret itself) and anything below it, or a field named like a credential.
 */
function mayBeSecret(path: readonly PropertyKey[]): boolean {
  if (path[0] === 'sources' && path[2] === 'secret') return true;
  // A source's own name (`token`, a source of that type) names a source, which holds no credential.
  if (path[0] === 'sources' && path.length === 2) return false;
  const key = path.at(-1);
  return typeof key === 'string' && CREDENTIAL_KEY.test(key) && !NOT_CREDENTIALS.has(key);
}

/** The violation, with the value hidden where it may be a secret (and the fix for a source's secret value). */
function shapeViolation(
  path: readonly PropertyKey[],
  message: string,
  value: unknown,
  fix: string,
): Violation {
  if (!mayBeSecret(path)) return violation(pathOf(path), message, value, fix);
  const source = path[0] === 'sources' && path.length > 2 ? String(path[1]) : undefined;
  return {
    path: pathOf(path),
    message,
    value: HIDDEN_VALUE,
    fix: source
      ? `a secret's value never goes in the configuration: store it with hookline secrets set ${source} (locally in HOOKLINE_SECRET_<SOURCE>), or name an existing Secrets Manager secret with secret: { existingSecretName: "..." }`
      : fix,
  };
}

/** An example path of a queue's handler file, in the project's own layout, or undefined where none is known. */
export type EntryExample = (queue: string) => string | undefined;

/** One violation per shape problem; an unknown key is reported at its own path with its value. */
function shapeViolations(issue: ZodIssue, input: unknown, entryExample: EntryExample): Violation[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => unknownKeyViolation(issue.path, key, input, entryExample));
  }
  const value = valueAt(input, issue.path);
  const said = missingField(issue, value) ?? fractionGiven(issue, value) ?? emptyGiven(issue, value);
  if (said) return [shapeViolation(issue.path, said.message, value, said.fix)];
  return [shapeViolation(issue.path, messageOf(issue, value), value, fixOf(issue, value))];
}

/**
 * An unknown key; a consumer's setting written on its queue (a circuit breaker, a rate limit...), or a setting of the
 * level above or below in its queue or source, says where it goes.
 */
function unknownKeyViolation(
  at: readonly PropertyKey[],
  key: string,
  input: unknown,
  entryExample: EntryExample,
): Violation {
  const path = [...at, key];
  const value = valueAt(input, path);
  const queue = at.length >= 2 && at[0] === 'queues' ? String(at[1]) : undefined;
  const onConsumer = at.length === 3 && at[2] === 'consumer';
  if (queue !== undefined && (at.length === 2 || onConsumer) && BREAKER_SETTING_KEYS.has(key)) {
    return shapeViolation(
      path,
      "is a setting of the consumer's circuit breaker",
      value,
      `move ${key} into queues.${queue}.consumer.circuitBreaker (e.g. circuitBreaker: { ${key}: ... }; {} enables the breaker with its defaults)`,
    );
  }
  if (queue !== undefined && at.length === 2 && CONSUMER_SETTING_KEYS.has(key)) {
    return shapeViolation(
      path,
      "is a setting of the queue's consumer, not of the queue",
      value,
      `move ${key} into queues.${queue}.consumer (a queue without a consumer needs one first: consumer: { entry: '${entryExample(queue) ?? '<your handler file, relative to the project root>'}' })`,
    );
  }
  const meant = closestName(key, knownKeysAt(configSchema, at, valueAt(input, at)));
  const sameWord = meant !== undefined && meant.toLowerCase() === key.toLowerCase();
  const elsewhere = sameWord ? undefined : neighbouringPlace(at, key, input);
  if (elsewhere && (elsewhere.key === key || !meant)) {
    const where = pathOf(elsewhere.at);
    return shapeViolation(
      path,
      elsewhere.key === key
        ? `is a setting of ${where}, not of ${pathOf(at)}`
        : `is not a known setting here: did you mean ${elsewhere.key}, a setting of ${where}?`,
      value,
      `move it to ${where}.${elsewhere.key}`,
    );
  }
  return shapeViolation(
    path,
    meant ? `is not a known setting here: did you mean ${meant}?` : 'is not a known setting here',
    value,
    meant
      ? `rename ${key} to ${meant}`
      : `remove or rename ${key}; see the configuration reference in README.md`,
  );
}

/**
 * Where in the same queue or source a key unknown at `at` is a setting (itself, or the known key it is a close
 * spelling of): the object one level up, else one of the objects one level down; the same key anywhere is preferred
 * to a close spelling. Undefined outside a queue or source, or where no neighbouring level has it.
 */
function neighbouringPlace(
  at: readonly PropertyKey[],
  key: string,
  input: unknown,
): { readonly at: readonly PropertyKey[]; readonly key: string } | undefined {
  if (at.length < 2 || (at[0] !== 'queues' && at[0] !== 'sources')) return undefined;
  const levels = [
    ...(at.length > 2 ? [at.slice(0, -1)] : []),
    ...knownKeysAt(configSchema, at, valueAt(input, at)).map((child) => [...at, child]),
  ];
  const places = levels.flatMap((level) => {
    const meant = closestName(key, knownKeysAt(configSchema, level, valueAt(input, level)));
    return meant === undefined ? [] : [{ at: level, key: meant }];
  });
  return places.find((place) => place.key === key) ?? places[0];
}

/** How a missing field's expected type reads in its message. */
const EXPECTED_NOUN: Readonly<Record<string, string>> = {
  record: 'an object of named entries',
  object: 'an object',
  array: 'a list',
};

/**
 * A required field left out: said as such, with the field to add. Zod's own text ("expected boolean, received
 * undefined") reads as a wrong value, and asking to correct a value that was never given does not say what to do.
 */
function missingField(issue: ZodIssue, value: unknown): { message: string; fix: string } | undefined {
  const key = issue.path.at(-1);
  if (value !== undefined || typeof key !== 'string') return undefined;
  if (issue.code === 'custom' && issue.params?.expects === 'Duration')
    return {
      message: 'is required (a Duration)',
      fix: `add ${key}, e.g. ${key}: Duration.seconds(1) (import { Duration } from 'aws-cdk-lib')`,
    };
  if (issue.code !== 'invalid_type') return undefined;
  return {
    message: `is required (${EXPECTED_NOUN[issue.expected] ?? `a ${issue.expected}`})`,
    fix: `add ${key}; see the configuration reference in README.md`,
  };
}

/** What a value given is, in a message. */
function kindOfValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Duration) return 'a Duration';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : String(value);
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return `${value}`;
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** What a field takes, in a message: text, a number... (a missing field's nouns, {@link EXPECTED_NOUN}, beside). */
const EXPECTED_KIND: Readonly<Record<string, string>> = {
  ...EXPECTED_NOUN,
  object: 'an object of its settings',
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
};

/**
 * The message of a shape problem: a refinement's own, else what is wrong said in hookline's words. Zod's ("Invalid
 * input: expected number, received string", "Invalid option", "Invalid URL") says what zod checked, not what is wrong.
 */
function messageOf(issue: ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      // NaN and Infinity are numbers to JavaScript, so "must be a number" would not say what is wrong with them.
      if (issue.expected === 'number' && typeof value === 'number')
        return `must be a finite number, not ${kindOfValue(value)}`;
      return `must be ${EXPECTED_KIND[issue.expected] ?? `a ${issue.expected}`}, not ${kindOfValue(value)}`;
    case 'invalid_value':
      return withOptionMeant('is not one of its options', value, issue.values);
    case 'invalid_union':
      return sourceWithBadType(issue)
        ? withOptionMeant('is not a source type hookline has a sender for', value, SENDER_TYPE_NAMES)
        : 'matches none of the forms this setting takes';
    case 'invalid_format':
      return issue.format === 'url' ? 'is not a URL' : `is not in the ${issue.format} format`;
    default:
      return issue.message;
  }
}

/** A message about a value that is none of `options`, with the option a text value most likely meant. */
function withOptionMeant(message: string, value: unknown, options: readonly unknown[]): string {
  if (typeof value !== 'string') return message;
  return withDidYouMean(
    message,
    value,
    options.filter((option): option is string => typeof option === 'string'),
  );
}

/**
 * A fraction where a count is meant (a concurrency, a poller count, a size): said as such, with the whole numbers
 * on either side. Zod's own text ("expected int, received number") does not say what is wrong with 2.5.
 */
function fractionGiven(issue: ZodIssue, value: unknown): { message: string; fix: string } | undefined {
  if (issue.code !== 'custom' || issue.params?.expects !== 'whole number') return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return {
    message: 'must be a whole number',
    fix: `use ${Math.floor(value)} or ${Math.ceil(value)}`,
  };
}

/** An empty text where one is required: said as such. Zod's own text ("Too small: expected string to have >=1 characters") is a rule, not the problem. */
function emptyGiven(issue: ZodIssue, value: unknown): { message: string; fix: string } | undefined {
  if (issue.code !== 'too_small' || value !== '') return undefined;
  return {
    message: 'is empty',
    fix: 'give a value, or leave the field out if it is optional (for its default)',
  };
}

/**
 * The fix of a value of the wrong kind, for what was given: a number or a word in quotes, NaN, null, a number or
 * text where a Duration is expected, a value that is not one of a field's options. Undefined for any other.
 */
function kindFix(issue: ZodIssue, value: unknown): string | undefined {
  if (value === null) return 'give a value (null is none), or leave the field out where it is optional';
  if (issue.code === 'invalid_value')
    return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (spelt exactly so)`;
  if (issue.code === 'custom' && issue.params?.expects === 'Duration') return durationFix(value);
  if (issue.code !== 'invalid_type') return undefined;
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? NAN_FIX : INFINITY_FIX;
  if (issue.expected === 'number' && typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value))
    return `write it as a number, without quotes: ${Number(value)}`;
  if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean'))
    return `write it as text, in quotes: "${value}"`;
  if (issue.expected === 'boolean')
    return value === 'true' || value === 'false' ? `write it without quotes: ${value}` : 'use true or false';
  if (issue.expected === 'number') return 'write a number, without quotes';
  if (issue.expected === 'string') return 'write it as text, in quotes';
  if (issue.expected === 'array')
    return typeof value === 'string'
      ? `write it as a list, in [ ]: [${JSON.stringify(value)}]`
      : 'write it as a list, in [ ], of the items it takes';
  if (issue.expected === 'record') return recordFix(issue.path);
  if (issue.expected === 'object') return objectFix(issue.path, value);
  return undefined;
}

/** How an object of named entries is written, e.g. the queues by name. */
function recordFix(path: readonly PropertyKey[]): string {
  const example = RECORD_EXAMPLES[String(path.at(-1))] ?? '{ <name>: ... }';
  return `write it as an object of named entries, e.g. ${example}`;
}

/** How an object of settings is written: a source by its type, any other with the settings it takes. */
function objectFix(path: readonly PropertyKey[], value: unknown): string {
  if (path[0] === 'sources' && path.length === 2)
    return `write it as an object with the source's type, e.g. { type: "github" } (types: ${SENDER_TYPE_NAMES.join(', ')})`;
  const keys = knownKeysAt(configSchema, path, value);
  return `write it as an object, in { }, of its settings: ${keys.join(', ')}`;
}

const NAN_FIX =
  'give a finite number (NaN often comes from Number(process.env.X) with X unset or not a number)';
const INFINITY_FIX = 'give a finite number (Infinity often comes from a division by zero)';

/** How to write what was given where a Duration is expected. */
function durationFix(value: unknown): string | undefined {
  const imported = "(import { Duration } from 'aws-cdk-lib')";
  if (value instanceof Duration) return NAN_FIX;
  if (typeof value === 'number' && Number.isFinite(value))
    return `use a Duration, e.g. Duration.seconds(${value}) if ${value} is seconds ${imported}`;
  if (typeof value === 'string')
    return `use a Duration, not text: e.g. Duration.seconds(30), Duration.minutes(5) or Duration.days(4) ${imported}`;
  return undefined;
}

const GENERIC_FIX = 'correct the value as described in the configuration reference in README.md';
const TENANT_KEY_FORMS = '{ path: "account.id" } or { header: "x-tenant-id" }';

/** An example of each object of named entries, by its field. */
const RECORD_EXAMPLES: Readonly<Record<string, string>> = {
  sources: '{ github: { type: "github" } }',
  queues: '{ events: {} }',
  tenants: `{ <source name>: ${TENANT_KEY_FORMS} }`,
  environment: '{ NAME: "value" }',
};

/**
 * The fix of a shape problem; a value matching none of a field's forms is told that field's forms, and a Duration
 * of another aws-cdk-lib copy how to share one.
 */
function fixOf(issue: ZodIssue, value: unknown): string {
  if (isForeignDuration(value)) return FOREIGN_DURATION_FIX;
  // A refinement (a Duration in whole seconds) names its own fix.
  if (issue.code === 'custom' && typeof issue.params?.fix === 'string') return issue.params.fix;
  const forKind = kindFix(issue, value);
  if (forKind) return forKind;
  if (issue.code === 'invalid_format' && issue.format === 'url')
    return 'give the whole URL, with its scheme, e.g. "https://hooks.example.com"';
  if (issue.code !== 'invalid_union') return GENERIC_FIX;
  if (sourceWithBadType(issue))
    return `use one of the documented source types: ${SENDER_TYPE_NAMES.join(', ')}`;
  const [section, , field] = issue.path;
  if (section === 'defaultRoute') return 'use "ignore" or { queues: ["events"] }';
  if (section === 'queues' && field === 'fifoGrouping') return `use "source", "type", ${TENANT_KEY_FORMS}`;
  if (section === 'queues' && field === 'tenants') return `use ${TENANT_KEY_FORMS}`;
  if (section === 'queues' && field === 'consumer' && issue.path[3] === 'metricTypes')
    return METRIC_TYPES_FIX;
  return GENERIC_FIX;
}

const DEFINE_CONFIG = 'export default defineConfig({ sources: { ... }, queues: { ... } })';

/**
 * A configuration that is no object at all: a function or a promise of one (`export default async () => ...`) is
 * told to be the object itself, anything else what the object holds. Zod would call a promise an object missing
 * `sources` and `queues`.
 */
function notAConfigurationObject(input: unknown): Violation | undefined {
  if (typeof (input as { then?: unknown } | null)?.then === 'function')
    return {
      path: '(root)',
      message: 'is a Promise, and the configuration is read as it is, without waiting',
      value: 'a Promise',
      fix: `give the configuration object itself: in a configuration file, await what it needs at the top level and ${DEFINE_CONFIG}`,
    };
  if (typeof input === 'function')
    return violation(
      '(root)',
      'is a function, and the configuration is an object',
      input,
      `give the object the function returns: ${DEFINE_CONFIG}`,
    );
  if (isModuleOfConfiguration(input))
    return {
      path: '(root)',
      message: 'is the module of a configuration file, whose default export is the configuration',
      value: 'a module with only a default export',
      fix: "give its default export: import config from './hookline.config' (not import * as config), or config.default where an ES module imports a CommonJS one",
    };
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) return undefined;
  return violation('(root)', 'the configuration is an object of settings', input, DEFINE_CONFIG);
}

/**
 * `import * as config` of a configuration file, or an ES module's import of one compiled to CommonJS: an object
 * whose one key is `default`. Read as the configuration, it would be told that `sources` and `queues` are missing
 * and to remove the unknown setting `default`, which is where they are.
 */
function isModuleOfConfiguration(input: unknown): boolean {
  if (input === null || typeof input !== 'object') return false;
  const keys = Object.keys(input).filter((key) => key !== '__esModule');
  const inner = (input as { default?: unknown }).default;
  return keys.length === 1 && keys[0] === 'default' && inner !== null && typeof inner === 'object';
}

/** Left out of the copy by {@link withValueAt}. */
const REMOVED = Symbol('removed');

/**
 * A copy of `node` with the value at `path` replaced (or left out, for {@link REMOVED}), copying only the
 * objects along the path.
 */
function withValueAt(node: unknown, path: readonly PropertyKey[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined || !node || typeof node !== 'object') return node;
  if (Array.isArray(node)) {
    // Into a list item (a route, a schedule) only: leaving out an item would renumber the ones after it, so
    // their problems would be reported at the wrong paths.
    if (typeof head !== 'number' || rest.length === 0) return node;
    const items = [...node];
    items[head] = withValueAt(items[head], rest, value);
    return items;
  }
  const copy: Record<PropertyKey, unknown> = { ...(node as Record<PropertyKey, unknown>) };
  if (rest.length > 0) copy[head] = withValueAt(copy[head], rest, value);
  else if (value === REMOVED) delete copy[head];
  else copy[head] = value;
  return copy;
}

/** The paths a shape problem's field occupies: each unknown key, or the field itself. */
function removalsOf(issue: ZodIssue): PropertyKey[][] {
  return issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
}

/**
 * A source whose type is not one of the senders' cannot be checked further, and leaving out its type (or the
 * source) would only fail again or turn every route naming it into a second, false problem. It is checked as
 * a minimal valid source instead, so the rest of the configuration still is.
 */
const SOURCE_STAND_IN = { type: 'github' } as const;

function sourceWithBadType(issue: ZodIssue): PropertyKey[] | undefined {
  const [section, name] = issue.path;
  return issue.code === 'invalid_union' && section === 'sources' && name !== undefined
    ? ['sources', name]
    : undefined;
}

/**
 * What to leave out when leaving out the field itself changes nothing (a required field missing, an item of a
 * list refused): the object holding it, or, for a list, the object holding the list (the list itself at the top
 * level), since leaving out one item would renumber the ones after it and a list left out of its object would
 * only fail again as missing. A source is checked as a stand-in instead, so routes naming it stay valid.
 */
function fallbackOf(issue: ZodIssue): { path: PropertyKey[]; value: unknown } | undefined {
  const [section, name] = issue.path;
  if (section === 'sources' && name !== undefined && issue.path.length > 2)
    return { path: ['sources', name], value: SOURCE_STAND_IN };
  const firstItem = issue.path.findIndex((key) => typeof key === 'number');
  const path =
    firstItem < 0 ? issue.path.slice(0, -1) : issue.path.slice(0, firstItem === 1 ? 1 : firstItem - 1);
  return path.length > 0 ? { path, value: REMOVED } : undefined;
}

/**
 * Checks the shape, and where CDK tokens are (`forDeploy`: for `cdk synth`, else for local mode and the CLI). A shape problem (an unknown key, a wrong type) is reported and its field left out, then the
 * rest is parsed again, so the rules after it still run and every problem surfaces in one listing. A problem
 * that leaving its field out does not clear leaves out the object around it ({@link fallbackOf}). Stops when
 * that makes no progress either (e.g. `sources` missing); `data` is then undefined.
 */
export function parseShape(
  input: HooklineConfig,
  forDeploy = false,
  entryExample: EntryExample = () => undefined,
): { data?: ParsedConfig; issues: Violation[] } {
  const notObject = notAConfigurationObject(input);
  if (notObject) return { issues: [notObject] };
  const issues: Violation[] = [];
  const seen = new Set<string>();
  const reported: string[] = [];
  let current: unknown = input;
  // A token where none is taken is reported and left out, like a shape problem, so the rest is still checked.
  for (const token of tokensIn(input)) {
    const problem = tokenViolation(token, forDeploy);
    if (!problem) continue;
    issues.push(problem);
    reported.push(problem.path);
    current = withValueAt(current, token.path, REMOVED);
  }
  for (let round = 0; round < 10; round++) {
    const parsed = configSchema.safeParse(current);
    if (parsed.success) return { data: parsed.data, issues };
    const fresh = parsed.error.issues.filter((issue) => {
      const path = issue.path.map(String).join('.');
      const key = `${issue.code}:${path}`;
      const isNew = !seen.has(key);
      seen.add(key);
      // A field reported in an earlier round and then left out, or the object around it, fails again only
      // because it was left out (a "" entry becomes a missing one): that is no second problem.
      return isNew && !reported.some((earlier) => earlier === path || earlier.startsWith(`${path}.`));
    });
    if (fresh.length === 0) {
      let progressed = false;
      for (const issue of parsed.error.issues) {
        const fallback = fallbackOf(issue);
        const key = fallback && `fallback:${fallback.path.map(String).join('.')}`;
        if (!fallback || !key || seen.has(key)) continue;
        seen.add(key);
        current = withValueAt(current, fallback.path, fallback.value);
        progressed = true;
      }
      if (!progressed) break;
      continue;
    }
    reported.push(...fresh.map((issue) => issue.path.map(String).join('.')));
    for (const issue of fresh) {
      issues.push(...shapeViolations(issue, input, entryExample));
      const badSource = sourceWithBadType(issue);
      if (badSource) current = withValueAt(current, badSource, SOURCE_STAND_IN);
      else for (const path of removalsOf(issue)) current = withValueAt(current, path, REMOVED);
    }
  }
  return { issues };
}

/**
 * A prop that takes some members of a CDK enum: refused, with the members it takes named as code (`RemovalPolicy.
 * RETAIN`), when given another value or one of another kind; text close to a member's name or value (`retian`,
 * `ACTIVE` for `Active`) is offered that member.
 */
export function enumMember(
  enumName: string,
  members: Readonly<Record<string, string | number>>,
  taken: readonly (string | number)[],
  what: string,
) {
  const memberOf = enumMemberWords(enumName, members, taken);
  const names = [...new Set(memberOf.values())];
  // A long list (log retentions) is shown by its ends: the type lists the rest.
  const listed =
    names.length > 4
      ? `${names.slice(0, 2).join(', ')} ... ${names.at(-1)}`
      : `${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names.at(-1)}`;
  return z.unknown().refine((value) => taken.includes(value as string | number), {
    error: (issue) =>
      typeof issue.input === 'string'
        ? withDidYouMean(
            `is not ${what}`,
            issue.input,
            [...memberOf.keys()],
            (word) => memberOf.get(word) ?? word,
          )
        : `is not ${what}`,
    params: { fix: `use ${listed}` },
  });
}

/**
 * The words a member taken is known by, its name and (text) value, each to the member as code: `ACTIVE` and
 * `Active` to `Tracing.ACTIVE`. In the order taken, so the members' list keeps it.
 */
function enumMemberWords(
  enumName: string,
  members: Readonly<Record<string, string | number>>,
  taken: readonly (string | number)[],
): Map<string, string> {
  const words = new Map<string, string>();
  for (const value of taken) {
    const name = Object.keys(members).find((k) => members[k] === value);
    const member = `${enumName}.${name ?? value}`;
    if (name !== undefined) words.set(name, member);
    if (typeof value === 'string') words.set(value, member);
  }
  return words;
}

/** The kinds of a construct's props, checked as the configuration's fields of the same kind are. */
const PROP_KINDS = {
  /**
   * What deleting the stack does to a resource: the configuration's own `removalPolicy` options, and CDK's
   * retain-except-on-create, which a CDK app's own policy may apply to every stateful resource.
   */
  removalPolicy: enumMember(
    'RemovalPolicy',
    RemovalPolicy,
    [...REMOVAL_POLICIES, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE],
    'a removal policy hookline takes (retain, destroy, or retain on update or delete, which CDK code may choose; snapshot applies to no resource it creates)',
  ),

  /** A count or size. */
  count: wholeNumber,
  /** A rate, which may be a fraction. */
  number: z.number(),
  /** A Duration the runtime takes in milliseconds. */
  duration,
  /** A Duration CloudFormation or the runtime takes in whole seconds. */
  seconds: wholeSeconds,
  /** A Duration an S3 lifecycle takes in whole days. */
  days: wholeDays,
  /** A name, a path or an address: text (what text is taken is the construct's own rule). */
  text: z.string(),
  /** Text that must say something, as the configuration's `entry` and `handler`: an empty one is refused. */
  filledText: z.string().min(1),
} as const;

/**
 * A construct prop's kind ({@link PROP_KINDS}, or a schema of the construct's own such as an {@link enumMember} of an
 * enum this module does not load) and the value given; the name is the prop's path.
 */
export type PropKinds = Readonly<
  Record<string, readonly [kind: keyof typeof PROP_KINDS | z.ZodType, value: unknown]>
>;

/**
 * The props of the wrong kind (a number where a Duration is meant, NaN, a fraction of a count, a Duration not in
 * whole seconds where one is taken in seconds), worded and fixed as the configuration's shape check words them.
 * Unset props and tokens are left to the construct's defaults and token rules.
 */
export function propShapeViolations(props: PropKinds): Violation[] {
  const given = Object.entries(props).filter(([, [, value]]) => value !== undefined && !isTokenProp(value));
  const input = Object.fromEntries(given.map(([path, [, value]]) => [path, value]));
  const schema = z.object(
    Object.fromEntries(
      given.map(([path, [kind]]) => [path, typeof kind === 'string' ? PROP_KINDS[kind] : kind]),
    ),
  );
  const parsed = schema.safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) => shapeViolations(issue, input, () => undefined));
}

/**
 * The props without those a problem was found in, so the rules after the kind check run on the defaults; a nested
 * prop (`retry.base`) is left out of a copy of the object holding it, so the rules of its other settings still run.
 */
export function propsWithout<T extends object>(props: T, problems: readonly Violation[]): T {
  return problems.reduce<unknown>(
    (left, problem) => withValueAt(left, problem.path.split('.'), REMOVED),
    props,
  ) as T;
}
