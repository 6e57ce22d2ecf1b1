/**
 * An SQS endpoint in front of the emulator, for a consumer's `AWS_ENDPOINT_URL_SQS`: it forwards every call, except
 * that a rule may refuse one API action (as SQS refuses a lost permission) or hold it back (as a slow SQS answers).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one call, by its API action (`DeleteMessage`); undefined forwards it at once. */
export type SqsProxyRule = (
  action: string,
) =>
  | { readonly refuse: { readonly type: string; readonly message: string } }
  | { readonly delayMs: number }
  | undefined;

/** A running proxy: set `target.url` to the emulator's SQS endpoint once it is known. */
export interface SqsProxy {
  readonly server: Server;
  readonly url: string;
  readonly target: { url: string };
}

export async function sqsProxy(rule: SqsProxyRule): Promise<SqsProxy> {
  const target = { url: '' };
  const server = createServer((req, res) => {
    const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const what = rule(action);
    if (what && 'refuse' in what) {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: what.refuse.type, message: what.refuse.message }));
      return;
    }
    const forward = () => {
      // The emulator answers only to its own loopback host (`loopback-gate.ts`): the call is addressed to it.
      const headers = { ...req.headers, host: new URL(target.url).host };
      const call = request(`${target.url}${req.url ?? '/'}`, { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      call.on('error', () => res.destroy());
      req.pipe(call);
    };
    if (what) setTimeout(forward, what.delayMs);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, target };
}
