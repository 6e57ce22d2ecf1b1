/** The real `hookline console --local` as an operator starts it, for tests that drive it over HTTP or a browser. */
import { type ChildProcess, spawn } from 'node:child_process';

/** A started console process and the URL (with its token) it printed. */
export interface ConsoleProcess {
  readonly child: ChildProcess;
  readonly url: Promise<URL>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
}

/**
 * Starts the CLI's console against the local mode whose state is in `stateDir`, in its own process group (stop it
 * with {@link stopConsoleProcess}). `url` rejects with the console's stderr when it exits before printing one.
 */
export function startConsoleProcess(stateDir: string): ConsoleProcess {
  // Node itself (not npx or the tsx launcher) runs the CLI, so a signal reaches it as a terminal's Ctrl-C would
  // and its exit code is the CLI's own.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/hookline.ts', 'console', '--local', '--no-open'],
    {
      env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let out = '';
  let err = '';
  const url = new Promise<URL>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (match?.[1]) resolve(new URL(match[1]));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`hookline console exited with ${code}: ${err}`)));
  });
  return { child, url, output: () => ({ stdout: out, stderr: err }) };
}

/** Stops a console started by {@link startConsoleProcess}, with the Ctrl-C an operator would press. */
export function stopConsoleProcess(started: ConsoleProcess | undefined): void {
  const child = started?.child;
  if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGINT');
}
