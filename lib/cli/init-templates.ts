/**
 * The files `hookline init` writes, by path. A project made from them runs `npm start` (local mode),
 * `npm test` (type check and a test of its consumer) and `npm run deploy`, on the Node its package.json pins.
 */

export interface TemplateInput {
  /** npm package name of the project. */
  readonly name: string;
  /** The hookline dependency (version range, tarball or path). */
  readonly hooklineSpec: string;
  /** Versions hookline itself builds and tests with, by package name. */
  readonly versions: Readonly<Record<string, string>>;
}

/** The development dependencies of a project, besides hookline; `node` pins the Node of its npm scripts. */
const PROJECT_DEV_DEPENDENCIES = [
  '@types/aws-lambda',
  '@types/node',
  'aws-cdk',
  'aws-cdk-lib',
  'constructs',
  'dynalite',
  'fauxqs',
  'node',
  'tsx',
  'typescript',
  'vitest',
] as const;

/**
 * The packages whose install scripts an app lets npm run (`allowScripts` in its package.json): npm 11 warns of
 * those not listed, npm 12 skips them. esbuild's checks its platform binary, classic-level's (dynalite's LevelDB)
 * builds its native part where no prebuilt one fits, and node's puts the pinned Node binary in place. README's
 * "Add to an existing CDK app" shows this list for an app `init` did not write.
 */
export const ALLOW_SCRIPTS: Readonly<Record<string, true>> = {
  'classic-level': true,
  esbuild: true,
  node: true,
};

/** Every file of a new project, by path relative to its folder. */
export function projectFiles(input: TemplateInput): Record<string, string> {
  return {
    'package.json': packageJson(input),
    'hookline.config.ts': configFile(input.name),
    'consumers/events.ts': CONSUMER,
    'test/events.test.ts': CONSUMER_TEST,
    'vitest.config.ts': VITEST_CONFIG,
    'bin/app.ts': CDK_APP,
    'cdk.json': `${JSON.stringify(CDK_JSON, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(TSCONFIG, null, 2)}\n`,
    '.gitignore': 'node_modules/\ncdk.out/\n.hookline/\n',
    'README.md': readme(input.name),
  };
}

function packageJson({ name, hooklineSpec, versions }: TemplateInput): string {
  const devDependencies: Record<string, string> = { hookline: hooklineSpec };
  for (const dep of PROJECT_DEV_DEPENDENCIES) devDependencies[dep] = versions[dep] ?? 'latest';
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      start: 'hookline dev',
      test: 'tsc --noEmit && vitest run',
      deploy: 'cdk deploy',
      synth: 'cdk synth',
      hookline: 'hookline',
    },
    devDependencies: Object.fromEntries(
      Object.entries(devDependencies).sort(([a], [b]) => a.localeCompare(b)),
    ),
    allowScripts: ALLOW_SCRIPTS,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** PascalCase stack name from the package name. */
function stackNameOf(name: string): string {
  const pascal = name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
  return /^[A-Za-z]/.test(pascal) ? pascal : `Hookline${pascal}`;
}

function configFile(name: string): string {
  return `/**
 * The pipeline: sources (webhook senders), queues and their consumers, routes. \`npm start\` runs it on this
 * machine; \`npm run deploy\` deploys it to AWS. Every field is documented on the types of defineConfig.
 */
import { Duration } from 'aws-cdk-lib';
import { defineConfig } from 'hookline';

export default defineConfig({
  stackName: '${stackNameOf(name)}',
  sources: {
    github: { type: 'github' },
  },
  queues: {
    events: {
      consumer: { entry: 'consumers/events.ts', timeout: Duration.seconds(30), batchSize: 10 },
    },
  },
  defaultRoute: { queues: ['events'] },
});
`;
}

