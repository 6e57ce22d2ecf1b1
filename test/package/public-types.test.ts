/**
 * What an app imports from the package's entry points (`hookline`, `hookline/consumer`, `hookline/producer`,
 * `hookline/testing`): every
 * type its own code names to write a configuration, a construct's props, a handler or a producer call, and the
 * errors it catches, without reaching into a path of the package that is not an entry point.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as consumer from '../../lambda/consumer';
import * as producer from '../../lambda/producer';
import * as testing from '../../lambda/testing';
import * as hookline from '../../lib';
import { testStack } from '../helpers/cdk';
import { PROJECT_COMPILER_OPTIONS } from '../helpers/ts-compiler-options';

const root = join(import.meta.dirname, '..', '..');

/** An app's code, split as a larger app splits it: each part typed by its name, imported from an entry point. */
const APP = `
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { z } from 'zod';
import {
  type BreakerConsumer, type ConsumerCircuitBreaker, type ConsumerForward, type ConsumerRateLimit,
  type ConsumerRetry, type DashboardQueue, type GrantSendOptions, type HooklineConfig, type IngestSettings,
  type JobsConfig, type JobsEndpointConfig, type MappingScaling, type MonitoredDeadLetterQueue,
  type MonitoredFunction, type MonitoredQueue, type PipelineSchedule, PipelineDashboardError,
  PipelineSchedulesError, type ProducerEnvironment, type ProducerVariables, resolveConfig, type Violation,
  ViolationsError,
} from 'hookline';
import {
  type AnyJobHandler, defineConsumer, defineJob, handleJob, type LogExtra, type StandardSchemaV1,
} from 'hookline/consumer';
import {
  createProducer, type FlowChildren, JobBatchError, JobNotFoundError, JobPayloadError, JobRecordError, JobSendError,
  type JobStatus, JobWaitTimeoutError, type ParentOnFailure, PRODUCER_ERROR_CODES, ProducerConfigError,
  type ProducerErrorCode, type ProducerSettings,
} from 'hookline/producer';
import {
  type ConsumerRunner, type ConsumerRunnerOptions, consumerRunner, type DeadLetterReason, type HandlerContextOptions,
  handlerContext, type JobEventOptions, jobEvent, type LogLine, RecordingLogger, type TestEvent,
  type TestHandlerContext, type TestOutcome, type WebhookEventOptions, webhookEvent,
} from 'hookline/testing';

const endpoint: JobsEndpointConfig = { queues: ['events'] };
const jobs: JobsConfig = { endpoint };
export const config: HooklineConfig = { sources: { github: { type: 'github' } }, queues: { events: {} }, jobs };
export const ingestSettings: IngestSettings = resolveConfig(config);

export const retry: ConsumerRetry = { base: Duration.seconds(5), factor: 2, max: Duration.minutes(5) };
export const rateLimit: ConsumerRateLimit = { limit: 2, interval: Duration.seconds(1) };
export const breaker: ConsumerCircuitBreaker = { failureRatio: 0.5, minimumRecords: 20, window: Duration.minutes(5) };
export const forwardTo = (secret: ConsumerForward['secret']): ConsumerForward => ({
  url: 'https://app.example.com/hooks', timeout: Duration.seconds(10), secret, secretCache: Duration.minutes(5),
});
const scaling: MappingScaling = { mode: 'on-demand', maximumConcurrency: 10 };
export const breakerConsumer: BreakerConsumer = {
  name: 'events', eventSourceMappingId: 'uuid', failureRatio: 0.5, minimumRecords: 20, window: Duration.minutes(5),
  scaling,
};
export const grant: GrantSendOptions = { delays: true, flows: true };
export const grantTo = (container: ProducerEnvironment): GrantSendOptions => ({ environment: container });
export const published = (variables: ProducerVariables): string[] => [
  variables.HOOKLINE_QUEUES, variables.HOOKLINE_PRODUCER,
];
export const watched = (queue: sqs.IQueue, fn: lambda.IFunction, topic: sns.ITopic) => {
  const monitored: MonitoredQueue = {
    name: 'events', queue, deadLetterQueue: queue, oldestMessageAge: Duration.minutes(15),
  };
  const functions: MonitoredFunction = { name: 'events', fn };
  const dlq: MonitoredDeadLetterQueue = { name: 'events', queue };
  const shown: DashboardQueue = { name: 'events', queue, deadLetterQueue: queue };
  return { monitored, functions, dlq, shown, topic };
};
export const scheduleRole = (schedule: PipelineSchedule) => schedule.role;
export function problemsOf(error: unknown): readonly Violation[] {
  if (error instanceof PipelineSchedulesError || error instanceof PipelineDashboardError) return error.violations;
  return error instanceof ViolationsError ? error.violations : [];
}

const schema: StandardSchemaV1<{ userId: string }> = z.object({ userId: z.string() });
export const welcome = defineJob('email.welcome', schema, { queue: 'events' });
const handlers: AnyJobHandler[] = [handleJob(welcome, async (event) => event.payload.userId)];
export const quiet = (_message: string, ..._extra: LogExtra[]) => {};
export const handler = defineConsumer({ handlers: {}, jobs: handlers });

const settings: ProducerSettings = { dedupe: { tableName: 'dedupe', ttlSeconds: 259_200 } };
export const producer = createProducer({
  queues: { events: 'https://sqs.eu-west-1.amazonaws.com/1/events' }, settings,
});
export const childrenOf = (status: JobStatus): FlowChildren | undefined => status.children;
// Every producer error carries a code from one closed set: a switch over it is exhaustive, and a code added or
// removed fails to compile here.
export function retryLater(error: unknown): boolean {
  const errors = [
    ProducerConfigError, JobPayloadError, JobSendError, JobBatchError, JobRecordError, JobWaitTimeoutError,
    JobNotFoundError,
  ];
  if (!errors.some((kind) => error instanceof kind)) return false;
  const code: ProducerErrorCode = (error as InstanceType<(typeof errors)[number]>).code;
  switch (code) {
    case 'NOT_ENQUEUED': case 'RECORDS_UNAVAILABLE': case 'WAIT_TIMEOUT':
      return true;
    case 'INVALID_OPTION': case 'UNKNOWN_QUEUE': case 'NOT_GRANTED': case 'PAYLOAD_INVALID': case 'PAYLOAD_NOT_JSON':
    case 'JOB_TOO_LARGE': case 'NO_CREDENTIALS': case 'NO_REGION': case 'JOB_NOT_FOUND':
    case 'CREDENTIALS_EXPIRED': case 'CREDENTIALS_REJECTED':
      return false;
    default: {
      const unknown: never = code;
      return unknown;
    }
  }
}
export const meaningOf = (code: ProducerErrorCode): string => PRODUCER_ERROR_CODES[code];
export const onFailure = (status: JobStatus): ParentOnFailure | undefined => status.parentOnFailure;
export type Table = dynamodb.ITable;

// A consumer's test: typed events and ctx, the whole consumer run in memory.
export const push: TestEvent<{ ref: string }> = webhookEvent('github.push', { ref: 'main' }, { attempt: 2 });
export const welcomeJob = jobEvent(welcome, { userId: 'u1' });
const ctxOptions: HandlerContextOptions = { event: push, consumer: 'events' };
export const ctx: TestHandlerContext = handlerContext(ctxOptions);
export const lines: readonly LogLine[] = new RecordingLogger().lines;
const runnerOptions: ConsumerRunnerOptions = { maxReceiveCount: 3, retry: { base: { seconds: 5 } } };
export const runner: ConsumerRunner = consumerRunner(handler, runnerOptions);
export const reasonOf = async (): Promise<DeadLetterReason | undefined> => {
  const outcomes: TestOutcome[] = await runner.run([push, welcomeJob]);
  return outcomes[0]?.deadLetter;
};
export const webhookOptions: WebhookEventOptions = { id: 'd-1', group: 'customer-a' };
export const jobOptions: JobEventOptions = { attempts: 2, group: 'customer-a' };
export const fifoRunner: ConsumerRunner = consumerRunner(handler, { fifo: true });
`;

