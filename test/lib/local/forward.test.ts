import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { standardWebhooksKey } from '../../../lambda/shared/senders/standard-webhooks';
import { localModeHints } from '../../../lib/local/command-hints';
import {
  FORWARD_SECRETS_FILE,
  forwardNotice,
  localForwardEnvironment,
  localForwardSecrets,
} from '../../../lib/local/forward';

const dirs: string[] = [];
const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-forward-secrets-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('local mode: forwarding secrets', () => {
  it('generates a Standard Webhooks secret of 32 random bytes per queue, once, and keeps it across restarts', () => {
    const dir = folder();
    const first = localForwardSecrets(['app'], dir);
    expect(first.file).toBe(join(dir, FORWARD_SECRETS_FILE));
    expect(first.secrets.app).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(standardWebhooksKey(first.secrets.app ?? '')).toHaveLength(32);
    expect(statSync(join(dir, FORWARD_SECRETS_FILE)).mode & 0o777).toBe(0o600);

    const again = localForwardSecrets(['app', 'billing'], dir);
    expect(again.secrets.app).toBe(first.secrets.app);
    expect(again.secrets.billing).toMatch(/^whsec_/);
    expect(again.secrets.billing).not.toBe(first.secrets.app);
    expect(JSON.parse(readFileSync(join(dir, FORWARD_SECRETS_FILE), 'utf8'))).toStrictEqual(again.secrets);
  });

  it('keeps a secret you put in the file, and refuses to start on a file it cannot read rather than replace every secret', () => {
    const dir = folder();
    const file = join(dir, FORWARD_SECRETS_FILE);
    const kept = '{\n  "app": "whsec_bXlvd25rZXlvZnR3ZW50eWZvdXJieXRlcw==",\n}\n';
    writeFileSync(file, JSON.stringify({ app: 'whsec_bXlvd25rZXlvZnR3ZW50eWZvdXJieXRlcw==' }));
    expect(localForwardSecrets(['app'], dir).secrets.app).toBe('whsec_bXlvd25rZXlvZnR3ZW50eWZvdXJieXRlcw==');
    // The trailing comma a hand edit leaves after removing the entry below it.
    for (const [text, why] of [
      [kept, /it is not JSON \(.+\)/],
      ['["whsec_x"]', /it is not a JSON object/],
      ['{"app": "whsec_x", "billing": 7}', /the secret of billing is not a string/],
    ] as const) {
      writeFileSync(file, text);
      let thrown: unknown;
      try {
        localForwardSecrets(['app', 'billing'], dir);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ name: 'LocalStartProblem' });
      expect((thrown as Error).message).toMatch(why);
      expect((thrown as Error).message).toContain(`cannot read the forwarding secrets in ${file}`);
      expect((thrown as Error).message).toMatch(/\nFix: .*or delete it/);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('refuses a secrets file that is not JSON without quoting any of it: the parser would quote a secret', () => {
    const dir = folder();
    const file = join(dir, FORWARD_SECRETS_FILE);
    // A hand edit that lost a secret's quotes: the parser's own message quotes the text around the error.
    writeFileSync(file, '{"app": whsec_bXlvd25rZXlvZnR3ZW50eWZvdXJieXRlcw==}');
    let thrown: unknown;
    try {
      localForwardSecrets(['app'], dir);
    } catch (error) {
      thrown = error;
    }
    const message = (thrown as Error).message;
    expect(message).toContain(`cannot read the forwarding secrets in ${file}: it is not JSON (`);
    expect(message).toContain("Unexpected token 'w'");
    expect(message).not.toMatch(/whsec_b|bXlv/);
  });

  it('without a folder makes new secrets for the run and keeps no file', () => {
    const kept = localForwardSecrets(['app'], undefined);
    expect(kept.file).toBeUndefined();
    expect(kept.secrets.app).toMatch(/^whsec_/);
    expect(forwardNotice('app', { url: 'https://x.example', timeout: Duration.seconds(5) }, undefined)).toBe(
      'consumer app forwards each event to https://x.example (Standard Webhooks; signing secret: new for this run (no state or data directory to keep it in))',
    );
  });

  it("names where a queue forwards without its URL's query, which may hold a token", () => {
    const notice = (url: string, localUrl?: string) =>
      forwardNotice(
        'app',
        { url, ...(localUrl ? { localUrl } : {}), timeout: Duration.seconds(5) },
        '/d/f.json',
      );
    expect(notice('https://x.example/hooks?token=s3cr3t&v=1')).toBe(
      'consumer app forwards each event to https://x.example/hooks?<query> (Standard Webhooks; signing secret: hookline forward secret app --local (kept in /d/f.json))',
    );
    expect(notice('https://x.example/hooks', 'http://127.0.0.1:4000/in?key=abc')).toMatch(
      /^consumer app forwards each event to http:\/\/127\.0\.0\.1:4000\/in\?<query> /,
    );
    expect(notice('https://x.example/hooks?')).toMatch(/ to https:\/\/x\.example\/hooks\? /);
  });

  it('names the command that prints a kept secret with the configuration local mode runs, as its other notices do', () => {
    const dir = folder();
    const kept = localForwardSecrets(['app'], dir);
    const forward = { url: 'https://x.example', timeout: Duration.seconds(5) };
    expect(forwardNotice('app', forward, kept.file, localModeHints('fwd.config.ts'))).toBe(
      `consumer app forwards each event to https://x.example (Standard Webhooks; signing secret: hookline forward secret app --local --config fwd.config.ts (kept in ${kept.file}))`,
    );
    expect(forwardNotice('app', forward, kept.file)).toContain(
      'signing secret: hookline forward secret app --local (kept in',
    );
    writeFileSync(join(dir, FORWARD_SECRETS_FILE), '[]');
    expect(() => localForwardSecrets(['app'], dir, localModeHints('fwd.config.ts'))).toThrow(
      /must then be given \(hookline forward secret <queue> --local --config fwd\.config\.ts\)$/,
    );
  });

  it('hands the function localUrl, the attempt timeout, its secret as an env: secret and the configured secret cache', () => {
    const env = localForwardEnvironment(
      { url: 'https://app.example.com', localUrl: 'http://127.0.0.1:3000/h', timeout: Duration.seconds(4) },
      'whsec_abc=',
      // ingest.secretCache, which the stack gives a forwarding consumer too; not the 5-minute default.
      Duration.seconds(30),
    );
    expect(JSON.parse(env.HOOKLINE_FORWARD_CONFIG ?? '')).toStrictEqual({
      url: 'http://127.0.0.1:3000/h',
      timeoutMs: 4000,
      secretId: 'env:HOOKLINE_FORWARD_SECRET',
      secretCacheSeconds: 30,
    });
    expect(env.HOOKLINE_FORWARD_SECRET).toBe('whsec_abc=');
  });
});
