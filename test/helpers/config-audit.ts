/**
 * The configuration error audit: every field of the configuration schema (every sender's source fields too), walked
 * from the schema itself so a new field is covered without editing a list, and for each a wrong value of every
 * plausible kind. A test drives each case through `resolveConfig` as `cdk synth` and local mode call it.
 */
import { Duration, Lazy } from 'aws-cdk-lib';
import type { z } from 'zod';
import { defOf } from '../../lib/config/known-keys';
import { configSchema, type HooklineConfig } from '../../lib/config/schema';
import { CONFIG_SENDER_LIST } from '../../lib/senders';

type AnySchema = z.ZodType;

/** The schema past its optional wrapper. */
function unwrapped(schema: AnySchema): AnySchema {
  const def = defOf(schema);
  return def.type === 'optional' && def.innerType ? unwrapped(def.innerType) : schema;
}

/** A valid configuration that sets every section, so each field has a place to be given a wrong value. */
export function auditBase(): Record<string, unknown> {
  return {
    stackName: 'Audit',
    sources: Object.fromEntries(CONFIG_SENDER_LIST.map((s) => [`src-${s.type}`, structuredCopy(s.example)])),
    queues: {
      // The first queue holding a field is where it is tried: FIFO settings on a FIFO queue.
      ordered: {
        fifo: true,
        contentBasedDeduplication: true,
        highThroughput: true,
        fifoGrouping: 'source',
        maxReceiveCount: 5,
        retentionPeriod: Duration.days(4),
        deadLetterRetentionPeriod: Duration.days(14),
        visibilityTimeout: Duration.minutes(5),
        oldestMessageAgeAlarm: Duration.minutes(15),
      },
      events: {
        tenants: { 'src-github': { path: 'installation.id' } },
        consumer: {
          entry: 'lambda/consumers/events.ts',
          handler: 'handler',
          timeout: Duration.seconds(30),
          memorySize: 512,
          batchSize: 10,
          maxBatchingWindow: Duration.seconds(0),
          maxConcurrency: 5,
          reservedConcurrency: 10,
          parallelism: 10,
          retry: { base: Duration.seconds(10), factor: 2, max: Duration.minutes(15) },
          deadlineMargin: Duration.seconds(3),
          idempotency: { enabled: true, expiry: Duration.days(3) },
          rateLimit: { limit: 10, interval: Duration.seconds(1) },
          circuitBreaker: {
            failureRatio: 0.5,
            minimumRecords: 20,
            window: Duration.minutes(5),
            halfOpenAfter: Duration.minutes(10),
          },
          environment: { FEATURE_FLAG: 'on' },
        },
      },
      forwarded: {
        consumer: {
          forward: {
            url: 'https://app.example.com/webhooks',
            localUrl: 'http://localhost:3000/webhooks',
            timeout: Duration.seconds(10),
            secret: { existingSecretName: 'forward-signing' },
          },
        },
      },
      polled: {
        consumer: {
          entry: 'lambda/consumers/events.ts',
          minimumPollers: 2,
          maximumPollers: 10,
          reservedConcurrency: 100,
        },
      },
    },
    routes: [{ source: 'src-github', type: 'push', queues: ['events'], ignore: false }],
    defaultRoute: { queues: ['events'] },
    ingest: {
      rateLimit: 100,
      burstLimit: 200,
      timeout: Duration.seconds(10),
      memorySize: 512,
      keepHeaders: ['x-request-id'],
      secretCache: Duration.minutes(5),
    },
    dedupe: { enabled: true, ttl: Duration.days(3) },
    payloads: { inlineLimitBytes: 262144, expiry: Duration.days(30) },
    archive: { enabled: true, retention: Duration.days(90) },
    alarms: { email: 'ops@example.com', oldestMessageAge: Duration.minutes(15) },
    logRetentionDays: 30,
    removalPolicy: 'retain',
    tracing: false,
    schedules: [
      {
        name: 'nightly',
        expression: 'cron(0 3 * * ? *)',
        timezone: 'Europe/Berlin',
        queue: 'events',
        type: 'report.nightly',
        payload: { full: true },
      },
    ],
    jobs: { endpoint: { queues: ['events'], delays: true } },
  };
}

/** A copy of plain data that keeps Durations (structuredClone would turn them into plain objects). */
function structuredCopy<T>(value: T): T {
  if (value instanceof Duration || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(structuredCopy) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCopy(v)])) as T;
}

