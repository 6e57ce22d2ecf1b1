/**
 * The `hookline` command line: argument parsing (commander), target resolution, rendering and exit codes.
 * Each command delegates to its pure core in this folder.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CANCELLABLE_JOB_STATES, isJobState, JOB_STATES, type JobState } from '../../lambda/shared/job-state';
import { START_LOCAL_MODE } from '../../lambda/shared/local-mode-command';
import type { ResolvedConfig } from '../config';
import { configPath, missingConfiguration } from '../config-file';
import type { ConsoleExtensions } from '../console/operations';
import { hooklineVersion } from '../package-root';
import type { Backend, TargetOptions } from './backend';
import { addCostCommand } from './cost';
import { CliError, errorLine, USAGE_EXIT_CODE, UsageError } from './errors';
import { examplesHelp } from './help-examples';
import { type Interrupts, interruptedExitCode, processInterrupts, runInterruptible } from './interrupt';
import type { JobCancelFilter, JobCancelFlags } from './jobs-cancel-matching';
import {
  configOption,
  givenOnce,
  nonEmptyOnce,
  refuseEmptyArguments,
  refuseFlagsAsValues,
} from './non-empty';
import { consoleOutput, hooklineCommandFor, nextCommand, type Output } from './output';
import { addProjectCommands } from './project-commands';
import type { ReplayedEvent } from './replay';
import { sourceFlag } from './source-flag';
import type { TailLine } from './tail';
import type { Target } from './target';
import { typePatternFlag } from './type-pattern-flag';

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
  /** Ctrl-C (SIGINT) and SIGTERM, for the commands that stop cleanly on them. @default the process's signals */
  readonly interrupts?: Interrupts;
}

/** The command cores, loaded on first use (they load the AWS SDK). */
const cores = () => import('./cores');
/** Target resolution alone: its clients and the configuration load on first use, so it starts light. */
const backendModule = () => import('./backend');

export const defaultDependencies: CliDependencies = {
  makeOutput: (json) => consoleOutput({ json }),
  connect: async (options, output) => (await backendModule()).connect(options, output, process.env),
  loadConfig: async (path) => (await backendModule()).loadConfig(path, process.env),
  env: process.env,
  writeErr: (text) => process.stderr.write(text),
  writeOut: (text) => process.stdout.write(text),
};

/** The package version, for `--version`. */
export function packageVersion(): string {
  return hooklineVersion();
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

const portNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port, 0-65535');
  return n;
};

/**
 * `--stack`: a CloudFormation stack's name (or ARN). `cdk list` prints a stack in a Stage by its CDK path and
 * then its name (`Prod/Webhooks (Prod-Webhooks)`), and `cdk deploy` takes the path: given here, no stack has it,
 * and the operator would be told to deploy a stack that is deployed.
 */
const stackName = (value: string, previous: string | undefined): string => {
  const name = nonEmptyOnce(value, previous);
  if (name.includes('/') && !name.startsWith('arn:')) {
    throw new InvalidArgumentError(
      `it is a CDK path, not a stack name (CloudFormation names have no "/"): give the name cdk list prints after it in brackets, for a stack in a Stage "${name.replaceAll('/', '-')}"`,
    );
  }
  return name;
};

function withTarget(command: Command): Command {
  return withDeployedTarget(
    command.option('--local', `operate on the running local mode (${START_LOCAL_MODE})`),
  );
}

/**
 * The target flags of a command local mode cannot serve: its help offers no `--local`, which it takes only to say
 * why it refuses it (a bare "unknown option" would not say where local mode gets the value instead).
 */
function withDeployedTarget(command: Command): Command {
  return command
    .option(
      '--stack <name>',
      'deployed stack name (default: stackName in hookline.config.ts, "Hookline")',
      stackName,
    )
    .option(
      '--region <region>',
      "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's region, else us-east-1)",
      nonEmptyOnce,
    )
    .addOption(configOption())
    .option('--json', 'print the result as JSON on stdout');
}

/** What every command action gets: the outside world and the exit code setter. */
interface CommandContext {
  readonly deps: CliDependencies;
  readonly setExitCode: (code: number) => void;
}

