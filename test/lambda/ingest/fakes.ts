/** In-memory collaborators and event builders for driving the ingest core without any SDK. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type {
  ClaimResult,
  DedupeStore,
  IngestCollaborators,
  MetricName,
  OutgoingMessage,
  PayloadObject,
} from '../../../lambda/ingest/core';
import {
  type DeadlineWatch,
  ringDue,
  type WatchedDeadline,
} from '../../../lambda/shared/invocation-deadline';
import type { IngestRuntimeConfig, SourceRuntimeConfig } from '../../../lambda/shared/runtime-config';
import { signWebhook } from '../../../lambda/shared/webhook-signing';

export const SECRETS: Record<string, string> = {
  github: 'gh-secret',
  stripe: 'whsec_stripe',
  slack: 'slack-secret',
  shopify: 'shop-secret',
  standard: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  twilio: 'twilio-token',
  generic: 'generic-secret',
  token: 'token-secret',
};

/** A configuration with one source of every type and a standard and a FIFO queue. */
export function testConfig(overrides: Partial<IngestRuntimeConfig> = {}): IngestRuntimeConfig {
  return {
    sources: {
      github: { type: 'github', secretId: 'env:GITHUB' },
      stripe: { type: 'stripe', secretId: 'env:STRIPE', toleranceSeconds: 300 },
      slack: { type: 'slack', secretId: 'env:SLACK', toleranceSeconds: 300 },
      shopify: { type: 'shopify', secretId: 'env:SHOPIFY' },
      standard: { type: 'standard-webhooks', secretId: 'env:STANDARD', toleranceSeconds: 300 },
      twilio: { type: 'twilio', secretId: 'env:TWILIO', publicUrl: 'https://hooks.example.com/prod' },
      generic: {
        type: 'hmac',
        secretId: 'env:GENERIC',
        header: 'x-signature',
        algorithm: 'sha256',
        encoding: 'hex',
        prefix: 'sha256=',
        signedContent: '{body}',
        idPath: 'id',
        typePath: 'type',
      },
      token: {
        type: 'token',
        secretId: 'env:TOKEN',
        scheme: 'header',
        header: 'authorization',
        idHeader: 'x-request-id',
      },
      open: { type: 'unverified', typeHeader: 'x-event' },
    },
    queues: {
      events: { url: 'http://sqs.local/events', fifo: false },
      audit: { url: 'http://sqs.local/audit', fifo: false },
      orders: {
        url: 'http://sqs.local/orders.fifo',
        fifo: true,
        grouping: { by: 'path', path: 'customer.id' },
      },
    },
    routes: [
      { source: 'shopify', type: 'orders/*', queues: ['orders'], ignore: false },
      { source: 'github', type: 'watch', queues: [], ignore: true },
      { source: 'stripe', type: 'invoice.*', queues: ['events', 'audit'], ignore: false },
    ],
    defaultRoute: { queues: ['events'], ignore: false },
    dedupe: { tableName: 'dedupe', ttlSeconds: 259_200 },
    payloads: { bucket: 'payloads', inlineLimitBytes: 1_032_192 },
    keepHeaders: [
      'content-type',
      'x-github-event',
      'x-github-delivery',
      'x-hub-signature-256',
      'authorization',
    ],
    secretCacheSeconds: 300,
    ...overrides,
  };
}

/** Dedupe with the same lease semantics as the DynamoDB store. */
export class MemoryDedupe implements DedupeStore {
  readonly records = new Map<string, { status: 'pending' | 'queued'; token: string; leaseUntil: number }>();
  failClaims = false;
  constructor(
    private readonly now: () => number,
    private readonly leaseMs = 30_000,
  ) {}
  async claim(key: string): Promise<ClaimResult> {
    if (this.failClaims) throw new Error('dynamodb unavailable');
    const existing = this.records.get(key);
    if (existing?.status === 'queued') return { status: 'duplicate' };
    if (existing && existing.leaseUntil > this.now()) return { status: 'in_progress' };
    const token = `t${Math.random()}`;
    this.records.set(key, { status: 'pending', token, leaseUntil: this.now() + this.leaseMs });
    return { status: 'claimed', token, generation: token };
  }
  async complete(key: string, token: string) {
    const existing = this.records.get(key);
    if (existing?.token === token) existing.status = 'queued';
  }
  async release(key: string, token: string) {
    if (this.records.get(key)?.token === token) this.records.delete(key);
  }
}