/**
 * The members of the configuration an app writes (`hookline.config.ts`, `HooklinePipeline`'s props) that its code
 * could change: each must be `readonly`, and each array a `readonly T[]`, so code that is handed a configuration
 * cannot change it under the pipeline that reads it. Compiled, the file is refused naming each mutable member's
 * path; a fixture with one mutable member shows the check finds one.
 */
const READONLY_CONFIG = `
import type { Duration } from 'aws-cdk-lib';
import type { HooklineConfig, HooklinePipelineProps } from 'hookline';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Leaf = Duration | string | number | boolean | bigint | symbol | null | undefined;
/** Each path under T to a member that is not readonly, or to an array that is not a readonly one. */
type MutablePaths<T, P extends string> = T extends Leaf
  ? never
  : T extends readonly (infer E)[]
    ? (T extends E[] ? \`\${P}[] (a mutable array)\` : never) | MutablePaths<E, \`\${P}[]\`>
    : T extends object
      ? {
          [K in keyof T & string]-?:
            | (Same<Pick<T, K>, Readonly<Pick<T, K>>> extends true ? never : \`\${P}.\${K}\`)
            | MutablePaths<T[K], \`\${P}.\${K}\`>;
        }[keyof T & string]
      : never;
type Readonly_<T, P extends string> = [MutablePaths<T, P>] extends [never] ? 'readonly' : MutablePaths<T, P>;

interface Fixture { readonly fine: readonly string[]; loose: { readonly list: string[] } }
export const fixture: Readonly_<Fixture, 'Fixture'> = 'readonly';
export const config: Readonly_<HooklineConfig, 'HooklineConfig'> = 'readonly';
export const props: Readonly_<HooklinePipelineProps, 'HooklinePipelineProps'> = 'readonly';
`;

