/**
 * A soak of the whole local pipeline with faults, checked against ground truth. Manual: minutes of full load on
 * the machine, so neither `npm test` nor `npm run bench` runs it (bench/run.ts runs bench/*.ts only).
 *
 * It starts local mode as a user does (`bin/local.ts`, HOOKLINE_CONFIG=bench/soak/hookline.config.ts, a data
 * directory in a temporary folder), sends N signed webhooks at CONCURRENCY in flight as a retrying sender does
 * (429, 5xx and refused connections retried with backoff), and meanwhile stops local mode with SIGTERM and
 * starts it again, kills it with SIGKILL and starts it again, and stops it with SIGTERM once more. The consumer
 * (bench/soak/consumer.ts) fails 10 % of attempts at random and a fixed 0.5 % of the events for good. Once the
 * queue drains it checks: every acknowledged event processed exactly once, or dead-lettered once with its
 * PermanentError if it is one of those; nothing processed that was not acknowledged; `hookline status` and
 * `hookline failed list` saying exactly that; then a redrive (after the consumer is "fixed") moving exactly the
 * dead letters back, each processed once.
 *
 * Usage: npx tsx bench/soak/soak.ts [N=10000]   (SOAK_KEEP=1 keeps its folder; it is kept anyway on a finding)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signWebhook } from '../../lambda/shared/webhook-signing';
import { resolveConfig } from '../../lib/config';
import { defaultDevSecret } from '../../lib/local/secrets';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { ROOT, runConcurrently } from '../_shared';
import { isPermanentFailure, soakEventId } from './ground-truth';
import soakConfig from './hookline.config';

const EVENTS = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = 8;
const CONFIG_FILE = join(ROOT, 'bench/soak/hookline.config.ts');
/** A sender gives an event up after this long without a 2xx (real senders retry for hours to days). */
const SENDER_GIVES_UP_MS = 300_000;
/** Faults, each once the sender has had this share of the events acknowledged. */
const FAULTS: readonly { at: number; signal: 'SIGTERM' | 'SIGKILL' }[] = [
  { at: 0.25, signal: 'SIGTERM' },
  { at: 0.5, signal: 'SIGKILL' },
  { at: 0.75, signal: 'SIGTERM' },
];

const dir = mkdtempSync(join(tmpdir(), 'hookline-soak-'));
const stateDir = join(dir, 'state');
const processedFile = join(dir, 'processed.txt');

/** A port nothing listens on now: local mode starts on the same one each time, as a sender's URL stays. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

/** One run of local mode, started as `npm start` starts it; its output goes to local-<run>.log. */
interface LocalRun {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

let runs = 0;
/** The run started last, stopped at once if the soak itself fails. */
let latest: ChildProcess | undefined;
async function startLocal(port: number): Promise<LocalRun> {
  runs += 1;
  const log = join(dir, `local-${runs}.log`);
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'bin/local.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOOKLINE_CONFIG: CONFIG_FILE,
      HOOKLINE_DATA_DIR: join(dir, 'data'),
      HOOKLINE_STATE_DIR: stateDir,
      HOOKLINE_LOG: 'json',
      PORT: String(port),
      SOAK_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  latest = child;
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  child.stderr?.on('data', (c: Buffer) => chunks.push(c));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      writeFileSync(log, Buffer.concat(chunks));
      resolve(code);
    }),
  );
  const stateFile = join(stateDir, 'local.json');
  const until = Date.now() + 120_000;
  while (!(existsSync(stateFile) && JSON.parse(readFileSync(stateFile, 'utf8')).pid === child.pid)) {
    if (Date.now() > until || child.exitCode !== null)
      throw new Error(`local mode run ${runs} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, exited };
}

/** Why the soak stopped sending early (a restart that failed): every send then gives up at once. */
let abandoned: unknown;

/** Which fault local mode is in (a stop, or the start after it), named on the sender's answers meanwhile. */
let phase = '';

/** What the sender saw. */
interface Sent {
  readonly acknowledged: Set<string>;
  /** Ids answered a 4xx other than 429, with the status: never expected of signed events. */
  readonly refused: Map<string, number>;
  /** Ids given up after SENDER_GIVES_UP_MS without a 2xx. */
  readonly givenUp: Set<string>;
  retries: number;
  /** Answers (HTTP statuses, else the connection error's code), counted by kind and by the phase they came in. */
  readonly statuses: Map<string, number>;
}

/** Posts event `id` signed as its sender signs it; resolves with the HTTP status, else the connection error's code. */
function signedPoster(port: number) {
  const config = resolveConfig(soakConfig);
  const source = config.sources.find((s) => s.name === 'generic');
  if (!source) throw new Error('the soak configuration has no generic source');
  const runtime = sourceRuntimeConfig(source, 'env:HOOKLINE_SECRET_GENERIC');
  const secret = defaultDevSecret(source);
  return async (id: string, n: number): Promise<string> => {
    const body = JSON.stringify({ id, type: 'soak.event', data: { n } });
    try {
      const response = await fetch(`http://127.0.0.1:${port}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signWebhook(runtime, secret, body) },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      return String(response.status);
    } catch (error) {
      return (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    }
  };
}

