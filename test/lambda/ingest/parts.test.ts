import { describe, expect, it, vi } from 'vitest';
import { newSortableId } from '../../../lambda/ingest/ids';
import { encodeBody, sanitizeType, sqsSafeJson, valueAtPath } from '../../../lambda/ingest/normalize';
import { selectRoute, typeMatches } from '../../../lambda/ingest/routing';
import { createSecretLoader, parseSecretValue, SecretUnavailableError } from '../../../lambda/ingest/secrets';
import { sourceRuntimeSchema as ingestSourceSchema } from '../../../lambda/shared/runtime-config';
import { signingSecretProblem } from '../../../lambda/shared/senders';

describe('type patterns', () => {
  it.each([
    ['orders/*', 'orders/create', true],
    ['orders/*', 'orders/create.x', false],
    ['invoice.*', 'invoice.paid', true],
    ['invoice.*', 'invoice.a.b', false],
    ['invoice.**', 'invoice.a.b', true],
    ['invoice.*', 'invoiceXpaid', false],
    ['push', 'push', true],
    ['push', 'pushx', false],
    ['*', 'issues.opened', true],
    ['**', 'a.b.c', true],
    ['*.opened', 'issues.opened', true],
    ['*.opened', 'a.b.opened', false],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
  ])('%s vs %s -> %s', (pattern, type, expected) => {
    expect(typeMatches(pattern, type)).toBe(expected);
  });

  it('first match wins; source * matches any source; default otherwise', () => {
    const config = {
      routes: [
        { source: 'a', type: 'x', queues: ['q1'], ignore: false },
        { source: '*', type: 'x', queues: ['q2'], ignore: false },
        { source: 'a', type: '**', queues: [], ignore: true },
      ],
      defaultRoute: { queues: ['d'], ignore: false },
    };
    expect(selectRoute(config, 'a', 'x')).toEqual({ queues: ['q1'], ignore: false, rule: 0 });
    expect(selectRoute(config, 'b', 'x')).toEqual({ queues: ['q2'], ignore: false, rule: 1 });
    expect(selectRoute(config, 'a', 'y')).toEqual({ queues: [], ignore: true, rule: 2 });
    expect(selectRoute(config, 'b', 'y')).toEqual({ queues: ['d'], ignore: false, rule: 'default' });
  });
});

describe('sortable ids', () => {
  it('26 Crockford base32 characters, time-ordered', () => {
    const a = newSortableId(1_700_000_000_000);
    const b = newSortableId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
    expect(newSortableId(0, Buffer.alloc(10))).toBe('0'.repeat(26));
    expect(newSortableId(2 ** 48 - 1, Buffer.alloc(10, 0xff))).toBe('7ZZZZZZZZZZZZZZZZZZZZZZZZZ');
  });
  it('random part differs between calls', () => {
    expect(newSortableId(1)).not.toBe(newSortableId(1));
  });
});

