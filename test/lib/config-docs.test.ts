import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_BODY_BYTES } from '../../lambda/shared/request-limits';
import { DEFAULTS, type HooklineConfig, resolveConfig } from '../../lib/config';
import { DEAD_LETTER_RECOVERY_PERIODS } from '../../lib/pipeline-alarms';
import { PROJECT_COMPILER_OPTIONS } from '../helpers/ts-compiler-options';

const root = join(__dirname, '..', '..');

/**
 * The parsed files every language service below shares: the standard library's and aws-cdk-lib's declarations are
 * parsed once for the file, not once a service. An in-memory file's version is its text, so a service never gets a
 * file parsed from another one's text under the same name.
 */
const documents = ts.createDocumentRegistry();

/**
 * A language service over one in-memory file at the repository root, `fileName`, holding `source`, beside an
 * in-memory declaration file holding `ambient` (the types of a package a snippet imports that hookline does not
 * depend on).
 */
function languageService(fileName: string, source: string, ambient = ''): ts.LanguageService {
  const compilerOptions = PROJECT_COMPILER_OPTIONS;
  const ambientName = join(root, '__ambient__.d.ts');
  const files = new Map([
    [fileName, source],
    [ambientName, ambient],
  ]);
  const host: ts.LanguageServiceHost = {
    getScriptFileNames: () => [fileName, ambientName],
    getScriptVersion: (name) => files.get(name) ?? '1',
    getScriptSnapshot: (name) => {
      const text = files.get(name) ?? (ts.sys.fileExists(name) ? readFileSync(name, 'utf8') : undefined);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => root,
    getCompilationSettings: () => compilerOptions,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: (name) => files.has(name) || ts.sys.fileExists(name),
    readFile: (name) => files.get(name) ?? ts.sys.readFile(name),
  };
  return ts.createLanguageService(host, documents);
}

/** What an editor shows on hover over each marked field of a `defineConfig({...})` call. */
function hoverTags(source: string): Map<string, string | undefined> {
  const fileName = join(root, '__hover__.ts');
  const service = languageService(fileName, source);
  const tags = new Map<string, string | undefined>();
  for (const match of source.matchAll(/\/\*hover\*\/(\w+)/g)) {
    const field = match[1] ?? '';
    const info = service.getQuickInfoAtPosition(fileName, (match.index ?? 0) + '/*hover*/'.length);
    const tag = info?.tags?.find((t) => t.name === 'default');
    tags.set(field, tag ? ts.displayPartsToString(tag.text) : undefined);
  }
  return tags;
}

describe('the configuration reference in the editor', () => {
  it('shows the default of configuration, queue, consumer and sender fields on hover', () => {
    const tags = hoverTags(`
      import { Duration } from 'aws-cdk-lib';
      import { defineConfig } from './lib/config';
      export default defineConfig({
        /*hover*/stackName: 'X',
        sources: { s: { type: 'hmac', header: 'x-sig', /*hover*/algorithm: 'sha256', /*hover*/tolerance: Duration.minutes(1) } },
        queues: {
          q: {
            /*hover*/maxReceiveCount: 5,
            consumer: { entry: 'x.ts', /*hover*/batchSize: 10, retry: { /*hover*/base: Duration.seconds(1) } },
          },
        },
        ingest: { /*hover*/rateLimit: 1000 },
        schedules: [{ name: 'n', expression: 'rate(1 hour)', queue: 'q', type: 't', /*hover*/timezone: 'UTC' }],
      });
    `);
    expect(Object.fromEntries(tags)).toEqual({
      stackName: "'Hookline'",
      algorithm: "'sha256'",
      tolerance: 'Duration.minutes(5)',
      maxReceiveCount: '5',
      batchSize: '10',
      base: 'Duration.seconds(10)',
      rateLimit: '1000',
      timezone: "'UTC'",
    });
  }, 60_000);

  it("shows the configuration's defaults on hover over QueueConsumer's retry, rate limit and circuit breaker settings, documented once", () => {
    const tags = hoverTags(`
      import { Duration, Stack } from 'aws-cdk-lib';
      import { PipelineQueue, QueueConsumer } from './lib/index';
      declare const stack: Stack;
      declare const jobs: PipelineQueue;
      new QueueConsumer(stack, 'Consumer', {
        queue: jobs.queue,
        deadLetterQueue: jobs.deadLetterQueue,
        name: 'jobs',
        entry: 'lambda/consumers/jobs.ts',
        /*hover*/retry: { /*hover*/base: Duration.seconds(1), /*hover*/factor: 2, /*hover*/max: Duration.minutes(1) },
        /*hover*/rateLimit: { limit: 1, interval: Duration.seconds(1) },
        /*hover*/circuitBreaker: { /*hover*/failureRatio: 0.5, /*hover*/minimumRecords: 20, /*hover*/window: Duration.minutes(5) },
      });
    `);
    expect(Object.fromEntries(tags)).toEqual({
      retry: '- { base: Duration.seconds(10), factor: 2, max: Duration.minutes(15) }',
      base: 'Duration.seconds(10)',
      factor: '2',
      max: 'Duration.minutes(15)',
      rateLimit: '- no rate limit',
      circuitBreaker: '- no circuit breaker totals',
      failureRatio: '0.5',
      minimumRecords: '20',
      window: 'Duration.minutes(5)',
    });
  }, 60_000);

  it('documents a default for every optional field of the input types', () => {
    const file = ts.createSourceFile(
      'schema.ts',
      readFileSync(join(root, 'lib', 'config', 'schema.ts'), 'utf8'),
      ts.ScriptTarget.ES2022,
      true,
    );
    const undocumented: string[] = [];
    const visit = (node: ts.Node, parent: string) => {
      const owner = ts.isInterfaceDeclaration(node) ? node.name.text : parent;
      if (ts.isPropertySignature(node) && node.questionToken) {
        const hasDefault = ts.getJSDocTags(node).some((t) => t.tagName.text === 'default');
        if (!hasDefault) undocumented.push(`${owner}.${node.name.getText(file)}`);
      }
      ts.forEachChild(node, (child) => visit(child, owner));
    };
    visit(file, '');
    expect(undocumented).toEqual([]);
  });
});

/** The TypeScript block under the README's "Configuration reference", importing the package from the sources. */
function readmeConfigurationReference(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration reference'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no ts block under "## Configuration reference"');
  return block.replace("from 'hookline'", "from './lib/index'");
}

