/**
 * Realistic built-in webhook bodies per sender type, for `hookline send --sample`: what GitHub, Stripe, Slack,
 * Shopify, a Standard Webhooks sender or a generic service would post, with the event headers they add.
 * Every call gets a fresh delivery id, so repeated sends are not deduplicated away.
 */
import type { ResolvedSource } from '../config';

export interface SampleRequest {
  /** Raw body as posted. */
  readonly body: string;
  readonly contentType: string;
  /** Event headers the sender adds besides the signature (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** The event type the ingest function will derive. */
  readonly type: string;
}

export interface SampleOptions {
  /** Event type to use instead of the sample's own. */
  readonly type?: string;
  /** Delivery id. */
  readonly id: string;
  readonly now: Date;
}

/** The default event type of each sender's sample. */
export const SAMPLE_TYPES: Readonly<Record<ResolvedSource['type'], string>> = {
  github: 'push',
  stripe: 'invoice.paid',
  slack: 'app_mention',
  shopify: 'orders/create',
  'standard-webhooks': 'user.created',
  twilio: 'message.received',
  hmac: 'order.created',
  token: 'order.created',
  unverified: 'order.created',
};

/** Sets `value` at a dot path, creating objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next && typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    }
  }
  const last = parts[parts.length - 1];
  if (last) node[last] = value;
}

const json = (value: unknown) => JSON.stringify(value);
const epoch = (now: Date) => Math.floor(now.getTime() / 1000);

/** Builds the sample request a source of this type would receive. */
export function sampleRequest(source: ResolvedSource, options: SampleOptions): SampleRequest {
  const { id, now } = options;
  const iso = now.toISOString();
  switch (source.type) {
    case 'github': {
      const [event = 'push', ...rest] = (options.type ?? SAMPLE_TYPES.github).split('.');
      const action = rest.join('.');
      const body: Record<string, unknown> = {
        ref: 'refs/heads/main',
        before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
        repository: { id: 1296269, name: 'hello-world', full_name: 'octocat/hello-world', private: false },
        pusher: { name: 'octocat', email: 'octocat@github.com' },
        sender: { login: 'octocat', id: 1, type: 'User' },
        head_commit: {
          id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
          message: 'Fix the widget',
          timestamp: iso,
          author: { name: 'Monalisa Octocat', email: 'octocat@github.com' },
        },
        ...(action ? { action } : {}),
      };
      return {
        body: json(body),
        contentType: 'application/json',
        headers: {
          'x-github-event': event,
          'x-github-hook-id': '123456789',
          'user-agent': 'GitHub-Hookshot/hookline',
        },
        type: action ? `${event}.${action}` : event,
      };
    }
    case 'stripe': {
      const type = options.type ?? SAMPLE_TYPES.stripe;
      const body = {
        id: `evt_${id.replaceAll('-', '').slice(0, 24)}`,
        object: 'event',
        api_version: '2025-09-30.clover',
        created: epoch(now),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
        data: {
          object: {
            id: 'in_1QhookLineSample',
            object: 'invoice',
            amount_due: 2000,
            amount_paid: 2000,
            currency: 'usd',
            customer: 'cus_hooklineSample',
            status: 'paid',
          },
        },
      };
      return {
        body: json(body),
        contentType: 'application/json',
        headers: { 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        type,
      };
    }
    case 'slack': {
      const type = options.type ?? SAMPLE_TYPES.slack;
      const body = {
        token: 'verification-token-unused',
        team_id: 'T0001',
        api_app_id: 'A0001',
        type: 'event_callback',
        event_id: `Ev${id.replaceAll('-', '').slice(0, 10).toUpperCase()}`,
        event_time: epoch(now),
        event: {
          type,
          user: 'U0001',
          text: '<@U0BOT> deploy please',
          ts: `${epoch(now)}.000100`,
          channel: 'C0001',
        },
      };
      return {
        body: json(body),
        contentType: 'application/json',
        headers: { 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
        type,
      };
    }
    case 'shopify': {
      const type = options.type ?? SAMPLE_TYPES.shopify;
      const body = {
        id: 820982911946154500,
        admin_graphql_api_id: 'gid://shopify/Order/820982911946154508',
        email: 'jon@example.com',
        created_at: iso,
        currency: 'USD',
        total_price: '398.00',
        financial_status: 'paid',
        line_items: [{ id: 866550311766439000, title: 'IPod Nano - 8GB', quantity: 1, price: '199.00' }],
      };
      return {
        body: json(body),
        contentType: 'application/json',
        headers: {
          'x-shopify-topic': type,
          'x-shopify-shop-domain': 'hookline-sample.myshopify.com',
          'x-shopify-api-version': '2025-10',
          'x-shopify-triggered-at': iso,
          'x-shopify-event-id': id,
        },
        type,
      };
    }
    case 'standard-webhooks': {
      const type = options.type ?? SAMPLE_TYPES['standard-webhooks'];
      const body = {
        type,
        timestamp: iso,
        data: { id: 'user_2hookline', email: 'ada@example.com', name: 'Ada' },
      };
      return { body: json(body), contentType: 'application/json', headers: {}, type };
    }
    case 'twilio': {
      const params = new URLSearchParams({
        MessageSid: `SM${id.replaceAll('-', '').slice(0, 32)}`,
        AccountSid: 'AC00000000000000000000000000000000',
        From: '+15005550006',
        To: '+15005550001',
        Body: 'Hello from hookline',
        NumMedia: '0',
      });
      return {
        body: params.toString(),
        contentType: 'application/x-www-form-urlencoded',
        headers: {},
        type: 'message',
      };
    }
    case 'hmac':
    case 'token':
    case 'unverified': {
      const type = options.type ?? SAMPLE_TYPES[source.type];
      const body: Record<string, unknown> = {
        data: { orderId: 'ord_1001', amount: 4200, currency: 'EUR' },
        createdAt: iso,
      };
      setPath(body, source.idPath ?? 'id', id);
      setPath(body, source.typePath ?? 'type', type);
      const headers: Record<string, string> = {};
      if (source.typeHeader) headers[source.typeHeader.toLowerCase()] = type;
      if (source.idHeader) headers[source.idHeader.toLowerCase()] = id;
      // Without a type location the ingest records "unknown": say so rather than the sample's own type.
      const derived = source.typeHeader || source.typePath ? type : 'unknown';
      return { body: json(body), contentType: 'application/json', headers, type: derived };
    }
  }
}

/**
 * Why `--type` cannot be honoured for this source, or undefined when it can: the type must land where the
 * ingest reads it (`lambda/ingest/normalize.ts`). A sample can carry it in its body or headers; a file body is
 * sent as-is, so only a type header can carry it then.
 */
export function typeOverrideProblem(source: ResolvedSource, type: string, file: boolean): string | undefined {
  if (type.trim() === '') return '--type must not be empty: give an event type, or leave --type out';
  const where = `source ${source.name} (${source.type})`;
  switch (source.type) {
    case 'twilio':
      return `--type is not supported for ${where}: Twilio's type comes from the form's MessageSid/CallSid and status parameters; send a --file with those instead`;
    case 'github':
      return file && type.includes('.')
        ? `--type ${type} for ${where} with --file: only the x-github-event header (e.g. --type issues) can be set; the action comes from the file's "action" field`
        : undefined;
    case 'shopify':
      return undefined;
    case 'hmac':
    case 'token':
    case 'unverified':
      if (source.typeHeader) return undefined;
      if (!source.typePath)
        return `--type is not supported for ${where}: it configures neither typeHeader nor typePath, so the ingest records every event as "unknown"`;
      return file
        ? `--type cannot be set with --file for ${where}: the type is read from the body at ${source.typePath}; edit the file`
        : undefined;
    default:
      return file
        ? `--type cannot be set with --file for ${where}: ${source.type} carries the event type in the body; edit the file`
        : undefined;
  }
}

/** Headers that name the event type for a file body (`--file` with `--type`), where the sender uses headers. */
export function typeHeadersFor(source: ResolvedSource, type: string | undefined): Record<string, string> {
  switch (source.type) {
    case 'github':
      return { 'x-github-event': (type ?? SAMPLE_TYPES.github).split('.')[0] ?? 'push' };
    case 'shopify':
      return { 'x-shopify-topic': type ?? SAMPLE_TYPES.shopify };
    case 'hmac':
    case 'token':
    case 'unverified':
      return source.typeHeader && type ? { [source.typeHeader.toLowerCase()]: type } : {};
    default:
      return {};
  }
}
