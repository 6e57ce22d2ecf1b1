import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_BODY_BYTES } from '../../lambda/shared/request-limits';
import { DEFAULTS, type HooklineConfig, resolveConfig } from '../../lib/config';
import { DEAD_LETTER_RECOVERY_PERIODS } from '../../lib/pipeline-alarms';
import { PROJECT_COMPILER_OPTIONS } from '../helpers/ts-compiler-options';

const root = join(__dirname, '..', '..');

/** A language service over one in-memory file at the repository root, `fileName`, holding `source`. */
function languageService(fileName: string, source: string): ts.LanguageService {
  const compilerOptions = PROJECT_COMPILER_OPTIONS;
  const host: ts.LanguageServiceHost = {
    getScriptFileNames: () => [fileName],
    getScriptVersion: () => '1',
    getScriptSnapshot: (name) =>
      name === fileName
        ? ts.ScriptSnapshot.fromString(source)
        : ts.sys.fileExists(name)
          ? ts.ScriptSnapshot.fromString(readFileSync(name, 'utf8'))
          : undefined,
    getCurrentDirectory: () => root,
    getCompilationSettings: () => compilerOptions,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: (name) => name === fileName || ts.sys.fileExists(name),
    readFile: (name) => (name === fileName ? source : ts.sys.readFile(name)),
  };
  return ts.createLanguageService(host);
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
};

/** The TypeScript blocks of the README section under `heading`, importing the package from the sources. */
function readmeBlocks(heading: string): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const level = heading.split(' ')[0] ?? '##';
  const rest = readme.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{2,${level.length}} `, 'm'));
  const section = next < 0 ? rest : rest.slice(0, next);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) =>
    (match[1] ?? '').replace(
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
function compileProblems(name: string, source: string): string[] {
  const fileName = join(root, `__readme_${name}__.ts`);
  const service = languageService(fileName, source);
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
