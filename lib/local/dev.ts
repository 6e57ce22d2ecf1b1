/**
 * Local mode as a command: `npm start` in this repository and `hookline dev` in any project run this. It checks
 * what local mode needs first (Node, fauxqs and dynalite) and fails with one line naming the fix.
 */
import { type CommandHints, nextCommand } from '../cli/output';
import type { ResolvedConfig } from '../config';
import { configFailureMessage, configPath, readConfig } from '../load-config';
import { hooklinePeerDependencies } from '../package-root';
import { localModeHints } from './command-hints';
import { assertNodeVersion, type Emulators } from './emulators';
import { PortInUseError } from './http-api';
import { localJobsTokenOrigin } from './jobs-endpoint';
import { localDataDir } from './local-dirs';
import { startLocalMode } from './local-mode';
import { Reporter } from './reporter';
import { localSecrets } from './secrets';
import { LocalStartProblem } from './start-problem';
import { untilStopSignal } from './stop-signal';

/** Packages local mode runs on; optional for apps that only deploy, so they may be missing. */
const LOCAL_PACKAGES = ['fauxqs', 'dynalite'] as const;

/**
 * The command that installs local mode's packages at the versions hookline's peer dependencies require (fauxqs is
 * pinned to one version: the latest may not be it, and npm then refuses the install as a peer conflict).
 */
export function localPackagesInstallCommand(
  peers: Readonly<Record<string, string>> = hooklinePeerDependencies(),
): string {
  return `npm install --save-dev ${LOCAL_PACKAGES.map((name) => (peers[name] ? `${name}@${peers[name]}` : name)).join(' ')}`;
}