/** Sends event `n` until a 2xx, retrying 429, 5xx and connection failures with capped exponential backoff. */
async function sendOne(post: ReturnType<typeof signedPoster>, n: number, sent: Sent): Promise<void> {
  const id = soakEventId(n);
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    const status = await post(id, n);
    const kind = phase ? `${status} during ${phase}` : status;
    sent.statuses.set(kind, (sent.statuses.get(kind) ?? 0) + 1);
    if (/^2\d\d$/.test(status)) {
      sent.acknowledged.add(id);
      return;
    }
    if (/^4\d\d$/.test(status) && status !== '429') {
      sent.refused.set(id, Number(status));
      return;
    }
    if (Date.now() - started > SENDER_GIVES_UP_MS || abandoned) {
      sent.givenUp.add(id);
      return;
    }
    sent.retries += 1;
    const ceiling = Math.min(5_000, 100 * 2 ** attempt);
    await new Promise((r) => setTimeout(r, ceiling / 2 + Math.random() * (ceiling / 2)));
  }
}

/** Successful runs per id, from the consumer's file. */
function processedRuns(): Map<string, number[]> {
  const runsById = new Map<string, number[]>();
  if (!existsSync(processedFile)) return runsById;
  for (const line of readFileSync(processedFile, 'utf8').split('\n')) {
    const [id, , at] = line.split(' ');
    if (!id) continue;
    runsById.set(id, [...(runsById.get(id) ?? []), Number(at)]);
  }
  return runsById;
}