type RedriveFlags = CommonOptions & {
  id?: string[];
  type?: string;
  failure?: string;
  rate?: number;
  limit?: number;
};
type FailedListFlags = CommonOptions & { limit: number; failure?: string };
type FailedSaveFlags = CommonOptions & { out?: string; failure?: string };
type FailedRestoreFlags = CommonOptions & { failure?: string };
type FailedDeleteFlags = CommonOptions & { id?: string[]; type?: string; failure?: string; yes?: boolean };
type SendFlags = CommonOptions & {
  file?: string;
  type?: string;
  url?: string;
  secret?: string;
  id?: string;
  contentType?: string;
};
type TailFlags = CommonOptions & {
  source?: string;
  queue?: string;
  type?: string;
  outcome?: string;
  since?: string;
};
type SecretsSetFlags = CommonOptions & { add?: boolean; removeOld?: boolean };
type ForwardSecretFlags = CommonOptions & { rotate?: boolean; removeOld?: boolean };
type ReplayFlags = CommonOptions & {
  source: string;
  type?: string;
  since: string;
  until?: string;
  to?: string;
  rate?: number;
  dryRun?: boolean;
};

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
        'per queue: visible, in flight, delayed, dead-lettered, oldest message age, consumer state (and whether its circuit breaker paused it); jobs delayed beyond 15 minutes, waiting in one-time schedules',
      )
      .argument('[queue]', 'only this queue'),
  ).action((queue: string | undefined, o: CommonOptions) => statusCommand(ctx, queue, o));

  const failed = program
    .command('failed')
    .description('read dead-lettered messages without consuming them, or delete chosen ones');
  withTarget(
    failed
      .command('list')
      .description('list dead-lettered messages of a queue with their failure reasons (they stay in the DLQ)')
      .argument(
        '<queue>',
        'queue name from hookline.config.ts, schedule:<name> (deliveries of a schedule Scheduler gave up on) or job_schedules (one-time jobs Scheduler could not deliver)',
      )
      .option('--limit <n>', 'most messages to show', positiveInteger, 20)
      .option(
        '--failure <key>',
        'only dead letters of this failure: its KEY in hookline failed summary <queue>',
      ),
  ).action((queue: string, o: FailedListFlags) => failedListCommand(ctx, queue, o));
  withTarget(
    failed
      .command('summary')
      .description(
        'read the whole dead-letter queue and group its messages by failure: how many, which types, when, an example id (they stay in the DLQ)',
      )
      .argument('<queue>', 'queue name, schedule:<name> or job_schedules'),
  ).action((queue: string, o: CommonOptions) => failedSummaryCommand(ctx, queue, o));
  withTarget(
    failed
      .command('show')
      .description('show one dead-lettered message in full: envelope, headers, body, failure reason')
      .argument('<queue>', 'queue name, schedule:<name> or job_schedules')
      .argument('<id>', 'envelope id (the sender delivery id) or SQS message id'),
  ).action((queue: string, id: string, o: CommonOptions) => failedShowCommand(ctx, queue, id, o));
  withTarget(
    failed
      .command('save')
      .description(
        'save every dead letter of a queue, as SQS holds it (body, attributes, FIFO group) with a claim-checked body read from S3, and as failed show reads it, to a JSON Lines file failed restore puts back (they stay in the DLQ)',
      )
      .argument('<queue>', 'queue name, schedule:<name> or job_schedules')
      .option(
        '--out <file>',
        'write the file here, whole or not at all (default: stdout; the summary then goes to stderr)',
        nonEmptyOnce,
      )
      .option(
        '--failure <key>',
        'only dead letters of this failure: its KEY in hookline failed summary <queue>',
      ),
  ).action((queue: string, o: FailedSaveFlags) => failedSaveCommand(ctx, queue, o));
  withTarget(
    failed
      .command('restore')
      .description(
        "send the dead letters a failed save wrote back to the queue's dead-letter queue, ten at a time, after uploading their saved claim-checked bodies to the claim-check bucket again; a run again after a failure sends only those not sent (journal <file>.restored)",
      )
      .argument('<queue>', 'the queue the file was saved from')
      .argument('<file>', 'a file hookline failed save wrote')
      .option(
        '--failure <key>',
        'only saved letters of this failure: its KEY in hookline failed summary <queue>',
      ),
  ).action((queue: string, file: string, o: FailedRestoreFlags) => failedRestoreCommand(ctx, queue, file, o));
  withTarget(
    failed
      .command('delete')
      .description(
        "delete chosen dead letters (every copy of an id) and mark their jobs' records; asks for confirmation",
      )
      .argument('<queue>', 'queue name, schedule:<name> or job_schedules')
      .option('--id <ids...>', 'these envelope ids (every copy) or SQS message ids')
      .option(
        '--type <pattern>',
        'envelopes whose type matches, as in routes: * one segment, ** anything (e.g. "invoice.*")',
        typePatternFlag,
      )
      .option('--failure <key>', 'dead letters of this failure: its KEY in hookline failed summary <queue>')
      .option('-y, --yes', 'do not ask (required when not on a terminal)'),
  ).action((queue: string, o: FailedDeleteFlags) => failedDeleteCommand(ctx, queue, o));

  withTarget(
    program
      .command('redrive')
      .description(
        'move dead-lettered messages back to their queue: all (SQS move task) or selected ones (one by one); never deletes before the send succeeded',
      )
      .argument('<queue>', "queue name, or schedule:<name> (back to the schedule's queue)")
      .option('--id <ids...>', 'only these envelope ids (or SQS message ids)')
      .option(
        '--type <pattern>',
        'only envelopes whose type matches, as in routes: * one segment, ** anything (e.g. "invoice.*")',
        typePatternFlag,
      )
      .option(
        '--failure <key>',
        'only dead letters of this failure: its KEY in hookline failed summary <queue>',
      )
      .option('--rate <n>', 'messages per second (move task: 1-500)', positiveNumber)
      .option('--limit <n>', 'move at most n messages (one by one)', positiveInteger),
  ).action((queue: string, o: RedriveFlags) => redriveCommand(ctx, queue, o));

  withTarget(
    program
      .command('replay')
      .description(
        're-send archived events of one source and time range through the current routes (jobs and scheduled events to the queue each was sent to), or to one queue; consumers run them again',
      )
      .requiredOption(
        '--source <source>',
        'source name from hookline.config.ts (or "schedule", "job"; a removed source\'s with --to)',
        givenOnce,
      )
      .option(
        '--type <pattern>',
        'only events whose type matches, as in routes (e.g. "invoice.*")',
        (value: string, previous: unknown) => typePatternFlag(givenOnce(value, previous)),
      )
      .requiredOption(
        '--since <time>',
        'ISO time with a zone (2026-11-30T10:00:00Z), a UTC day (2026-11-30) or a duration ago (90s, 15m, 2h, 3d)',
        givenOnce,
      )
      .option(
        '--until <time>',
        'same forms as --since; the window ends just before it (default: now)',
        givenOnce,
      )
      .option('--to <queue>', 'send every event to this queue instead of through the routes', givenOnce)
      .option('--rate <n>', 'events per second', (value: string, previous: unknown) =>
        positiveNumber(givenOnce(value, previous)),
      )
      .option('--dry-run', 'count and show where events would go; send nothing'),
  ).action((o: ReplayFlags) => replayCommand(ctx, o));

  withTarget(
    program
      .command('trace')
      .description(
        "one event's or job's timeline: received, queued or scheduled (a job's due time), each consumer attempt, dead-lettered, redriven, replayed",
      )
      .argument('<id>', "envelope id (the webhook answer's id, the sender delivery id, or a job id)")
      .option(
        '--source <source>',
        'the source that sent it (needed when two sources used the same id)',
        sourceFlag,
      )
      .option(
        '--since <time>',
        "search the lines from this time on (ISO time, UTC day or a duration ago: 30d); default: a deployed stack's last 7 days, local mode's whole journal",
        givenOnce,
      ),
  ).action((id: string, o: CommonOptions & { source?: string; since?: string }) => traceCommand(ctx, id, o));

  withTarget(
    program
      .command('tail')
      .description(
        "follow the pipeline live, one line per step in trace's words (received, queued, scheduled, attempt, dead-lettered, replayed), until Ctrl-C",
      )
      .option(
        '--source <source>',
        'only events of this source (a configured one, schedule, job, or one since removed)',
        sourceFlag,
      )
      .option('--queue <queue>', 'only steps on this queue')
      .option(
        '--type <pattern>',
        'only events whose type matches this pattern (e.g. "invoice.*", "invoice.**")',
        typePatternFlag,
      )
      .option(
        '--outcome <outcome>',
        'only lines of this outcome: received, processed, failed, or an outcome name (queued, retried, dead-lettered, ...)',
      )
      .option(
        '--since <time>',
        'start with the lines from this time on (ISO time, UTC day or a duration ago: 10m); default: now',
      ),
  ).action((o: TailFlags) => tailCommand(ctx, o));

  withTarget(
    program
      .command('purge')
      .description('delete every message of a queue (or its DLQ with --dlq); asks for confirmation')
      .argument('<queue>', 'queue name (or job_schedules, schedule:<name> with --dlq)')
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
        "signing secret (default: HOOKLINE_SECRET_<SOURCE>, else locally the dev default, deployed the source's stored secret)",
      )
      .option('--id <id>', 'delivery id (default: a new UUID)')
      .option('--content-type <type>', 'content type of --file', 'application/json'),
  ).action((source: string, o: SendFlags) => sendCommand(ctx, source, o));

  registerJobs(program, ctx);

  const secrets = program.command('secrets').description("manage the sources' signing secrets");
  withDeployedTarget(
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
      )
      .addOption(new Option('--local').hideHelp()),
  ).action((source: string, o: SecretsSetFlags) => secretsSetCommand(ctx, source, o));

  const forward = program.command('forward').description('forwarding consumers (consumer.forward)');
  withTarget(
    forward
      .command('secret')
      .description(
        "print a forwarding queue's Standard Webhooks signing secret, for its destination to verify with (deployed: needs secretsmanager:GetSecretValue on it)",
      )
      .argument('<queue>', 'a queue whose consumer forwards, from hookline.config.ts')
      .addOption(
        new Option(
          '--rotate',
          'deployed: add a new secret (printed) that signs first while the current one signs too, until --remove-old (needs secretsmanager:PutSecretValue)',
        ).conflicts('removeOld'),
      )
      .option(
        '--remove-old',
        'deployed: sign with the newest secret only, once the destination verifies with it; prints no secret',
      ),
  ).action((queue: string, o: ForwardSecretFlags) => forwardSecretCommand(ctx, queue, o));

  withTarget(
    program
      .command('console')
      .description('serve the web console on 127.0.0.1 (overview, events, failures, actions) and open it')
      .option('--port <n>', 'port to listen on (default: a free one)', portNumber)
      .option('--no-open', 'do not open a browser; only print the URL'),
  ).action((o: CommonOptions & { port?: number; open?: boolean }) => consoleCommand(ctx, o));

  for (const [name, enabled] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    withTarget(
      program
        .command(name)
        .description(
          enabled
            ? "enable a queue's consumer again (Lambda event source mapping, or the local poller); also ends a circuit breaker's pause, and says so"
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
  addProjectCommands(program, deps);
  addCostCommand(program, deps);
  refuseFlagsAsValues(program);
  refuseEmptyArguments(program);
  for (const command of leafCommands(program))
    command.addHelpText('after', examplesHelp(commandPath(command, program)));
  namesItsCommandsForTheirOptions(program);
  for (const group of program.commands) if (group.commands.length > 0) namesItsCommandsForTheirOptions(group);
  return program;
}

/** The most commands an option given too early names as taking it; past that it says `<command>`. */
const MOST_COMMANDS_NAMED = 6;

/**
 * `hookline jobs --local` (or `hookline --local status`) is a command's option given to its group, or to hookline
 * itself, not an option hookline lacks: the answer names the commands that take it, where commander said only
 * "unknown option".
 */
function namesItsCommandsForTheirOptions(group: Command): void {
  // commander calls this method on the command that met the flag; its typings leave it out.
  const refusing = group as Command & { unknownOption(flag: string): never };
  const unknownOption = refusing.unknownOption.bind(group);
  refusing.unknownOption = (flag: string): never => {
    const name = flag.split('=')[0];
    const takers = commandsTaking(group, name);
    if (takers.length === 0) return unknownOption(flag);
    const example =
      takers.find((command) => command.registeredArguments.every((argument) => !argument.required)) ??
      takers[0];
    const prefix = group.parent ? `hookline ${group.name()}` : 'hookline';
    // Most commands take the target flags: a list of them all would be longer than the help's.
    const names =
      takers.length <= MOST_COMMANDS_NAMED
        ? takers.map((command) => commandPath(command, group)).join('|')
        : 'command';
    return group.error(
      `error: ${name} belongs after a command: ${prefix} <${names}> ${name}, e.g. ${prefix} ${example ? commandPath(example, group) : ''} ${name}`,
      { code: 'commander.unknownOption' },
    );
  };
}

/** The commands under `group` that run something (not a group themselves) and take the option `flag`. */
function commandsTaking(group: Command, flag: string | undefined): Command[] {
  return leafCommands(group).filter((command) => command.options.some((option) => option.long === flag));
}

/** Every command that runs something, under groups too (`failed list`, not `failed`). */
function leafCommands(group: Command): Command[] {
  return group.commands.flatMap((command) =>
    command.commands.length > 0 ? leafCommands(command) : [command],
  );
}

/** A command's name as typed after `hookline <group>`: with the groups between them (`failed list` under hookline). */
function commandPath(command: Command, group: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at && at !== group; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** The target flags as `connect` takes them. */
function targetOptions(o: CommonOptions): TargetOptions {
  // Either target, never both: silently dropping one would act on a pipeline the operator did not name.
  if (o.local && (o.stack || o.region)) {
    throw new UsageError(
      `--local and ${o.stack ? '--stack' : '--region'} name different targets: pass --local for local mode, or --stack/--region for a deployed stack`,
    );
  }
  // A path with nothing at it is refused on every target, as loading it refuses it: local mode loads no
  // configuration, and would otherwise ignore the path, and copy it into every command its hints name.
  const missing = o.config === undefined ? undefined : missingConfiguration(configPath({}, o.config));
  if (missing !== undefined) throw new CliError(missing);
  return {
    ...(o.local ? { local: true } : {}),
    ...(o.stack ? { stack: o.stack } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.config ? { config: o.config } : {}),
  };
}

const jobStateFlag = (value: string): JobState => {
  if (isJobState(value)) return value;
  throw new InvalidArgumentError(`expected one of ${JOB_STATES.join(', ')}`);
};

/**
 * `jobs show <id>`, `jobs list [--state s]` and `jobs cancel <id> | --type ... --yes`: job records from the dedupe
 * table. `list` comes before `cancel`, whose id is optional: a hint naming a command that needs nothing names it.
 */
function registerJobs(program: Command, ctx: CommandContext): void {
  const jobs = program
    .command('jobs')
    .description('read, list and cancel jobs sent with hookline/producer or the jobs endpoint');
  registerJobsShow(jobs, ctx);
  registerJobsList(jobs, ctx);
  registerJobsCancel(jobs, ctx);
}

/** `jobs show <id>`: one job's record, reconciled with its dead-letter queue. */
function registerJobsShow(jobs: Command, ctx: CommandContext): void {
  withTarget(
    jobs
      .command('show')
      .description("one job's state, due time, result or dead-letter reason")
      .argument('<id>', 'job id'),
  ).action(async (id: string, o: CommonOptions) => {
    const { jobsShow, jobsStore, renderJobShow, withDeadLetteredJob } = await cores();
    const { output, target, backend } = await open(ctx.deps, o);
    const record = await jobsShow(await jobsStore(target, backend, ctx.deps.env), id, output);
    const job = await withDeadLetteredJob(backend, target, record, output);
    present(output, job, renderJobShow);
    // As `jobs list`: the job may be further along than its record says, and a script must know.
    if (job.unreadable?.length) ctx.setExitCode(1);
  });
}

/** `jobs list`: jobs by state, queue, type and tenant, oldest first. */
function registerJobsList(jobs: Command, ctx: CommandContext): void {
  withTarget(
    jobs
      .command('list')
      .description('jobs by state and queue, oldest first')
      .option('--state <state>', `one of ${JOB_STATES.join(', ')}`, (value: string, previous: unknown) =>
        jobStateFlag(givenOnce(value, previous)),
      )
      .option('--queue <name>', 'only jobs sent to this queue (from hookline.config.ts)', givenOnce)
      .option(
        '--type <pattern>',
        "only jobs whose type matches this pattern, as routes match ('email.*'): as jobs cancel selects",
        (value: string, previous: unknown) => typePatternFlag(givenOnce(value, previous)),
      )
      .option('--tenant <tenant>', 'only jobs sent with this tenant: as jobs cancel selects', givenOnce)
      .option('--limit <n>', 'most jobs to show', positiveInteger, 50),
  ).action(async (o: JobsListFlags) => {
    const {
      checkTypeAndTenant,
      jobQueue,
      jobsList,
      jobsStore,
      matchesTypeAndTenant,
      renderJobList,
      withDeadLetteredJobs,
    } = await cores();
    checkTypeAndTenant(o);
    const { output, target, backend } = await open(ctx.deps, o);
    const queue = o.queue === undefined ? undefined : jobQueue(target, o.queue);
    const store = await jobsStore(target, backend, ctx.deps.env);
    const byTypeOrTenant = o.type !== undefined || o.tenant !== undefined;
    const found = await jobsList(store, {
      ...(o.state ? { state: o.state } : {}),
      ...(queue ? { queue } : {}),
      // The selection `jobs cancel` makes with the same filters, so this lists what that would cancel.
      ...(byTypeOrTenant ? { select: matchesTypeAndTenant(o) } : {}),
      limit: o.limit,
      progress: output.progress('dedupe table records scanned'),
      // A job's queue's dead-letter queue is read whole (seconds per thousand letters): the bar says how far.
      reconcile: (found, denied) =>
        withDeadLetteredJobs(backend, target, found, output, denied, { progressBar: true }),
    });
    const list = {
      ...found,
      ...(o.type !== undefined ? { type: o.type } : {}),
      ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
    };
    present(output, list, renderJobList);
    // What it lists is true, and some jobs may be further along than their records say: a script must know.
    if (list.unreadable?.length) ctx.setExitCode(1);
  });
}

/** `jobs cancel <id>`, or every job not started that matches its filters. */
function registerJobsCancel(jobs: Command, ctx: CommandContext): void {
  withTarget(
    jobs
      .command('cancel')
      .description(
        'cancel a job that has not started (scheduled, waiting for its children or failed by one of them, or waiting in its queue): the consumer skips it; with filters instead of an id, every such job matching all of them',
      )
      .argument('[id]', 'job id (or leave it out and filter)')
      .option(
        '--type <pattern>',
        "only jobs whose type matches this pattern, as routes match ('email.*')",
        (value: string, previous: unknown) => typePatternFlag(givenOnce(value, previous)),
      )
      .option('--tenant <tenant>', 'only jobs sent with this tenant', givenOnce)
      .option('--queue <name>', 'only jobs sent to this queue (from hookline.config.ts)', givenOnce)
      .option(
        '--state <state>',
        `only jobs in this state: one of ${CANCELLABLE_JOB_STATES.join(', ')}`,
        givenOnce,
      )
      .option('--yes', 'with filters: cancel the jobs that match (without it, only say which would be)'),
  ).action(async (id: string | undefined, o: JobsCancelFlags) => {
    const { cancelRequestOf } = await cores();
    const request = cancelRequestOf(id, o);
    if ('filter' in request) return jobsCancelMatchingCommand(ctx, request.filter, o);
    const { jobsCancel, jobsStore, renderJobCancel } = await cores();
    const { output, target, backend } = await open(ctx.deps, o);
    present(
      output,
      await jobsCancel(await jobsStore(target, backend, ctx.deps.env), request.id, output),
      (out, result) => renderJobCancel(out, result, target.kind),
    );
  });
}

type JobsListFlags = CommonOptions & {
  state?: JobState;
  queue?: string;
  type?: string;
  tenant?: string;
  limit: number;
};
type JobsCancelFlags = CommonOptions & JobCancelFlags & { yes?: boolean };

/**
 * `jobs cancel` with filters: lists what matches as `jobs list` does, then cancels it with `--yes`. Exits 1 unless
 * every matched job is cancelled (one started meanwhile, or an error stopped it), as for a single job that started;
 * Ctrl-C stops it between cancels, and the summary says how far it got (exit 130).
 */
async function jobsCancelMatchingCommand(ctx: CommandContext, filter: JobCancelFilter, o: JobsCancelFlags) {
  const {
    allCancelled,
    jobsCancelMatching,
    jobsStore,
    renderJobsCancelMatching,
    withConfiguredQueue,
    withDeadLetteredJobs,
  } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  // An empty or unknown --queue is refused before the jobs' records are looked for.
  const configured = withConfiguredQueue(target, filter);
  const store = await jobsStore(target, backend, ctx.deps.env);
  const { result, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => output.note('stopping once the cancels under way end (Ctrl-C again to quit at once)'),
    (signal) =>
      jobsCancelMatching(store, configured, {
        yes: Boolean(o.yes),
        output,
        scanProgress: output.progress('dedupe table records scanned'),
        cancelProgress: (total) => output.progress('jobs cancelled', total),
        reconcile: (found, denied) =>
          withDeadLetteredJobs(backend, target, found, output, denied, { progressBar: true }),
        signal,
      }),
  );
  present(output, result, renderJobsCancelMatching);
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
  else if (!allCancelled(result) || result.unreadable?.length) ctx.setExitCode(1);
}

async function open(deps: CliDependencies, o: CommonOptions) {
  const options = targetOptions(o);
  const made = deps.makeOutput(Boolean(o.json));
  // The hints it prints name the same target, so following one never acts on the default stack instead.
  const output: Output = Object.assign(made, {
    command: (args: string) => hooklineCommandFor(options, args),
  });
  const { target, backend } = await deps.connect(options, output);
  return { output, target, backend };
}

/** Prints a command's result: as JSON, or rendered for a person. */
function present<R>(output: Output, result: R, render: (output: Output, result: R) => void): void {
  output.result(result);
  if (!output.json) render(output, result);
}

async function statusCommand(ctx: CommandContext, queue: string | undefined, o: CommonOptions) {
  const options = queue !== undefined ? { queue } : {};
  const { output, target, backend } = await open(ctx.deps, o);
  // Local mode reads its own queues: the CLI then loads no AWS SDK at all.
  const [result, { renderStatus }] = await Promise.all([
    target.kind === 'local'
      ? import('./local-status').then(({ localStatus }) => localStatus(target, options))
      : import('./status').then(({ status }) =>
          status(backend, target, { ...options, countScheduledJobs: true }),
        ),
    import('./render'),
  ]);
  present(output, result, renderStatus);
  // What it shows is true, and incomplete: a script must not take it for the whole pipeline.
  if (result.unreadable?.length) ctx.setExitCode(1);
}

async function failedListCommand(ctx: CommandContext, queue: string, o: FailedListFlags) {
  const { failedList, renderFailedList } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const options = { queue, limit: o.limit, ...(o.failure !== undefined ? { failure: o.failure } : {}) };
  present(output, await failedList(backend, target, options), renderFailedList);
}

/** Ctrl-C stops the read between batches: what it held is made visible again and the partial summary prints. */
async function failedSummaryCommand(ctx: CommandContext, queue: string, o: CommonOptions) {
  const { failedSummary, renderFailedSummary } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const { result, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => output.note('stopping after this batch and making held messages visible again'),
    (signal) => failedSummary(backend, target, { queue, signal }),
  );
  present(output, result, renderFailedSummary);
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
}

/** The configuration names the credential headers a dead letter may still hold (a source's own header too). */
async function failedShowCommand(ctx: CommandContext, queue: string, id: string, o: CommonOptions) {
  const { failedShow, renderFailedShow, debouncedSendReplacedReader } = await cores();
  const [{ output, target, backend }, config, { credentialHeadersOfSources }] = await Promise.all([
    open(ctx.deps, o),
    ctx.deps.loadConfig(o.config),
    import('../senders'),
  ]);
  const credentialHeaders = credentialHeadersOfSources(config.sources);
  const debouncedSendReplaced = debouncedSendReplacedReader(backend, target, ctx.deps.env);
  present(
    output,
    await failedShow(backend, target, { queue, id, credentialHeaders, debouncedSendReplaced }),
    renderFailedShow,
  );
}

/**
 * Saves to `--out` through a temporary file renamed once the save ended, or to stdout: a file at that path is always a
 * whole save. Without `--out`, stdout carries the letters, so `--json` (a summary on stdout too) is refused.
 */
async function failedSaveCommand(ctx: CommandContext, queue: string, o: FailedSaveFlags) {
  if (o.json && o.out === undefined) {
    throw new UsageError(
      '--json prints the summary on stdout, where the letters go without --out: add --out <file>',
    );
  }
  const { failedSave, renderFailedSave, savedFileWriter } = await cores();
  const [{ output, target, backend }, config, { credentialHeadersOfSources }] = await Promise.all([
    open(ctx.deps, o),
    ctx.deps.loadConfig(o.config),
    import('../senders'),
  ]);
  const writer =
    o.out === undefined
      ? { write: (line: string) => ctx.deps.writeOut(`${line}\n`) }
      : savedFileWriter(o.out);
  const { result, interruptedBy } = await withWriter(writer, () =>
    runInterruptible(
      ctx.deps.interrupts ?? processInterrupts,
      () => output.note('stopping after this batch and making held messages visible again'),
      (signal) =>
        failedSave(backend, target, {
          queue,
          file: o.out ?? null,
          write: writer.write,
          credentialHeaders: credentialHeadersOfSources(config.sources),
          ...(o.failure !== undefined ? { failure: o.failure } : {}),
          signal,
        }),
    ),
  );
  present(output, result, renderFailedSave);
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
  // A body it could not read leaves the file no whole copy of its letter, as a letter it could not read would.
  else if (!result.complete || result.payloadsNotSaved > 0) ctx.setExitCode(1);
}

/** Runs `work` writing through `writer`: the file is put in place when it ends, and removed if it throws. */
async function withWriter<T>(
  writer: { write(line: string): void; commit?(): void; abandon?(): void },
  work: () => Promise<T>,
): Promise<T> {
  try {
    const result = await work();
    writer.commit?.();
    return result;
  } catch (error) {
    writer.abandon?.();
    throw error;
  }
}

/** Ctrl-C stops the restore between batches; the journal says what was sent, and a run again sends the rest. */
async function failedRestoreCommand(ctx: CommandContext, queue: string, file: string, o: FailedRestoreFlags) {
  const { failedRestore, renderFailedRestore } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const { result, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => output.note('stopping after this batch (the journal keeps what was sent)'),
    (signal) =>
      failedRestore(backend, target, {
        queue,
        file,
        ...(o.failure !== undefined ? { failure: o.failure } : {}),
        signal,
      }),
  );
  present(output, result, renderFailedRestore);
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
  else if (result.failed > 0) ctx.setExitCode(1);
}

/**
 * What Ctrl-C during a redrive says. A selection moves one by one and holds what it reads; a full redrive may be an
 * SQS move task, which holds nothing and which only the following stops (which one runs is known only once it
 * asked SQS), or one by one where move tasks are unavailable.
 */
function redriveStopNote(o: RedriveFlags): string {
  const selective =
    o.id !== undefined || o.type !== undefined || o.failure !== undefined || o.limit !== undefined;
  return selective
    ? 'stopping after this batch and making held messages visible again (Ctrl-C again to quit at once)'
    : 'stopping: a move task SQS runs goes on without this command following it; one by one, after this batch, with held messages visible again (Ctrl-C again to quit at once)';
}

/**
 * Ctrl-C stops a redrive between batches: held messages are made visible again and the summary still prints
 * (exit code 130); a second Ctrl-C quits at once (held messages then reappear when their hold ends).
 */
async function redriveCommand(ctx: CommandContext, queue: string, o: RedriveFlags) {
  const { redrive, renderRedrive } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const { result, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => output.note(redriveStopNote(o)),
    (signal) =>
      redrive(backend, target, {
        queue,
        ...(o.id ? { ids: o.id } : {}),
        ...(o.type !== undefined ? { type: o.type } : {}),
        ...(o.failure !== undefined ? { failure: o.failure } : {}),
        ...(o.rate !== undefined ? { rate: o.rate } : {}),
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
        // The job records are found through this CLI's environment (local mode's state file), not the process's.
        env: ctx.deps.env,
        signal,
      }),
  );
  present(output, result, renderRedrive);
  if (result.notFound.length > 0) {
    ctx.deps.writeErr(
      `error: --id not found in the ${queue} dead-letter queue: ${result.notFound.join(', ')} (list them with ${nextCommand(output, `failed list ${queue}`)})\n`,
    );
  }
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
  // Letters whose body is gone stay in the DLQ: what was asked for was not done, as for a failed move.
  else if (result.failed > 0 || result.stoppedBy || result.notFound.length > 0 || result.bodyGone.length > 0)
    ctx.setExitCode(1);
}

/** Ctrl-C stops the scan between batches: what it held is made visible again and the summary still prints. */
async function failedDeleteCommand(ctx: CommandContext, queue: string, o: FailedDeleteFlags) {
  const { failedDelete, renderFailedDelete } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const { result, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => output.note('stopping after this batch and making held messages visible again'),
    (signal) =>
      failedDelete(backend, target, {
        queue,
        ...(o.id ? { ids: o.id } : {}),
        ...(o.type !== undefined ? { type: o.type } : {}),
        ...(o.failure !== undefined ? { failure: o.failure } : {}),
        yes: Boolean(o.yes),
        // The job records are found through this CLI's environment (local mode's state file), not the process's.
        env: ctx.deps.env,
        signal,
      }),
  );
  present(output, result, renderFailedDelete);
  if (result.notFound.length > 0) {
    ctx.deps.writeErr(
      `error: --id not found in the ${queue} dead-letter queue: ${result.notFound.join(', ')} (list them with ${nextCommand(output, `failed list ${queue}`)})\n`,
    );
  }
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
  else if (result.failed > 0 || result.stoppedBy || result.notFound.length > 0) ctx.setExitCode(1);
}

/** A time flag, or a one-line error naming the flag and the accepted forms. */
async function timeFlag(name: string, text: string, now: number): Promise<Date> {
  return (await cores()).timeOption(name, text, now);
}

async function replayCommand(ctx: CommandContext, o: ReplayFlags) {
  const now = Date.now();
  const since = await timeFlag('--since', o.since, now);
  // "Now" is one instant for both ends: --since 10s is then a 10-second window, however long loading takes.
  const until = o.until !== undefined ? await timeFlag('--until', o.until, now) : new Date(now);
  const config = await ctx.deps.loadConfig(o.config);
  const { replay, renderReplay } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const journal = await replayJournal(ctx, target, Boolean(o.dryRun));
  const { result, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => output.note('stopping after this batch (Ctrl-C again to quit at once)'),
    (signal) =>
      replay(backend, target, config, {
        source: o.source,
        since,
        until,
        ...(o.type !== undefined ? { type: o.type } : {}),
        ...(o.to !== undefined ? { to: o.to } : {}),
        ...(o.rate !== undefined ? { rate: o.rate } : {}),
        dryRun: Boolean(o.dryRun),
        ...journal,
        signal,
      }),
  );
  present(output, result, renderReplay);
  if (interruptedBy) ctx.setExitCode(interruptedExitCode(interruptedBy));
  else if (result.failed > 0 || result.sentUnknown.length > 0) ctx.setExitCode(1);
}

/**
 * Local mode's journal records each replayed event, so `trace` shows the replay as it happened (at the run's
 * start, before any attempt of the copy) rather than guessing it from a later attempt.
 */
async function replayJournal(ctx: CommandContext, target: Target, dryRun: boolean) {
  if (target.kind !== 'local' || dryRun) return {};
  const { appendToJournal, localJournalPath } = await cores();
  const path = localJournalPath(ctx.deps.env);
  return {
    onReplayed: (e: ReplayedEvent) => appendToJournal(path, { event: 'replayed', ...e }, new Date(e.at)),
  };
}

async function traceCommand(
  ctx: CommandContext,
  id: string,
  o: CommonOptions & { source?: string; since?: string },
) {
  const now = Date.now();
  const since = o.since !== undefined ? await timeFlag('--since', o.since, now) : undefined;
  const { trace, renderTrace, localJournalPath, jobRecordReader, traceWindow } = await cores();
  const window = since ? traceWindow(since, now) : {};
  const { output, target, backend } = await open(ctx.deps, o);
  const result = await trace(backend, target, id, {
    journalPath: localJournalPath(ctx.deps.env),
    readJob: jobRecordReader(backend, target, output, ctx.deps.env),
    ...(o.source !== undefined ? { source: o.source } : {}),
    ...window,
  });
  present(output, result, renderTrace);
}

/**
 * Follows the pipeline until Ctrl-C, which ends it with exit 0 and nothing more on stdout: stopping is how a tail
 * ends, not an interruption of work. With `--json`, one JSON object per line (a trace step and its event's id).
 */
async function tailCommand(ctx: CommandContext, o: TailFlags) {
  const now = Date.now();
  const {
    checkSince,
    renderTailLine,
    tailJournal,
    tailLogGroups,
    tailSelection,
    tailSourceNote,
    localJournalPath,
  } = await cores();
  const since = o.since !== undefined ? await timeFlag('--since', o.since, now) : undefined;
  if (since) checkSince(since, now);
  const { output, target, backend } = await open(ctx.deps, o);
  const select = tailSelection(target, o);
  const sourceNote = tailSourceNote(target, o);
  if (sourceNote) output.note(sourceNote);
  const emit = output.json
    ? (line: TailLine) => ctx.deps.writeOut(`${JSON.stringify(line)}\n`)
    : (line: TailLine) => output.line(renderTailLine(output.colors, line));
  await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => {},
    (signal) => {
      const run = { emit, signal, ...(since ? { since } : {}) };
      return target.kind === 'local'
        ? tailJournal(localJournalPath(ctx.deps.env), select, run)
        : tailLogGroups(backend, target, select, run);
    },
  );
}

async function purgeCommand(
  ctx: CommandContext,
  queue: string,
  o: CommonOptions & { dlq?: boolean; yes?: boolean },
) {
  const { purge, renderPurge } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const result = await purge(backend, target, { queue, deadLetter: Boolean(o.dlq), yes: Boolean(o.yes) });
  present(output, result, renderPurge);
}

/** How long `send --url` waits for the answer of the URL it posts to. */
const URL_ANSWER_SECONDS = 60;

/**
 * `send --url` alone posts to a URL without resolving a target, so it works before anything is deployed; with
 * `--local` or `--stack` the target supplies the secret and clients.
 */
async function sendTarget(deps: CliDependencies, o: SendFlags) {
  const { systemClock } = await cores();
  if (o.url !== undefined && !o.local && !o.stack) {
    const { boundedFetch } = await backendModule();
    const backend: Pick<Backend, 'http' | 'clock'> & Partial<Backend> = {
      // A server that accepts and never answers would hold the command forever; API Gateway answers within 30 s.
      http: boundedFetch(
        URL_ANSWER_SECONDS,
        (url) =>
          new CliError(
            `--url ${url} did not answer within ${URL_ANSWER_SECONDS} s: check that what listens there is responsive`,
          ),
      ),
      clock: systemClock,
    };
    return { output: deps.makeOutput(Boolean(o.json)), target: undefined, backend };
  }
  return open(deps, o);
}

async function sendCommand(ctx: CommandContext, source: string, o: SendFlags) {
  const { sendWebhook, renderSend, sendFailureHint } = await cores();
  const config = await ctx.deps.loadConfig(o.config);
  const { output, target, backend } = await sendTarget(ctx.deps, o);
  const result = await sendWebhook(
    backend,
    target,
    config,
    {
      source,
      ...(o.file !== undefined ? { file: o.file } : {}),
      ...(o.type !== undefined ? { type: o.type } : {}),
      ...(o.url !== undefined ? { url: o.url } : {}),
      ...(o.secret !== undefined ? { secret: o.secret } : {}),
      ...(o.id !== undefined ? { id: o.id } : {}),
      ...(o.file !== undefined && o.contentType ? { contentType: o.contentType } : {}),
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
  const { refuseLocalSecret, readSecretInput, setSigningSecret, renderSecretsSet } = await cores();
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

async function forwardSecretCommand(ctx: CommandContext, queue: string, o: ForwardSecretFlags) {
  const { forwardOf, forwardSecret, renderForwardSecret, rotateForwardSecret, renderForwardRotation } =
    await cores();
  const loadConfig = () => ctx.deps.loadConfig(o.config);
  // Whether a deployed queue forwards is the configuration's to say: one that does not is refused before the stack
  // is looked up, so the answer is that, not a missing credential or an unreachable AWS.
  if (!o.local) forwardOf(await loadConfig(), queue);
  const { output, target, backend } = await open(ctx.deps, o);
  const rotation = o.rotate ? 'rotate' : o.removeOld ? 'remove-old' : undefined;
  if (rotation) {
    const result = await rotateForwardSecret(backend, target, loadConfig, queue, rotation);
    present(output, result, renderForwardRotation);
    return;
  }
  present(output, await forwardSecret(backend, target, loadConfig, queue), renderForwardSecret);
}

async function consumerCommand(
  ctx: CommandContext,
  enabled: boolean,
  queue: string,
  o: CommonOptions & { wait?: boolean },
) {
  const { setConsumerEnabled, renderConsumer } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const result = await setConsumerEnabled(backend, target, enabled, { queue, wait: o.wait !== false });
  present(output, result, renderConsumer);
}

/**
 * Serves the console until Ctrl-C; the URL (with this run's token) is the first line on stdout, a JSON object
 * with `--json`, followed on stop by the jobs it stopped.
 */
async function consoleCommand(ctx: CommandContext, o: CommonOptions & { port?: number; open?: boolean }) {
  const config = await ctx.deps.loadConfig(o.config);
  const { startConsole, reportConsoleStarted, reportStoppedJobs } = await import('../console/command');
  const { trace, replay, localJournalPath, jobRecordReader } = await cores();
  const { output, target, backend } = await open(ctx.deps, o);
  const extensions: ConsoleExtensions = {
    trace: (id, hints, at) =>
      trace(at.backend, at.target, id, {
        journalPath: localJournalPath(ctx.deps.env),
        readJob: jobRecordReader(at.backend, at.target, hints, ctx.deps.env),
      }),
    replay: async (selection, progress, at, signal) => {
      const journal = await replayJournal(ctx, at.target, selection.dryRun);
      return replay({ ...at.backend, output: progress }, at.target, config, {
        source: selection.source,
        since: selection.since,
        until: selection.until,
        dryRun: selection.dryRun,
        ...(selection.type !== undefined ? { type: selection.type } : {}),
        ...(selection.queue !== undefined ? { to: selection.queue } : {}),
        ...journal,
        signal,
      });
    },
  };
  const { server, operations } = await startConsole(
    {
      target,
      backend,
      config,
      // Local mode may be restarted while the console runs: follow it to its new process, and read the lines its
      // feed could not give from its journal file.
      ...(target.kind === 'local'
        ? {
            reconnect: () => ctx.deps.connect({ local: true }, output),
            journalFile: localJournalPath(ctx.deps.env),
          }
        : {}),
    },
    {
      ...(o.port !== undefined ? { port: o.port } : {}),
      open: o.open !== false,
      env: ctx.deps.env,
      extensions,
      hints: output,
      log: ctx.deps.writeErr,
    },
  );
  reportConsoleStarted(output, ctx.deps.writeOut, target, server);
  // Ctrl-C ends the console, and with it every job it started: each stops at its next safe point (a redrive
  // between batches, handing back what it holds) as the CLI's own commands do; a second Ctrl-C quits at once.
  const { result: stopped, interruptedBy } = await runInterruptible(
    ctx.deps.interrupts ?? processInterrupts,
    () => {
      const running = operations.jobs.running().length;
      output.note(
        running === 0
          ? 'stopping'
          : `stopping: ${running === 1 ? '1 running job stops' : `${running} running jobs stop`} at its next safe point (Ctrl-C again to quit at once)`,
      );
    },
    async (signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return operations.jobs.stop();
    },
  );
  await server.close();
  reportStoppedJobs(output, stopped);
  if (interruptedBy && stopped.length > 0) ctx.setExitCode(interruptedExitCode(interruptedBy));
}

/**
 * Runs the CLI and resolves to the process exit code: 0, 1 for a failure (or a result that says part of it failed),
 * 2 for a usage error. Expected errors print one line; bugs keep their stack.
 */
export async function runCli(
  argv: readonly string[],
  deps: CliDependencies = defaultDependencies,
): Promise<number> {
  let exitCode = 0;
  // The target a command connected to, so a failure its core did not explain (a hung emulator's timeout, throttling)
  // is still told in the operator's terms rather than as a stack trace.
  let connected: Target | undefined;
  const tracked: CliDependencies = {
    ...deps,
    connect: async (options, output) => {
      const answer = await deps.connect(options, output);
      connected = answer.target;
      return answer;
    },
  };
  const program = buildProgram(tracked, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...helpRequest(program, argv)], { from: 'user' });
    return exitCode;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // Help and --version end the parse too, with 0; every other stop of the parser is a usage error.
      if (thrown.exitCode === 0) return 0;
      if (argv.includes('--json')) writeJsonError(deps, usageErrorLine(thrown));
      return USAGE_EXIT_CODE;
    }
    const error = connected ? (await backendModule()).explainFailure(thrown, connected) : thrown;
    if (argv.includes('--json')) writeJsonError(deps, errorLine(error));
    if (error instanceof CliError) {
      deps.writeErr(`error: ${error.message}\n`);
      return error instanceof UsageError ? USAGE_EXIT_CODE : 1;
    }
    deps.writeErr(
      `unexpected error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

/**
 * `hookline help failed list` as `hookline failed list --help`: commander's help command reads one name, so it showed
 * the help of `failed`, and answered `hookline help nope` with hookline's whole help and no word of `nope`. Words
 * after a command that takes no subcommand are ignored, so `help purge events` shows help and never purges; an
 * unknown name is left for the parser, which names it (`unknown command 'nope'`). Any option leaves it as it is.
 */
function helpRequest(program: Command, argv: readonly string[]): readonly string[] {
  const [first, ...names] = argv;
  if (first !== 'help' || names.length === 0 || names.some((name) => name.startsWith('-'))) return argv;
  const path: string[] = [];
  let at: Command = program;
  for (const name of names) {
    if (at.commands.length === 0) break;
    const next = at.commands.find((command) => command.name() === name || command.aliases().includes(name));
    if (!next) return [...path, name];
    path.push(name);
    at = next;
  }
  return [...path, '--help'];
}

/** A script reading --json gets a JSON document on stdout whatever happened, not an empty stdout to parse. */
function writeJsonError(deps: CliDependencies, line: string): void {
  deps.writeOut(`${JSON.stringify({ error: line })}\n`);
}

/** A usage error's line as commander printed it on stderr, without its `error: ` prefix. */
function usageErrorLine(error: CommanderError): string {
  return error.message.replace(/^error: /, '');
}