/** A field of the configuration at a concrete path of {@link auditBase}, with its schema. */
export interface AuditField {
  readonly path: readonly (string | number)[];
  /** The path with record names as `*` and a source's type: what one field of the schema is. */
  readonly field: string;
  readonly schema: AnySchema;
}

/** The schema option a source's value takes (its `type`'s sender). */
function optionFor(schema: AnySchema, value: unknown): AnySchema[] {
  const def = defOf(schema);
  if (def.type !== 'union') return [schema];
  const type = (value as { type?: unknown } | undefined)?.type;
  const matching = (def.options ?? []).filter(
    (o) => defOf(unwrapped(o)).shape?.type?.safeParse(type).success === true,
  );
  return matching.length > 0 ? matching : [schema];
}

/** Every field under `schema` at `path`, walking the base's own entries of records and the first item of lists. */
function fieldsUnder(
  schema: AnySchema,
  value: unknown,
  path: readonly (string | number)[],
  field: string,
): AuditField[] {
  const inner = unwrapped(schema);
  const def = defOf(inner);
  const here: AuditField[] = path.length > 0 ? [{ path, field, schema: inner }] : [];
  const join = (key: string) => (field ? `${field}.${key}` : key);
  if (def.type === 'object' && def.shape) {
    const holder = (value ?? {}) as Record<string, unknown>;
    return [
      ...here,
      ...Object.entries(def.shape).flatMap(([key, child]) =>
        fieldsUnder(child, holder[key], [...path, key], join(key)),
      ),
    ];
  }
  if (def.type === 'record' && def.valueType && value && typeof value === 'object') {
    const valueType = def.valueType;
    return [
      ...here,
      ...Object.entries(value).flatMap(([key, entry]) =>
        optionFor(valueType, entry).flatMap((option) => {
          const type = (entry as { type?: unknown }).type;
          const name = path[0] === 'sources' && typeof type === 'string' ? `<${type}>` : '*';
          return fieldsUnder(option, entry, [...path, key], join(name));
        }),
      ),
    ];
  }
  if (def.type === 'array' && def.element && Array.isArray(value) && value.length > 0)
    return [...here, ...fieldsUnder(def.element, value[0], [...path, 0], join('0'))];
  return here;
}

