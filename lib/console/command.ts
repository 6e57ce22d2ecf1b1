/**
 * `hookline console`: connects to the target as every command does, starts the console server on loopback,
 * prints the URL with this run's token and opens it in the browser (best effort). Runs until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import type { Backend } from '../cli/backend';
import type { FailedDeleteResult } from '../cli/failed-delete';
import type { CommandHints, Output } from '../cli/output';
import type { RedriveResult } from '../cli/redrive';
import { renderReplay } from '../cli/render';
import type { ReplayResult } from '../cli/replay';
import type { Target } from '../cli/target';
import type { ResolvedConfig } from '../config';
import { loadConsoleAssets } from './assets';
import { feedFor, journalFileLines, journalRecentLines } from './feed';
import type { Job } from './jobs';
import type { ConsoleLog } from './last-resort';
import {
  type ConsoleExtensions,
  ConsoleOperations,
  renderConsoleDelete,
  renderConsoleRedrive,
} from './operations';
import { newToken } from './security';
import { type ConsoleServer, startConsoleServer } from './server';

export interface ConsoleOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Open the browser. @default true */
  readonly open?: boolean;
  readonly extensions?: ConsoleExtensions;
  readonly env?: Record<string, string | undefined>;
  /** The target flags it was started with, for the commands it shows. @default - commands without flags */
  readonly hints?: CommandHints;
  /** Where it writes a failure it cannot tell the page, with its stack. @default - the process's stderr */
  readonly log?: ConsoleLog;
}

/** Starts the console for a connected target. */
export async function startConsole(
  connected: {
    target: Target;
    backend: Backend;
    config: ResolvedConfig;
    /** The target and clients as they are now (local mode after a restart). */
    reconnect?: () => Promise<{ target: Target; backend: Backend }>;
    /** Local mode's journal file, where the lines the feed could not give are read. */
    journalFile?: string;
  },
  options: ConsoleOptions = {},
): Promise<{ server: ConsoleServer; operations: ConsoleOperations }> {
  const { target, backend, config, reconnect } = connected;
  const operations = new ConsoleOperations({
    backend,
    target,
    config,
    feed: feedFor(target, backend),
    ...(reconnect
      ? {
          reconnect: async () => {
            const now = await reconnect();
            return { ...now, feed: feedFor(now.target, now.backend) };
          },
        }
      : {}),
    ...(connected.journalFile
      ? {
          journalLines: journalFileLines(connected.journalFile),
          journalRecentLines: journalRecentLines(connected.journalFile),
        }
      : {}),
    ...(options.extensions ? { extensions: options.extensions } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.hints ? { hints: options.hints } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const server = await startConsoleServer({
    operations,
    assets: await loadConsoleAssets(),
    token: newToken(),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  if (options.open !== false) openBrowser(server.url);
  return { server, operations };
}

/** The platform's "open this URL" command; failures are ignored (the URL is printed anyway). */
export function openBrowser(url: string, platform = process.platform): void {
  const [command, args] =
    platform === 'darwin'
      ? ['open', [url]]
      : platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener on this machine: the printed URL is the way in.
  }
}

/**
 * Where the console listens, the first line on stdout: a person reads the URL, a script started with `--json` reads
 * one JSON object (`target`, `url` with the token, `port`) on that line, as soon as it is written, while the
 * console keeps running; a sentence there would be the only stdout of a `--json` run that is not JSON.
 */
export function reportConsoleStarted(
  output: Output,
  write: (text: string) => void,
  target: Target,
  server: Pick<ConsoleServer, 'url' | 'port'>,
): void {
  write(
    output.json
      ? `${JSON.stringify({ target: target.description, url: server.url, port: server.port })}\n`
      : `hookline console for ${target.description}: ${server.url}\n`,
  );
  output.note("the URL carries this run's token; Ctrl-C to stop");
}

/**
 * What the jobs cut short by stopping the console did, in the words of their own commands: the label and
 * how it ended, then the command's summary (a redrive's moved and left, a delete's deleted and left, a replay's
 * sent and not sent).
 */
export function reportStoppedJobs(output: Output, jobs: readonly Job[]): void {
  if (jobs.length === 0) return;
  const ending = (job: Job) => {
    if (job.state === 'failed') return `failed: ${job.error}`;
    const stoppedBy = (job.result as { stoppedBy?: string } | null)?.stoppedBy;
    if (!stoppedBy) return 'finished before it could be stopped';
    // The cores record Ctrl-C as an `Interrupted` stop; any other stop is an error their summary names.
    return stoppedBy.startsWith('Interrupted') ? 'stopped by Ctrl-C' : 'stopped early by an error';
  };
  output.result({
    stoppedJobs: jobs.map((job) => ({
      kind: job.kind,
      label: job.label,
      state: job.state,
      error: job.error,
      result: job.result,
    })),
  });
  if (output.json) return;
  for (const job of jobs) {
    output.line(`${job.label}: ${ending(job)}`);
    if (job.state !== 'done') continue;
    if (job.kind === 'redrive') renderConsoleRedrive(output, job.result as RedriveResult);
    else if (job.kind === 'replay') renderReplay(output, job.result as ReplayResult);
    else if (job.kind === 'delete') renderConsoleDelete(output, job.result as FailedDeleteResult);
  }
}
