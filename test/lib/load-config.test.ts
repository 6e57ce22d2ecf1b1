import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig as cliLoadConfig } from '../../lib/cli/backend';
import { HooklineConfigError } from '../../lib/config';
import { ConfigLoadError, configFailureMessage, configPath, readConfig } from '../../lib/load-config';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Inside the repository, so the configuration resolves aws-cdk-lib as a project's would.
const dir = mkdtempSync(join(ROOT, 'node_modules', '.tmp-load-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
import * as cdk from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import { defineConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'config', 'index.ts')).href)};

export default defineConfig({
  stackName: 'LoadConfigTest',
  sources: { github: { type: 'github' } },
  queues: { events: { visibilityTimeout: Duration.seconds(45), retentionPeriod: cdk.Duration.days(3) } },
  defaultRoute: { queues: ['events'] },
});
`;

/** Reads the configuration in a fresh Node process; reports what it resolved and which CDK modules it loaded. */
function readInFreshProcess(file: string): {
  visibility: number;
  retentionDays: number;
  cdkModules: string[];
} {
  const script = `
    import { createRequire } from 'node:module';
    import { readConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'load-config.ts')).href)};
    const config = await readConfig(${JSON.stringify(file)}, ${JSON.stringify(dir)});
    const queue = config.queues.find((q) => q.name === 'events');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      visibility: queue.visibilityTimeout.toSeconds(),
      retentionDays: queue.retentionPeriod.toDays(),
      cdkModules: loaded.filter((path) => /aws-cdk-lib[\\\\/]aws-[^\\\\/]+[\\\\/]index\\.js$/.test(path)),
    }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
}

/**
 * The message a configuration fails to load with in a fresh Node process, as the CLI, local mode and `cdk synth`
 * read it: under vitest, stack frames name files by path, where Node names an ES module's by its file:// URL.
 */
