/**
 * Every field of the configuration (walked from the schema, every sender's source fields too), given a wrong value of
 * every plausible kind, is refused the way the quality bar asks: at its path, with the value given and a fix, in
 * hookline's own words (never zod's), the same for `cdk synth` as for local mode, and every problem of one
 * configuration listed at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { type HooklineConfig, HooklineConfigError, resolveConfig } from '../../lib/config';
import { readConfig } from '../../lib/load-config';
import { formatViolation, type Violation } from '../../lib/violations';
import {
  type AuditCase,
  auditBase,
  auditCases,
  auditFields,
  everyFieldWrong,
  pathOf,
  withCase,
  ZERO_MEANS_OFF,
} from '../helpers/config-audit';

/** Zod's own words, which say what zod checked rather than what is wrong and where. */
const ZOD_WORDING =
  /invalid_type|invalid_union|invalid_value|invalid_format|Invalid input|Invalid discriminator|Invalid option|Invalid URL|Invalid (string|element|key)|expected \w+, received|Too (small|big)/i;

/** A fix that names no allowed value. */
const GENERIC_FIX = /^correct the value as described/;

/** How the problems of a configuration read: refused with a listing, or resolved. */
function outcome(
  config: HooklineConfig,
  forDeploy: boolean,
): { problems?: readonly Violation[]; crash?: unknown } {
  try {
    resolveConfig(config, { forDeploy });
    return {};
  } catch (error) {
    return error instanceof HooklineConfigError ? { problems: error.violations } : { crash: error };
  }
}

/**
 * Whether a problem is about the case's field: at it, under it (a setting of an object given), at the object holding
 * it (a rule over the combination, e.g. email and existingTopicArn), or naming it (a queue's alarm whose default is
 * `alarms.oldestMessageAge`).
 */
function isAbout(v: Violation, c: AuditCase): boolean {
  const path = pathOf(c);
  const holder = c.path.slice(0, -1).join('.');
  return (
    v.path === path ||
    v.path.startsWith(`${path}.`) ||
    (holder !== '' && v.path === holder) ||
    v.message.includes(c.field.replace(/^[^.]+\.\*\./, ''))
  );
}