describe('secrets', () => {
  it('parses plain and rotation JSON values', () => {
    expect(parseSecretValue('abc')).toEqual(['abc']);
    expect(parseSecretValue('{"secrets":["new","old"]}')).toEqual(['new', 'old']);
    expect(parseSecretValue('{not json')).toEqual(['{not json']);
    expect(() => parseSecretValue('{"secrets":[]}')).toThrow();
    expect(() => parseSecretValue('')).toThrow();
    expect(() => parseSecretValue(' \n')).toThrow(/empty/);
    expect(() => parseSecretValue('{"secrets":[" ", ""]}')).toThrow(/no non-blank string/);
    expect(parseSecretValue('{"secrets":[" ", "new"]}')).toEqual(['new']);
  });
  it('keeps the string secrets of a rotation list that also holds other values, rather than failing every request', () => {
    expect(parseSecretValue('{"secrets":[null, 7, "new", {"k":"v"}, "old"]}')).toEqual(['new', 'old']);
  });
  it('refuses a JSON object that is not the rotation form instead of using its text as the key', async () => {
    for (const value of ['{"stripe":"whsec_abc"}', '{"secrets":"whsec_abc"}', ' {"SecretString":"x"}']) {
      expect(() => parseSecretValue(value), value).toThrow(/JSON object without a "secrets" list/);
    }
    const load = createSecretLoader({
      env: { KEY_VALUE: '{"github":"gh-secret"}' },
      cacheSeconds: 60,
      fetchSecretString: async () => '{"webhookSecret":"gh-secret"}',
    });
    for (const id of ['env:KEY_VALUE', 'arn:aws:secretsmanager:eu-west-1:1:secret:kv']) {
      const error = await load(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretUnavailableError);
      expect(String((error as Error).cause)).toMatch(/store the plain secret, or \{"secrets"/);
    }
    // JSON that is not an object is still a plain secret, as is text that only starts with a brace.
    expect(parseSecretValue('{not json')).toEqual(['{not json']);
  });
  it('refuses a JSON list (the rotation secrets without their object) instead of using its text as the key', async () => {
    for (const value of ['["new","old"]', ' ["whsec_abc"]', '[]']) {
      expect(() => parseSecretValue(value), value).toThrow(
        /JSON list: store \{"secrets": \["current", "previous"\]\}/,
      );
    }
    const load = createSecretLoader({
      cacheSeconds: 60,
      fetchSecretString: async () => '["gh-secret","gh-old"]',
    });
    const error = await load('arn:aws:secretsmanager:eu-west-1:1:secret:list').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretUnavailableError);
    // Text that only starts with a bracket is a plain secret.
    expect(parseSecretValue('[not json')).toEqual(['[not json']);
  });
  it('refuses a secret stored in JSON quotes instead of using the quotes as part of the key', () => {
    for (const value of ['"gh-secret"', ' "whsec_abc"\n']) {
      expect(() => parseSecretValue(value), value).toThrow(/in JSON quotes: store it without them/);
      expect(signingSecretProblem('github', value.trim()), value).toMatch(/in JSON quotes/);
    }
    // A quote that is not a whole JSON string is part of a plain secret.
    expect(parseSecretValue('"half')).toEqual(['"half']);
    expect(signingSecretProblem('github', '"half')).toBeUndefined();
  });
  it('env: ids read the environment; others go to the fetcher; cached for the TTL', async () => {
    let clock = 0;
    let fetches = 0;
    const load = createSecretLoader({
      env: { MY_SECRET: 's1' },
      cacheSeconds: 60,
      now: () => clock,
      fetchSecretString: async () => {
        fetches++;
        return `v${fetches}`;
      },
    });
    expect(await load('env:MY_SECRET')).toEqual(['s1']);
    const [a, b] = await Promise.all([load('arn:x'), load('arn:x')]);
    expect([a, b, fetches]).toEqual([['v1'], ['v1'], 1]);
    clock = 59_999;
    expect(await load('arn:x')).toEqual(['v1']);
    // Cached for exactly the TTL: a rotated secret is read again from the moment it is over.
    clock = 60_000;
    expect(await load('arn:x')).toEqual(['v2']);
  });
  it('failures are SecretUnavailableError and are not cached', async () => {
    let fail = true;
    const load = createSecretLoader({
      env: {},
      cacheSeconds: 60,
      fetchSecretString: async () => {
        if (fail) throw new Error('AccessDenied');
        return 'ok';
      },
    });
    await expect(load('arn:y')).rejects.toBeInstanceOf(SecretUnavailableError);
    await expect(load('env:MISSING')).rejects.toBeInstanceOf(SecretUnavailableError);
    fail = false;
    expect(await load('arn:y')).toEqual(['ok']);
  });
});