describe("the README's configuration reference", () => {
  it('compiles against the public configuration types', () => {
    const fileName = join(root, '__readme_configuration__.ts');
    const service = languageService(fileName, readmeConfigurationReference());
    const problems = [
      ...service.getSyntacticDiagnostics(fileName),
      ...service.getSemanticDiagnostics(fileName),
    ];
    expect(problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  }, 60_000);

  it('is a configuration that resolves without a problem: every option it shows exists and its values are valid', async () => {
    const file = join(root, `__readme_configuration_${process.pid}__.ts`);
    writeFileSync(file, readmeConfigurationReference());
    try {
      const config = ((await import(file)) as { default: HooklineConfig }).default;
      expect(() => resolveConfig(config)).not.toThrow();
    } finally {
      rmSync(file, { force: true });
    }
  }, 60_000);
});

/** The package's entry points, as a user imports them, and the sources they are built from. */
const ENTRY_POINTS: Readonly<Record<string, string>> = {
  hookline: './lib/index',
  'hookline/consumer': './lambda/consumer/index',
  'hookline/producer': './lambda/producer/index',
  'hookline/testing': './lambda/testing/index',
};

/**
 * The TypeScript blocks of the section under `heading` of the README at `readmePath` (from the repository root),
 * importing the package from the sources.
 */
function readmeBlocks(heading: string, readmePath = 'README.md'): string[] {
  const readme = readFileSync(join(root, readmePath), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${readmePath} has no section "${heading}"`);
  const level = heading.split(' ')[0] ?? '##';
  const rest = readme.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{2,${level.length}} `, 'm'));
  const section = next < 0 ? rest : rest.slice(0, next);
  // A block in a numbered list is indented under its item; the user copies it without that indent.
  return [...section.matchAll(/^( *)```ts\n([\s\S]*?)^ *```/gm)].map(([, indent = '', block = '']) =>
    block
      .replace(new RegExp(`^${indent}`, 'gm'), '')
      .replace(
        /from '(hookline(?:\/\w+)?)'/g,
        (_whole, entry: string) => `from '${ENTRY_POINTS[entry] ?? entry}'`,
      ),
  );
}

/** A block meant for a stack's constructor (`this` is the stack): its imports above, its statements inside. */
function insideAStack(block: string, imports: string): string {
  const lines = block.split('\n');
  const own = lines.filter((line) => line.startsWith('import '));
  const body = lines.filter((line) => !line.startsWith('import '));
  return `${imports}\nimport { Stack } from 'aws-cdk-lib';\n${own.join('\n')}
export class AppStack extends Stack {
  constructor(scope: import('constructs').Construct, id: string) {
    super(scope, id);
    ${body.join('\n    ')}
  }
}
`;
}