/** Throws one line naming the install command when a package local mode needs is not installed. */
export function assertLocalPackages(
  resolveModule: (name: string) => string = (name) => import.meta.resolve(name),
): void {
  const missing = LOCAL_PACKAGES.filter((name) => {
    try {
      resolveModule(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(`local mode needs ${missing.join(' and ')}: run ${localPackagesInstallCommand()}`);
  }
}

/** Throws one line naming the fix when this Node or the installed packages cannot run local mode. */
export function assertLocalPrerequisites(): void {
  assertNodeVersion();
  assertLocalPackages();
}

/**
 * Runs local mode until SIGINT/SIGTERM; resolves to the exit code. `configFile`: the `--config` flag;
 * `emulators`: the project's emulators already starting (`startDefaultEmulators`), stopped on every exit path;
 * `signalled`: the stop, when the entry point caught it before this module loaded ({@link untilStopSignal}).
 */
export async function runLocalMode(
  configFile?: string,
  emulators?: Promise<Emulators>,
  signalled: Promise<void> = untilStopSignal(),
): Promise<number> {
  // performance.now() counts from the process start: Node, tsx and loading local mode's modules come first.
  const modulesLoaded = performance.now();
  const reporter = new Reporter();
  const configFilePath = configPath(process.env, configFile);
  // As the operator named it, for the commands its notices name: the default file needs no --config.
  const namedConfig = configFile ?? (process.env.HOOKLINE_CONFIG || undefined);
  const stop = followStop(signalled, reporter, namedConfig);
  const config = await loadLocalConfig(configFilePath, reporter, emulators);
  if (config === undefined) return 1;
  if (stop.requested) {
    await stopEmulators(emulators);
    reporter.info('stopped');
    return 0;
  }
  if (reporter.verbose) {
    const [loaded, configured] = [modulesLoaded, performance.now()].map(Math.round);
    reporter.info(`before start: process and modules 0-${loaded}, config ${loaded}-${configured} ms`);
  }
  const started = performance.now();
  let local: Awaited<ReturnType<typeof startLocalMode>>;
  try {
    local = await startLocalMode({
      config,
      reporter,
      ...(namedConfig ? { configFile: namedConfig } : {}),
      watchFiles: [configFilePath],
      ...(emulators ? { emulators } : {}),
    });
  } catch (error) {
    reporter.problem(
      error instanceof PortInUseError || error instanceof LocalStartProblem
        ? error.message
        : `local mode failed to start: ${(error as Error).stack ?? error}`,
    );
    return 1;
  }
  stop.running = true;
  // A stop asked for during start-up is not followed by the ready lines: nothing will answer them.
  if (!stop.requested) {
    reporter.info(
      `hookline local mode is running (${Math.round(performance.now() - started)} ms), stack ${config.stackName}`,
    );
    for (const line of endpointLines(config, local, process.env)) reporter.info(line);
  }
  await signalled;
  await local.stop();
  reporter.info('stopped');
  return 0;
}

/** The configuration, or undefined once the problem with it was reported (the emulators stopped). */
async function loadLocalConfig(
  configFilePath: string,
  reporter: Reporter,
  emulators: Promise<Emulators> | undefined,
): Promise<ResolvedConfig | undefined> {
  try {
    assertLocalPrerequisites();
    return await readConfig(configFilePath);
  } catch (error) {
    const message = configFailureMessage(error);
    if (message !== undefined) reporter.problem(message);
    await stopEmulators(emulators);
    if (message === undefined) throw error;
    return undefined;
  }
}

function stopEmulators(emulators: Promise<Emulators> | undefined): Promise<void> | undefined {
  return emulators?.then(
    (e) => e.stop(),
    () => undefined,
  );
}

/**
 * Says what the first stop signal does, whenever it comes: during start-up, local mode stops as soon as its start
 * ends (so its lock and state file are released, not left as a crash's); once running, it drains. Either way a
 * second one quits at once.
 */
function followStop(
  signalled: Promise<void>,
  reporter: Reporter,
  namedConfig: string | undefined,
): { requested: boolean; running: boolean } {
  const stop = { requested: false, running: false };
  void signalled.then(() => {
    stop.requested = true;
    reporter.info(
      stop.running
        ? 'stopping: draining in-flight work (Ctrl-C again to quit at once)...'
        : 'stopping: local mode stops as soon as its start ends (Ctrl-C again to quit at once)...',
    );
    const force = () => {
      reporter.problem(forcedQuitNotice(localDataDir(process.env), localModeHints(namedConfig)));
      process.exit(130);
    };
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
  });
  return stop;
}

/**
 * The lines `npm start` prints once ready: each source's webhook URL and secret, the jobs endpoint's URLs and
 * token, a curl line for GitHub, and the status URL.
 */
export function endpointLines(
  config: ResolvedConfig,
  local: { readonly url: string; readonly webhookUrls: Readonly<Record<string, string>> },
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const lines: string[] = [];
  const secrets = localSecrets(config.sources, env);
  for (const source of config.sources) {
    const secret = secrets[source.name];
    lines.push(
      `  ${source.name.padEnd(12)} POST ${local.webhookUrls[source.name]}  (${source.type}${
        secret
          ? `, secret ${secret.isDefault ? `dev default "${secret.value}"` : `from ${secret.envName}`}`
          : ''
      })`,
    );
  }
  const token = localJobsTokenOrigin(env);
  for (const queue of config.jobsEndpoint?.queues ?? []) {
    lines.push(`  ${'jobs'.padEnd(12)} POST ${local.url}/jobs/${queue}  (bearer token ${token})`);
  }
  const example = config.sources.find((s) => s.type === 'github');
  if (example) {
    const url = local.webhookUrls[example.name];
    const secret = secrets[example.name];
    // A secret from the environment may be the sender's real one: the line names the variable, never its value.
    const key = secret && !secret.isDefault ? `"$${secret.envName}"` : `'${secret?.value ?? ''}'`;
    lines.push(
      `try: body='{"ref":"refs/heads/main","commits":[]}'; sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac ${key} -hex | sed 's/^.* //'); ` +
        `curl -s -X POST ${url} -H 'content-type: application/json' -H 'x-github-event: push' ` +
        `-H "x-github-delivery: $(date +%s%N)" -H "x-hub-signature-256: sha256=$sig" -d "$body"`,
    );
  }
  // Each line's time is UTC, as Lambda's clock and every time the CLI prints: a machine in another zone would
  // otherwise read it as its own.
  lines.push(
    `status: ${local.url}/_hookline/status   (Ctrl-C to stop; times are UTC; HOOKLINE_LOG=json for JSON lines)`,
  );
  return lines;
}

/**
 * What a second Ctrl-C leaves behind: a batch cut off is not lost with a data directory, but it stays in flight
 * for its visibility timeout, so the next start shows it in flight and runs it only then.
 */
export function forcedQuitNotice(
  dataDir: string | undefined,
  hints: CommandHints = localModeHints(),
): string {
  return dataDir
    ? `quitting at once: a batch cut off mid-way stays in flight until its queue's visibility timeout runs out, then runs again (${nextCommand(hints, 'status')} shows it IN FLIGHT until then; idempotency skips the records that had finished)`
    : 'quitting at once: what the queues held is discarded (they are in memory without HOOKLINE_DATA_DIR)';
}
