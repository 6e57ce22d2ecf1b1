/**
 * Where the CLI writes: results on stdout, notes and progress on stderr (so `--json` stdout stays parseable),
 * colours only on a TTY and never with NO_COLOR, and no control character from a webhook or a consumer's error
 * reaching the terminal (../terminal-text).
 */

import { untilStopSignal } from '../local/stop-signal';
import { ansiTerminal, coloursWanted, terminalLine, terminalText } from '../terminal-text';

/** A progress indicator for long work. */
export interface Progress {
  /** Sets the number of units done (and optionally a new total). */
  update(done: number, total?: number): void;
  /** Finishes the bar with a closing line. */
  done(summary?: string): void;
}

/** ANSI styling that collapses to identity functions when colours are off. */
export interface Colors {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

/** The CLI's view of the terminal; commands never touch `process.stdout` directly. */
export interface Output {
  /** `--json`: the result is one JSON document on stdout and human lines are suppressed. */
  readonly json: boolean;
  /** True when a person can answer a prompt: stdin and stdout are TTYs, and stderr, where the question is asked. */
  readonly interactive: boolean;
  readonly colors: Colors;
  /** A line of the human-readable result (stdout; suppressed in `--json`). */
  line(text: string): void;
  /** An informational note for the operator (stderr; also in `--json`). */
  note(text: string): void;
  /**
   * A hint after the result: the next command to run. On stdout after the result for a person at a terminal; on
   * stderr once stdout is piped or redirected, which then carries the result alone (`| wc -l` counts its rows).
   * @default - a line of the result ({@link Output.line}), as the console shows it under a job's summary
   */
  hint?(text: string): void;
  /** A progress bar on stderr. */
  progress(label: string, total?: number): Progress;
  /** Asks a yes/no question; resolves false on anything but yes (Ctrl-C and Ctrl-D among them). */
  confirm(question: string): Promise<boolean>;
  /** Writes the final JSON document (only in `--json`). */
  result(value: unknown): void;
  /**
   * A further `hookline` command as the operator types it next: with the target flags of this one (`--local`,
   * `--stack`, `--region`, `--config`), so a hint acts on the pipeline just shown, never on the default one.
   * @default - the command without flags
   */
  readonly command?: (args: string) => string;
}

/** What a hint needs of the output: the target flags of the command that prints it. */
export type CommandHints = Pick<Output, 'command'>;

/** Prints a hint where the output puts hints, else as a line of the result. */
export function hint(output: Output, text: string): void {
  if (output.hint) output.hint(text);
  else output.line(text);
}

/** A further command as a hint prints it: with this command's target flags (`--local`, `--stack`, `--region`). */
export const nextCommand = (output: CommandHints, args: string): string =>
  output.command?.(args) ?? `hookline ${args}`;

/** `value` as one word of a shell command line: as it is when nothing in it is special, else single-quoted. */
export const shellWord = (value: string): string =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;

/** `hookline <args>` with the flags that name `target` (as given on this command line). */
export function hooklineCommandFor(
  target: {
    readonly local?: boolean;
    readonly stack?: string;
    readonly region?: string;
    readonly config?: string;
  },
  args: string,
): string {
  const flags = [
    ...(target.local ? ['--local'] : []),
    ...(target.stack ? [`--stack ${shellWord(target.stack)}`] : []),
    ...(target.region ? [`--region ${shellWord(target.region)}`] : []),
    ...(target.config ? [`--config ${shellWord(target.config)}`] : []),
  ];
  return ['hookline', args, ...flags].join(' ');
}

const identity = (text: string) => text;
const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

/** Colours for a stream: on only where {@link coloursWanted} says (a terminal, not TERM=dumb, NO_COLOR unset). */
export function colorsFor(isTty: boolean, env: Record<string, string | undefined> = process.env): Colors {
  if (!coloursWanted(isTty, env))
    return { bold: identity, dim: identity, red: identity, green: identity, yellow: identity };
  return {
    bold: ansi(1, 22),
    dim: ansi(2, 22),
    red: ansi(31, 39),
    green: ansi(32, 39),
    yellow: ansi(33, 39),
  };
}

/** Renders `[#####.....] 50% 500/1000 label` (pure, for the bar and its tests). */
export function renderBar(label: string, done: number, total: number | undefined, width = 30): string {
  if (!total || total <= 0) return `${label}: ${done}`;
  const ratio = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total} ${label}`;
}

interface WritableLike {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * The real terminal. On a non-TTY stderr the bar prints a line per 10% instead of redrawing, and ends with a
 * line for where it stopped (a log then never ends at 90%, or at 40% without saying so).
 */
export function consoleOutput(options: {
  json: boolean;
  stdout?: WritableLike;
  stderr?: WritableLike;
  stdinIsTty?: boolean;
  env?: Record<string, string | undefined>;
  /** Where `confirm` reads the answer and asks the question. @default process.stdin and process.stderr */
  prompt?: { readonly input: NodeJS.ReadableStream; readonly output: NodeJS.WritableStream };
}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const colors = colorsFor(Boolean(stdout.isTTY), options.env);
  const errColors = colorsFor(Boolean(stderr.isTTY), options.env);
  return {
    json: options.json,
    // A question written to a stderr redirected to a file is never seen: the command would wait for its answer.
    interactive:
      Boolean(options.stdinIsTty ?? process.stdin.isTTY) && Boolean(stdout.isTTY) && Boolean(stderr.isTTY),
    colors,
    line(text) {
      if (!options.json) stdout.write(`${terminalText(text)}\n`);
    },
    note(text) {
      stderr.write(`${errColors.dim(terminalText(text))}\n`);
    },
    hint(text) {
      if (options.json) return;
      if (stdout.isTTY) stdout.write(`${colors.dim(terminalText(text))}\n`);
      else stderr.write(`${errColors.dim(terminalText(text))}\n`);
    },
    progress(label, initialTotal) {
      let total = initialTotal;
      let lastStep = -1;
      let lastDraw = 0;
      let current: number | undefined;
      let written: string | undefined;
      // Redrawn in place only where the terminal acts on the codes; NO_COLOR is about colours, not this.
      const tty = ansiTerminal(Boolean(stderr.isTTY), options.env ?? process.env);
      return {
        update(done, newTotal) {
          if (newTotal !== undefined) total = newTotal;
          current = done;
          if (tty) {
            const now = Date.now();
            if (now - lastDraw < 80 && done !== total) return;
            lastDraw = now;
            stderr.write(`\r\u001b[2K${renderBar(label, done, total)}`);
            return;
          }
          const step = total ? Math.floor((done / total) * 10) : Math.floor(done / 100);
          if (step !== lastStep) {
            lastStep = step;
            written = renderBar(label, done, total);
            stderr.write(`${written}\n`);
          }
        },
        done(summary) {
          if (tty) stderr.write('\r\u001b[2K');
          const final = current === undefined ? undefined : renderBar(label, current, total);
          if (!tty && final !== undefined && final !== written) stderr.write(`${final}\n`);
          if (summary) stderr.write(`${summary}\n`);
        },
      };
    },
    confirm: (question) =>
      askYesNo(options.prompt ?? { input: process.stdin, output: process.stderr }, question),
    result(value) {
      if (options.json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

/**
 * Asks `question` and resolves true only for yes. Ctrl-C and Ctrl-D at the question, which readline rejects as an
 * AbortError, and an input that ends before the answer are a no, as Enter alone is: the command then says it
 * cancelled, rather than fail as a bug or end without a word.
 */
async function askYesNo(
  prompt: { readonly input: NodeJS.ReadableStream; readonly output: NodeJS.WritableStream },
  question: string,
): Promise<boolean> {
  // Loaded when a command asks, not at every start.
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: prompt.input, output: prompt.output });
  const ended = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    const answer = await Promise.race([rl.question(`${question} [y/N] `), ended]).catch((error: unknown) => {
      if ((error as Error).name === 'AbortError') return undefined;
      throw error;
    });
    // What follows (the command's "cancelled") starts on a line of its own, not after the question.
    if (answer === undefined) prompt.output.write('\n');
    return /^y(es)?$/i.test(answer?.trim() ?? '');
  } finally {
    rl.close();
  }
}

/** Formats rows as an aligned text table (first row is the header); a cell never spans lines. */
export function table(rawRows: readonly (readonly string[])[], colors?: Colors): string {
  const rows = rawRows.map((row) => row.map(terminalLine));
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row, r) => {
      const text = row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
      return r === 0 && colors ? colors.bold(text) : text;
    })
    .join('\n');
}

/** Exit status of a unix tool whose reader went away (128 + SIGPIPE), as `yes | head -1` reports it. */
export const CLOSED_PIPE_EXIT_CODE = 141;

interface ErrorEmitter {
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
  readonly isTTY?: boolean;
}

/** A write error that means the reader is gone: a closed pipe, or a terminal that was closed (hung up). */
function readerGone(stream: ErrorEmitter, error: NodeJS.ErrnoException): boolean {
  return error.code === 'EPIPE' || (error.code === 'EIO' && stream.isTTY === true);
}

/** What {@link watchClosedPipes} saw: whether a reader went away, and the moment it did. */
export interface ClosedPipes {
  readonly closed: boolean;
  /** Resolves at the first closed pipe (never, while the readers stay). */
  readonly whenClosed: Promise<void>;
}

/**
 * Treats a closed pipe on stdout/stderr (`hookline failed list events | head -1`) the unix way: no stack trace,
 * nothing more written, exit status 141; and so a closed terminal, whose writes fail with EIO. Other stream errors
 * (EIO on a file or pipe: a failing disk) still surface.
 */
export function watchClosedPipes(streams: readonly ErrorEmitter[]): ClosedPipes {
  let resolveClosed = () => {};
  const state = {
    closed: false,
    whenClosed: new Promise<void>((resolve) => {
      resolveClosed = resolve;
    }),
  };
  for (const stream of streams) {
    stream.on('error', (error) => {
      // After the first EPIPE, later writes fail too (EPIPE or ERR_STREAM_DESTROYED): all one closed pipe.
      if (!readerGone(stream, error) && !state.closed) throw error;
      state.closed = true;
      resolveClosed();
    });
  }
  return state;
}

let processPipes: ClosedPipes | undefined;

/**
 * The process's stdout and stderr watched by {@link watchClosedPipes}, and its exit status 141 once one closed. The
 * EPIPE error event can trail the last write, so the status is decided at exit. Watched once per process: a later
 * call (a command that needs the moment) gets the same watch.
 */
export function exitQuietlyOnClosedPipes(): ClosedPipes {
  if (processPipes) return processPipes;
  const pipes = watchClosedPipes([process.stdout, process.stderr]);
  process.once('exit', () => {
    if (pipes.closed) process.exitCode = CLOSED_PIPE_EXIT_CODE;
  });
  processPipes = pipes;
  return pipes;
}

/**
 * Resolves at the operator's stop (Ctrl-C, SIGTERM) or once the reader of the output goes away (`npm start | head`),
 * which local mode takes alike: it would otherwise run on, unseen, for as long as nothing stops it.
 */
export function untilStoppedOrUnread(): Promise<void> {
  return Promise.race([untilStopSignal(), exitQuietlyOnClosedPipes().whenClosed]);
}
