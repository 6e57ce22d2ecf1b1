/**
 * The real CLI on local mode, two ways: `bin/hookline.ts` as a child process, where the process itself matters (exit
 * codes, a fresh import, the compile cache), and the same program in this process, where only its commands, target
 * and output matter. A child process loads Node, tsx and the CLI's modules on every run (seconds each on a busy
 * machine); the program in this process loads them once.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CliRun {
  /** The exit code; -1 when the process did not exit with one (killed, timed out). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `hookline <args>`, finding local mode through the state file in `stateDir`; never throws on a failed exit. */
export function runHookline(stateDir: string, args: readonly string[]): Promise<CliRun> {
  return runHooklineWith(localModeEnv(stateDir), args);
}

/** This process's environment, finding local mode through the state file in `stateDir`, without colours. */
function localModeEnv(stateDir: string): NodeJS.ProcessEnv {
  return { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' };
}

/** Runs `hookline <args>` with exactly this environment; never throws on a failed exit. */
export async function runHooklineWith(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliRun> {
  try {
    // Node itself with tsx's loader, as npm start runs local mode: tsx's own bin would start a second Node process
    // to run it in, for every command.
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/hookline.ts', ...args], {
      env,
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Runs `hookline <args>` as `runHookline` does; unless it exits 0, rejects with an error that carries its `code`,
 * `stdout` and `stderr`, as `execFile`'s does.
 */
export function runHooklineOk(stateDir: string, args: readonly string[]): Promise<CliRun> {
  return runHooklineOkWith(localModeEnv(stateDir), args);
}

/** Runs `hookline <args>` with exactly this environment; rejects as {@link runHooklineOk} does. */
export async function runHooklineOkWith(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<CliRun> {
  return okOrThrow(args, await runHooklineWith(env, args));
}

/** `result` when it exited 0; otherwise throws an error that carries its `code`, `stdout` and `stderr`. */
function okOrThrow(args: readonly string[], result: CliRun): CliRun {
  if (result.code !== 0) {
    const said = `hookline ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    throw Object.assign(new Error(said), result);
  }
  return result;
}

/**
 * Runs `hookline <args>` in this process, finding local mode through the state file in `stateDir`, with its terminal
 * captured and without colours: the real commands, target and output, as `bin/hookline.ts` runs them, without a
 * process of its own. Its environment is `more` (e.g. `HOOKLINE_CONFIG`) and those two, never this process's. Never
 * throws on a failed exit.
 */
export async function runHooklineInProcess(
  stateDir: string,
  args: readonly string[],
  more: Readonly<Record<string, string>> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = { write: (text: string) => (stdout += text) };
  const err = { write: (text: string) => (stderr += text) };
  const env = { ...more, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' };
  // Loaded on first use: the tests that only spawn the CLI do not load it here as well.
  const [{ connect, loadConfig }, { consoleOutput }, { runCli }] = await Promise.all([
    import('../../../lib/cli/backend'),
    import('../../../lib/cli/output'),
    import('../../../lib/cli/program'),
  ]);
  const code = await runCli(args, {
    makeOutput: (json) => consoleOutput({ json, stdout: out, stderr: err, stdinIsTty: false, env }),
    connect: (options, output) => connect(options, output, env),
    loadConfig: (path) => loadConfig(path, env),
    env,
    writeErr: (text) => err.write(text),
    writeOut: (text) => out.write(text),
  });
  return { code, stdout, stderr };
}

/** Runs `hookline <args>` in this process as {@link runHooklineInProcess} does; rejects as {@link runHooklineOk} does. */
export async function runHooklineInProcessOk(
  stateDir: string,
  args: readonly string[],
  more: Readonly<Record<string, string>> = {},
): Promise<CliRun> {
  return okOrThrow(args, await runHooklineInProcess(stateDir, args, more));
}
