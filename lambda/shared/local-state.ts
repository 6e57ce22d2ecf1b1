/**
 * `.hookline/local.json`, the contract between local mode (which writes it while running and removes it on
 * stop) and its readers: the CLI and the job producer find the running local mode through it. One definition
 * for every side: the writer is typed by {@link LocalState}, the readers parse with {@link parseLocalState}.
 * Checked by hand rather than with a schema library: `hookline status --local` reads it on every run, and a
 * schema library's own load would be most of that command's start time. So is its lock, `local.json.lock`, which
 * local mode takes from the first moment of a start, seconds before it writes the state file: a reader finding the
 * lock alone tells a starting local mode from none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
// Type only: erased, so reading the state file still loads no schema library.
import type { ProducerSettings } from './producer-config';

/** The state file's name inside the state directory. */
export const STATE_FILE_NAME = 'local.json';

export interface LocalQueueState {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
  readonly fifo: boolean;
  /** The queue's `maxReceiveCount` (absent from a state file written before it was kept). */
  readonly maxReceiveCount?: number;
}

export interface LocalState {
  readonly pid: number;
  readonly webhookBaseUrl: string;
  readonly controlUrl: string;
  readonly region: string;
  readonly endpoints: {
    readonly sqs: string;
    readonly s3?: string;
    readonly dynamodb?: string;
    /** Local mode's EventBridge Scheduler stand-in (one-time job schedules). */
    readonly scheduler?: string;
  };
  readonly queues: Readonly<Record<string, LocalQueueState>>;
  /** Each consumer's state when the file was written (`Enabled`, `Disabled`); empty when absent. */
  readonly consumers: Readonly<Record<string, { readonly state: string }>>;
  /** The event archive (bucket in the local S3), when archiving is on. */
  readonly archive?: { readonly bucket: string; readonly stream: string };
  /** What a job producer needs besides the queues: the settings a deployed stack's `grantSend` gives it. */
  readonly jobs?: ProducerSettings;
  /** Each forwarding queue's destination, and the file keeping its signing secret (absent: kept nowhere). */
  readonly forwards?: Readonly<Record<string, LocalForwardState>>;
  /** The names of the sources local mode takes webhooks for (absent: written by a local mode that did not list them). */
  readonly sources?: readonly string[];
  /**
   * The names of the configured schedules local mode fires, so the CLI can tell an unknown `schedule:<name>` from
   * one local mode keeps no dead-letter queue for (absent: written by a local mode that did not list them).
   */
  readonly schedules?: readonly string[];
}

/** A forwarding queue as local mode runs it. */
export interface LocalForwardState {
  readonly url: string;
  readonly secretFile?: string;
}

