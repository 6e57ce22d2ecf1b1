import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import config from '../../hookline.config';
import { describeEvent } from '../../lambda/ingest/normalize';
import { verifyRequest } from '../../lambda/ingest/verify';
import { twilioBodySha256 } from '../../lambda/shared/webhook-signing';
import type { HttpFetch } from '../../lib/cli/backend';
import { BackendError, CliError, CredentialsError } from '../../lib/cli/errors';
import { SAMPLE_TYPES, sampleRequest } from '../../lib/cli/samples';
import { sendFailureHint, sendWebhook } from '../../lib/cli/send';
import type { LocalTarget } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';
import { defaultDevSecret } from '../../lib/local/secrets';
import { sourceRuntimeConfig } from '../../lib/runtime-wiring';
import { awsError, fakeClock, stackTarget, testBackend } from './helpers';

const lambda = mockClient(LambdaClient);
const secrets = mockClient(SecretsManagerClient);
beforeEach(() => {
  lambda.reset();
  secrets.reset();
});

const resolved = resolveConfig({
  ...config,
  sources: {
    ...config.sources,
    tokens: { type: 'token', typeHeader: 'x-event-type', idPath: 'meta.id' },
    sms: { type: 'twilio' },
    untyped: { type: 'hmac', header: 'x-signature', algorithm: 'sha256', encoding: 'hex' },
  },
});
const localTarget = {
  kind: 'local',
  description: 'local mode',
  webhookBaseUrl: 'http://127.0.0.1:3000',
} as LocalTarget;

interface Captured {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: Buffer;
}
function capture(status = 202, answer = '{"id":"evt-123"}'): { http: HttpFetch; requests: Captured[] } {
  const requests: Captured[] = [];
  return {
    requests,
    http: async (url, init) => {
      const body = init?.body;
      requests.push({
        url,
        method: init?.method,
        headers: init?.headers as Record<string, string>,
        body: body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(String(body)),
      });
      return new Response(answer, { status });
    },
  };
}