const CONSUMER = `/**
 * The consumer of the \`events\` queue: one handler per event type (\`<source>.<type>\`), a default for the rest.
 * Throw to retry an event; throw PermanentError to send it to the dead-letter queue at once.
 */
import { defineConsumer, type EventHandler } from 'hookline/consumer';

interface GithubPush {
  readonly ref?: string;
  readonly commits?: readonly unknown[];
}

/** A GitHub push: replace the body with your own side effect. */
export const onGithubPush: EventHandler = async (event, ctx) => {
  const push = event.payload as GithubPush;
  ctx.logger.info('push received', { ref: push.ref, commits: push.commits?.length ?? 0 });
};

export const handler = defineConsumer({
  handlers: {
    'github.push': onGithubPush,
  },
  default: async (event, ctx) => {
    ctx.logger.info('event received', { source: event.source, type: event.type });
  },
});
`;

const CONSUMER_TEST = `import { consumerRunner, handlerContext, webhookEvent } from 'hookline/testing';
import { describe, expect, it } from 'vitest';
import { handler, onGithubPush } from '../consumers/events';

describe('the events consumer', () => {
  it('logs each GitHub push with its branch and number of commits', async () => {
    const event = webhookEvent('github.push', { ref: 'refs/heads/main', commits: [{ id: 'c1' }, { id: 'c2' }] });
    const ctx = handlerContext({ event });
    await onGithubPush(event, ctx);
    expect(ctx.logger.lines.map((line) => [line.message, line.attributes.ref, line.attributes.commits])).toEqual([
      ['push received', 'refs/heads/main', 2],
    ]);
  });

  it('processes every event, a push by its handler and the rest by the default, and skips a repeated delivery', async () => {
    const runner = consumerRunner(handler);
    const push = webhookEvent('github.push', { ref: 'refs/heads/main' }, { id: 'delivery-1' });
    const outcomes = await runner.run([push, webhookEvent('github.issues', { action: 'opened' })]);
    expect(outcomes.map((outcome) => outcome.outcome)).toEqual(['processed', 'processed']);
    const [again] = await runner.run([push]);
    expect(again?.outcome).toBe('duplicate');
  });
});
`;

const CDK_APP = `/** The CDK app: \`npm run deploy\` (cdk deploy) and \`npm run synth\` (cdk synth) run it. */
import { App } from 'aws-cdk-lib';
import { loadConfig, WebhookPipelineStack } from 'hookline';

const config = await loadConfig();
const app = new App();
new WebhookPipelineStack(app, config.stackName, { config });
app.synth();
`;

const CDK_JSON = {
  app: 'npx tsx bin/app.ts',
  watch: { include: ['bin/**', 'consumers/**', 'hookline.config.ts'] },
  context: {
    '@aws-cdk/core:checkSecretUsage': true,
    '@aws-cdk/aws-iam:minimizePolicies': true,
    '@aws-cdk/aws-lambda-nodejs:useLatestRuntimeVersion': true,
  },
};

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'preserve',
    moduleResolution: 'bundler',
    types: ['node'],
    strict: true,
    noEmit: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
  },
  include: ['bin', 'consumers', 'test', 'hookline.config.ts', 'vitest.config.ts'],
  exclude: ['node_modules', 'cdk.out'],
};

/**
 * The project's own test configuration: without one, vitest uses the first it finds in a parent folder (a
 * hookline clone the project was made in, a monorepo's), whose test files and setup are not this project's.
 */
const VITEST_CONFIG = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'] },
});
`;

function readme(name: string): string {
  return `# ${name}

A webhook pipeline made with hookline: its guide is \`node_modules/hookline/README.md\`.

- \`npm start\`: runs the pipeline on this machine (webhook URLs and secrets are printed)
- \`npm test\`: type check and the consumer's tests
- \`npm run deploy\`: deploys it to your AWS account (\`cdk deploy\`)
- \`npx hookline status --local\`, \`npx hookline send github --local\`: operate it (\`npx hookline --help\`)

Configure sources, queues and routes in \`hookline.config.ts\`; write your handlers in \`consumers/\`.
`;
}