/** A state file that does not have the shape above; `path` names the first bad field. */
export class LocalStateError extends Error {
  constructor(
    readonly path: string,
    expected: string,
  ) {
    super(`invalid local mode state at ${path}: expected ${expected}`);
    this.name = 'LocalStateError';
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, path: string): Json {
  if (!isObject(value)) throw new LocalStateError(path, 'an object');
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new LocalStateError(path, 'a non-empty string');
  return value;
}

function texts(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new LocalStateError(path, 'an array of non-empty strings');
  return value.map((v, i) => text(v, `${path}[${i}]`));
}

function integer(value: unknown, path: string): number {
  if (!Number.isSafeInteger(value)) throw new LocalStateError(path, 'an integer');
  return value as number;
}

/** The fields of `value` that are present, each read by its reader; absent (undefined) fields are left out. */
function optionals<T>(
  value: Json,
  path: string,
  readers: Record<string, (v: unknown, p: string) => unknown>,
) {
  const result: Record<string, unknown> = {};
  for (const [field, read] of Object.entries(readers)) {
    if (value[field] !== undefined) result[field] = read(value[field], `${path}.${field}`);
  }
  return result as Partial<T>;
}

function record<T>(value: unknown, path: string, read: (v: unknown, p: string) => T): Record<string, T> {
  const entries = object(value, path);
  const result: Record<string, T> = {};
  for (const name of Object.keys(entries)) result[name] = read(entries[name], `${path}.${name}`);
  return result;
}

function queueState(value: unknown, path: string): LocalQueueState {
  const queue = object(value, path);
  if (typeof queue.fifo !== 'boolean') throw new LocalStateError(`${path}.fifo`, 'a boolean');
  return {
    url: text(queue.url, `${path}.url`),
    arn: text(queue.arn, `${path}.arn`),
    deadLetterUrl: text(queue.deadLetterUrl, `${path}.deadLetterUrl`),
    deadLetterArn: text(queue.deadLetterArn, `${path}.deadLetterArn`),
    fifo: queue.fifo,
    ...optionals<LocalQueueState>(queue, path, { maxReceiveCount: integer }),
  };
}

function endpointsOf(value: unknown): LocalState['endpoints'] {
  const endpoints = object(value, 'endpoints');
  const optional = (v: unknown, p: string) => {
    if (typeof v !== 'string') throw new LocalStateError(p, 'a string');
    return v;
  };
  return {
    sqs: text(endpoints.sqs, 'endpoints.sqs'),
    ...optionals<LocalState['endpoints']>(endpoints, 'endpoints', {
      s3: optional,
      dynamodb: optional,
      scheduler: optional,
    }),
  };
}

function jobsOf(value: unknown): ProducerSettings {
  const string = (v: unknown, p: string) => {
    if (typeof v !== 'string') throw new LocalStateError(p, 'a string');
    return v;
  };
  return optionals<ProducerSettings>(object(value, 'jobs'), 'jobs', {
    dedupe: (v, p) => {
      const dedupe = object(v, p);
      return {
        tableName: text(dedupe.tableName, `${p}.tableName`),
        ttlSeconds: integer(dedupe.ttlSeconds, `${p}.ttlSeconds`),
      };
    },
    payloads: (v, p) => {
      const payloads = object(v, p);
      return {
        bucket: text(payloads.bucket, `${p}.bucket`),
        inlineLimitBytes: integer(payloads.inlineLimitBytes, `${p}.inlineLimitBytes`),
        ...optionals(payloads, p, { expirySeconds: integer }),
      };
    },
    scheduler: (v, p) => {
      const scheduler = object(v, p);
      return {
        namePrefix: text(scheduler.namePrefix, `${p}.namePrefix`),
        ...optionals(scheduler, p, { roleArn: string, groupName: string }),
      };
    },
  });
}

/** The state in `value` (parsed JSON), with only its own fields; throws a {@link LocalStateError}. */
export function parseLocalState(value: unknown): LocalState {
  const state = object(value, '(root)');
  const parsed: LocalState = {
    pid: integer(state.pid, 'pid'),
    webhookBaseUrl: text(state.webhookBaseUrl, 'webhookBaseUrl'),
    controlUrl: text(state.controlUrl, 'controlUrl'),
    region: text(state.region, 'region'),
    endpoints: endpointsOf(state.endpoints),
    queues: record(state.queues, 'queues', queueState),
    consumers:
      state.consumers === undefined
        ? {}
        : record(state.consumers, 'consumers', (v, p) => ({ state: text(object(v, p).state, `${p}.state`) })),
    ...(state.sources === undefined ? {} : { sources: texts(state.sources, 'sources') }),
    ...(state.schedules === undefined ? {} : { schedules: texts(state.schedules, 'schedules') }),
  };
  if (state.archive === undefined && state.jobs === undefined && state.forwards === undefined) return parsed;
  const archive = state.archive === undefined ? undefined : object(state.archive, 'archive');
  return {
    ...parsed,
    ...(archive
      ? {
          archive: {
            bucket: text(archive.bucket, 'archive.bucket'),
            stream: text(archive.stream, 'archive.stream'),
          },
        }
      : {}),
    ...(state.jobs === undefined ? {} : { jobs: jobsOf(state.jobs) }),
    ...(state.forwards === undefined
      ? {}
      : {
          forwards: record(state.forwards, 'forwards', (v, p) => {
            const forward = object(v, p);
            return {
              url: text(forward.url, `${p}.url`),
              ...(forward.secretFile === undefined
                ? {}
                : { secretFile: text(forward.secretFile, `${p}.secretFile`) }),
            };
          }),
        }),
  };
}

/**
 * The state directory: `$HOOKLINE_STATE_DIR`, else (unset or empty) `<cwd>/.hookline`. Local mode writes there and
 * the CLI and producers read there, so both sides take it from here: a different reading of an empty value would
 * have local mode running where the CLI says it is not.
 */
export function localStateDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): string {
  return env.HOOKLINE_STATE_DIR || join(cwd, '.hookline');
}

/**
 * The state directory a reader (the CLI, the console, a producer) finds local mode in from `cwd`:
 * `$HOOKLINE_STATE_DIR`, else the nearest `.hookline` with a state file from `cwd` up to the project's root (the
 * nearest folder with a `package.json`), where `npm start` runs and writes it: a command run in the project's
 * `consumers/` finds it as one run at the root does. It never looks past that root, so a project made inside
 * another never reads the outer one's local mode. Else `<project root>/.hookline`, the file a start would write.
 */
export function localStateDirFrom(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): string {
  if (env.HOOKLINE_STATE_DIR) return env.HOOKLINE_STATE_DIR;
  for (let dir = cwd; ; dir = dirname(dir)) {
    const stateDir = join(dir, '.hookline');
    if (existsSync(join(stateDir, STATE_FILE_NAME))) return stateDir;
    if (existsSync(join(dir, 'package.json'))) return stateDir;
    if (dirname(dir) === dir) return localStateDir(env, cwd);
  }
}

/**
 * Where a reader finds the state file: `$HOOKLINE_STATE_DIR/local.json`, else the project's
 * `.hookline/local.json` ({@link localStateDirFrom}).
 */
export function localStatePath(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): string {
  return join(localStateDirFrom(env, cwd), STATE_FILE_NAME);
}

/** True when a process with this pid exists (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lock file local mode takes on the state directory of `stateFile` from the first moment of a start, next to
 * it; data directories get the same kind (`local-mode.lock`).
 */
export function stateDirLockPath(stateFile: string): string {
  return `${stateFile}.lock`;
}

/** What a lock file says: the process that holds the directory and when it started. */
export interface LockContent {
  readonly pid: number;
  readonly startedAt: string;
}

/** The lock file at `path`; undefined when it is missing, unreadable or half written: nobody can be shown to hold it. */
export function readLockFile(path: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return Number.isInteger(parsed.pid) && (parsed.pid as number) > 0
      ? { pid: parsed.pid as number, startedAt: String(parsed.startedAt ?? 'an unknown time') }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The local mode that holds the state directory of `stateFile`, if its process still runs: one that has not written
 * that file yet is starting.
 */
export function stateDirHolder(stateFile: string): LockContent | undefined {
  const holder = readLockFile(stateDirLockPath(stateFile));
  return holder && isProcessAlive(holder.pid) ? holder : undefined;
}

/** A local mode that holds its state directory and has not written its state file yet, as readers name it. */
export function localModeStarting(holder: LockContent): string {
  return `local mode is starting (pid ${holder.pid}, since ${holder.startedAt})`;
}