describe('normalize helpers', () => {
  it('valueAtPath follows own properties only', () => {
    expect(valueAtPath({ a: { b: [{ c: 'x' }] } }, 'a.b.0.c')).toBe('x');
    expect(valueAtPath({ a: 5 }, 'a')).toBe('5');
    expect(valueAtPath({ a: {} }, 'a')).toBeUndefined();
    expect(valueAtPath({}, 'constructor')).toBeUndefined();
    expect(valueAtPath(null, 'a')).toBeUndefined();
  });
  it('valueAtPath reads a number a double cannot hold as written in the source, and a BOM-led source too', () => {
    const text = '{"id":9007199254740993,"n":{"f":0.10000000000000000001},"s":42}';
    expect(valueAtPath(JSON.parse(text), 'id', text)).toBe('9007199254740993');
    expect(valueAtPath(JSON.parse(text), 'id', Buffer.from(`\ufeff${text}`))).toBe('9007199254740993');
    expect(valueAtPath(JSON.parse(text), 'n.f', text)).toBe('0.10000000000000000001');
    expect(valueAtPath(JSON.parse(text), 's', text)).toBe('42');
    expect(valueAtPath(JSON.parse(text), 'id')).toBe('9007199254740992');
  });
  it('valueAtPath gives nothing for a number it cannot read as written, rather than a double two ids could share', () => {
    const text = `{"id":9007199254740993,"deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(valueAtPath(JSON.parse(text), 'id', text)).toBeUndefined();
  });
  it('valueAtPath gives nothing for an integer beyond 2^53 where JSON.parse passes a reviver no source text (Node 20), and a fraction as the double reads', () => {
    // Node 20 (package.json's engines, and local mode runs the ingest in the user's Node) lacks JSON.parse source
    // text access: a double's text there would read 9007199254740993 and 9007199254740992 alike.
    const parse = JSON.parse;
    const spy = vi
      .spyOn(JSON, 'parse')
      .mockImplementation((text: string, reviver?: (key: string, value: unknown) => unknown) =>
        parse(text, reviver && ((key: string, value: unknown) => reviver(key, value))),
      );
    try {
      const text = '{"id":9007199254740993,"s":42,"f":1.5,"g":-0.25}';
      expect(valueAtPath(parse(text), 'id', text)).toBeUndefined();
      expect(valueAtPath(parse(text), 's', text)).toBe('42');
      expect(valueAtPath(parse(text), 'f', text)).toBe('1.5');
      expect(valueAtPath(parse(text), 'g', text)).toBe('-0.25');
    } finally {
      spy.mockRestore();
    }
  });
  it('sqsSafeJson escapes astral and U+FFFE/U+FFFF characters losslessly', () => {
    const value = { body: 'a😀b\uffffc\ufffe', plain: 'é' };
    const json = sqsSafeJson(value);
    expect(json).toBe('{"body":"a\\ud83d\\ude00b\\uffffc\\ufffe","plain":"é"}');
    expect(JSON.parse(json)).toEqual(value);
    expect(sqsSafeJson({ a: 'x' })).toBe('{"a":"x"}');
  });
  it('encodeBody: text only when textual and valid UTF-8', () => {
    expect(encodeBody(Buffer.from('{"a":1}'), 'application/json')).toEqual({
      body: '{"a":1}',
      bodyEncoding: 'utf8',
    });
    expect(encodeBody(Buffer.from('hi'), 'text/plain; charset=utf-8').bodyEncoding).toBe('utf8');
    expect(encodeBody(Buffer.from('hi'), undefined).bodyEncoding).toBe('base64');
    expect(encodeBody(Buffer.from([0xc3, 0x28]), 'application/json').bodyEncoding).toBe('base64');
  });
  it('encodeBody reuses already decoded text, still base64 for non-textual content', () => {
    const bytes = Buffer.from('{"a":"é"}');
    expect(encodeBody(bytes, 'application/json', '{"a":"é"}')).toEqual({
      body: '{"a":"é"}',
      bodyEncoding: 'utf8',
    });
    expect(encodeBody(bytes, 'application/octet-stream', '{"a":"é"}')).toEqual({
      body: bytes.toString('base64'),
      bodyEncoding: 'base64',
    });
  });
  it('sanitizeType replaces characters SQS refuses and never returns empty', () => {
    expect(sanitizeType('a\u0000b')).toBe('a_b');
    expect(sanitizeType('')).toBe('unknown');
    expect(sanitizeType(undefined)).toBe('unknown');
    expect(sanitizeType('x'.repeat(300))).toHaveLength(256);
  });

  it('sanitizeType keeps a character beyond U+FFFF, which SQS takes in an attribute, and never cuts one in half', () => {
    // SQS takes in a string attribute what it takes in a body: U+10000 and up among it; only a lone surrogate is refused.
    expect(sanitizeType('order.🎉')).toBe('order.🎉');
    expect(sanitizeType('order.🎉') === sanitizeType('order.🚀')).toBe(false);
    expect(typeMatches('order.🎉', sanitizeType('order.🎉'))).toBe(true);
    expect(sanitizeType('a\ud800b\udc00')).toBe('a_b_');
    const cut = sanitizeType(`${'x'.repeat(255)}🎉`);
    expect(cut).toBe('x'.repeat(255));
    expect(sanitizeType(`${'x'.repeat(254)}🎉`)).toBe(`${'x'.repeat(254)}🎉`);
  });
});

describe('a timestamp tolerance of 0 is refused before the function ever runs', () => {
  it('the runtime schema rejects toleranceSeconds 0 for every timestamped scheme', () => {
    for (const type of ['stripe', 'slack', 'standard-webhooks'] as const) {
      expect(ingestSourceSchema.safeParse({ type, secretId: 'x', toleranceSeconds: 0 }).success).toBe(false);
      expect(ingestSourceSchema.safeParse({ type, secretId: 'x', toleranceSeconds: 300 }).success).toBe(true);
    }
  });
});