/** A file naming a type no entry point exports: the compiler must refuse it, or the check proves nothing. */
const INTERNAL = `import type { ParsedConsumer } from 'hookline';\nexport type X = ParsedConsumer;\n`;

/** The entry points' sources, by the name an app imports them with. */
const ENTRY_POINTS = {
  hookline: 'lib/index.ts',
  'hookline/consumer': 'lambda/consumer/index.ts',
  'hookline/producer': 'lambda/producer/index.ts',
  'hookline/testing': 'lambda/testing/index.ts',
} as const;

/**
 * A program of the apps, their imports of `hookline...` resolved to the entry points' sources, and the compiler's
 * errors in each app. One program for every test: building it is what takes the time.
 */
function compileApps(sources: Readonly<Record<string, string>>): {
  program: ts.Program;
  errors: Record<string, string[]>;
} {
  const files = new Map(Object.entries(sources).map(([name, source]) => [join(root, name), source]));
  const options: ts.CompilerOptions = {
    ...PROJECT_COMPILER_OPTIONS,
    noEmit: true,
    baseUrl: root,
    paths: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, path]) => [name, [path]])),
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const source = files.get(name);
    return source === undefined
      ? getSourceFile(name, languageVersion, ...rest)
      : ts.createSourceFile(name, source, languageVersion);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const errors = Object.fromEntries(
    Object.keys(sources).map((name) => {
      const file = program.getSourceFile(join(root, name));
      const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      return [name, diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))];
    }),
  );
  return { program, errors };
}

/** Each entry point's exports, by the entry's name, each with the symbol it stands for (an alias resolved). */
function entryExports(program: ts.Program): Record<string, { name: string; symbol: ts.Symbol }[]> {
  const checker = program.getTypeChecker();
  return Object.fromEntries(
    Object.entries(ENTRY_POINTS).map(([entry, path]) => {
      const file = program.getSourceFile(join(root, path));
      const module = file && checker.getSymbolAtLocation(file);
      if (!module) throw new Error(`${path} is not in the program`);
      return [
        entry,
        checker.getExportsOfModule(module).map((exported) => ({
          name: exported.name,
          symbol: exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported,
        })),
      ];
    }),
  );
}

/** Each entry point's exports, by the entry's name, with whether an editor shows a description of it. */
function exportsDescribed(program: ts.Program): Record<string, Record<string, boolean>> {
  const checker = program.getTypeChecker();
  return Object.fromEntries(
    Object.entries(entryExports(program)).map(([entry, exports]) => [
      entry,
      Object.fromEntries(
        exports.map(({ name, symbol }) => [name, symbol.getDocumentationComment(checker).length > 0]),
      ),
    ]),
  );
}

/** What each entry point exports at run time. */
const RUNTIME_EXPORTS: Record<keyof typeof ENTRY_POINTS, object> = {
  hookline,
  'hookline/consumer': consumer,
  'hookline/producer': producer,
  'hookline/testing': testing,
};