function failureInFreshProcess(file: string, projectRoot: string): string {
  const script = `
    import { configFailureMessage, readConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'lib', 'load-config.ts')).href)};
    await readConfig(${JSON.stringify(file)}, ${JSON.stringify(projectRoot)}).then(
      () => console.log(JSON.stringify('loaded')),
      (error) => console.log(JSON.stringify(configFailureMessage(error) ?? String(error))),
    );
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '""');
}

describe('readConfig', () => {
  it("gives a configuration aws-cdk-lib's root exports without loading its service modules", () => {
    const file = join(dir, 'hookline.config.ts');
    writeFileSync(file, CONFIG);
    const read = readInFreshProcess(file);
    expect(read.visibility).toBe(45);
    expect(read.retentionDays).toBe(3);
    expect(read.cdkModules).toEqual([]);
  }, 60_000);
});

describe('configPath', () => {
  it('takes --config, else HOOKLINE_CONFIG, else hookline.config.ts, relative to the working directory', () => {
    expect(configPath({ HOOKLINE_CONFIG: 'env.ts' }, 'flag.ts', '/p')).toBe('/p/flag.ts');
    expect(configPath({ HOOKLINE_CONFIG: 'env.ts' }, undefined, '/p')).toBe('/p/env.ts');
    expect(configPath({ HOOKLINE_CONFIG: '' }, undefined, '/p')).toBe('/p/hookline.config.ts');
    expect(configPath({}, undefined, '/p')).toBe('/p/hookline.config.ts');
  });
});

describe('readConfig failures', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const failureOf = async (file: string) => {
    const error = await readConfig(file, dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, message: configFailureMessage(error) };
  };

  it('names a missing file and how to create one', async () => {
    const { error, message } = await failureOf(join(dir, 'absent.config.ts'));
    expect(error).toBeInstanceOf(ConfigLoadError);
    expect(message).toBe(
      `no configuration at ${join(dir, 'absent.config.ts')}: create it, or give the path of your configuration (--config, or HOOKLINE_CONFIG)`,
    );
  });

  it('names a folder given as the configuration and the file to give instead', async () => {
    const { error, message } = await failureOf(dir);
    expect(error).toBeInstanceOf(ConfigLoadError);
    expect(message).toBe(
      `${dir} is a folder, not a configuration: give the path of the configuration file in it, such as ${join(dir, 'hookline.config.ts')} (--config, or HOOKLINE_CONFIG)`,
    );
  });

  it('names a module without a default export and what to export', async () => {
    const file = write('no-default.config.ts', 'export const config = {};\n');
    const { message } = await failureOf(file);
    expect(message).toBe(`${file} has no default export: export default defineConfig({ ... })`);
  });

  it("reports a syntax error with its line, in one line and without esbuild's stack", async () => {
    const file = write('syntax.config.ts', 'export default {\n  sources: {,\n};\n');
    const { error, message } = await failureOf(file);
    expect(error).toBeInstanceOf(ConfigLoadError);
    expect(message).toMatch(new RegExp(`^cannot load the configuration ${file}: line 2: [^\\n]+$`));
  });

  it('names the line of the configuration that threw, with its whole message', async () => {
    const file = write(
      'throws.config.ts',
      "const account = process.env.NO_SUCH_VARIABLE;\nif (!account) throw new Error('STRIPE_ACCOUNT is not set\\nset it in .env');\nexport default {};\n",
    );
    const { error, message } = await failureOf(file);
    expect(error).toBeInstanceOf(ConfigLoadError);
    expect(message).toBe(
      `cannot load the configuration ${file}: line 2: STRIPE_ACCOUNT is not set\nset it in .env`,
    );
  });

  it("names the line of the configuration where aws-cdk-lib refused a Duration, as for the file's own throw", () => {
    // Outside node_modules, as a project's configuration is: aws-cdk-lib's errors leave out frames in node_modules.
    mkdirSync(join(ROOT, '.hookline'), { recursive: true });
    const project = mkdtempSync(join(ROOT, '.hookline', 'cdk-throws-'));
    try {
      const file = join(project, 'hookline.config.ts');
      writeFileSync(
        file,
        "import { Duration } from 'aws-cdk-lib';\n\nconst alarm = Duration.seconds(-5);\nexport default { queues: { events: { oldestMessageAgeAlarm: alarm } } };\n",
      );
      expect(failureInFreshProcess(file, project)).toBe(
        `cannot load the configuration ${file}: line 3: Duration amounts cannot be negative. Received: -5`,
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 60_000);

  it('names the configuration file, not the temporary module it ran as, when an import is missing', async () => {
    const file = write('missing-import.config.ts', "import x from 'no-such-package';\nexport default x;\n");
    const { message } = await failureOf(file);
    expect(message).toBe(
      `cannot load the configuration ${file}: Cannot find package 'no-such-package' imported from ${file}`,
    );
  });

  it('checks each consumer entry file relative to the project root it is given', async () => {
    mkdirSync(join(dir, 'consumers'), { recursive: true });
    writeFileSync(join(dir, 'consumers', 'events.ts'), 'export const handler = () => {};\n');
    const config = (entry: string) =>
      `export default { sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: '${entry}' } } } };\n`;
    const found = await readConfig(write('entry-found.config.ts', config('consumers/events.ts')), dir);
    expect(found.queues[0]?.consumer?.entry).toBe('consumers/events.ts');
    const { error, message } = await failureOf(write('entry-missing.config.ts', config('consumers/nope.ts')));
    expect(error).toBeInstanceOf(HooklineConfigError);
    expect(message).toContain('queues.events.consumer.entry: the consumer entry file does not exist');
    // The example path is in the project's own consumers/ folder (as hookline init makes it), read from the disk.
    expect(message).toContain('e.g. "consumers/events.ts"');
  });

  it('refuses, with the configuration error, a consumer entry outside the lockfile folder its function is bundled from', async () => {
    // The project's lockfile is the repository's: an existing file outside it cannot be bundled by cdk synth.
    const outside = mkdtempSync(join(tmpdir(), 'hookline-outside-'));
    try {
      const entry = join(outside, 'consumer.ts');
      writeFileSync(entry, 'export const handler = () => {};\n');
      const config = `export default { sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: ${JSON.stringify(entry)} } } } };\n`;
      const { error, message } = await failureOf(write('entry-outside.config.ts', config));
      expect(error).toBeInstanceOf(HooklineConfigError);
      expect(message).toContain(
        `queues.events.consumer.entry: is outside ${ROOT}, the folder (of the project's lockfile) its function is bundled from: cdk synth cannot bundle it (got ${JSON.stringify(entry)}). Fix: move the file under ${ROOT}`,
      );
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses for cdk synth, with the configuration error and the fix, a project without a lockfile; local mode runs it', async () => {
    // Outside the repository, so no lockfile is in the project's folder or above it.
    const project = mkdtempSync(join(tmpdir(), 'hookline-no-lockfile-'));
    try {
      mkdirSync(join(project, 'consumers'));
      writeFileSync(join(project, 'consumers', 'events.ts'), 'export const handler = () => {};\n');
      const file = join(project, 'hookline.config.ts');
      writeFileSync(
        file,
        "export default { sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: 'consumers/events.ts' } } } };\n",
      );
      const local = await readConfig(file, project);
      expect(local.queues[0]?.consumer?.entry).toBe('consumers/events.ts');
      const error = await readConfig(file, project, true).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HooklineConfigError);
      expect(configFailureMessage(error)).toContain(
        `queues.events.consumer.entry: cannot be bundled: cdk synth bundles consumers (esbuild, through NodejsFunction) from the folder of the project's lockfile, and there is none in ${project} or a folder above it (got "consumers/events.ts"). Fix: install the project's dependencies in ${project} (npm install writes package-lock.json`,
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("refuses every consumer whose handler is no export of its entry, at once, with the entry's exports and the fix", async () => {
    mkdirSync(join(dir, 'handlers'), { recursive: true });
    writeFileSync(join(dir, 'handlers', 'shared.ts'), 'export const handler = async () => {};\n');
    writeFileSync(join(dir, 'handlers', 'events.ts'), "export * from './shared';\nexport const other = 1;\n");
    writeFileSync(join(dir, 'handlers', 'orders.ts'), 'export default async () => {};\n');
    writeFileSync(
      join(dir, 'handlers', 'jobs.ts'),
      'const process = async () => {};\nexport { process as run };\n',
    );
    writeFileSync(join(dir, 'handlers', 'legacy.cjs'), 'module.exports = { handler: async () => {} };\n');
    const consumers = {
      events: "{ entry: 'handlers/events.ts', handler: 'handlr' }",
      orders: "{ entry: 'handlers/orders.ts' }",
      jobs: "{ entry: 'handlers/jobs.ts', handler: 'index.run' }",
      legacy: "{ entry: 'handlers/legacy.cjs', handler: 'whatever' }",
      reexported: "{ entry: 'handlers/events.ts' }",
      named: "{ entry: 'handlers/jobs.ts', handler: 'run' }",
      defaulted: "{ entry: 'handlers/orders.ts', handler: 'default' }",
    };
    const queues = Object.entries(consumers).map(([name, consumer]) => `${name}: { consumer: ${consumer} }`);
    const file = write(
      'wrong-handlers.config.ts',
      `export default { sources: { github: { type: 'github' } }, queues: { ${queues.join(', ')} }, logRetentionDays: 31 };\n`,
    );
    const { error, message } = await failureOf(file);
    expect(error).toBeInstanceOf(HooklineConfigError);
    expect(message).toMatch(/\(5 problems\)/);
    expect(message).toContain(
      'queues.events.consumer.handler: handlers/events.ts has no export named "handlr", the function Lambda calls (it exports "handler", "other"): did you mean handler? (got "handlr"). Fix: set handler: \'handler\', or export the function as "handlr" from handlers/events.ts',
    );
    expect(message).toContain(
      'queues.orders.consumer.handler: handlers/orders.ts has no export named "handler" (the handler when none is set), the function Lambda calls (it exports "default") (got "handler"). Fix: export the function as "handler" from handlers/orders.ts (export const handler = defineConsumer({ ... })), or set handler to the name of the one it exports',
    );
    expect(message).toContain(
      'queues.jobs.consumer.handler: handlers/jobs.ts has no export named "index.run", the function Lambda calls (it exports "run"): did you mean run? (got "index.run"). Fix: set handler: \'run\'',
    );
    expect(message).toContain(
      'queues.legacy.consumer.entry: handlers/legacy.cjs is a CommonJS module (module.exports, exports.whatever), and consumers are bundled as ES modules: the bundle would export only "default", with no "whatever" for Lambda or local mode to call (got "handlers/legacy.cjs"). Fix: write it as an ES module (export const whatever = defineConsumer({ ... }), or export async function whatever), or set entry to an ES module that re-exports it: import legacy from \'./legacy.cjs\'; export const whatever = legacy.whatever;',
    );
    expect(message).toContain('logRetentionDays:');
    expect(message).not.toMatch(/queues\.(legacy\.consumer\.handler|reexported|named|defaulted)\./);
  });

  it("leaves consumers' handlers to synth and local start when the CLI loads the configuration", async () => {
    mkdirSync(join(dir, 'handlers'), { recursive: true });
    writeFileSync(join(dir, 'handlers', 'typo.ts'), 'export const handler = async () => {};\n');
    const file = write(
      'cli-handler.config.ts',
      "export default { sources: { github: { type: 'github' } }, queues: { events: { consumer: { entry: 'handlers/typo.ts', handler: 'handlr' } } } };\n",
    );
    const { error } = await failureOf(file);
    expect(error).toBeInstanceOf(HooklineConfigError);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const config = await cliLoadConfig(file, {});
      expect(config.queues.map((q) => q.name)).toContain('events');
    } finally {
      process.chdir(cwd);
    }
  });

  it('reads a one-time schedule whose time has passed for local start and the CLI alike (start and synth warn of it)', async () => {
    // GIVEN a schedule that fired (or would have) years ago
    const file = write(
      'passed-schedule.config.ts',
      "export default { sources: { github: { type: 'github' } }, queues: { events: {} }, schedules: [{ name: 'launch', expression: 'at(2020-01-31T09:00:00)', queue: 'events', type: 'launch.day' }] };\n",
    );
    // THEN local start and an operator's command read the configuration: a schedule that fired must not stop them
    for (const config of [await readConfig(file), await cliLoadConfig(file, {})]) {
      expect(config.schedules.map((s) => s.name)).toEqual(['launch']);
    }
  });

  it('gives no configuration message for an error that is a bug, so it keeps its stack trace', () => {
    expect(configFailureMessage(new TypeError('x is undefined'))).toBeUndefined();
  });
});