/** The request deadlines' watch, checked when the test says (the real one checks on a timer). */
export class FakeDeadlineWatch implements DeadlineWatch {
  readonly watched = new Set<WatchedDeadline>();
  watch(deadline: WatchedDeadline) {
    this.watched.add(deadline);
    return () => {
      this.watched.delete(deadline);
    };
  }
  /** One check of the watch: rings every request whose deadline is due; true when one rang. */
  check(): boolean {
    return ringDue(this.watched);
  }
}

/** A collaborator call the test holds until it opens (or fails) the gate: a dependency that hangs. */
export type HeldStep = 'secrets' | 'claim' | 'payload' | 'enqueue' | 'complete' | 'release';

/** Holds the calls of one step until the test opens or fails it; later calls pass straight through. */
export class Gate {
  readonly #opened: Promise<void>;
  #open!: () => void;
  #fail!: (error: Error) => void;
  #settled = false;
  /** Calls that reached the gate. */
  arrived = 0;
  constructor() {
    this.#opened = new Promise((resolve, reject) => {
      this.#open = resolve;
      this.#fail = reject;
    });
    this.#opened.catch(() => {});
  }
  pass(): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.arrived += 1;
    return this.#opened;
  }
  /** The held calls go on. */
  open(): void {
    this.#settled = true;
    this.#open();
  }
  /** The held calls fail with `message`. */
  fail(message = 'hung call gave up'): void {
    this.#settled = true;
    this.#fail(new Error(message));
  }
}

export interface Harness {
  readonly deps: IngestCollaborators;
  /** The request deadlines' watch: `check()` rings those due on the harness's clock. */
  readonly deadline: FakeDeadlineWatch;
  /** Makes `step` hang from now on, until the returned gate is opened or failed. */
  hold(step: HeldStep): Gate;
  readonly sent: OutgoingMessage[];
  readonly payloads: PayloadObject[];
  readonly logs: { level: string; message: string; attributes: Record<string, unknown> }[];
  readonly metrics: { name: MetricName | 'EnqueueLatency'; reason?: string; milliseconds?: number }[];
  /** Each signature verdict counted for a source (the rotated-secret alarm's metric). */
  readonly signatureVerdicts: { source: string; matched: boolean }[];
  readonly dedupe: MemoryDedupe;
  clock: number;
  /** How far the clock moves while one SendMessage is answered, and while the secrets load. */
  sendMs: number;
  secretsMs: number;
  /** Queue names whose SendMessage fails. */
  failingQueues: Set<string>;
  failPayloads: boolean;
  failSecrets: boolean;
  /** Per-secret-id override of the active secrets. */
  secrets: Record<string, string[]>;
  /** The single `webhook outcome` line of the last request. */
  outcome(): Record<string, unknown>;
}

/** Default test time: 2026-11-25T12:00:00Z. */
export const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

