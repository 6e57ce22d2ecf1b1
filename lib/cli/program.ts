/**
 * The `hookline` command line: argument parsing (commander), target resolution, rendering and exit codes.
 * Each command delegates to its pure core in this folder.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { JOB_STATES, type JobState } from '../../lambda/shared/job-record';
import type { ResolvedConfig } from '../config';
import { type Backend, connect, loadConfig, systemClock, type TargetOptions } from './backend';
import { setConsumerEnabled } from './consumers';
import { CliError } from './errors';
import { failedList, failedShow } from './failed';
import { jobState, jobsList, jobsShow, jobsStore, renderJobList, renderJobShow } from './jobs';
import { consoleOutput, type Output } from './output';
import { purge } from './purge';
import { redrive } from './redrive';
import {
  renderConsumer,
  renderFailedList,
  renderFailedShow,
  renderPurge,
  renderRedrive,
  renderSecretsSet,
  renderSend,
  renderStatus,
} from './render';
import { readSecretInput, refuseLocalSecret, setSigningSecret } from './secrets';
import { sendFailureHint, sendWebhook } from './send';
import { status } from './status';
import type { Target } from './target';

/** What the program needs from the outside world (replaced in tests). */
export interface CliDependencies {
  readonly makeOutput: (json: boolean) => Output;
  readonly connect: (options: TargetOptions, output: Output) => Promise<{ target: Target; backend: Backend }>;
  readonly loadConfig: (path?: string) => Promise<ResolvedConfig>;
  readonly env: Record<string, string | undefined>;
  readonly writeErr: (text: string) => void;
  readonly writeOut: (text: string) => void;
  /** Reads a secret value (piped stdin, else a hidden prompt). @default stdin / the terminal */
  readonly readSecret?: (question: string) => Promise<string>;
}

export const defaultDependencies: CliDependencies = {
  makeOutput: (json) => consoleOutput({ json }),
  connect: (options, output) => connect(options, output),
  loadConfig: (path) => loadConfig(path),
  env: process.env,
  writeErr: (text) => process.stderr.write(text),
  writeOut: (text) => process.stdout.write(text),
};

/** The package version, for `--version`. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

interface CommonOptions extends TargetOptions {
  readonly json?: boolean;
}

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const positiveInteger = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

function withTarget(command: Command): Command {
  return command
    .option('--local', 'operate on the running local mode (npm start)')
    .option('--stack <name>', 'deployed stack name (default: stackName in hookline.config.ts, "Hookline")')
    .option('--region <region>', 'AWS region (default: AWS_REGION, else us-east-1)')
    .option('--config <path>', 'configuration module (default: HOOKLINE_CONFIG, else hookline.config.ts)')
    .option('--json', 'print the result as JSON on stdout');
}

/** What every command action gets: the outside world and the exit code setter. */
interface CommandContext {
  readonly deps: CliDependencies;
  readonly setExitCode: (code: number) => void;
}

type RedriveFlags = CommonOptions & { id?: string[]; type?: string; rate?: number; limit?: number };
type SendFlags = CommonOptions & {
  file?: string;
  type?: string;
  url?: string;
  secret?: string;
  id?: string;
  contentType?: string;
};
type SecretsSetFlags = CommonOptions & { add?: boolean; removeOld?: boolean };