/** What falls short of the bar in one problem. */
function shortfalls(v: Violation): string[] {
  return [
    ...(ZOD_WORDING.test(v.message) ? ["zod's wording in the message"] : []),
    ...(ZOD_WORDING.test(v.fix) ? ["zod's wording in the fix"] : []),
    ...(v.fix.trim() === '' || GENERIC_FIX.test(v.fix) ? ['no fix that says what is allowed'] : []),
    ...(v.value.trim() === '' || /\$\{Token\[|"amount":/.test(v.value)
      ? ['the value given is not shown readably']
      : []),
    ...(v.path === '' ? ['no path'] : []),
  ];
}

const cases = auditCases();

describe('configuration errors, field by field', () => {
  it('covers every field of the schema with at least one wrong value', () => {
    const fields = auditFields();
    const tried = new Set(cases.map((c) => c.field));
    // A schedule's payload takes any JSON value: nothing is wrong with one.
    const untried = fields.filter((f) => !tried.has(f.field)).map((f) => f.field);
    expect(untried).toEqual(['schedules.0.payload']);
    expect(fields.length).toBeGreaterThan(150);
  });

  it('tries 0 in every Duration and number field, taking it only where it is a documented "off"', () => {
    const zeroes = cases.filter((c) => c.name.endsWith(': zero'));
    expect(zeroes.length).toBeGreaterThan(40);
    expect(zeroes.filter((c) => c.accepted).map((c) => c.field)).toEqual([...ZERO_MEANS_OFF]);
    expect(zeroes.filter((c) => !c.accepted && !c.refused)).toEqual([]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const deploy = outcome(withCase(c), true);
    const local = outcome(withCase(c), false);
    for (const [mode, result] of [
      ['cdk synth', deploy],
      ['local mode', local],
    ] as const) {
      expect(result.crash, `${mode} threw something else than the listing`).toBeUndefined();
      if (c.refused) expect(result.problems, `${mode} accepted it`).toBeDefined();
      if (c.accepted)
        expect(result.problems?.map(formatViolation), `${mode} refused a valid value`).toBeUndefined();
      if (!result.problems) continue;
      const listing = result.problems.map(formatViolation).join('\n');
      expect(
        result.problems.some((v) => isAbout(v, c)),
        `${mode}: no problem about ${pathOf(c)}:\n${listing}`,
      ).toBe(true);
      const failing = result.problems.flatMap((v) => shortfalls(v).map((s) => `${s}: ${formatViolation(v)}`));
      expect(failing, `${mode}:\n${listing}`).toEqual([]);
    }
    // A token is taken by `cdk synth` in the fields it hands to CloudFormation as they are, where local mode needs the
    // value itself (tokens.ts); any other problem is the same problem for both.
    if (!c.token) expect(local.problems?.map(formatViolation)).toEqual(deploy.problems?.map(formatViolation));
  });
});

describe('configuration errors, all at once', () => {
  it('lists a problem at every field given a wrong value, in one error', () => {
    const { config, paths } = everyFieldWrong();
    const { problems } = outcome(config, true);
    const reported = new Set(problems?.map((v) => v.path));
    expect(paths.filter((path) => !reported.has(path))).toEqual([]);
  });

  const ROOT = resolve(import.meta.dirname, '..', '..');
  // Inside the repository, so the configuration resolves aws-cdk-lib as a project's would.
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.tmp-config-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the same listing from the file for cdk synth as for local mode', async () => {
    const file = join(dir, 'hookline.config.ts');
    // A path, not a URL: the configuration's bundle takes the helper in, as a file of the project.
    const helper = join(ROOT, 'test', 'helpers', 'config-audit.ts');
    writeFileSync(
      file,
      `import { everyFieldWrong } from ${JSON.stringify(helper)};\nexport default everyFieldWrong().config;\n`,
    );
    const failure = async (forSynth: boolean) =>
      readConfig(file, ROOT, forSynth).then(
        () => 'resolved',
        (error: unknown) => (error instanceof HooklineConfigError ? error.message : String(error)),
      );
    const synth = await failure(true);
    expect(synth).toMatch(/^Invalid hookline configuration \(\d+ problems\)/);
    expect(await failure(false)).toBe(synth);
  });
});

/** Settings the documentation says do not go together, each on the audit's valid base, and where the problem is. */
const CONFLICTS: readonly (readonly [name: string, edit: (c: AuditConfig) => void, path: string])[] = [
  [
    'a consumer with both entry and forward',
    (c) => Object.assign(c.queues.events.consumer, { forward: { url: 'https://app.example.com/hooks' } }),
    'queues.events.consumer',
  ],
  [
    'provisioned pollers with maxConcurrency',
    (c) => Object.assign(c.queues.polled.consumer, { maxConcurrency: 5 }),
    'queues.polled.consumer',
  ],
  [
    'an alarm email with an existing topic',
    (c) => Object.assign(c.alarms, { existingTopicArn: 'arn:aws:sns:us-east-1:123456789012:alarms' }),
    'alarms',
  ],
  [
    'content-based deduplication on a standard queue',
    (c) => Object.assign(c.queues.events, { contentBasedDeduplication: true }),
    'queues.events.contentBasedDeduplication',
  ],
  [
    'tenants on a FIFO queue',
    (c) => Object.assign(c.queues.ordered, { tenants: { 'src-github': { path: 'installation.id' } } }),
    'queues.ordered.tenants',
  ],
  [
    'a rate limit without maxConcurrency',
    (c) => delete c.queues.events.consumer.maxConcurrency,
    'queues.events.consumer.maxConcurrency',
  ],
  [
    'a batch above 10 without a batching window',
    (c) => Object.assign(c.queues.events.consumer, { batchSize: 100 }),
    'queues.events.consumer.batchSize',
  ],
  [
    'a batching window on a FIFO queue',
    (c) =>
      Object.assign(c.queues.ordered, {
        consumer: { entry: 'lambda/consumers/events.ts', maxBatchingWindow: Duration.seconds(5) },
      }),
    'queues.ordered.consumer.maxBatchingWindow',
  ],
  [
    'a route with neither queues nor ignore',
    (c) => Object.assign(c.routes[0], { queues: undefined, ignore: undefined }),
    'routes.0',
  ],
  [
    'a schedule sent to a FIFO queue',
    (c) => Object.assign(c.schedules[0], { queue: 'ordered' }),
    'schedules.0.queue',
  ],
  [
    'a jobs endpoint for a queue not configured',
    (c) => Object.assign(c.jobs.endpoint, { queues: ['nowhere'] }),
    'jobs.endpoint.queues',
  ],
  [
    'a dead-letter retention not longer than the retention',
    (c) => Object.assign(c.queues.ordered, { deadLetterRetentionPeriod: Duration.days(4) }),
    'queues.ordered.deadLetterRetentionPeriod',
  ],
];

/** A queue of the audit's base, typed loosely for the edits above. */
type AuditQueue = Record<string, unknown> & { consumer: Record<string, unknown> };

/** The audit's base, typed loosely for the edits above. */
type AuditConfig = {
  queues: { events: AuditQueue; ordered: AuditQueue; polled: AuditQueue };
  alarms: Record<string, unknown>;
  routes: [Record<string, unknown>];
  schedules: [Record<string, unknown>];
  jobs: { endpoint: Record<string, unknown> };
};

describe('configuration errors of settings that do not go together', () => {
  it.each(CONFLICTS)('%s', (_, edit, path) => {
    const config = auditBase() as unknown as AuditConfig;
    edit(config);
    const deploy = outcome(config as unknown as HooklineConfig, true);
    const local = outcome(config as unknown as HooklineConfig, false);
    expect(deploy.crash).toBeUndefined();
    const listing = deploy.problems?.map(formatViolation).join('\n') ?? 'accepted';
    expect(
      deploy.problems?.some((v) => v.path === path || v.path.startsWith(`${path}.`)),
      listing,
    ).toBe(true);
    const failing = deploy.problems?.flatMap((v) => shortfalls(v).map((s) => `${s}: ${formatViolation(v)}`));
    expect(failing, listing).toEqual([]);
    expect(local.problems?.map(formatViolation)).toEqual(deploy.problems?.map(formatViolation));
  });
});

describe('configuration errors whose fix depends on other settings', () => {
  /** The one problem of a consumer with this rate limit, 5 concurrent invocations of 10 records each. */
  function rateLimitProblem(interval: Duration, maxConcurrency = 5): Violation | undefined {
    const base = auditBase() as { queues: { events: { consumer: Record<string, unknown> } } };
    Object.assign(base.queues.events.consumer, { rateLimit: { limit: 10, interval }, maxConcurrency });
    return outcome(base as unknown as HooklineConfig, true).problems?.find((v) =>
      v.path.endsWith('.rateLimit'),
    );
  }

  it("offers no timeout above Lambda's 15 minutes for a rate limit whose wait no invocation can hold", () => {
    const problem = rateLimitProblem(Duration.days(1));
    expect(problem?.fix).not.toMatch(/raise timeout/);
    // 2 invocations (the least an SQS event source takes) of 5 records start within the first window.
    expect(problem?.fix).toBe('lower batchSize to 5 with maxConcurrency: 2, or raise limit to 50');
  });

  it('still offers a timeout Lambda allows', () => {
    expect(rateLimitProblem(Duration.seconds(10))?.fix).toMatch(/^raise timeout to at least \d+ seconds/);
  });
});