export function harness(config: IngestRuntimeConfig = testConfig()): Harness {
  const h: Harness = {
    sent: [],
    payloads: [],
    logs: [],
    metrics: [],
    signatureVerdicts: [],
    clock: NOW_MS,
    sendMs: 0,
    secretsMs: 0,
    failingQueues: new Set(),
    failPayloads: false,
    failSecrets: false,
    secrets: {},
    dedupe: undefined as unknown as MemoryDedupe,
    deadline: undefined as unknown as FakeDeadlineWatch,
    hold: undefined as unknown as Harness['hold'],
    deps: undefined as unknown as IngestCollaborators,
    outcome() {
      const lines = h.logs.filter((l) => l.message === 'webhook outcome');
      const last = lines.at(-1);
      if (!last) throw new Error('no webhook outcome logged');
      return last.attributes;
    },
  };
  let counter = 0;
  const dedupe = new MemoryDedupe(() => h.clock);
  const deadline = new FakeDeadlineWatch();
  const gates: Partial<Record<HeldStep, Gate>> = {};
  const held = async (step: HeldStep) => {
    await gates[step]?.pass();
  };
  Object.assign(h, {
    dedupe,
    deadline,
    hold: (step: HeldStep) => {
      const gate = new Gate();
      gates[step] = gate;
      return gate;
    },
    deps: {
      config,
      async enqueue(message: OutgoingMessage) {
        await Promise.resolve();
        await held('enqueue');
        h.clock += h.sendMs;
        if (h.failingQueues.has(message.queue)) throw new Error(`SendMessage to ${message.queue} failed`);
        // What SQS refuses in a body (and, stricter, the local emulator: nothing beyond U+FFFF) and in a string
        // attribute (the body's rule, U+10000 and up allowed; the emulator checks no attribute): a message the
        // real queue would reject.
        const refused = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd]/;
        const refusedInAttribute = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
        if (
          refused.test(message.body) ||
          Object.values(message.attributes).some((v) => refusedInAttribute.test(v) || v === '')
        ) {
          throw new Error('InvalidMessageContents');
        }
        if (Buffer.byteLength(message.body) > 1_048_576) throw new Error('message too long');
        h.sent.push(message);
      },
      async putPayload(object: PayloadObject) {
        await held('payload');
        if (h.failPayloads) throw new Error('s3 unavailable');
        h.payloads.push(object);
      },
      dedupe: {
        claim: async (key: string) => {
          await held('claim');
          return dedupe.claim(key);
        },
        complete: async (key: string, token: string) => {
          await held('complete');
          return dedupe.complete(key, token);
        },
        release: async (key: string, token: string) => {
          await held('release');
          return dedupe.release(key, token);
        },
      },
      async loadSecrets(secretId: string) {
        await held('secrets');
        h.clock += h.secretsMs;
        if (h.failSecrets) throw new Error('secrets manager unavailable');
        const override = h.secrets[secretId];
        if (override) return override;
        const name = secretId.replace(/^env:/, '').toLowerCase();
        const secret = SECRETS[name];
        if (secret === undefined) throw new Error(`no secret ${secretId}`);
        return [secret];
      },
      now: () => h.clock,
      deadlines: deadline,
      newId: () => `new-${++counter}`,
      log: {
        info: (message: string, attributes: Record<string, unknown>) =>
          h.logs.push({ level: 'info', message, attributes }),
        warn: (message: string, attributes: Record<string, unknown>) =>
          h.logs.push({ level: 'warn', message, attributes }),
        error: (message: string, attributes: Record<string, unknown>) =>
          h.logs.push({ level: 'error', message, attributes }),
      },
      metrics: {
        count: (name: MetricName, reason?: string) => h.metrics.push({ name, ...(reason ? { reason } : {}) }),
        enqueueLatency: (milliseconds: number) => h.metrics.push({ name: 'EnqueueLatency', milliseconds }),
        signatureChecked: (source: string, matched: boolean) => h.signatureVerdicts.push({ source, matched }),
      },
    } satisfies IngestCollaborators,
  });
  return h;
}

export interface EventOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  base64?: boolean;
  rawQueryString?: string;
  path?: string;
}

/** An HTTP API payload v2 event for `POST /webhooks/<source>`. */
export function apiEvent(source: string, options: EventOptions = {}): APIGatewayProxyEventV2 {
  const raw = options.body ?? '';
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const base64 = options.base64 ?? typeof raw !== 'string';
  const rawPath = options.path ?? `/webhooks/${source}`;
  return {
    version: '2.0',
    routeKey: 'ANY /webhooks/{source}',
    rawPath,
    rawQueryString: options.rawQueryString ?? '',
    headers: options.headers ?? {},
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: options.method ?? 'POST',
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 't',
      },
      requestId: 'r',
      routeKey: 'ANY /webhooks/{source}',
      stage: '$default',
      time: '25/Nov/2026:12:00:00 +0000',
      timeEpoch: NOW_MS,
    },
    pathParameters: { source },
    isBase64Encoded: base64,
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
  };
}

/** A correctly signed request for a configured source. */
export function signedEvent(
  config: IngestRuntimeConfig,
  source: string,
  body: string | Buffer,
  options: EventOptions & { id?: string; now?: number; contentType?: string; url?: string } = {},
): APIGatewayProxyEventV2 {
  const sourceConfig = config.sources[source] as SourceRuntimeConfig;
  const secret = SECRETS[source] ?? '';
  const query = options.rawQueryString ? `?${options.rawQueryString}` : '';
  const signed = signWebhook(sourceConfig, secret, body, {
    now: new Date(options.now ?? NOW_MS),
    url: options.url ?? `https://hooks.example.com/prod/webhooks/${source}${query}`,
    ...(options.id !== undefined ? { id: options.id } : {}),
  });
  return apiEvent(source, {
    ...options,
    body,
    headers: { 'content-type': options.contentType ?? 'application/json', ...signed, ...options.headers },
  });
}
