/**
 * Who counts as a caller on this machine, for the servers hookline runs on loopback (local mode's control API,
 * the console, the emulators): the `Host` must be a loopback name with the server's port (a DNS-rebinding page's
 * host is not), a browser request must come from that same origin (`Origin`, `Sec-Fetch-Site`), and no proxy may
 * have forwarded it: a tunnel that rewrites `Host` to localhost (ngrok's `--host-header=rewrite`) would otherwise
 * hand the whole machine-only surface to anyone holding the tunnel's URL. Tools such as the CLI and the AWS SDK send
 * none of these headers and pass.
 */

import type { IncomingMessage, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** The request headers the check reads (lower-case names, as node:http gives them). */
export interface CallerHeaders {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly secFetchSite: string | undefined;
  /** The first header a proxy or tunnel adds that the request carries ({@link PROXY_HEADERS}), if any. */
  readonly proxyHeader: string | undefined;
}

/** Headers that proxies and tunnels (ngrok, cloudflared, localtunnel, nginx) add to what they forward. */
export const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'] as const;

/** `host:port` for each loopback name of a server on `port`. */
export function loopbackHosts(port: number): Set<string> {
  return new Set(LOOPBACK_NAMES.map((name) => `${name}:${port}`));
}

/**
 * Why a request to the loopback server on `port` is refused, or undefined when it may proceed; `server` names
 * the server in the reason.
 */
export function foreignCallerReason(
  request: CallerHeaders,
  port: number,
  server: string,
): string | undefined {
  const hosts = loopbackHosts(port);
  if (!request.host || !hosts.has(request.host.toLowerCase()))
    return `${server} answers only to its loopback address`;
  if (request.proxyHeader !== undefined)
    return `${server} answers only to callers on this machine, not through a proxy or tunnel (the request carries ${request.proxyHeader})`;
  if (request.origin !== undefined && !hosts.has(request.origin.toLowerCase().replace(/^http:\/\//, ''))) {
    return 'cross-origin requests are refused';
  }
  if (request.secFetchSite && !['same-origin', 'none'].includes(request.secFetchSite)) {
    return 'cross-site requests are refused';
  }
  return undefined;
}

/** The headers {@link foreignCallerReason} reads, from a node:http request (the first of a repeated header). */
export function callerHeadersOf(req: IncomingMessage): CallerHeaders {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    host: header('host'),
    origin: header('origin'),
    secFetchSite: header('sec-fetch-site'),
    proxyHeader: PROXY_HEADERS.find((name) => req.headers[name] !== undefined),
  };
}

/**
 * Puts the gate in front of a server whose request handler is not ours (an emulator): a foreign caller gets a
 * 403 naming the reason and never reaches the handler. Call it before the server listens.
 */
export function gateToLoopbackCallers(server: Server, name: string): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    const reason = foreignCallerReason(callerHeadersOf(req), (server.address() as AddressInfo).port, name);
    if (reason === undefined) {
      for (const handler of handlers) handler.call(server, req, res);
      return;
    }
    req.resume();
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: reason }));
  });
}