/** Whether the base holds the object a field is in (so the field is tried where its neighbours are valid). */
function parentIsInBase(f: AuditField, base: unknown): boolean {
  let node = base;
  for (const key of f.path.slice(0, -1)) {
    if (!node || typeof node !== 'object') return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node !== undefined;
}

/**
 * Every field of the configuration, each once: at the first place of the base whose object holds it (a consumer's
 * field in a queue with a consumer), else the first place at all (a source's `secret`, which no example sets).
 */
export function auditFields(): AuditField[] {
  const base = auditBase();
  const all = fieldsUnder(configSchema, base, [], '');
  const chosen = new Map<string, AuditField>();
  for (const f of all) {
    const current = chosen.get(f.field);
    if (!current || (!parentIsInBase(current, base) && parentIsInBase(f, base))) chosen.set(f.field, f);
  }
  return all.filter((f) => chosen.get(f.field) === f);
}

/** One wrong value for one field. */
export interface AuditCase {
  readonly name: string;
  readonly path: readonly (string | number)[];
  readonly field: string;
  /** The value given, or a key added beside the field's own (`unknownKey`). */
  readonly value: unknown;
  readonly unknownKey?: string;
  /** Whether the configuration must be refused (a token may be taken, a wide value may be valid). */
  readonly refused: boolean;
  /** A token: local mode and `cdk synth` may differ by design (see `tokens.ts`). */
  readonly token?: boolean;
  /** A valid value (a 0 that means off): the configuration must resolve without a problem. */
  readonly accepted?: boolean;
}

/**
 * The Duration and number fields whose 0 is a documented "off", and so a valid value: each other one refuses 0 (its
 * rule says the least it takes). A field added with a meaningful 0 is listed here, with its documentation saying so.
 */
export const ZERO_MEANS_OFF: ReadonlySet<string> = new Set([
  // No batching window: the event source invokes as soon as records arrive (the default).
  'queues.*.consumer.maxBatchingWindow',
]);

const lazyNumber = () => Lazy.number({ produce: () => 5 });
const lazyString = () => Lazy.string({ produce: () => 'from-a-parameter' });

/** The wrong values of one field, by the kind the schema says it is. */
function casesOf(f: AuditField): AuditCase[] {
  const def = defOf(f.schema);
  const at = (name: string, value: unknown, refused = true, token = false): AuditCase => ({
    name: `${f.field}: ${name}`,
    path: f.path,
    field: f.field,
    value,
    refused,
    ...(token ? { token } : {}),
  });
  const cases: AuditCase[] = [];
  const isDuration = def.type === 'custom' && def.params?.expects === 'Duration';
  const accepts = (v: unknown) => f.schema.safeParse(v).success;
  // Every field's rule about 0: refused, or taken as the documented "off".
  const zero = (value: unknown): AuditCase =>
    ZERO_MEANS_OFF.has(f.field) ? { ...at('zero', value, false), accepted: true } : at('zero', value);
  switch (isDuration ? 'duration' : def.type) {
    case 'number':
      cases.push(
        at('a number in quotes', '10'),
        at('a word', 'ten'),
        at('negative', -1),
        at('NaN', Number.NaN),
        zero(0),
      );
      cases.push(at('a fraction', 2.5, !accepts(2.5)), at('huge', 1e12, false));
      cases.push(at('a token', lazyNumber(), false, true));
      break;
    case 'string':
      cases.push(at('a number', 5), at('empty', '', !accepts('')), at('a token', lazyString(), false, true));
      break;
    case 'boolean':
      cases.push(at('a word in quotes', 'true'), at('a number', 1));
      break;
    case 'enum':
    case 'literal':
      cases.push(at('not an option', 'not-an-option'), at('a number', 5));
      break;
    case 'duration':
      cases.push(at('a number', 30), at('text', '30s'), at('NaN', Duration.seconds(Number.NaN)));
      cases.push(at('a fraction of a second', Duration.millis(1500), !accepts(Duration.millis(1500))));
      cases.push(zero(Duration.seconds(0)), at('ten years', Duration.days(3650), false));
      // Whole minutes where an alarm period or a breaker's window counts them; valid elsewhere.
      cases.push(at('not whole minutes', Duration.seconds(90), false));
      cases.push(at('a token', Duration.seconds(lazyNumber()), false, true));
      break;
    case 'union':
      cases.push(at('a number', 5), at('an empty object', {}, !accepts({})));
      break;
    case 'array':
      cases.push(at('text', 'events'), at('an object', { 0: 'events' }));
      break;
    case 'record':
      cases.push(at('text', 'events'), at('a list', ['events']));
      break;
    case 'object':
      cases.push(at('text', 'x'), at('a list', []));
      cases.push({ ...at('an unknown key beside its own', 1), unknownKey: 'notASetting' });
      break;
    default:
      break; // `unknown` (a schedule's payload) takes any value
  }
  return cases;
}

/** Every case of every field. */
export function auditCases(): AuditCase[] {
  return auditFields().flatMap(casesOf);
}

/** The base with one case applied. */
export function withCase(c: AuditCase, base = auditBase()): HooklineConfig {
  let node = base as Record<string | number, unknown>;
  // An optional object the base leaves out (a source's `secret`) is added, holding only the case.
  for (const key of c.path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string | number, unknown>;
  }
  const last = c.path.at(-1) as string | number;
  if (c.unknownKey) {
    node[last] ??= {};
    (node[last] as Record<string, unknown>)[c.unknownKey] = c.value;
  } else node[last] = c.value;
  return base as unknown as HooklineConfig;
}

/** The path a case's problem is expected at: the field, or the unknown key beside its own. */
export const pathOf = (c: AuditCase): string =>
  [...c.path, ...(c.unknownKey ? [c.unknownKey] : [])].join('.');

/**
 * One wrong value in every leaf field at once: the first case of each that must be refused and is no token. A
 * source's `type` keeps its value: a source of no known type has no sender to check its other settings by.
 */
export function everyFieldWrong(): { config: HooklineConfig; paths: string[] } {
  const base = auditBase();
  const chosen = new Map<string, AuditCase>();
  const cases = auditCases().filter((c) => !/^sources\.<[^>]+>\.type$/.test(c.field));
  for (const c of cases) {
    const leaf = !cases.some((other) => other.field.startsWith(`${c.field}.`));
    if (leaf && c.refused && !c.token && !c.unknownKey && !chosen.has(c.field)) chosen.set(c.field, c);
  }
  for (const c of chosen.values()) withCase(c, base);
  return { config: base as unknown as HooklineConfig, paths: [...chosen.values()].map(pathOf) };
}
