/**
 * What a configuration error says about the value given: the value as it was (Infinity is not "a number"), a fix that
 * names what to write for a required setting left out, paths in one notation, and a file's default export read as
 * what it is.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { type HooklineConfig, HooklineConfigError, resolveConfig } from '../../lib/config';
import { readConfig } from '../../lib/load-config';
import { formatViolation } from '../../lib/violations';

/** The listing of a configuration for `cdk synth` and for local mode, which must be the same. */
function problems(config: unknown): string[] {
  const listing = (forDeploy: boolean): string[] => {
    try {
      resolveConfig(config as HooklineConfig, { forDeploy });
      return [];
    } catch (error) {
      if (!(error instanceof HooklineConfigError)) throw error;
      return error.violations.map(formatViolation);
    }
  };
  const deploy = listing(true);
  expect(listing(false)).toEqual(deploy);
  return deploy;
}

const withConsumer = (consumer: Record<string, unknown>, queue: Record<string, unknown> = {}) => ({
  sources: { github: { type: 'github' } },
  queues: { events: { ...queue, consumer: { entry: 'x.ts', ...consumer } } },
});

describe('a configuration error says what was given', () => {
  it('calls Infinity Infinity, not "a number", and gives a fix for it rather than for NaN', () => {
    // GIVEN a count that is Infinity, and one that is -Infinity
    const listing = problems(
      withConsumer({ batchSize: Number.NEGATIVE_INFINITY }, { maxReceiveCount: Infinity }),
    );
    // THEN each says it is not finite, and the fix does not talk of NaN
    expect(listing).toEqual([
      'queues.events.maxReceiveCount: must be a finite number, not Infinity (got Infinity). Fix: give a finite number (Infinity often comes from a division by zero)',
      'queues.events.consumer.batchSize: must be a finite number, not -Infinity (got -Infinity). Fix: give a finite number (Infinity often comes from a division by zero)',
    ]);
  });

  it('says NaN is NaN', () => {
    expect(problems(withConsumer({}, { maxReceiveCount: Number.NaN }))).toEqual([
      'queues.events.maxReceiveCount: must be a finite number, not NaN (got NaN). Fix: give a finite number (NaN often comes from Number(process.env.X) with X unset or not a number)',
    ]);
  });

  it('names the Duration to add for a required Duration left out', () => {
    // GIVEN a rate limit without its interval
    const listing = problems(withConsumer({ maxConcurrency: 5, rateLimit: { limit: 10 } }));
    // THEN it is said to be missing, with a Duration to write, not the configuration reference's generic fix
    expect(listing).toEqual([
      "queues.events.consumer.rateLimit.interval: is required (a Duration) (got nothing). Fix: add interval, e.g. interval: Duration.seconds(1) (import { Duration } from 'aws-cdk-lib')",
    ]);
  });

  it("writes the path of a metricTypes item as every other list item's, with a dot", () => {
    const listing = problems(withConsumer({ metricTypes: ['github.push', 'push', 'gitlab.push'] }));
    expect(listing.map((line) => line.split(':')[0])).toEqual([
      'queues.events.consumer.metricTypes.1',
      'queues.events.consumer.metricTypes.2',
    ]);
  });
});

describe("a configuration file's default export", () => {
  const ROOT = resolve(import.meta.dirname, '..', '..');
  // Inside the repository, so the configuration resolves aws-cdk-lib as a project's would.
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.tmp-config-wording-'));

  // Outside node_modules too: esbuild says nothing of a file in it, where a project's configuration never is.
  const outside = mkdtempSync(join(tmpdir(), 'hookline-config-wording-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const failure = async (text: string, where = dir): Promise<string> => {
    const file = join(where, 'hookline.config.ts');
    writeFileSync(file, text);
    return readConfig(file, ROOT).then(
      () => 'accepted',
      (error: Error) => error.message.replace(file, '<file>'),
    );
  };

  it('that is null or undefined is said to be that, not missing', async () => {
    expect(await failure('export default null;\n')).toBe(
      '<file> exports null as its default: export default defineConfig({ ... })',
    );
    expect(await failure('export default undefined;\n')).toBe(
      '<file> exports undefined as its default: export default defineConfig({ ... })',
    );
  });

  it('with a key written twice lists the repeat with the other problems, rather than dropping the first silently', async () => {
    // GIVEN a file that names source github twice (JavaScript keeps the later) and has another problem
    const said = await failure(
      `export default {
  sources: { github: { type: 'github' }, github: { type: 'stripe' } },
  queues: { events: { maxReceiveCount: 0 } },
};
`,
      outside,
    );
    // THEN both are listed at once, the repeat with the line and column of each
    expect(said.split('\n')).toEqual([
      'Invalid hookline configuration (2 problems):',
      '  - hookline.config.ts:2:42: repeats the key "github" of line 2, column 14: JavaScript keeps only the later one, so the earlier is silently dropped (got "github"). Fix: give each entry a name of its own, or remove the one you do not mean',
      '  - queues.events.maxReceiveCount: must be between 1 and 1000 (got 0). Fix: use 5 (AWS recommends at least 5 so throttling does not dead-letter good messages)',
    ]);
  });

  it('with a key written twice is refused even when nothing else is wrong', async () => {
    const said = await failure(
      "export default { sources: { github: { type: 'github' } }, queues: { events: {}, events: { maxReceiveCount: 3 } } };\n",
      outside,
    );
    expect(said).toMatch(
      /^Invalid hookline configuration \(1 problem\):\n {2}- hookline\.config\.ts:1:81: repeats the key "events"/,
    );
  });

  it('with a key written twice in a file it imports names that file by its path, line and column', async () => {
    // GIVEN a configuration whose sources come from a file in a folder of its own and whose queues from one beside
    // its folder, both named sources.ts, each writing a key twice
    const project = mkdtempSync(join(outside, 'project-'));
    mkdirSync(join(project, 'config'));
    mkdirSync(join(outside, 'shared'), { recursive: true });
    writeFileSync(
      join(project, 'config', 'sources.ts'),
      "export const sources = {\n  github: { type: 'github' },\n  github: { type: 'stripe' },\n} as const;\n",
    );
    writeFileSync(
      join(outside, 'shared', 'sources.ts'),
      'export const queues = { events: {}, events: {} };\n',
    );
    const said = await failure(
      "import { sources } from './config/sources';\nimport { queues } from '../shared/sources';\nexport default { sources, queues };\n",
      project,
    );
    // THEN each repeat is located as one in the configuration file is, by the file's path from the configuration's folder
    expect(said.split('\n')).toEqual([
      'Invalid hookline configuration (2 problems):',
      '  - config/sources.ts:3:3: repeats the key "github" of line 2, column 3: JavaScript keeps only the later one, so the earlier is silently dropped (got "github"). Fix: give each entry a name of its own, or remove the one you do not mean',
      '  - ../shared/sources.ts:1:37: repeats the key "events" of line 1, column 25: JavaScript keeps only the later one, so the earlier is silently dropped (got "events"). Fix: give each entry a name of its own, or remove the one you do not mean',
    ]);
  });

  it('that is missing is said to be missing', async () => {
    expect(await failure('export const config = {};\n')).toBe(
      '<file> has no default export: export default defineConfig({ ... })',
    );
  });
});

void Duration;
