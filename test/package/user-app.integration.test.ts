/**
 * The user's path, from the packed tarball as npm would install it (no registry upload): an app made by
 * `cdk init` adds a HooklinePipeline and synthesizes (also on another aws-cdk-lib release), a project made by
 * `hookline init` installs, passes its own tests and runs locally, processing a signed webhook, and an ES module
 * app (NodeNext, compiled by tsc, run by node) synthesizes the same pipeline.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port';

const REPO = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'hookline-package-'));
const MARKER = 'USER_CONSUMER_MARKER_5d1c';
/** A string only the forwarding consumer's bundle holds: the header naming each delivery's attempt. */
const FORWARD_MARKER = 'hookline-attempt';
/** An aws-cdk-lib 2.x release older than the one this repository builds with. */
const OLDER_CDK_LIB = '2.255.0';
let tarball = '';

/**
 * The environment of a user's shell: this Node first on PATH (the repository pins Node 24 for its scripts),
 * none of this repository's node_modules/.bin and none of the npm variables of the running `npm test`.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(REPO));
  return {
    ...env,
    PATH: [dirname(process.execPath), ...path].join(delimiter),
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_prefer_offline: 'true',
    NO_COLOR: '1',
    ...extra,
  };
}

/** Runs a command to completion; throws with its output when it fails. */
async function run(
  cwd: string,
  command: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<string> {
  try {
    const options = { cwd, env: userEnv(extra), encoding: 'utf8' as const, maxBuffer: 64 * 1024 * 1024 };
    return (await promisify(execFile)(command, args, options)).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    // The child's stack frames are quoted, so vitest does not take them for this test's own.
    const output = `${stdout ?? ''}\n${stderr ?? ''}`.replace(/^(\s+)at /gm, '$1| at ');
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${output}`);
  }
}

beforeAll(async () => {
  // prepack builds dist/ first, as publishing would.
  const output = await run(REPO, 'npm', ['pack', '--pack-destination', work, '--json']);
  const [packed] = JSON.parse(output.slice(output.indexOf('['))) as { filename: string }[];
  tarball = join(work, packed?.filename ?? '');
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }), 300_000);

/** Sets one dependency's version in the app's package.json. */
function pinDependency(app: string, name: string, version: string): void {
  const file = join(app, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { dependencies: Record<string, string> };
  manifest.dependencies[name] = version;
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The text of every synthesized asset file named index.mjs. */
function assetBundles(app: string): string[] {
  const out = join(app, 'cdk.out');
  return readdirSync(out)
    .filter((name) => name.startsWith('asset.') && existsSync(join(out, name, 'index.mjs')))
    .map((name) => readFileSync(join(out, name, 'index.mjs'), 'utf8'));
}

// The user paths run one after the other: concurrent npm installs broke the aws-cdk-lib downgrade.
describe('the packed package', () => {
  let dev: ChildProcess | undefined;
  // npm start runs hookline in a child of its own: the whole process group is stopped.
  afterAll(() => {
    try {
      if (dev?.pid) process.kill(-dev.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  });

  it('adds a HooklinePipeline to the generated stack and synthesizes it with the app’s own consumer, also on an older aws-cdk-lib', async () => {
    const app = join(work, 'cdk-app');
    mkdirSync(app);
    await run(app, join(REPO, 'node_modules/.bin/cdk'), [
      'init',
      'app',
      '--language',
      'typescript',
      '--generate-only',
    ]);
    await run(app, 'npm', ['install']);
    await run(app, 'npm', ['install', tarball]);
    addPipelineToGeneratedStack(app);
    await run(app, 'npx', ['cdk', 'synth', '--quiet']);
    const bundles = assetBundles(app);
    expect(bundles.filter((code) => code.includes(MARKER))).toHaveLength(1);
    // The others: the ingest function, prebuilt in the package, and the jobs endpoint and the forwarding
    // consumer, bundled from it.
    expect(bundles).toHaveLength(4);
    expect(bundles.filter((code) => code.includes('job rejected'))).toHaveLength(1);
    expect(bundles.filter((code) => code.includes(FORWARD_MARKER))).toHaveLength(1);

    // An app whose tsconfig still resolves modules the Node 10 way (as older cdk init apps do) reads no `exports`
    // map: it finds the types of hookline/consumer and hookline/producer through `typesVersions`.
    writeFileSync(
      join(app, 'node10-imports.ts'),
      `import { HooklinePipeline } from 'hookline';
import { defineConsumer } from 'hookline/consumer';
import { defineJob } from 'hookline/producer';
export const used = [HooklinePipeline, defineConsumer, defineJob];
`,
    );
    writeJson(join(app, 'tsconfig.node10.json'), {
      compilerOptions: {
        module: 'commonjs',
        moduleResolution: 'node',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: ['node10-imports.ts'],
    });
    await run(app, join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.node10.json']);

    // Another aws-cdk-lib 2.x release in the app: hookline uses the app's (a peer), so it still synthesizes.
    // A clean install at that release: npm's in-place downgrade leaves aws-cdk-lib's bundled packages half-moved.
    pinDependency(app, 'aws-cdk-lib', OLDER_CDK_LIB);
    for (const stale of ['node_modules', 'package-lock.json', 'cdk.out'])
      rmSync(join(app, stale), { recursive: true, force: true });
    await run(app, 'npm', ['install']);
    await run(app, 'npx', ['cdk', 'synth', '--quiet']);
    expect(assetBundles(app).some((code) => code.includes(MARKER))).toBe(true);
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/aws-cdk-lib/package.json'), 'utf8'));
    expect(installed.version).toBe(OLDER_CDK_LIB);
    expect(existsSync(join(app, 'node_modules/hookline/node_modules/aws-cdk-lib'))).toBe(false);
  }, 900_000);

  it('makes a project with hookline init that installs, passes its tests, runs locally and processes a signed webhook in its consumer', async () => {
    const project = join(work, 'my-hooks');
    // Made inside another project, as in a hookline clone after npm pack: its test configuration is not this one's.
    writeFileSync(
      join(work, 'vitest.config.ts'),
      "export default { test: { include: ['elsewhere/**'] } };\n",
    );
    // dist/ is what the tarball holds (prepack just built it); the project then runs its installed bin. The
    // tarball is named as a user types it, relative to where init runs, not to the project it writes.
    await run(work, process.execPath, [
      join(REPO, 'dist/bin/hookline.js'),
      'init',
      'my-hooks',
      '--hookline',
      `./${basename(tarball)}`,
    ]);
    await run(project, 'npm', ['install']);
    expect(await run(project, 'npm', ['test'])).toMatch(/1 passed/);

    const port = await freePort();
    dev = spawn('npm', ['start'], {
      cwd: project,
      env: userEnv({ PORT: String(port), HOOKLINE_LOG: 'text', HOOKLINE_VERBOSE: '1' }),
      detached: true,
    });
    const output = collect(dev);
    await waitFor(output, /local mode is running/, 300_000);
    const sent = await run(project, 'npx', ['hookline', 'send', 'github', '--local']);
    expect(sent).toMatch(/20\d/);
    // The scaffolded consumer's own log line: its handler for github.push ran.
    await waitFor(output, /push received/, 60_000);
  }, 900_000);

  it('synthesizes an ES module app (type module, NodeNext) whose stack imports hookline and whose consumer is its own', async () => {
    const app = join(work, 'esm-app');
    writeEsmApp(app);
    await run(app, 'npm', ['install']);
    // The app has no CDK CLI of its own: it runs a global one, as a user with `npm i -g aws-cdk` does (this
    // repository's, the release its aws-cdk-lib pairs with), which spares an install of the CLI.
    await run(app, join(REPO, 'node_modules/.bin/cdk'), ['synth', '--quiet']);
    const bundles = assetBundles(app);
    expect(bundles.filter((code) => code.includes(MARKER))).toHaveLength(1);
    // The other bundle is the ingest function exactly as the package ships it.
    const ingest = readFileSync(join(app, 'node_modules/hookline/dist/assets/ingest/index.mjs'), 'utf8');
    expect(bundles.filter((code) => code === ingest)).toHaveLength(1);
    // And the jobs endpoint and the forwarding consumer, bundled from the package.
    expect(bundles).toHaveLength(4);
    expect(bundles.filter((code) => code.includes(FORWARD_MARKER))).toHaveLength(1);

    // tsc emitted ES modules (import statements, no require), so node ran the app as ESM.
    const entry = readFileSync(join(app, 'build/bin/app.js'), 'utf8');
    const stack = readFileSync(join(app, 'build/lib/esm-stack.js'), 'utf8');
    expect(entry).toMatch(/^import .* from '\.\.\/lib\/esm-stack\.js';$/m);
    expect(stack).toMatch(/^import \{[^}]*HooklinePipeline[^}]*\} from 'hookline';$/m);
    expect(`${entry}${stack}`).not.toMatch(/\brequire\(|\bexports\./);
    const loaded = await run(app, process.execPath, [
      '--input-type=module',
      '-e',
      "const [main, consumer] = await Promise.all([import('hookline'), import('hookline/consumer')]); console.log(typeof main.HooklinePipeline, typeof consumer.defineConsumer);",
    ]);
    expect(loaded.trim()).toBe('function function');
  }, 600_000);
});

/** The pipeline both apps add to a stack of their own, with the app's consumer as its only queue's. */
const PIPELINE_IN_STACK = `new HooklinePipeline(this, 'Webhooks', {
      config: defineConfig({
        sources: { github: { type: 'github' } },
        queues: {
          orders: { consumer: { entry: 'consumers/orders.ts', timeout: cdk.Duration.seconds(20) } },
          // hookline's own forwarding consumer, bundled from the installed package as the jobs endpoint is.
          relay: { consumer: { forward: { url: 'https://app.example.com/webhooks' } } },
        },
        defaultRoute: { queues: ['orders'] },
        jobs: { endpoint: { queues: ['orders'] } },
      }),
    });`;

/** The app's own consumer, in consumers/orders.ts, logging the marker the synthesized asset must hold. */
function writeConsumer(app: string): void {
  mkdirSync(join(app, 'consumers'));
  writeFileSync(
    join(app, 'consumers/orders.ts'),
    `import { defineConsumer, PermanentError } from 'hookline/consumer';

export const handler = defineConsumer({
  handlers: {
    'github.push': async (event, ctx) => {
      if (!event.body) throw new PermanentError('an empty push');
      ctx.logger.info('${MARKER}', { type: event.type });
    },
  },
});
`,
  );
}

/** The version of a package installed in this repository (aws-cdk-lib, constructs: what hookline builds with). */
function repoVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** The compiler a new CDK app gets today: the range of cdk init's own TypeScript template. */
function cdkInitDevDependency(name: string): string {
  const template = join(REPO, 'node_modules/aws-cdk/lib/init-templates/app/typescript/package.json');
  return (JSON.parse(readFileSync(template, 'utf8')) as { devDependencies: Record<string, string> })
    .devDependencies[name] as string;
}

/**
 * An ES module CDK app: package type module, NodeNext (tsc checks hookline's types through its `exports` map
 * and emits ESM), an entry that imports a stack by its `.js` path, and a cdk.json that compiles, then runs node.
 */
function writeEsmApp(app: string): void {
  mkdirSync(join(app, 'bin'), { recursive: true });
  mkdirSync(join(app, 'lib'));
  writeJson(join(app, 'package.json'), {
    name: 'esm-app',
    private: true,
    type: 'module',
    dependencies: {
      'aws-cdk-lib': repoVersion('aws-cdk-lib'),
      constructs: repoVersion('constructs'),
      hookline: `file:${tarball}`,
    },
    devDependencies: { typescript: cdkInitDevDependency('typescript') },
  });
  writeJson(join(app, 'tsconfig.json'), {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['es2022'],
      strict: true,
      skipLibCheck: true,
      rootDir: '.',
      outDir: 'build',
    },
    include: ['bin', 'lib', 'consumers'],
  });
  writeJson(join(app, 'cdk.json'), { app: 'npx tsc && node build/bin/app.js' });
  writeFileSync(
    join(app, 'bin/app.ts'),
    `import * as cdk from 'aws-cdk-lib';
import { EsmStack } from '../lib/esm-stack.js';

const app = new cdk.App();
new EsmStack(app, 'EsmStack');
`,
  );
  writeFileSync(
    join(app, 'lib/esm-stack.ts'),
    `import * as cdk from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { HooklinePipeline, defineConfig } from 'hookline';

export class EsmStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    ${PIPELINE_IN_STACK}
  }
}
`,
  );
  writeConsumer(app);
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a consumer into the app and a pipeline into the stack file cdk init generated. */
function addPipelineToGeneratedStack(app: string): void {
  writeConsumer(app);
  const [stackFile] = readdirSync(join(app, 'lib')).filter((name) => name.endsWith('-stack.ts'));
  const path = join(app, 'lib', stackFile ?? '');
  const source = readFileSync(path, 'utf8');
  const withImport = `import { defineConfig, HooklinePipeline } from 'hookline';\n${source}`;
  const withPipeline = withImport.replace(
    /super\(scope, id, props\);/,
    `super(scope, id, props);
    ${PIPELINE_IN_STACK}`,
  );
  expect(withPipeline).not.toBe(withImport);
  writeFileSync(path, withPipeline);
}

function collect(child: ChildProcess): { text: string } {
  const output = { text: '' };
  const add = (chunk: Buffer) => {
    output.text += chunk.toString();
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return output;
}

async function waitFor(output: { text: string }, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(output.text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${output.text}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}