/** The type errors of `source` compiled as one module at the repository root. */
function compileProblems(name: string, source: string, ambient = ''): string[] {
  const fileName = join(root, `__readme_${name}__.ts`);
  const service = languageService(fileName, source, ambient);
  return [...service.getSyntacticDiagnostics(fileName), ...service.getSemanticDiagnostics(fileName)].map(
    (d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
}

describe("the README's code a user copies", () => {
  // What a snippet leaves to its reader (an identifier of the app's own, an import its section names in prose) is
  // declared here; everything it uses of hookline comes from the package's entry points.
  it('compiles against the package entry points: the pipeline in an existing stack and its consumer file', () => {
    const [pipeline, consumer, ...others] = readmeBlocks('## Add to an existing CDK app');
    expect(others).toEqual([]);
    expect(compileProblems('existing_app_stack', insideAStack(pipeline ?? '', ''))).toEqual([]);
    expect(compileProblems('existing_app_consumer', consumer ?? '')).toEqual([]);
  }, 60_000);

  it('compiles against the package entry points: a consumer, jobs on both sides and a construct on its own', () => {
    const [consumer] = readmeBlocks('## Writing a consumer');
    expect(
      compileProblems(
        'consumer',
        `${consumer}\ndeclare const billing: { record(id: string): Promise<void> };\n`,
      ),
    ).toEqual([]);
    const [test] = readmeBlocks('### Testing a consumer');
    expect(test).toContain('consumerRunner(handler');
    expect(
      compileProblems(
        'consumer_test',
        `import type { ConsumerHandler, EventHandler } from '${ENTRY_POINTS['hookline/consumer']}';
declare const handler: ConsumerHandler;
declare const onGithubPush: EventHandler;
${test?.replace(/^import .* from '\.\.\/consumers\/events';\n/m, '')}export {};`,
      ),
    ).toEqual([]);
    const [jobs] = readmeBlocks('## Jobs');
    expect(
      compileProblems(
        'jobs',
        `import { z } from 'zod';
import { createProducer, defineJob } from '${ENTRY_POINTS['hookline/producer']}';
import { defineConsumer, handleJob } from '${ENTRY_POINTS['hookline/consumer']}';
declare const users: { id: string }[];
declare function mail(userId: string): Promise<string>;
${jobs}`,
      ),
    ).toEqual([]);
    const [standalone] = readmeBlocks('### Using the constructs on their own');
    expect(
      compileProblems(
        'constructs',
        insideAStack(
          standalone ?? '',
          `import { Duration, type aws_dynamodb } from 'aws-cdk-lib';
import { PipelineQueue, QueueConsumer } from '${ENTRY_POINTS.hookline}';
declare const table: aws_dynamodb.ITable;`,
        ),
      ),
    ).toEqual([]);
  }, 60_000);
});

/** The README's Defaults table: each setting's name (first cell) and its default (second cell). */
function readmeDefaultsTable(): Map<string, string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Defaults'), readme.indexOf('## Limits and sender retries'));
  const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Setting'));
  return new Map(
    rows.map((row) => row.split(' | ').map((cell) => cell.replace(/^\| /, '').trim()) as [string, string]),
  );
}

describe("the README's Defaults table", () => {
  it('states the defaults the configuration applies', () => {
    const table = readmeDefaultsTable();
    const count = (n: number) => n.toLocaleString('en-US');
    const derivedPayloadExpiry = resolveConfig({
      sources: { github: { type: 'github' } },
      queues: { events: {} },
    }).payloads.expiry.toDays();
    const expected: Record<string, string> = {
      '`maxReceiveCount`': `${DEFAULTS.maxReceiveCount}`,
      'Queue retention': `${DEFAULTS.retentionPeriod.toDays()} days`,
      'DLQ retention': `${DEFAULTS.deadLetterRetentionPeriod.toDays()} days `,
      Consumer: `${DEFAULTS.consumerTimeout.toSeconds()} s timeout, ${DEFAULTS.consumerMemorySize} MB, batch ${DEFAULTS.batchSize}, ${DEFAULTS.maxBatchingWindow.toSeconds() === 0 ? 'no batching window' : 'a batching window'}`,
      'Records in parallel per batch': `${DEFAULTS.parallelism} `,
      'Consumer metrics by event type (`metricTypes`)': `\`'${DEFAULTS.metricTypes}'\``,
      'Retry backoff': `${DEFAULTS.retryBase.toSeconds()} s × ${DEFAULTS.retryFactor}^(attempt−1), capped at ${DEFAULTS.retryMax.toMinutes()} min`,
      'Idempotency record': `${DEFAULTS.idempotencyExpiry.toDays()} days`,
      'Ingest dedupe': `${DEFAULTS.dedupeEnabled ? 'on' : 'off'}, ${DEFAULTS.dedupeTtl.toDays()} days`,
      'Signature tolerance': `${DEFAULTS.signatureTolerance.toMinutes()} minutes`,
      'Ingest function': `${DEFAULTS.ingestTimeout.toSeconds()} s timeout, ${DEFAULTS.ingestMemorySize} MB`,
      'API throttling': `${count(DEFAULTS.ingestRateLimit)} requests/s, burst ${count(DEFAULTS.ingestBurstLimit)}`,
      'Body size': `${count(MAX_WEBHOOK_BODY_BYTES)} bytes`,
      'Payload expiry': `${derivedPayloadExpiry} days`,
      'Log retention': `${DEFAULTS.logRetentionDays} days`,
      'Oldest-message alarm': `${DEFAULTS.oldestMessageAgeAlarm.toMinutes()} minutes`,
      'Alarm periods': `${DEFAULTS.queueAlarmPeriod.toMinutes()} minute for DLQ depth and message age (age: ${DEFAULTS.oldestMessageAgeAlarmPeriods} periods in a row; DLQ depth pages on the first, and returns to OK after ${DEAD_LETTER_RECOVERY_PERIODS} periods without a visible dead letter); ${DEFAULTS.functionAlarmPeriod.toMinutes()} minutes`,
      '`removalPolicy`': `\`'${DEFAULTS.removalPolicy}'\``,
      'Event archive': `${DEFAULTS.archiveEnabled ? 'on' : 'off'}, kept ${DEFAULTS.archiveRetention.toDays()} days`,
      '`tracing`': DEFAULTS.tracing ? 'on' : 'off',
    };
    const stated = Object.fromEntries(
      Object.keys(expected).map((setting) => [
        setting,
        table.get(setting)?.slice(0, expected[setting]?.length),
      ]),
    );
    expect(stated).toEqual(expected);
    expect(DEFAULTS.inlineLimitBytes).toBe(1024 * 1024 - 16 * 1024);
    expect(table.get('Inline limit')).toMatch(/^1 MiB − 16 KiB envelope/);
  });
});

/** A fragment of `hookline.config.ts` (`queues: { ... },`) as a whole configuration, `others` its other fields. */
function inAConfig(fragment: string, others: string): string {
  return `import { Duration } from 'aws-cdk-lib';
import { defineConfig } from '${ENTRY_POINTS.hookline}';
export default defineConfig({
${others}
${fragment}
});
`;
}

/** What resolving the configuration module `source` as a deploy does throws, or undefined when it resolves. */
async function resolveProblem(name: string, source: string): Promise<string | undefined> {
  const file = join(root, `__readme_${name}_${process.pid}__.ts`);
  writeFileSync(file, source);
  try {
    const config = ((await import(file)) as { default: HooklineConfig }).default;
    resolveConfig(config, { forDeploy: true });
    return undefined;
  } catch (error) {
    return String(error);
  } finally {
    rmSync(file, { force: true });
  }
}

describe("the READMEs' configuration excerpts", () => {
  // Each excerpt shows some fields of `hookline.config.ts`; the fields it leaves out are the smallest valid ones.
  const excerpts = (): Record<string, string> => {
    const [forward] = readmeBlocks('## Forward to an HTTP endpoint');
    const [consumerQueue] = readmeBlocks(
      '## From an empty file to a deployed consumer',
      'lambda/consumer/README.md',
    );
    const [schedules] = readmeBlocks('## Scheduled jobs', 'lib/cli/README.md');
    const sources = readmeBlocks('## Sources', 'lambda/ingest/README.md');
    const github = "sources: { github: { type: 'github' } },";
    return {
      forward: inAConfig(forward ?? '', github),
      consumer_queue: inAConfig(consumerQueue ?? '', github),
      schedules: inAConfig(schedules ?? '', `${github}\nqueues: { events: {} },`),
      sources: inAConfig(`sources: {\n${sources.join('\n')}\n},`, 'queues: { events: {} },'),
    };
  };

  it('has every excerpt it names: the forwarding queue, a consumer queue, the schedules and each sender', () => {
    expect(readmeBlocks('## Sources', 'lambda/ingest/README.md')).toHaveLength(9);
    expect(Object.values(excerpts()).filter((source) => source.includes('undefined'))).toEqual([]);
  });

  it('compiles against the public configuration types', () => {
    const problems = Object.entries(excerpts()).map(([name, source]) => [
      name,
      compileProblems(name, source),
    ]);
    expect(problems).toEqual(Object.keys(excerpts()).map((name) => [name, []]));
  }, 120_000);

  it('resolves as a deploy does, without a problem: every option shown exists and its values are valid', async () => {
    const problems: [string, string | undefined][] = [];
    for (const [name, source] of Object.entries(excerpts()))
      problems.push([name, await resolveProblem(name, source)]);
    expect(problems).toEqual(Object.keys(excerpts()).map((name) => [name, undefined]));
  }, 60_000);
});

/** The `standardwebhooks` package's API as its 1.x type declarations state it, and the Express a snippet uses. */
const STANDARDWEBHOOKS_AND_EXPRESS = `
declare module 'standardwebhooks' {
  export class Webhook {
    constructor(secret: string | Uint8Array, options?: { format?: 'raw' });
    verify(payload: string | Buffer, headers: Record<string, string>): unknown;
  }
}
`;

describe("the READMEs' code a user copies beyond the Quick start", () => {
  it('compiles: verifying a forwarded request, with standardwebhooks and with node:crypto', () => {
    const [, withStandardWebhooks, withCrypto, ...others] = readmeBlocks('## Forward to an HTTP endpoint');
    expect(others).toEqual([]);
    const express = `
interface Request { body: Buffer; headers: import('node:http').IncomingHttpHeaders }
interface Response { sendStatus(status: number): Response }
declare const express: { raw(options: { type: string }): unknown };
declare const app: { post(path: string, parser: unknown, handle: (req: Request, res: Response) => unknown): void };`;
    expect(
      compileProblems('forward_verify', `${withStandardWebhooks}${express}`, STANDARDWEBHOOKS_AND_EXPRESS),
    ).toEqual([]);
    expect(
      compileProblems(
        'forward_verify_crypto',
        `import { createHmac } from 'node:crypto';
declare const secret: string, id: string, timestamp: string, rawBody: Buffer;
${withCrypto}`,
      ),
    ).toEqual([]);
  }, 60_000);

  it('compiles: a flow, and one whose children say what their failure does to the parent', () => {
    const flows = readmeBlocks('### Flows');
    expect(flows).toHaveLength(2);
    const declarations = `import { z } from 'zod';
import { createProducer, defineJob } from '${ENTRY_POINTS['hookline/producer']}';
import { handleJob } from '${ENTRY_POINTS['hookline/consumer']}';
const week = z.object({ week: z.string() });
const weeklyReport = defineJob('report.weekly', week, { queue: 'reports' });
const exportOrders = defineJob('export.orders', week, { queue: 'exports' });
const exportRefunds = defineJob('export.refunds', week, { queue: 'refunds' });
const producer = createProducer();
declare function render(
  children: Readonly<Record<string, unknown>> | undefined,
  failedChildren?: Readonly<Record<string, string>>,
): Promise<string>;
`;
    expect(flows.map((flow, n) => compileProblems(`flow_${n}`, `${declarations}${flow}`))).toEqual([[], []]);
  }, 60_000);

  it("compiles: the consumer README's consumer file, a permanent failure and a retry not before a given time", () => {
    const [, consumer, ...rest] = readmeBlocks(
      '## From an empty file to a deployed consumer',
      'lambda/consumer/README.md',
    );
    expect(rest).toEqual([]);
    expect(
      compileProblems(
        'consumer_readme',
        `${consumer}\ndeclare const billing: { record(id: string): Promise<void> };\n`,
      ),
    ).toEqual([]);
    const [permanent, retryLater, ...others] = readmeBlocks(
      '## Outcomes: retry, backoff, dead-letter',
      'lambda/consumer/README.md',
    );
    expect(others).toEqual([]);
    expect(
      compileProblems(
        'permanent',
        `import { PermanentError } from '${ENTRY_POINTS['hookline/consumer']}';
declare const order: { id: string; line_items: unknown[] };
${permanent}`,
      ),
    ).toEqual([]);
    expect(
      compileProblems('retry_later', `${retryLater}\ndeclare const url: string, body: string;\n`),
    ).toEqual([]);
  }, 60_000);
});
