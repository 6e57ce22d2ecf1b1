/**
 * A forwarding consumer (`consumer.forward`): where it posts, checked, with its defaults filled. The URL rules live
 * here once; the stack's consumer construct applies the deploy rule to a resolved configuration too.
 */
import { isIP } from 'node:net';
import { Duration } from 'aws-cdk-lib/core';
import { FORWARD_ENTRY, urlWithQueryHidden } from '../../lambda/shared/forward-config';
import { hooklineModulePath } from '../package-root';
import { LAMBDA_LIMITS } from '../validation';
import { type Violation, type ViolationList, violation } from '../violations';
import { checkExistingSecretName } from './common';
import { DEFAULTS } from './defaults';
import type { ResolvedForward } from './resolved';
import type { ForwardConfig } from './schema';

/** The forwarding consumer's function entry: hookline's own file, wherever hookline is installed. */
export function forwardEntry(): string {
  return hooklineModulePath(FORWARD_ENTRY);
}

/** True for a host a deployed function cannot or must not reach: a loopback, private or link-local literal. */
export function isPrivateHost(hostname: string): boolean {
  // A fully qualified name's trailing dot (`localhost.`) names the same host.
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(host) === 6) {
    return (
      host === '::1' ||
      host === '::' ||
      /^f[cd][0-9a-f]{0,2}:/.test(host) ||
      /^fe[89ab][0-9a-f]?:/.test(host) ||
      host.startsWith('::ffff:')
    );
  }
  return false;
}

/** The URL, or undefined when it does not parse. */
function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * A destination URL as a refusal shows it: its query's text and any user name and password hidden, as a start line
 * hides them, since the value may come from the environment and the error is printed where CI keeps its logs.
 */
function shownUrl(text: string): string {
  return urlWithQueryHidden(text).replace(/^([^:/?#]*:\/\/)[^/?#]*@/, '$1***@');
}

/**
 * Rules of a destination URL (`field` is `url` or `localUrl`): an absolute http(s) URL without credentials; for a
 * deploy, `https://` on a host that is no loopback or private literal.
 */
export function forwardUrlViolations(field: string, text: string, deployed: boolean): Violation[] {
  const url = parsedUrl(text);
  const example = deployed ? '"https://app.example.com/webhooks"' : '"http://localhost:4000/webhooks"';
  const port = /^https?:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(text)?.[1];
  if (!url && port !== undefined && Number(port) > 65_535) {
    return [
      violation(
        field,
        'has a port above 65535',
        shownUrl(text),
        `use a port from 1 to 65535, e.g. ${example}`,
      ),
    ];
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return [
      violation(field, 'must be an absolute http(s) URL', shownUrl(text), `write it whole, e.g. ${example}`),
    ];
  }
  if (url.username || url.password) {
    return [
      violation(
        field,
        'must not carry credentials: they would be in the function configuration and every log line that names the URL',
        `${url.protocol}//***@${url.host}${url.pathname}`,
        'remove them; the destination verifies the webhook-signature header instead',
      ),
    ];
  }
  if (!deployed) return [];
  if (url.protocol !== 'https:') {
    return [
      violation(
        field,
        'must be https:// for a deploy: the events and their signatures would cross the internet in clear text',
        shownUrl(text),
        'serve the destination over TLS; set localUrl for an http:// destination on your machine',
      ),
    ];
  }
  if (isPrivateHost(url.hostname)) {
    return [
      violation(
        field,
        'names a loopback or private address, which the deployed function cannot reach',
        shownUrl(text),
        'use the public host name of the destination; set localUrl for one on your machine (local mode posts there)',
      ),
    ];
  }
  return [];
}

/** The consumer function's settings a forwarding attempt's timeout must fit in. */
export interface ForwardFunction {
  readonly timeout: Duration;
  readonly deadlineMargin: Duration;
  /** The deadline margin the consumer would have with another timeout (the one set, or that timeout's default). */
  readonly deadlineMarginAt: (timeout: Duration) => Duration;
}

/** The forwarding settings, checked; `function_` is the consumer function's. */
export function resolveForward(
  problems: ViolationList,
  path: string,
  forward: ForwardConfig,
  function_: ForwardFunction,
  deployed: boolean,
): ResolvedForward {
  problems.addAll(`${path}.forward`, forwardUrlViolations('url', forward.url, deployed));
  if (forward.localUrl !== undefined)
    problems.addAll(`${path}.forward`, forwardUrlViolations('localUrl', forward.localUrl, false));
  checkExistingSecretName(
    problems,
    `${path}.forward.secret.existingSecretName`,
    forward.secret?.existingSecretName,
  );
  const timeout = forward.timeout ?? DEFAULTS.forwardTimeout;
  problems.addAll(path, forwardTimeoutViolations('forward.timeout', `${path}.timeout`, timeout, function_));
  return {
    url: forward.url,
    ...(forward.localUrl !== undefined ? { localUrl: forward.localUrl } : {}),
    timeout,
    ...(forward.secret ? { secret: { existingSecretName: forward.secret.existingSecretName } } : {}),
  };
}

/**
 * Rule: one forwarded attempt's timeout is at least a second, and leaves the consumer's deadline margin within its
 * timeout. `path` is the attempt's timeout, `timeoutPath` the consumer's, as the caller names them.
 */
export function forwardTimeoutViolations(
  path: string,
  timeoutPath: string,
  timeout: Duration,
  function_: ForwardFunction,
): Violation[] {
  const room = function_.timeout.toMilliseconds() - function_.deadlineMargin.toMilliseconds();
  if (timeout.toMilliseconds() < 1000)
    return [violation(path, 'must be at least 1 second', timeout, 'use Duration.seconds(10)')];
  if (timeout.toMilliseconds() <= room) return [];
  return [
    violation(
      path,
      `must leave the deadline margin (${function_.deadlineMargin.toHumanString()}) within the consumer timeout (${function_.timeout.toHumanString()}): an attempt still waiting then is abandoned as timed out rather than retried by its own limit`,
      timeout,
      `use at most ${Math.floor(room / 1000)} seconds, ${timeoutRaise(timeoutPath, timeout, function_)}`,
    ),
  ];
}

/** Room for an attempt under a consumer timeout of `seconds`: the timeout less its deadline margin, in ms. */
function roomMs(function_: ForwardFunction, seconds: number): number {
  const timeout = Duration.seconds(seconds);
  return timeout.toMilliseconds() - function_.deadlineMarginAt(timeout).toMilliseconds();
}

/**
 * The other way to fit an attempt's timeout: the consumer timeout it needs (at `field`), or, past what Lambda's
 * longest timeout leaves room for, the longest attempt that timeout allows.
 */
function timeoutRaise(field: string, timeout: Duration, function_: ForwardFunction): string {
  const max = LAMBDA_LIMITS.maxTimeoutSeconds;
  const wanted = timeout.toMilliseconds();
  if (roomMs(function_, max) < wanted) {
    const most = Math.floor(roomMs(function_, max) / 1000);
    return function_.timeout.toSeconds({ integral: false }) >= max
      ? `the most ${field} allows: it is already Lambda's longest, ${Duration.seconds(max).toHumanString()}`
      : `or at most ${most} seconds with ${field} raised to Lambda's longest, Duration.minutes(${max / 60}); a longer attempt cannot fit in one invocation`;
  }
  let needed = Math.ceil(wanted / 1000);
  while (roomMs(function_, needed) < wanted) needed++;
  return `or raise ${field} to at least Duration.seconds(${needed})`;
}
