/**
 * What the CLI says when local mode's own emulators refuse it: the real emulators behind their loopback gate, reached
 * through a port forward (as a dev container's or `ssh -L` is), whose `Host` names the forward's port rather than
 * theirs; the real program finds them through a state file, as it finds a running local mode.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../lib/cli/backend';
import { runCli } from '../../lib/cli/program';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { cliHarness } from './helpers';

let emulators: Emulators;
let forward: Awaited<ReturnType<typeof portForward>>;
let stateDir: string;

/** A TCP forward from a port of its own to `port`: the request arrives unchanged, its `Host` naming the forward. */
async function portForward(port: number): Promise<{ readonly port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    // The connections it forwards end with it: a client's kept-alive socket would hold it open.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

beforeAll(async () => {
  emulators = await startEmulators();
  forward = await portForward(Number(new URL(emulators.endpoints.sqs).port));
  const sqs = `http://127.0.0.1:${forward.port}`;
  stateDir = mkdtempSync(join(tmpdir(), 'hookline-refusal-'));
  mkdirSync(stateDir, { recursive: true });
  const arn = (name: string) => `arn:aws:sqs:${emulators.region}:000000000000:${name}`;
  writeFileSync(
    join(stateDir, 'local.json'),
    JSON.stringify({
      pid: process.pid,
      webhookBaseUrl: 'http://127.0.0.1:1',
      controlUrl: 'http://127.0.0.1:1/_hookline',
      region: emulators.region,
      endpoints: { sqs },
      queues: {
        events: {
          url: `${sqs}/000000000000/events`,
          arn: arn('events'),
          deadLetterUrl: `${sqs}/000000000000/events-dlq`,
          deadLetterArn: arn('events-dlq'),
          fifo: false,
        },
      },
      consumers: {},
    }),
  );
});

afterAll(async () => {
  await forward?.close();
  await emulators?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("local mode's emulators refusing the CLI", () => {
  it('names the emulators, their reason and how to reach them, not AWS or an IAM grant', async () => {
    const h = cliHarness({
      connect: (options, output) => connect(options, output, { HOOKLINE_STATE_DIR: stateDir }),
    });

    const code = await runCli(['failed', 'list', 'events', '--local'], h.deps);

    expect(h.stderr()).toBe(
      "error: access denied in local mode: local mode's emulators answered HTTP 403 (the SQS/S3 emulator answers only to its loopback address): they answer only callers on this machine, directly, not through a proxy or tunnel, under another host name or from a web page: run the command on the machine where local mode runs, with no proxy in between\n",
    );
    expect(code).toBe(1);
  });
});