/** Builds the program; `exitCode` receives 1 when a command finished with failures it reported. */
export function buildProgram(deps: CliDependencies, setExitCode: (code: number) => void): Command {
  const ctx: CommandContext = { deps, setExitCode };
  const program = new Command('hookline')
    .description('Operate a hookline pipeline: queues, dead letters, redrive, test webhooks, consumers.')
    .version(packageVersion(), '-V, --version', 'print the hookline version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: deps.writeErr, writeOut: deps.writeOut })
    .exitOverride();

  withTarget(
    program
      .command('status')
      .description(
        'per queue: visible, in flight, delayed, dead-lettered, oldest message age, consumer state',
      )
      .argument('[queue]', 'only this queue'),
  ).action((queue: string | undefined, o: CommonOptions) => statusCommand(ctx, queue, o));

  const failed = program.command('failed').description('read dead-lettered messages without consuming them');
  withTarget(
    failed
      .command('list')
      .description('list dead-lettered messages of a queue with their failure reasons (they stay in the DLQ)')
      .argument('<queue>', 'queue name from hookline.config.ts')
      .option('--limit <n>', 'most messages to show', positiveInteger, 20),
  ).action((queue: string, o: CommonOptions & { limit: number }) => failedListCommand(ctx, queue, o));
  withTarget(
    failed
      .command('show')
      .description('show one dead-lettered message in full: envelope, headers, body, failure reason')
      .argument('<queue>', 'queue name')
      .argument('<id>', 'envelope id (the sender delivery id) or SQS message id'),
  ).action((queue: string, id: string, o: CommonOptions) => failedShowCommand(ctx, queue, id, o));

  withTarget(
    program
      .command('redrive')
      .description(
        'move dead-lettered messages back to their queue: all (SQS move task) or selected ones (one by one); never deletes before the send succeeded',
      )
      .argument('<queue>', 'queue name')
      .option('--id <ids...>', 'only these envelope ids (or SQS message ids)')
      .option(
        '--type <pattern>',
        'only envelopes whose type matches, as in routes: * one segment, ** anything (e.g. "invoice.*")',
      )
      .option('--rate <n>', 'messages per second (move task: 1-500)', positiveNumber)
      .option('--limit <n>', 'move at most n messages (one by one)', positiveInteger),
  ).action((queue: string, o: RedriveFlags) => redriveCommand(ctx, queue, o));

  withTarget(
    program
      .command('purge')
      .description('delete every message of a queue (or its DLQ with --dlq); asks for confirmation')
      .argument('<queue>', 'queue name')
      .option('--dlq', 'purge the dead-letter queue instead')
      .option('-y, --yes', 'do not ask (required when not on a terminal)'),
  ).action((queue: string, o: CommonOptions & { dlq?: boolean; yes?: boolean }) =>
    purgeCommand(ctx, queue, o),
  );

  withTarget(
    program
      .command('send')
      .description('post a correctly signed test webhook for a configured source')
      .argument('<source>', 'source name from hookline.config.ts')
      .addOption(new Option('--file <path>', 'body to send as-is').conflicts('sample'))
      .option('--sample', 'send the built-in sample for the source type (the default)')
      .option('--type <type>', 'event type of the sample (e.g. invoice.payment_failed)')
      .option('--url <url>', 'post here instead of the target webhook URL')
      .option(
        '--secret <secret>',
        'signing secret (default: HOOKLINE_SECRET_<SOURCE>; local: the dev default)',
      )
      .option('--id <id>', 'delivery id (default: a new UUID)')
      .option('--content-type <type>', 'content type of --file', 'application/json'),
  ).action((source: string, o: SendFlags) => sendCommand(ctx, source, o));

  registerJobs(program, ctx);

  const secrets = program.command('secrets').description("manage the sources' signing secrets");
  withTarget(
    secrets
      .command('set')
      .description(
        "store a source's signing secret (from stdin, else a hidden prompt) in the deployed stack; never printed",
      )
      .argument('<source>', 'source name from hookline.config.ts')
      .addOption(
        new Option('--add', 'keep the current secret(s) active too, for rotation').conflicts('removeOld'),
      )
      .option(
        '--remove-old',
        'keep only the newest stored secret (after rotating at the sender); reads no value',
      ),
  ).action((source: string, o: SecretsSetFlags) => secretsSetCommand(ctx, source, o));

  for (const [name, enabled] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    withTarget(
      program
        .command(name)
        .description(
          enabled
            ? "enable a queue's consumer again (Lambda event source mapping, or the local poller)"
            : "stop a queue's consumer; messages wait in the queue (Lambda event source mapping, or the local poller)",
        )
        .argument('<queue>', 'queue name')
        .option('--wait', 'wait until the consumer has settled (the default)')
        .option(
          '--no-wait',
          'return once the change was requested (deployed: the mapping may still be settling)',
        ),
    ).action((queue: string, o: CommonOptions & { wait?: boolean }) =>
      consumerCommand(ctx, enabled, queue, o),
    );
  }
  return program;
}

/** The target flags as `connect` takes them. */
function targetOptions(o: CommonOptions): TargetOptions {
  return {
    ...(o.local ? { local: true } : {}),
    ...(o.stack ? { stack: o.stack } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.config ? { config: o.config } : {}),
  };
}

/** The output and the connected target of a command. */
/** `jobs show <id>` and `jobs list [--state s]`: job records from the dedupe table. */
function registerJobs(program: Command, ctx: CommandContext): void {
  const jobs = program
    .command('jobs')
    .description('read the state and result of jobs sent with hookline/producer');
  withTarget(
    jobs
      .command('show')
      .description("one job's state, due time, result or dead-letter reason")
      .argument('<id>', 'job id'),
  ).action(async (id: string, o: CommonOptions) => {
    const { output, target, backend } = await open(ctx.deps, o);
    present(output, await jobsShow(await jobsStore(target, backend, ctx.deps.env), id), renderJobShow);
  });
  withTarget(
    jobs
      .command('list')
      .description('jobs by state, oldest first')
      .option('--state <state>', `one of ${JOB_STATES.join(', ')}`, jobState)
      .option('--limit <n>', 'most jobs to show', positiveInteger, 50),
  ).action(async (o: CommonOptions & { state?: JobState; limit: number }) => {
    const { output, target, backend } = await open(ctx.deps, o);
    const store = await jobsStore(target, backend, ctx.deps.env);
    present(
      output,
      await jobsList(store, { ...(o.state ? { state: o.state } : {}), limit: o.limit }),
      renderJobList,
    );
  });
}

async function open(deps: CliDependencies, o: CommonOptions) {
  const output = deps.makeOutput(Boolean(o.json));
  const { target, backend } = await deps.connect(targetOptions(o), output);
  return { output, target, backend };
}

/** Prints a command's result: as JSON, or rendered for a person. */
function present<R>(output: Output, result: R, render: (output: Output, result: R) => void): void {
  output.result(result);
  if (!output.json) render(output, result);
}

async function statusCommand(ctx: CommandContext, queue: string | undefined, o: CommonOptions) {
  const { output, target, backend } = await open(ctx.deps, o);
  present(output, await status(backend, target, queue ? { queue } : {}), renderStatus);
}

async function failedListCommand(ctx: CommandContext, queue: string, o: CommonOptions & { limit: number }) {
  const { output, target, backend } = await open(ctx.deps, o);
  present(output, await failedList(backend, target, { queue, limit: o.limit }), renderFailedList);
}

async function failedShowCommand(ctx: CommandContext, queue: string, id: string, o: CommonOptions) {
  const { output, target, backend } = await open(ctx.deps, o);
  present(output, await failedShow(backend, target, { queue, id }), renderFailedShow);
}

async function redriveCommand(ctx: CommandContext, queue: string, o: RedriveFlags) {
  const { output, target, backend } = await open(ctx.deps, o);
  const result = await redrive(backend, target, {
    queue,
    ...(o.id ? { ids: o.id } : {}),
    ...(o.type !== undefined ? { type: o.type } : {}),
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  });
  present(output, result, renderRedrive);
  if (result.notFound.length > 0) {
    ctx.deps.writeErr(
      `error: --id not found in the ${queue} dead-letter queue: ${result.notFound.join(', ')} (list them with hookline failed list ${queue})\n`,
    );
  }
  if (result.failed > 0 || result.stoppedBy || result.notFound.length > 0) ctx.setExitCode(1);
}

async function purgeCommand(
  ctx: CommandContext,
  queue: string,
  o: CommonOptions & { dlq?: boolean; yes?: boolean },
) {
  const { output, target, backend } = await open(ctx.deps, o);
  const result = await purge(backend, target, { queue, deadLetter: Boolean(o.dlq), yes: Boolean(o.yes) });
  present(output, result, renderPurge);
}

/**
 * `send --url` alone posts to a URL without resolving a target, so it works before anything is deployed; with
 * `--local` or `--stack` the target supplies the secret and clients.
 */
async function sendTarget(deps: CliDependencies, o: SendFlags) {
  if (o.url && !o.local && !o.stack) {
    const backend: Pick<Backend, 'http' | 'clock'> & Partial<Backend> = {
      http: (url, init) => fetch(url, init),
      clock: systemClock,
    };
    return { output: deps.makeOutput(Boolean(o.json)), target: undefined, backend };
  }
  return open(deps, o);
}

async function sendCommand(ctx: CommandContext, source: string, o: SendFlags) {
  const config = await ctx.deps.loadConfig(o.config);
  const { output, target, backend } = await sendTarget(ctx.deps, o);
  const result = await sendWebhook(
    backend,
    target,
    config,
    {
      source,
      ...(o.file ? { file: o.file } : {}),
      ...(o.type !== undefined ? { type: o.type } : {}),
      ...(o.url ? { url: o.url } : {}),
      ...(o.secret ? { secret: o.secret } : {}),
      ...(o.id ? { id: o.id } : {}),
      ...(o.file && o.contentType ? { contentType: o.contentType } : {}),
    },
    ctx.deps.env,
  );
  present(output, result, renderSend);
  if (!result.ok) {
    ctx.setExitCode(1);
    output.note(`error: HTTP ${result.status}: ${sendFailureHint(result)}`);
  }
}

async function secretsSetCommand(ctx: CommandContext, source: string, o: SecretsSetFlags) {
  const { deps } = ctx;
  const config = await deps.loadConfig(o.config);
  if (o.local) refuseLocalSecret(config, source);
  const { output, target, backend } = await open(deps, o);
  const read = deps.readSecret ?? ((question) => readSecretInput(process.stdin, process.stderr, question));
  const result = await setSigningSecret(backend, target, config, {
    source,
    mode: o.add ? 'add' : o.removeOld ? 'remove-old' : 'replace',
    readValue: () => read(`signing secret for ${source} (input hidden): `),
  });
  present(output, result, renderSecretsSet);
}

async function consumerCommand(
  ctx: CommandContext,
  enabled: boolean,
  queue: string,
  o: CommonOptions & { wait?: boolean },
) {
  const { output, target, backend } = await open(ctx.deps, o);
  const result = await setConsumerEnabled(backend, target, enabled, { queue, wait: o.wait !== false });
  present(output, result, renderConsumer);
}

/** Runs the CLI and resolves to the process exit code. Expected errors print one line; bugs keep their stack. */
export async function runCli(
  argv: readonly string[],
  deps: CliDependencies = defaultDependencies,
): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(deps, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode;
    }
    if (error instanceof CliError) {
      deps.writeErr(`error: ${error.message}\n`);
      return 1;
    }
    deps.writeErr(
      `unexpected error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