/** Runs `hookline <args> --local --json` against the running local mode; its parsed output. */
async function hookline<T>(
  args: readonly string[],
): Promise<{ code: number | null; json: T; stderr: string }> {
  const child = spawn(
    join(ROOT, 'node_modules/.bin/tsx'),
    ['bin/hookline.ts', ...args, '--local', '--json', '--config', CONFIG_FILE],
    { cwd: ROOT, env: { ...process.env, HOOKLINE_STATE_DIR: stateDir, NO_COLOR: '1' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    return { code, json: JSON.parse(stdout) as T, stderr };
  } catch {
    throw new Error(`hookline ${args.join(' ')} exited ${code} without JSON: ${stdout}${stderr}`);
  }
}

interface QueueStatus {
  visible: number;
  inFlight: number;
  delayed: number;
  deadLettered: number;
}

async function eventsStatus(): Promise<QueueStatus> {
  const { json } = await hookline<{ queues: ({ queue: string } & QueueStatus)[] }>(['status', 'events']);
  const events = json.queues.find((q) => q.queue === 'events');
  if (!events) throw new Error(`hookline status has no events queue: ${JSON.stringify(json)}`);
  return events;
}

/** Waits until the queue holds nothing visible, in flight or delayed, and no new run was recorded for 5 s. */
async function drain(since: number): Promise<QueueStatus> {
  let lastCount = -1;
  let quietSince = Date.now();
  for (;;) {
    const status = await eventsStatus();
    const count = [...processedRuns().values()].reduce((sum, r) => sum + r.length, 0);
    if (count !== lastCount) quietSince = Date.now();
    lastCount = count;
    console.log(`${elapsed(since)} draining: ${JSON.stringify(status)}, processed runs ${count}`);
    if (status.visible + status.inFlight + status.delayed === 0 && Date.now() - quietSince > 5_000) {
      return status;
    }
    await new Promise((r) => setTimeout(r, 3_000));
  }
}

/** A fault and what local mode did: the exit code of the run it ended, how long the pipeline was down. */
interface FaultRecord {
  readonly signal: string;
  /** When the signal was sent (epoch ms, the clock of the consumer's records). */
  readonly at: number;
  readonly atAcknowledged: number;
  readonly exitCode: number | null;
  readonly downMs: number;
}

/** Sends every event while the faults hit local mode as the acknowledged count passes their marks. */
async function sendWithFaults(port: number, first: LocalRun, since: number) {
  const sent: Sent = {
    acknowledged: new Set(),
    refused: new Map(),
    givenUp: new Set(),
    retries: 0,
    statuses: new Map(),
  };
  const post = signedPoster(port);
  let current = first;
  let sending = true;
  const faults: FaultRecord[] = [];
  const faulting = (async () => {
    for (const fault of FAULTS) {
      while (sending && sent.acknowledged.size < fault.at * EVENTS)
        await new Promise((r) => setTimeout(r, 50));
      if (!sending) return;
      const down = performance.now();
      const at = Date.now();
      const atAcknowledged = sent.acknowledged.size;
      console.log(`${elapsed(since)} fault: ${fault.signal} at ${atAcknowledged} acknowledged`);
      phase = `${fault.signal} stop`;
      current.child.kill(fault.signal);
      const exitCode = await current.exited;
      phase = `start after ${fault.signal}`;
      current = await startLocal(port);
      phase = '';
      faults.push({ signal: fault.signal, at, atAcknowledged, exitCode, downMs: performance.now() - down });
      console.log(`${elapsed(since)} restarted after ${fault.signal} (exit ${exitCode})`);
    }
  })().catch((error: unknown) => {
    abandoned = error;
  });
  const progress = setInterval(() => {
    const runsById = processedRuns();
    console.log(
      `${elapsed(since)} acknowledged ${sent.acknowledged.size}/${EVENTS}, sender retries ${sent.retries}, ` +
        `processed ${runsById.size}`,
    );
  }, 5_000);
  await runConcurrently(EVENTS, CONCURRENCY, (n) => sendOne(post, n, sent));
  sending = false;
  await faulting;
  clearInterval(progress);
  if (abandoned) throw abandoned;
  return { sent, faults, current: () => current };
}

interface DeadLetter {
  id: string;
  error?: string | null;
  failure: { failedAt?: string };
}

/** Dead letters by id, as `hookline failed list` shows them. */
async function deadLetters(): Promise<DeadLetter[]> {
  const { json } = await hookline<{ messages: DeadLetter[] }>([
    'failed',
    'list',
    'events',
    '--limit',
    String(EVENTS),
  ]);
  return json.messages;
}

/** A first run this close before a SIGKILL may have lost the write marking its idempotency key completed. */
const KILL_WINDOW_MS = 2_000;

/**
 * Acknowledged events never processed, and events processed more than once: `<id>×<runs>`, noting a first run
 * that ended less than KILL_WINDOW_MS before a SIGKILL. Those are the documented crash window (lib/local/README.md,
 * "Crash"): a kill between a handler's return and the write that marks its key completed runs it again.
 */
function tally(expectRun: readonly string[], runsById: Map<string, number[]>, kills: readonly number[]) {
  const gapToKill = (at: number) =>
    Math.min(...kills.map((kill) => (kill >= at ? kill - at : Number.POSITIVE_INFINITY)));
  const duplicated = [...runsById]
    .filter(([, r]) => r.length > 1)
    .map(([id, r]) => ({ id, runs: r.length, gapMs: gapToKill(r[0] ?? 0) }));
  const describe = (d: (typeof duplicated)[number]) =>
    `${d.id}×${d.runs}${d.gapMs < KILL_WINDOW_MS ? ` (first run ${d.gapMs} ms before a SIGKILL)` : ''}`;
  return {
    lost: expectRun.filter((id) => !runsById.has(id)),
    duplicated: duplicated.map(describe),
    duplicatedUnexplained: duplicated.filter((d) => d.gapMs >= KILL_WINDOW_MS).map(describe),
  };
}

/**
 * Dead letters beyond an event's first copy. A copy dead-lettered less than KILL_WINDOW_MS before a SIGKILL is the
 * documented crash window (lambda/consumer/README.md): killed between the DLQ send and the delete, the record comes
 * back and is dead-lettered again.
 */
function secondCopies(letters: readonly DeadLetter[], kills: readonly number[]) {
  const byId = new Map<string, number[]>();
  for (const l of letters) byId.set(l.id, [...(byId.get(l.id) ?? []), Date.parse(l.failure.failedAt ?? '')]);
  const explained: string[] = [];
  const unexplained: string[] = [];
  for (const [id, times] of byId) {
    for (const at of times.sort((a, b) => a - b).slice(0, -1)) {
      const killed = kills.some((kill) => kill >= at && kill - at < KILL_WINDOW_MS);
      (killed ? explained : unexplained).push(`${id} (a copy failed at ${new Date(at).toISOString()})`);
    }
  }
  return { explained, unexplained };
}

/** Every way the pipeline's end state differs from the ground truth, one line each. */
function compare(
  sent: Sent,
  runsById: Map<string, number[]>,
  letters: readonly DeadLetter[],
  status: QueueStatus,
  permanentFixed: boolean,
  kills: readonly number[],
): string[] {
  const findings: string[] = [];
  const expectDead = permanentFixed ? [] : [...sent.acknowledged].filter(isPermanentFailure);
  const expectRun = [...sent.acknowledged].filter((id) => permanentFixed || !isPermanentFailure(id));
  const { lost, duplicatedUnexplained } = tally(expectRun, runsById, kills);
  const wanted = new Set(expectRun);
  const unexpected = [...runsById.keys()].filter((id) => !wanted.has(id));
  const letterIds = letters.map((l) => l.id);
  const dead = new Set(expectDead);
  const missingDead = expectDead.filter((id) => !letterIds.includes(id));
  const extraDead = letterIds.filter((id) => !dead.has(id));
  const { unexplained: twiceDead } = secondCopies(letters, kills);
  const noReason = letters.filter((l) => !String(l.error ?? '').startsWith('PermanentError: soak:'));
  if (lost.length) findings.push(`lost (acknowledged, never processed): ${lost.join(' ')}`);
  if (duplicatedUnexplained.length)
    findings.push(`processed more than once, not by a kill: ${duplicatedUnexplained.join(' ')}`);
  if (unexpected.length) findings.push(`processed but not expected: ${unexpected.join(' ')}`);
  if (missingDead.length) findings.push(`not in failed list: ${missingDead.join(' ')}`);
  if (extraDead.length) findings.push(`in failed list unexpectedly: ${extraDead.join(' ')}`);
  if (twiceDead.length) findings.push(`in failed list twice, not by a kill: ${twiceDead.join(' ')}`);
  if (noReason.length) findings.push(`dead letters without their reason: ${JSON.stringify(noReason)}`);
  const expectLetters = expectDead.length + secondCopies(letters, kills).explained.length;
  if (status.deadLettered !== letters.length || letters.length !== expectLetters)
    findings.push(
      `status says ${status.deadLettered} dead-lettered, failed list shows ${letters.length}, expected ${expectLetters}`,
    );
  if (sent.refused.size) findings.push(`refused: ${JSON.stringify([...sent.refused])}`);
  if (sent.givenUp.size) findings.push(`sender gave up on: ${[...sent.givenUp].join(' ')}`);
  return findings;
}

/** Fixes the consumer, redrives the DLQ, and checks exactly the dead letters moved and ran once. */
async function redriveAndCheck(
  sent: Sent,
  before: readonly DeadLetter[],
  since: number,
  kills: readonly number[],
): Promise<{ moved: unknown; findings: string[] }> {
  writeFileSync(join(dir, 'fixed'), '');
  const redrive = await hookline<Record<string, unknown>>(['redrive', 'events']);
  console.log(`${elapsed(since)} redrive exited ${redrive.code}: ${JSON.stringify(redrive.json)}`);
  const status = await drain(since);
  const findings = compare(sent, processedRuns(), await deadLetters(), status, true, kills);
  if (redrive.code !== 0) findings.push(`redrive exited ${redrive.code}: ${redrive.stderr}`);
  const moved = [...((redrive.json.movedIds as string[] | undefined) ?? [])].sort();
  const expected = before.map((l) => l.id).sort();
  if (redrive.json.moved !== expected.length || moved.join() !== expected.join())
    findings.push(`redrive moved ${redrive.json.moved} (${moved.join(' ')}), expected ${expected.join(' ')}`);
  return { moved: redrive.json, findings };
}

async function main() {
  const since = performance.now();
  const port = await freePort();
  console.log(`soak: ${EVENTS} events, concurrency ${CONCURRENCY}, folder ${dir}, port ${port}`);
  const { sent, faults, current } = await sendWithFaults(port, await startLocal(port), since);
  const sentMs = performance.now() - since;
  console.log(`${elapsed(since)} sent: ${sent.acknowledged.size} acknowledged; draining`);
  const status = await drain(since);
  const drainedMs = performance.now() - since;
  const runsAtDrain = processedRuns();
  const letters = await deadLetters();
  const kills = faults.filter((f) => f.signal === 'SIGKILL').map((f) => f.at);
  const findings = compare(sent, runsAtDrain, letters, status, false, kills);
  const redrive = await redriveAndCheck(sent, letters, since, kills);
  const last = current();
  last.child.kill('SIGTERM');
  const lastExit = await last.exited;
  if (lastExit !== 0) findings.push(`the last stop exited ${lastExit}`);
  for (const fault of faults.filter((f) => f.signal === 'SIGTERM' && f.exitCode !== 0))
    findings.push(`SIGTERM at ${fault.atAcknowledged} exited ${fault.exitCode}`);
  const summary = {
    events: EVENTS,
    acknowledged: sent.acknowledged.size,
    senderStatuses: Object.fromEntries(sent.statuses),
    senderRetries: sent.retries,
    deadLettered: letters.length,
    faults,
    acknowledgedInSeconds: sentMs / 1000,
    drainedInSeconds: drainedMs / 1000,
    acknowledgedPerSecond: sent.acknowledged.size / (sentMs / 1000),
    processedPerSecond: runsAtDrain.size / (drainedMs / 1000),
    ...tally([...sent.acknowledged], processedRuns(), kills),
    deadLetteredTwiceByKill: secondCopies(letters, kills).explained,
    redrive: redrive.moved,
    findings: [...findings, ...redrive.findings.map((f) => `after redrive: ${f}`)],
  };
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(summary, null, 2));
  if (summary.findings.length === 0 && process.env.SOAK_KEEP !== '1') rmSync(dir, { recursive: true });
  else console.log(`kept ${dir}`);
  return summary.findings.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.error(`kept ${dir}`);
    latest?.kill('SIGKILL');
    process.exit(1);
  },
);