/** Each entry point's exports that are types alone (no value of that name), by the entry's name. */
function typeExports(program: ts.Program): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(entryExports(program)).map(([entry, exports]) => [
      entry,
      exports
        .filter(({ symbol }) => (symbol.flags & ts.SymbolFlags.Value) === 0)
        .map(({ name }) => name)
        .sort(),
    ]),
  );
}

/** The README's Package exports table: each entry point's values and types, as listed. */
function readmeExports(): Record<string, { values: string[]; types: string[] }> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Package exports'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| Entry point')));
  const names = (cell: string | undefined) =>
    [...(cell ?? '').matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1] ?? '').sort();
  const rows = table.split('\n').filter((line) => line.startsWith('| `'));
  return Object.fromEntries(
    rows.map((row) => {
      const [entry, values, types] = row.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, ''));
      return [/`([^`]+)`/.exec(entry ?? '')?.[1] ?? '', { values: names(values), types: names(types) }];
    }),
  );
}

/**
 * The parameters of `Producer`'s methods in the declarations the package ships (`tsc` with the build's options,
 * `stripInternal` among them), by method name: what an app's editor shows it may pass.
 */
function declaredProducerMethods(): Record<string, string[]> {
  const source = readFileSync(join(root, 'lambda/producer/producer.ts'), 'utf8');
  const { outputText } = ts.transpileDeclaration(source, {
    compilerOptions: { stripInternal: true },
    fileName: 'producer.ts',
  });
  const declarations = ts.createSourceFile('producer.d.ts', outputText, ts.ScriptTarget.Latest);
  const producerClass = declarations.statements
    .filter(ts.isClassDeclaration)
    .find((declaration) => declaration.name?.text === 'Producer');
  const methods = (producerClass?.members ?? []).flatMap((member) =>
    ts.isMethodDeclaration(member) ? [member] : [],
  );
  return Object.fromEntries(
    methods.map((method) => [
      method.name.getText(declarations),
      method.parameters.map((parameter) => parameter.name.getText(declarations)),
    ]),
  );
}

describe('the package entry points', () => {
  let compiled: ReturnType<typeof compileApps> | undefined;
  const compile = () => {
    compiled ??= compileApps({
      '__public_types_app__.ts': APP,
      '__internal_type_app__.ts': INTERNAL,
      '__readonly_config_app__.ts': READONLY_CONFIG,
    });
    return compiled;
  };

  it('export every type an app names to write its configuration, props, handlers and producer calls', () => {
    const { errors } = compile();
    expect(errors['__public_types_app__.ts']).toEqual([]);
    expect(errors['__internal_type_app__.ts']).toEqual([
      expect.stringContaining("has no exported member 'ParsedConsumer'"),
    ]);
  }, 120_000);

  it('type the configuration an app writes readonly throughout, arrays as readonly T[]', () => {
    expect(compile().errors['__readonly_config_app__.ts']).toEqual([
      `Type '"readonly"' is not assignable to type '"Fixture.loose" | "Fixture.loose.list[] (a mutable array)"'.`,
    ]);
  }, 120_000);

  it('describe everything they export, so an editor shows what each is', () => {
    const undescribed = Object.entries(exportsDescribed(compile().program)).flatMap(([entry, exported]) =>
      Object.entries(exported)
        .filter(([, described]) => !described)
        .map(([name]) => `${entry}: ${name}`),
    );
    expect(undescribed).toEqual([]);
  }, 120_000);

  it("are what the README's Package exports table lists: its values, its types and nothing else", () => {
    const types = typeExports(compile().program);
    const actual = Object.fromEntries(
      Object.entries(RUNTIME_EXPORTS).map(([entry, module]) => [
        entry,
        { values: Object.keys(module).sort(), types: types[entry] ?? [] },
      ]),
    );
    expect(readmeExports()).toEqual(actual);
  }, 120_000);

  it("declare the producer's send as (job, payload, options?), with no parameter the package does not document", () => {
    expect(declaredProducerMethods().send).toEqual(['job', 'payload', 'options']);
  });

  it('export the error every construct throws for its props, which an app can catch by its class', () => {
    const { PipelineQueue, ViolationsError } = hookline;
    let thrown: unknown;
    try {
      new PipelineQueue(testStack(), 'Jobs', { visibilityTimeout: Duration.hours(13) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ViolationsError);
    expect((thrown as InstanceType<typeof ViolationsError>).violations.map((v) => v.path)).toEqual([
      'visibilityTimeout',
    ]);
  });
});