describe('send', () => {
  it.each(resolved.sources.map((s) => s.name))(
    'signs a sample for %s that the ingest verifier accepts',
    async (name) => {
      const source = resolved.sources.find((s) => s.name === name);
      if (!source) throw new Error('no source');
      const { http, requests } = capture();
      const clock = fakeClock(Date.now());
      const result = await sendWebhook({ http, clock }, localTarget, resolved, { source: name }, {});

      expect(result).toMatchObject({
        source: name,
        status: 202,
        ok: true,
        id: 'evt-123',
        secretFrom: 'development default',
      });
      expect(result).not.toHaveProperty('response');
      const request = requests[0];
      if (!request) throw new Error('no request');
      expect(request.url).toBe(`http://127.0.0.1:3000/webhooks/${name}`);
      const runtime = sourceRuntimeConfig(source, 'env:x');
      const verdict = verifyRequest(
        runtime,
        { headers: request.headers, body: request.body, url: request.url },
        [defaultDevSecret(source)],
        clock.now(),
      );
      expect(verdict).toEqual({ ok: true });
      const described = describeEvent(runtime, request.headers, request.body);
      expect(described.ok && described.type).toBe(result.type ?? 'unknown');
    },
  );

  it('signs a Twilio source with a publicUrl for that URL, the one the ingest checks, not the one posted to', async () => {
    const withPublicUrl = resolveConfig({
      ...config,
      sources: { ...config.sources, sms: { type: 'twilio', publicUrl: 'https://hooks.example.com/' } },
    });
    const source = withPublicUrl.sources.find((s) => s.name === 'sms');
    if (!source) throw new Error('no source');
    const { http, requests } = capture();
    const clock = fakeClock(Date.now());
    await sendWebhook({ http, clock }, localTarget, withPublicUrl, { source: 'sms' }, {});
    const request = requests[0];
    if (!request) throw new Error('no request');
    expect(request.url).toBe('http://127.0.0.1:3000/webhooks/sms');
    const verdictFor = (url: string) =>
      verifyRequest(
        sourceRuntimeConfig(source, 'env:x'),
        { headers: request.headers, body: request.body, url },
        [defaultDevSecret(source)],
        clock.now(),
      );
    expect(verdictFor('https://hooks.example.com/webhooks/sms')).toEqual({ ok: true });
    expect(verdictFor(request.url).ok).toBe(false);
  });

  it("shows the event id of a Twilio source from X-Hookline-Id, Twilio's answer being TwiML", async () => {
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
    const http: HttpFetch = async () =>
      new Response(twiml, {
        status: 200,
        headers: { 'content-type': 'text/xml', 'x-hookline-id': 'SM1:sent' },
      });
    const result = await sendWebhook(
      { http, clock: fakeClock() },
      localTarget,
      resolved,
      { source: 'sms' },
      {},
    );
    expect(result).toMatchObject({ status: 200, ok: true, id: 'SM1:sent' });
    expect(result).not.toHaveProperty('response');
  });

  it('refuses a --url that is not an http(s) URL before posting anything', async () => {
    const { http, requests } = capture();
    for (const url of ['not-a-url', 'ftp://127.0.0.1/webhooks/github']) {
      await expect(
        sendWebhook({ http, clock: fakeClock() }, localTarget, resolved, { source: 'github', url }, {}),
      ).rejects.toThrow(/^--url ".*" is not an http\(s\) URL: pass the webhook URL/);
    }
    expect(requests).toHaveLength(0);
  });

  it('blames the --url, not local mode, when the URL does not answer', async () => {
    const http: HttpFetch = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    };
    const sent = sendWebhook(
      { http, clock: fakeClock() },
      localTarget,
      resolved,
      { source: 'github', url: 'http://127.0.0.1:3399/x' },
      {},
    );
    // An error instance, not a string: toThrow(string) also passes when the promise rejects with undefined.
    await expect(sent).rejects.toThrow(
      new CliError(
        'cannot send to --url http://127.0.0.1:3399/x (ECONNREFUSED): check the URL and that it is listening',
      ),
    );
  });

  it('uses --type for the sample, as the sender would carry it', async () => {
    const { http, requests } = capture();
    for (const [source, type] of [
      ['github', 'issues.opened'],
      ['stripe', 'invoice.payment_failed'],
      ['shopify', 'orders/paid'],
      ['tokens', 'order.shipped'],
    ] as const) {
      const result = await sendWebhook(
        { http, clock: fakeClock() },
        localTarget,
        resolved,
        { source, type },
        {},
      );
      expect(result.type).toBe(type);
      const configured = resolved.sources.find((s) => s.name === source);
      if (!configured) throw new Error(`no source ${source}`);
      const runtime = sourceRuntimeConfig(configured, 'x');
      const request = requests.at(-1);
      const described = request && describeEvent(runtime, request.headers, request.body);
      expect(described?.ok && described.type).toBe(type);
    }
  });

  describe.each([
    ['a sample', false],
    ['a file', true],
  ])(
    '--type with %s is honoured where the sender carries it, otherwise refused naming the source type',
    (_, withFile) => {
      it.each(resolved.sources.map((s) => s.name))('%s', async (name) => {
        const source = resolved.sources.find((s) => s.name === name);
        if (!source) throw new Error('no source');
        const dir = mkdtempSync(join(tmpdir(), 'hookline-send-type-'));
        try {
          const file = join(dir, 'body.json');
          writeFileSync(file, JSON.stringify({ id: 'file-1', type: 'from.file', action: 'opened' }));
          const { http, requests } = capture();
          const type = 'custom.event';
          const sent = sendWebhook(
            { http, clock: fakeClock(Date.now()) },
            localTarget,
            resolved,
            { source: name, type, ...(withFile ? { file } : {}) },
            {},
          );
          const outcome = await sent.then(
            (result) => result,
            (error: Error) => error,
          );
          if (outcome instanceof Error) {
            expect(outcome.message).toContain(`(${source.type})`);
            expect(requests).toEqual([]);
            return;
          }
          const request = requests[0];
          if (!request) throw new Error('no request');
          const described = describeEvent(sourceRuntimeConfig(source, 'x'), request.headers, request.body);
          // GitHub with a file: only the event header is set, the action comes from the file.
          const expected = source.type === 'github' && withFile ? 'custom.opened' : type;
          expect(described.ok && described.type).toBe(expected);
          // The result names the type the ingest derives from what was sent, a file's as a sample's.
          expect(outcome.type).toBe(expected);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    },
  );

  /** Sends `body` from a file as `source` with `options`, returning the result and the one request made. */
  async function sendFile(
    source: string,
    body: string,
    options: { type?: string; contentType?: string } = {},
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-send-file-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'body');
    writeFileSync(file, body);
    const { http, requests } = capture();
    const result = await sendWebhook(
      { http, clock: fakeClock(Date.now()) },
      localTarget,
      resolved,
      { source, file, ...options },
      {},
    );
    const request = requests[0];
    if (!request) throw new Error('no request');
    const settings = resolved.sources.find((s) => s.name === source);
    if (!settings) throw new Error('no source');
    const described = describeEvent(sourceRuntimeConfig(settings, 'x'), request.headers, request.body);
    return { result, described };
  }

  it('names the type the ingest derives from a form-encoded file, read as its --content-type says', async () => {
    const payload = encodeURIComponent(JSON.stringify({ action: 'opened', issue: { number: 1 } }));
    const { result, described } = await sendFile('github', `payload=${payload}`, {
      type: 'issues',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(described.ok && described.type).toBe('issues.opened');
    expect(result.type).toBe('issues.opened');
  });

  it('names the type of a file as the ingest stores it, its control characters replaced', async () => {
    const { result } = await sendFile(
      'stripe',
      JSON.stringify({ id: 'evt_1', type: 'charge\u0001succeeded' }),
    );
    expect(result.type).toBe('charge_succeeded');
  });

  it('refuses an empty --type instead of ignoring it', async () => {
    const { http, requests } = capture();
    await expect(
      sendWebhook({ http, clock: fakeClock() }, localTarget, resolved, { source: 'stripe', type: '' }, {}),
    ).rejects.toThrow(/--type must not be empty/);
    expect(requests).toEqual([]);
  });

  it.each([
    ['github', '注文.作成', 'x-github-event'],
    ['shopify', 'orders/line\nbreak', 'x-shopify-topic'],
  ])(
    'refuses a --type the %s header cannot carry, naming the header and the fix, before posting anything',
    async (source, type, header) => {
      const { http, requests } = capture();
      const sent = sendWebhook({ http, clock: fakeClock() }, localTarget, resolved, { source, type }, {});
      await expect(sent).rejects.toThrow(CliError);
      await expect(sent).rejects.toThrow(
        `--type ${JSON.stringify(type)} cannot be sent for source ${source}: it travels in the ${header} header, which holds no line break and no character above U+00FF; give a type without them`,
      );
      expect(requests).toEqual([]);
    },
  );

  it.each([
    ['an --id', { source: 'github', id: '注文-1' }, '--id "注文-1"', 'x-github-delivery'],
    [
      'a --content-type',
      { source: 'generic', contentType: 'text/注文' },
      '--content-type "text/注文"',
      'content-type',
    ],
  ])(
    'refuses %s a header cannot carry, naming the flag, its value and the header, before posting anything',
    async (_, options, named, header) => {
      const dir = mkdtempSync(join(tmpdir(), 'hookline-send-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'body.json');
      writeFileSync(file, '{"id":"evt-1","type":"order.created"}');
      const { http, requests } = capture();
      const sent = sendWebhook(
        { http, clock: fakeClock() },
        localTarget,
        resolved,
        { ...options, ...('contentType' in options ? { file } : {}) },
        {},
      );
      await expect(sent).rejects.toThrow(CliError);
      await expect(sent).rejects.toThrow(
        `${named} cannot be sent for source ${options.source}: it travels in the ${header} header, which holds no line break and no character above U+00FF; give a value without them`,
      );
      expect(requests).toEqual([]);
    },
  );

  it('sends an --id in any script for a sender that carries it in the body', async () => {
    const { http, requests } = capture();
    const result = await sendWebhook(
      { http, clock: fakeClock() },
      localTarget,
      resolved,
      { source: 'stripe', id: '注文-1' },
      {},
    );
    expect(result.ok).toBe(true);
    expect(requests).toHaveLength(1);
    expect(Buffer.from(requests[0]?.body ?? '').toString('utf8')).toContain('evt_注文1');
  });

  it('sends a --type in any script for a sender that carries it in the body', async () => {
    const { http, requests } = capture();
    const result = await sendWebhook(
      { http, clock: fakeClock() },
      localTarget,
      resolved,
      { source: 'stripe', type: '注文.作成' },
      {},
    );
    expect(result.type).toBe('注文.作成');
    expect(requests).toHaveLength(1);
  });

  it('sends a Twilio JSON file as Twilio does, with its SHA-256 in the URL it signs, and a form file without', async () => {
    const withPublicUrl = resolveConfig({
      ...config,
      sources: {
        ...config.sources,
        sms: { type: 'twilio' },
        pub: { type: 'twilio', publicUrl: 'https://hooks.example.com' },
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'hookline-send-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const json = join(dir, 'status.json');
    writeFileSync(json, '{"MessageSid":"SM1","MessageStatus":"sent"}');
    const form = join(dir, 'status.form');
    writeFileSync(form, 'MessageSid=SM1&MessageStatus=sent');
    const cases = [
      { source: 'sms', file: json, contentType: undefined, signedBase: 'http://127.0.0.1:3000' },
      { source: 'pub', file: json, contentType: undefined, signedBase: 'https://hooks.example.com' },
      {
        source: 'sms',
        file: form,
        contentType: 'application/x-www-form-urlencoded',
        signedBase: 'http://127.0.0.1:3000',
      },
    ];
    for (const { source: name, file, contentType, signedBase } of cases) {
      const source = withPublicUrl.sources.find((s) => s.name === name);
      if (!source) throw new Error(`no ${name}`);
      const { http, requests } = capture();
      const clock = fakeClock(Date.now());
      const options = { source: name, file, ...(contentType ? { contentType } : {}) };
      const result = await sendWebhook({ http, clock }, localTarget, withPublicUrl, options, {});
      const request = requests[0];
      if (!request) throw new Error('no request');
      const search = new URL(request.url).search;
      expect(result.url).toBe(request.url);
      if (contentType) expect(search).toBe('');
      else expect(search).toBe(`?bodySHA256=${twilioBodySha256(request.body)}`);
      const verdict = verifyRequest(
        sourceRuntimeConfig(source, 'env:x'),
        { headers: request.headers, body: request.body, url: `${signedBase}/webhooks/${name}${search}` },
        [defaultDevSecret(source)],
        clock.now(),
      );
      expect(verdict).toEqual({ ok: true });
    }
  });

  it('sends a file as-is with the secret from the environment, to the deployed webhook URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-send-'));
    try {
      const file = join(dir, 'push.json');
      writeFileSync(file, '{"ref":"refs/heads/x"}');
      const { http, requests } = capture();
      const result = await sendWebhook(
        { http, clock: fakeClock() },
        stackTarget(),
        resolved,
        { source: 'github', file },
        {
          HOOKLINE_SECRET_GITHUB: 'prod-secret',
        },
      );
      expect(result).toMatchObject({
        secretFrom: 'environment',
        url: 'https://abc.execute-api.us-east-1.amazonaws.com/webhooks/github',
        type: 'push',
      });
      expect(requests[0]?.method).toBe('POST');
      expect(requests[0]?.headers['content-type']).toBe('application/json');
      expect(requests[0]?.body.toString()).toBe('{"ref":"refs/heads/x"}');
      expect(requests[0]?.headers['x-github-event']).toBe('push');
      const github = resolved.sources.find((s) => s.name === 'github');
      if (!github) throw new Error('no github');
      const verdict = verifyRequest(
        sourceRuntimeConfig(github, 'x'),
        { headers: requests[0]?.headers ?? {}, body: requests[0]?.body ?? Buffer.from(''), url: '' },
        ['prod-secret'],
        Date.now(),
      );
      expect(verdict).toEqual({ ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a deployed secret through the ingest configuration and Secrets Manager, completing a stack secret's ARN", async () => {
    // A secret the stack created is written as the tail of its ARN, completed with where the stack is.
    const ingestConfig = {
      where: { partition: 'aws', region: 'us-east-1', account: '111122223333', urlSuffix: 'amazonaws.com' },
      sources: { github: { type: 'github', secretId: 'secret:SecretGithub1A2B3C4D-AbCdEfGhIjKl-x1Y2z3' } },
      queues: {},
      routes: [],
      defaultRoute: { ignore: true },
      secretCacheSeconds: 300,
    };
    lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'Hookline-Ingest' }).resolves({
      Environment: { Variables: { HOOKLINE_INGEST_CONFIG: JSON.stringify(ingestConfig) } },
    });
    secrets
      .on(GetSecretValueCommand, {
        SecretId:
          'arn:aws:secretsmanager:us-east-1:111122223333:secret:SecretGithub1A2B3C4D-AbCdEfGhIjKl-x1Y2z3',
      })
      .resolves({ SecretString: '{"secrets":["current-secret","old-secret"]}' });
    const { http, requests } = capture();
    const backend = testBackend({ http });
    const target = { ...stackTarget(), ingestFunctionName: 'Hookline-Ingest' };
    const result = await sendWebhook(backend, target, resolved, { source: 'github' }, {});
    expect(result.secretFrom).toBe('secrets manager');
    const github = resolved.sources.find((s) => s.name === 'github');
    if (!github || !requests[0]) throw new Error('fixture');
    const request = { headers: requests[0].headers, body: requests[0].body, url: '' };
    expect(verifyRequest(sourceRuntimeConfig(github, 'x'), request, ['current-secret'], Date.now())).toEqual({
      ok: true,
    });

    secrets.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException'));
    await expect(sendWebhook(backend, target, resolved, { source: 'github' }, {})).rejects.toThrow(
      'cannot read the signing secret of github: access denied in stack Hookline in us-east-1: AccessDeniedException (grant your AWS identity lambda:GetFunctionConfiguration and secretsmanager:GetSecretValue); or pass --secret or set HOOKLINE_SECRET_GITHUB',
    );
  });

  /** The ingest function's configuration as a deployed stack holds it, with `sources`. */
  function deployIngest(sources: Record<string, unknown>) {
    const ingestConfig = {
      where: { partition: 'aws', region: 'us-east-1', account: '111122223333', urlSuffix: 'amazonaws.com' },
      sources,
      queues: {},
      routes: [],
      defaultRoute: { ignore: true },
      secretCacheSeconds: 300,
    };
    lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'Hookline-Ingest' }).resolves({
      Environment: { Variables: { HOOKLINE_INGEST_CONFIG: JSON.stringify(ingestConfig) } },
    });
    return { ...stackTarget(), ingestFunctionName: 'Hookline-Ingest' };
  }
  const GITHUB_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:SecretGithub-AbCdEf';

  it('says to redeploy when the deployed ingest function does not know the source', async () => {
    const target = deployIngest({});
    await expect(
      sendWebhook(testBackend({ http: capture().http }), target, resolved, { source: 'github' }, {}),
    ).rejects.toThrow(
      new CliError(
        'source github is not deployed in stack Hookline in us-east-1: redeploy with npx cdk deploy',
      ),
    );
    expect(secrets.calls()).toHaveLength(0);
  });

  it('refuses to sign with an empty deployed secret, naming the fixes', async () => {
    const target = deployIngest({ github: { type: 'github', secretId: GITHUB_SECRET } });
    secrets.on(GetSecretValueCommand, { SecretId: GITHUB_SECRET }).resolves({ SecretString: '' });
    const { http, requests } = capture();
    await expect(
      sendWebhook(testBackend({ http }), target, resolved, { source: 'github' }, {}),
    ).rejects.toThrow(
      new CliError(
        'the signing secret of github is empty: set it in Secrets Manager, or pass --secret or set HOOKLINE_SECRET_GITHUB',
      ),
    );
    expect(requests).toHaveLength(0);
  });

  it('says credentials are missing when reading the deployed secret needs them, not that the secret is unreadable', async () => {
    // The fix named depends on AWS_PROFILE: unset here, whatever the shell running the tests has.
    vi.stubEnv('AWS_PROFILE', '');
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const target = deployIngest({ github: { type: 'github', secretId: GITHUB_SECRET } });
    lambda
      .on(GetFunctionConfigurationCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    await expect(
      sendWebhook(testBackend({ http: capture().http }), target, resolved, { source: 'github' }, {}),
    ).rejects.toThrow(new CredentialsError('no AWS credentials: set AWS_PROFILE or run aws configure'));
  });

  it('needs --secret for a stack that does not publish its ingest function, and reads nothing', async () => {
    await expect(
      sendWebhook(testBackend({ http: capture().http }), stackTarget(), resolved, { source: 'github' }, {}),
    ).rejects.toThrow(
      new CliError('no signing secret for source github: pass --secret or set HOOKLINE_SECRET_GITHUB'),
    );
    expect(lambda.calls()).toHaveLength(0);
  });

  it('--url alone needs --secret or the environment variable, never guessing a secret', async () => {
    const { http, requests } = capture();
    await expect(
      sendWebhook(
        { http, clock: fakeClock() },
        undefined,
        resolved,
        { source: 'github', url: 'https://example.com/h' },
        {},
      ),
    ).rejects.toThrow(
      new CliError('no signing secret for source github: pass --secret or set HOOKLINE_SECRET_GITHUB'),
    );
    expect(requests).toHaveLength(0);
  });

  it('sends to a source that verifies nothing without looking for a secret', async () => {
    const open = resolveConfig({
      ...config,
      sources: { ...config.sources, open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true } },
    });
    const { http, requests } = capture();
    const result = await sendWebhook(
      { http, clock: fakeClock() },
      undefined,
      open,
      { source: 'open', url: 'https://example.com/webhooks/open' },
      {},
    );
    expect(result).toMatchObject({ ok: true, secretFrom: 'none' });
    expect(requests).toHaveLength(1);
  });

  it('refuses to send without --url when there is no target', async () => {
    await expect(
      sendWebhook(
        { http: capture().http, clock: fakeClock() },
        undefined,
        resolved,
        { source: 'github', secret: 's' },
        {},
      ),
    ).rejects.toThrow(new CliError('no target for send: pass --local, --url, or a deployed --stack'));
  });

  it('signs with --secret over the environment variable', async () => {
    const { http, requests } = capture();
    const result = await sendWebhook(
      { http, clock: fakeClock() },
      stackTarget(),
      resolved,
      { source: 'github', secret: 'from-option' },
      { HOOKLINE_SECRET_GITHUB: 'from-environment' },
    );
    expect(result.secretFrom).toBe('option');
    const github = resolved.sources.find((s) => s.name === 'github');
    if (!github || !requests[0]) throw new Error('fixture');
    const request = { headers: requests[0].headers, body: requests[0].body, url: '' };
    expect(verifyRequest(sourceRuntimeConfig(github, 'x'), request, ['from-option'], Date.now())).toEqual({
      ok: true,
    });
  });

  it("blames the network, not local mode, when a deployed stack's webhook URL does not answer", async () => {
    const refused: HttpFetch = async () => {
      throw Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      });
    };
    await expect(
      sendWebhook(
        { http: refused, clock: fakeClock() },
        stackTarget(),
        resolved,
        { source: 'github', secret: 's' },
        {},
      ),
    ).rejects.toThrow(new BackendError('cannot reach AWS (ECONNREFUSED): check your network or --region'));
  });

  it.each([
    [401, /^the signature was rejected: pass the source's secret with --secret or HOOKLINE_SECRET_GITHUB$/],
    [400, /^the body was rejected as malformed/],
    [404, /^no such source at that URL/],
    [413, /^the body is too large$/],
    [500, /^the pipeline could not enqueue it/],
    [503, /^the pipeline could not enqueue it/],
    [429, /^see the response body$/],
  ])('hints at the likely fix for a %i answer', (status, hint) => {
    const result = {
      source: 'github',
      url: 'u',
      status,
      ok: false,
      id: null,
      type: null,
      secretFrom: 'option',
    } as const;
    expect(sendFailureHint(result)).toMatch(hint);
  });

  it('needs a secret for a deployed stack', async () => {
    await expect(
      sendWebhook(
        { http: capture().http, clock: fakeClock() },
        stackTarget(),
        resolved,
        { source: 'github' },
        {},
      ),
    ).rejects.toThrow(/no signing secret for source github: pass --secret or set HOOKLINE_SECRET_GITHUB/);
  });

  it('posts to --url without a target, and reports a rejection with a hint', async () => {
    const { http, requests } = capture(401, '{"message":"unauthorized"}');
    const result = await sendWebhook(
      { http, clock: fakeClock() },
      undefined,
      resolved,
      { source: 'slack', url: 'https://example.com/hook', secret: 's' },
      {},
    );
    expect(requests[0]?.url).toBe('https://example.com/hook');
    expect(result).toMatchObject({
      ok: false,
      status: 401,
      id: null,
      response: '{"message":"unauthorized"}',
    });
    expect(sendFailureHint(result)).toMatch(/--secret or HOOKLINE_SECRET_SLACK/);
  });

  it('explains an unknown source, a missing file and a stopped local mode', async () => {
    const clock = fakeClock();
    await expect(
      sendWebhook({ http: capture().http, clock }, localTarget, resolved, { source: 'nope' }, {}),
    ).rejects.toThrow(/unknown source "nope": use one of github, stripe/);
    await expect(
      sendWebhook(
        { http: capture().http, clock },
        localTarget,
        resolved,
        { source: 'github', file: '/no/such.json' },
        {},
      ),
    ).rejects.toThrow('cannot read /no/such.json (ENOENT): check the --file path');
    const refused: HttpFetch = async () => {
      throw Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      });
    };
    await expect(
      sendWebhook({ http: refused, clock }, localTarget, resolved, { source: 'github' }, {}),
    ).rejects.toThrow(
      'local mode is not reachable (ECONNREFUSED): start it with npm start or npx hookline dev',
    );
  });
});

describe('samples', () => {
  it('gives each sample a fresh delivery id where the sender puts one in the body', () => {
    const stripe = resolved.sources.find((s) => s.name === 'stripe');
    if (!stripe) throw new Error('no stripe');
    const a = JSON.parse(sampleRequest(stripe, { id: 'aaaa-1111', now: new Date() }).body);
    const b = JSON.parse(sampleRequest(stripe, { id: 'bbbb-2222', now: new Date() }).body);
    expect(a.id).not.toBe(b.id);
    expect(a.type).toBe(SAMPLE_TYPES.stripe);
  });
});
