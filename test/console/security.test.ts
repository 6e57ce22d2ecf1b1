import { describe, expect, it } from 'vitest';
import {
  checkRequest,
  cookieValue,
  type GateRequest,
  newToken,
  tokenCookie,
} from '../../lib/console/security';

const token = newToken();
const port = 4321;
const base: GateRequest = {
  method: 'GET',
  host: `127.0.0.1:${port}`,
  origin: undefined,
  secFetchSite: undefined,
  proxyHeader: undefined,
  cookie: undefined,
  headerToken: undefined,
  queryToken: null,
};
const check = (request: Partial<GateRequest>) => checkRequest({ ...base, ...request }, { port, token });
const withCookie = `other=1; hookline_console_${port}=${token}`;

describe('console request gate', () => {
  it('refuses a request a proxy or tunnel forwarded, even with the token and a loopback Host', () => {
    expect(check({ cookie: withCookie, proxyHeader: 'x-forwarded-for' })).toEqual({
      allow: false,
      status: 403,
      reason:
        'this console answers only to callers on this machine, not through a proxy or tunnel (the request carries x-forwarded-for)',
    });
  });

  it('makes a fresh, long random token per run', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(token);
  });

  it('lets a request in with the token in the URL once, and asks to keep it in an HttpOnly SameSite cookie', () => {
    expect(check({ queryToken: token })).toEqual({ allow: true, setCookie: true });
    expect(tokenCookie(token, port)).toMatch(/HttpOnly; SameSite=Strict/);
    expect(cookieValue(withCookie, `hookline_console_${port}`)).toBe(token);
    expect(check({ cookie: withCookie })).toEqual({ allow: true, setCookie: false });
    expect(check({ host: `localhost:${port}`, headerToken: token })).toMatchObject({ allow: true });
  });

  it("keeps each console's token in a cookie of its own port: another console's, which the browser also sends, lets nothing in", () => {
    expect(tokenCookie(token, port)).toBe(
      `hookline_console_${port}=${token}; HttpOnly; SameSite=Strict; Path=/`,
    );
    // Cookies ignore the port: the browser sends this console the cookie another console on 127.0.0.1 set.
    const other = newToken();
    const both = `hookline_console_${port + 1}=${other}; hookline_console_${port}=${token}`;
    expect(check({ cookie: both })).toEqual({ allow: true, setCookie: false });
    expect(check({ cookie: `hookline_console_${port + 1}=${token}` })).toMatchObject({
      allow: false,
      status: 401,
    });
  });

  it('refuses reads without the right token', () => {
    expect(check({})).toMatchObject({ allow: false, status: 401 });
    expect(check({ queryToken: `${token}x` })).toMatchObject({ allow: false, status: 401 });
    expect(check({ cookie: `hookline_console_${port}=nope` })).toMatchObject({ allow: false, status: 401 });
  });

  it('refuses changes that carry the token only in the cookie, as a forged cross-site form would', () => {
    expect(check({ method: 'POST', cookie: withCookie })).toMatchObject({ allow: false, status: 403 });
    expect(check({ method: 'POST', queryToken: token })).toMatchObject({ allow: false, status: 403 });
    expect(check({ method: 'POST', headerToken: token, origin: `http://127.0.0.1:${port}` })).toMatchObject({
      allow: true,
    });
  });

  it('refuses other host names (DNS rebinding) and other origins, even with the token', () => {
    expect(check({ host: `evil.example:${port}`, headerToken: token })).toMatchObject({ status: 403 });
    expect(check({ host: '127.0.0.1:80', headerToken: token })).toMatchObject({ status: 403 });
    expect(check({ host: undefined, headerToken: token })).toMatchObject({ status: 403 });
    for (const origin of [
      'http://evil.example',
      'null',
      `http://127.0.0.1:${port + 1}`,
      `https://localhost:${port}`,
    ]) {
      expect(check({ method: 'POST', headerToken: token, origin })).toMatchObject({
        allow: false,
        status: 403,
      });
    }
    expect(check({ cookie: withCookie, secFetchSite: 'cross-site' })).toMatchObject({ status: 403 });
    expect(check({ cookie: withCookie, secFetchSite: 'same-origin' })).toMatchObject({ allow: true });
  });
});
