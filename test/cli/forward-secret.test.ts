import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/cli/backend';
import { CliError } from '../../lib/cli/errors';
import { forwardSecret, shownSecret } from '../../lib/cli/forward';
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
});
