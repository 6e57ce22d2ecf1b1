import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createForwarder } from '../../lambda/forward/core';
import { parseSecretValue } from '../../lambda/ingest/secrets';
import { verifyRequest } from '../../lambda/ingest/verify';
import type { SourceRuntimeConfig } from '../../lambda/shared/ingest-config';
import { standardWebhooksKey } from '../../lambda/shared/senders/standard-webhooks';
import { handlerContext, webhookEvent } from '../../lambda/testing';
import type { Backend } from '../../lib/cli/backend';
import { CliError } from '../../lib/cli/errors';
import {
  forwardSecret,
  renderForwardRotation,
  renderForwardSecret,
  rotateForwardSecret,
  shownSecret,
} from '../../lib/cli/forward';
import type { Output } from '../../lib/cli/output';
import type { Target } from '../../lib/cli/target';
import { resolveConfig } from '../../lib/config';

const config = resolveConfig({
  sources: { github: { type: 'github' } },
  queues: {
    app: { consumer: { forward: { url: 'https://app.example.com/hooks' } } },
    events: { consumer: { entry: 'lambda/consumers/events.ts' } },
  },
});

function deployed(
  stored: string | undefined,
  ids: Record<string, string> = { app: 'arn:aws:secretsmanager:eu-west-1:1:secret:fwd-AbCdEf' },
) {
  const asked: string[] = [];
  const backend = {
    secretsManager: {
      send: async (command: { input: { SecretId: string } }) => {
        asked.push(command.input.SecretId);
        return { SecretString: stored };
      },
    },
  } as unknown as Backend;
  const target = {
    kind: 'stack',
    description: 'stack Hookline in eu-west-1',
    forwardSecretIds: ids,
  } as unknown as Target;
  return { backend, target, asked };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('hookline forward secret', () => {
  it('reads the deployed secret by its output id and shows it with the whsec_ prefix Secrets Manager cannot add', async () => {
    const { backend, target, asked } = deployed('QmFzZTY0S2V5T2ZGb3J0eUVpZ2h0Q2hhcmFjdGVyc0xvbmc0OA');
    const result = await forwardSecret(backend, target, async () => config, 'app');
    expect(asked).toStrictEqual(['arn:aws:secretsmanager:eu-west-1:1:secret:fwd-AbCdEf']);
    expect(result).toStrictEqual({
      queue: 'app',
      url: 'https://app.example.com/hooks',
      secret: 'whsec_QmFzZTY0S2V5T2ZGb3J0eUVpZ2h0Q2hhcmFjdGVyc0xvbmc0OA',
      from: 'arn:aws:secretsmanager:eu-west-1:1:secret:fwd-AbCdEf',
    });
  });

  it('shows a secret stored with its prefix as it is, and the signing (first) one of a rotation list', () => {
    expect(shownSecret('whsec_abc=')).toBe('whsec_abc=');
    expect(shownSecret('{"secrets":["whsec_new=","whsec_old="]}')).toBe('whsec_new=');
  });

  it('refuses a queue that does not forward, or does not exist, naming the forwarding queues', async () => {
    const { backend, target } = deployed('x');
    expect(await refusal(forwardSecret(backend, target, async () => config, 'events'))).toBe(
      'queue events does not forward (its consumer has no forward): the forwarding queues are app',
    );
    expect(await refusal(forwardSecret(backend, target, async () => config, 'nope'))).toMatch(
      /^unknown queue "nope": the forwarding queues are app$/,
    );
    expect(await refusal(forwardSecret(backend, target, async () => config, 'ap'))).toBe(
      'unknown queue "ap" (did you mean app?): the forwarding queues are app',
    );
  });

  it('says to deploy when the stack has no output for the queue yet', async () => {
    const { backend, target } = deployed('x', {});
    expect(await refusal(forwardSecret(backend, target, async () => config, 'app'))).toMatch(
      /no ForwardSecretId output .* deploy/,
    );
  });

  it("locally names the running local mode's forwarding queues when the queue is not one of them", async () => {
    const target = {
      kind: 'local',
      description: 'local mode',
      forwards: { app: { url: 'http://localhost:3000' } },
    } as unknown as Target;
    expect(await refusal(forwardSecret({} as Backend, target, async () => config, 'events'))).toBe(
      'queue events does not forward in the running local mode: its forwarding queues are app',
    );
    expect(await refusal(forwardSecret({} as Backend, target, async () => config, 'app'))).toMatch(
      /in no file/,
    );
  });
  it('refuses a local secrets file that is not JSON without quoting any of it: the parser would quote a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-forward-secret-'));
    try {
      const file = join(dir, 'forward-secrets.json');
      writeFileSync(file, '{"app": whsec_bXlvd25rZXlvZnR3ZW50eWZvdXJieXRlcw==}');
      const target = {
        kind: 'local',
        description: 'local mode',
        forwards: { app: { url: 'http://localhost:3000', secretFile: file } },
      } as unknown as Target;
      const message = await refusal(forwardSecret({} as Backend, target, async () => config, 'app'));
      expect(message).toBe(`cannot read ${file}: Unexpected token 'w': not valid JSON`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A Secrets Manager holding one secret: reads answer its current value, writes replace it. */
function secretStore(initial: string) {
  const id = 'arn:aws:secretsmanager:eu-west-1:1:secret:fwd-AbCdEf';
  const store = { value: initial, writes: 0 };
  const backend = {
    output: { json: false },
    secretsManager: {
      send: async (command: { input: { SecretId: string; SecretString?: string } }) => {
        expect(command.input.SecretId).toBe(id);
        if (command.input.SecretString === undefined) return { SecretString: store.value };
        store.value = command.input.SecretString;
        store.writes++;
        return { VersionId: `v${store.writes}` };
      },
    },
  } as unknown as Backend;
  const target = {
    kind: 'stack',
    description: 'stack Hookline in eu-west-1',
    forwardSecretIds: { app: id },
  } as unknown as Target;
  return { backend, target, store };
}

/** Whether a request the forwarder signs with the stored secrets verifies with `secret` alone. */
async function verifiesWith(stored: string, secret: string): Promise<boolean> {
  let request = { headers: {} as Record<string, string>, body: Buffer.alloc(0) };
  const handle = createForwarder(
    { url: 'https://app.example.com/hooks', timeoutMs: 1_000 },
    {
      fetch: (async (_url: URL, init: RequestInit) => {
        request = {
          headers: init.headers as Record<string, string>,
          body: Buffer.from(init.body as Uint8Array),
        };
        return new Response(null, { status: 204 });
      }) as unknown as typeof fetch,
      loadSecrets: async () => parseSecretValue(stored),
      now: Date.now,
    },
  );
  const event = webhookEvent('github.push', {}, { id: 'evt-1' });
  await handle(event, handlerContext({ event }));
  const scheme = { type: 'standard-webhooks', secretId: 'x' } as SourceRuntimeConfig;
  return verifyRequest(scheme, { ...request, url: 'https://app.example.com/hooks' }, [secret], Date.now()).ok;
}

describe('hookline forward secret --rotate / --remove-old', () => {
  it('rotates without a request failing to verify: both secrets sign until --remove-old, then only the new one', async () => {
    // As the stack generates it: the bare base64 key.
    const generated = randomBytes(36).toString('base64');
    const { backend, target, store } = secretStore(generated);

    const rotated = await rotateForwardSecret(backend, target, async () => config, 'app', 'rotate');
    expect(rotated).toMatchObject({
      queue: 'app',
      mode: 'rotate',
      activeSecrets: 2,
      changed: true,
      versionId: 'v1',
    });
    const fresh = rotated.secret ?? '';
    expect(fresh).toMatch(/^whsec_/);
    expect(standardWebhooksKey(fresh)).toHaveLength(32);
    expect(JSON.parse(store.value)).toStrictEqual({ secrets: [fresh, generated] });
    // The destination may move to the new secret at any time: requests verify with either.
    expect(await verifiesWith(store.value, `whsec_${generated}`)).toBe(true);
    expect(await verifiesWith(store.value, fresh)).toBe(true);
    // And the secret shown for the destination from now on is the new one.
    expect((await forwardSecret(backend, target, async () => config, 'app')).secret).toBe(fresh);

    const removed = await rotateForwardSecret(backend, target, async () => config, 'app', 'remove-old');
    expect(removed).toMatchObject({ activeSecrets: 1, changed: true });
    expect(removed).not.toHaveProperty('secret');
    expect(JSON.parse(store.value)).toStrictEqual({ secrets: [fresh] });
    expect(await verifiesWith(store.value, fresh)).toBe(true);
    expect(await verifiesWith(store.value, `whsec_${generated}`)).toBe(false);
  });

  it('changes nothing on --remove-old when only one secret signs', async () => {
    const { backend, target, store } = secretStore('whsec_b25seSBvbmUgc2VjcmV0IGhlcmUsIDMyIGJ5dGVzIQ==');
    const result = await rotateForwardSecret(backend, target, async () => config, 'app', 'remove-old');
    expect(result).toMatchObject({ activeSecrets: 1, changed: false });
    expect(store.writes).toBe(0);
  });

  it('refuses a queue that does not forward before touching any secret, and local mode, naming its file', async () => {
    const { backend, target, store } = secretStore('x');
    expect(
      await refusal(rotateForwardSecret(backend, target, async () => config, 'events', 'rotate')),
    ).toMatch(/^queue events does not forward/);
    expect(store.writes).toBe(0);
    const local = {
      kind: 'local',
      description: 'local mode',
      forwards: { app: { url: 'http://localhost:3000', secretFile: '/p/.hookline/forward-secrets.json' } },
    } as unknown as Target;
    expect(await refusal(rotateForwardSecret(backend, local, async () => config, 'app', 'rotate'))).toBe(
      "local mode has no forwarding secret to rotate: it signs with the one it keeps in /p/.hookline/forward-secrets.json; for a new one, remove queue app's entry there and restart local mode",
    );
  });

  it("refuses in local mode a queue that does not forward there as without --rotate, not as an entry of 'no file' to remove", async () => {
    const { backend } = secretStore('x');
    const local = {
      kind: 'local',
      description: 'local mode',
      forwards: { app: { url: 'http://localhost:3000' } },
    } as unknown as Target;
    for (const mode of ['rotate', 'remove-old'] as const) {
      expect(await refusal(rotateForwardSecret(backend, local, async () => config, 'orders', mode))).toBe(
        'queue orders does not forward in the running local mode: its forwarding queues are app',
      );
    }
    expect(await refusal(rotateForwardSecret(backend, local, async () => config, 'app', 'rotate'))).toBe(
      'local mode has no forwarding secret to rotate: it makes a new one for each run (it runs without a state or data directory); restart local mode for a new one',
    );
  });

  it('tells a refused read or write as the step that failed, naming the action a denial leaves unnamed', async () => {
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const id = 'arn:aws:secretsmanager:eu-west-1:1:secret:fwd-AbCdEf';
    const refusing = (refuse: 'read' | 'write') => {
      const { backend, target, store } = secretStore('whsec_old=');
      const send = backend.secretsManager.send.bind(backend.secretsManager);
      (backend.secretsManager as { send: unknown }).send = async (command: {
        input: { SecretString?: string };
      }) => {
        if ((command.input.SecretString === undefined) === (refuse === 'read')) throw denied;
        return send(command as never);
      };
      return { backend, target, store };
    };
    const read = refusing('read');
    expect(await refusal(forwardSecret(read.backend, read.target, async () => config, 'app'))).toBe(
      `cannot read the forwarding secret of queue app in ${id}: access denied in stack Hookline in eu-west-1: Access Denied (grant your AWS identity secretsmanager:GetSecretValue)`,
    );
    expect(
      await refusal(rotateForwardSecret(read.backend, read.target, async () => config, 'app', 'rotate')),
    ).toBe(
      `cannot read the forwarding secrets of queue app in ${id}, which the rotation keeps: access denied in stack Hookline in eu-west-1: Access Denied (grant your AWS identity secretsmanager:GetSecretValue)`,
    );
    const write = refusing('write');
    expect(
      await refusal(rotateForwardSecret(write.backend, write.target, async () => config, 'app', 'rotate')),
    ).toBe(
      `cannot store the forwarding secrets of queue app in ${id}: access denied in stack Hookline in eu-west-1: Access Denied (grant your AWS identity secretsmanager:PutSecretValue)`,
    );
    expect(write.store.writes).toBe(0);
  });

  it('refuses a stored value it cannot read, saying what to store, and writes nothing', async () => {
    const { backend, target, store } = secretStore('{"apiKey":"x"}');
    expect(await refusal(rotateForwardSecret(backend, target, async () => config, 'app', 'rotate'))).toMatch(
      /not readable .*store the plain whsec_ secret/,
    );
    expect(store.writes).toBe(0);
  });
});

describe('hookline forward secret: what it prints', () => {
  it("prints the secret alone on stdout, and where it goes on stderr without the URL's query, which may hold a token", () => {
    const lines: string[] = [];
    const notes: string[] = [];
    const output = {
      line: (text: string) => lines.push(text),
      note: (text: string) => notes.push(text),
    } as unknown as Output;
    renderForwardSecret(output, {
      queue: 'app',
      url: 'https://app.example.com/hooks?token=s3cr3t-t0ken',
      secret: 'whsec_abc=',
      from: 'arn:fwd',
    });
    expect(lines).toStrictEqual(['whsec_abc=']);
    expect(notes[0]).toContain('posts to https://app.example.com/hooks?<query> with it (read from arn:fwd)');
    expect(notes.join('\n')).not.toContain('s3cr3t');
  });
});

describe('hookline forward secret --rotate: what it prints', () => {
  const printed = (result: Parameters<typeof renderForwardRotation>[1]) => {
    const lines: string[] = [];
    const notes: string[] = [];
    const output = {
      line: (text: string) => lines.push(text),
      note: (text: string) => notes.push(text),
      command: (args: string) => `hookline ${args} --stack Shop`,
    } as unknown as Output;
    renderForwardRotation(output, result);
    return { lines, notes };
  };
  const base = { queue: 'app', secretId: 'arn:fwd', pickedUpWithin: '5 minutes', changed: true };

  it('prints the new secret alone on stdout, and on stderr when to switch the destination and the next step', () => {
    const { lines, notes } = printed({ ...base, mode: 'rotate', secret: 'whsec_new=', activeSecrets: 2 });
    expect(lines).toStrictEqual(['whsec_new=']);
    expect(notes[0]).toContain('within 5 minutes');
    expect(notes[0]).toContain('hookline forward secret app --remove-old --stack Shop');
  });

  it('prints no secret on --remove-old, and says when nothing changed', () => {
    expect(printed({ ...base, mode: 'remove-old', activeSecrets: 1 }).lines[0]).toMatch(
      /^app: kept only the newest forwarding secret in arn:fwd/,
    );
    expect(printed({ ...base, mode: 'remove-old', activeSecrets: 1, changed: false }).lines).toStrictEqual([
      'app: signs with one secret only; nothing to remove, nothing changed',
    ]);
  });
});
