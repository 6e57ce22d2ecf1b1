import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { FORWARD_ENTRY } from '../../lambda/shared/forward-config';
import {
  DEFAULTS,
  type ForwardConfig,
  type HooklineConfig,
  HooklineConfigError,
  resolveConfig,
} from '../../lib/config';
import { isPrivateHost } from '../../lib/config/resolve-forward';

const forwarding = (forward: ForwardConfig, consumer: Record<string, unknown> = {}): HooklineConfig => ({
  sources: { github: { type: 'github' } },
  queues: { app: { consumer: { forward, ...consumer } } },
});

function issuesOf(config: HooklineConfig, forDeploy = true) {
  try {
    resolveConfig(config, { forDeploy });
  } catch (error) {
    expect(error).toBeInstanceOf(HooklineConfigError);
    return (error as HooklineConfigError).issues;
  }
  throw new Error('expected resolveConfig to throw');
}

describe('consumer.forward: configuration', () => {
  it("resolves to hookline's forwarding entry with the default attempt timeout", () => {
    const config = resolveConfig(forwarding({ url: 'https://app.example.com/hooks' }), { forDeploy: true });
    const consumer = config.queues[0]?.consumer;
    expect(consumer?.entry.replaceAll('\\', '/')).toMatch(
      new RegExp(`${FORWARD_ENTRY.replace('.ts', '')}\\.(ts|js)$`),
    );
    expect(consumer?.forward).toStrictEqual({
      url: 'https://app.example.com/hooks',
      timeout: DEFAULTS.forwardTimeout,
    });
    expect(DEFAULTS.forwardTimeout.toSeconds()).toBe(10);
  });

  it('keeps localUrl and an existing secret', () => {
    const forward = resolveConfig(
      forwarding({
        url: 'https://app.example.com/hooks',
        localUrl: 'http://localhost:3000/hooks',
        timeout: Duration.seconds(5),
        secret: { existingSecretName: 'app/hookline-signing' },
      }),
      { forDeploy: true },
    ).queues[0]?.consumer?.forward;
    expect(forward?.localUrl).toBe('http://localhost:3000/hooks');
    expect(forward?.timeout.toSeconds()).toBe(5);
    expect(forward?.secret).toStrictEqual({ existingSecretName: 'app/hookline-signing' });
  });

  it('refuses both entry and forward, saying a consumer runs one of them', () => {
    const issues = issuesOf(
      forwarding({ url: 'https://app.example.com' }, { entry: 'lambda/consumers/app.ts' }),
    );
    expect(issues).toMatchObject([
      {
        path: 'queues.app.consumer',
        message: expect.stringMatching(/both entry and forward/),
        fix: expect.stringMatching(/keep entry/),
      },
    ]);
  });

  it('refuses a consumer with neither entry nor forward', () => {
    const issues = issuesOf({
      sources: { github: { type: 'github' } },
      queues: { app: { consumer: { batchSize: 5 } } },
    });
    expect(issues).toMatchObject([
      { path: 'queues.app.consumer', message: expect.stringMatching(/exactly one of entry .* and forward/) },
    ]);
  });

  it.each([
    ['http://app.example.com/hooks', /must be https:\/\//],
    ['https://localhost:3000/hooks', /loopback or private/],
    ['https://127.0.0.1/hooks', /loopback or private/],
    ['https://10.1.2.3/hooks', /loopback or private/],
    ['https://192.168.1.20/hooks', /loopback or private/],
    ['https://172.20.0.1/hooks', /loopback or private/],
    ['https://[::1]/hooks', /loopback or private/],
    ['https://[fd00::1]/hooks', /loopback or private/],
    ['https://localhost./hooks', /loopback or private/],
    ['https://api.localhost./hooks', /loopback or private/],
    ['ftp://app.example.com/hooks', /absolute http\(s\) URL/],
    ['app.example.com/hooks', /absolute http\(s\) URL/],
  ])('refuses url %s for a deploy', (url, message) => {
    expect(issuesOf(forwarding({ url }))).toMatchObject([
      { path: 'queues.app.consumer.forward.url', message: expect.stringMatching(message) },
    ]);
  });

  it('accepts a loopback http url when not deploying (local mode), and a loopback localUrl always', () => {
    expect(() => resolveConfig(forwarding({ url: 'http://localhost:3000/hooks' }))).not.toThrow();
    expect(() =>
      resolveConfig(forwarding({ url: 'https://app.example.com', localUrl: 'http://127.0.0.1:3000/x' }), {
        forDeploy: true,
      }),
    ).not.toThrow();
  });

  it('names a port out of range, and gives a local example for localUrl', () => {
    const issues = issuesOf(
      forwarding({ url: 'https://app.example.com:70000/hooks', localUrl: 'http://localhost:99999/x' }),
    );
    expect(issues).toMatchObject([
      {
        path: 'queues.app.consumer.forward.url',
        message: 'has a port above 65535',
        fix: expect.stringContaining('"https://app.example.com/webhooks"'),
      },
      {
        path: 'queues.app.consumer.forward.localUrl',
        message: 'has a port above 65535',
        fix: expect.stringContaining('"http://localhost:4000/webhooks"'),
      },
    ]);
    expect(issuesOf(forwarding({ url: 'https://app.example.com', localUrl: 'nope' }))).toMatchObject([
      { message: 'must be an absolute http(s) URL', fix: expect.stringContaining('http://localhost:4000') },
    ]);
  });

  it('refuses credentials in the URL without echoing them', () => {
    const issues = issuesOf(forwarding({ url: 'https://user:hunter2@app.example.com/hooks' }));
    expect(issues).toMatchObject([
      { path: 'queues.app.consumer.forward.url', message: expect.stringMatching(/credentials/) },
    ]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });

  it.each([
    ['a port out of range', 'https://user:hunter2@app.example.com:70000/hooks?token=s3cr3t-t0ken'],
    ['no http(s) scheme', 'ftp://user:hunter2@app.example.com/hooks?token=s3cr3t-t0ken'],
    ['http for a deploy', 'http://app.example.com/hooks?token=s3cr3t-t0ken'],
    ['a private address', 'https://10.1.2.3/hooks?token=s3cr3t-t0ken'],
  ])('refuses a url with %s without echoing its password or its query, which may hold a token', (_, url) => {
    const issues = issuesOf(forwarding({ url }));
    expect(issues).toMatchObject([{ path: 'queues.app.consumer.forward.url' }]);
    expect(issues[0]?.value).toContain('?<query>');
    expect(JSON.stringify(issues)).not.toMatch(/hunter2|s3cr3t/);
  });

  it('refuses an attempt timeout that leaves no deadline margin, saying how much room there is', () => {
    const issues = issuesOf(
      forwarding(
        { url: 'https://app.example.com', timeout: Duration.seconds(29) },
        { timeout: Duration.seconds(30) },
      ),
    );
    expect(issues).toMatchObject([
      {
        path: 'queues.app.consumer.forward.timeout',
        message: expect.stringMatching(
          /deadline margin \(3 seconds\) within the consumer timeout \(30 seconds\)/,
        ),
        fix: expect.stringMatching(/at most 27 seconds/),
      },
    ]);
  });

  it('names the queue whose consumer timeout to raise, and by how much', () => {
    const [issue] = issuesOf({
      sources: { github: { type: 'github' } },
      queues: {
        e: { consumer: { forward: { url: 'https://app.example.com', timeout: Duration.minutes(1) } } },
      },
    });
    expect(issue).toMatchObject({
      path: 'queues.e.consumer.forward.timeout',
      fix: 'use at most 27 seconds, or raise queues.e.consumer.timeout to at least Duration.seconds(63)',
    });
  });

  it("does not offer a consumer timeout above Lambda's 15 minutes for a longer attempt timeout", () => {
    const [below] = issuesOf({
      sources: { github: { type: 'github' } },
      queues: {
        e: { consumer: { forward: { url: 'https://app.example.com', timeout: Duration.minutes(20) } } },
      },
    });
    expect(below?.fix).toBe(
      "use at most 27 seconds, or at most 897 seconds with queues.e.consumer.timeout raised to Lambda's longest, Duration.minutes(15); a longer attempt cannot fit in one invocation",
    );
    const [atMost] = issuesOf(
      forwarding(
        { url: 'https://app.example.com', timeout: Duration.minutes(20) },
        { timeout: Duration.minutes(15) },
      ),
    );
    expect(atMost?.fix).toBe(
      "use at most 897 seconds, the most queues.app.consumer.timeout allows: it is already Lambda's longest, 15 minutes",
    );
  });

  it('lists every problem of a forwarding consumer at once, with the other configuration errors', () => {
    const issues = issuesOf({
      sources: { github: { type: 'github' } },
      queues: {
        app: {
          consumer: {
            forward: { url: 'http://app.example.com', localUrl: 'nope', timeout: Duration.minutes(2) },
            handler: 'main',
            batchSize: 20_000,
          },
        },
      },
    });
    expect(issues.map((i) => i.path).sort()).toStrictEqual([
      'queues.app.consumer.batchSize',
      'queues.app.consumer.forward.localUrl',
      'queues.app.consumer.forward.timeout',
      'queues.app.consumer.forward.url',
      'queues.app.consumer.handler',
    ]);
  });

  it("refuses a secret's ARN as forward.secret.existingSecretName, giving the name to write", () => {
    const issues = issuesOf(
      forwarding({
        url: 'https://app.example.com/hooks',
        secret: {
          existingSecretName:
            'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/hookline-signing-AbCdEf',
        },
      }),
    );
    expect(issues).toMatchObject([
      {
        path: 'queues.app.consumer.forward.secret.existingSecretName',
        message: "is a secret's ARN, and this field takes its name",
        value: expect.stringMatching(/^"arn:aws:secretsmanager:/),
        fix: expect.stringMatching(/^give the name alone, e\.g\. "app\/hookline-signing"/),
      },
    ]);
  });

  it.each([
    ['forward', forwarding({ url: 'https://app.example.com/hooks', secret: { existingSecretName: '' } })],
    [
      'a source',
      {
        sources: { github: { type: 'github', secret: { existingSecretName: '' } } },
        queues: { app: {} },
      } as HooklineConfig,
    ],
  ])('refuses an empty existingSecretName of %s showing it, with the rule for a name', (_, config) => {
    const [issue, ...others] = issuesOf(config);
    expect(others).toStrictEqual([]);
    expect(issue).toMatchObject({
      path: expect.stringMatching(/\.secret\.existingSecretName$/),
      message: expect.stringMatching(/^a Secrets Manager secret name is 1 to 512 ASCII letters/),
      value: '""',
      fix: "copy the secret's name from the Secrets Manager console",
    });
  });

  it('tells loopback, private and link-local literals from public hosts', () => {
    for (const host of [
      'localhost',
      'localhost.',
      'api.localhost',
      'api.localhost.',
      '127.0.0.5',
      '0.0.0.0',
      '169.254.169.254',
      '100.64.0.1',
      '[::1]',
      '[fe80::1]',
      '[::ffff:10.0.0.1]',
    ])
      expect(isPrivateHost(host), host).toBe(true);
    for (const host of ['app.example.com', 'app.example.com.', '8.8.8.8', '172.32.0.1', '[2606:4700::1111]'])
      expect(isPrivateHost(host), host).toBe(false);
  });
});
