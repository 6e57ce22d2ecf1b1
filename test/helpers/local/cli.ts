/** The real `bin/hookline.ts` as a child process: where the process itself matters (exit codes, a fresh import). */
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
  const result = await runHooklineWith(env, args);
  if (result.code !== 0) {
    const said = `hookline ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    throw Object.assign(new Error(said), result);
  }
  return result;
}
