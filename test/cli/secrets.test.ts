import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, loadConfig } from '../../lib/cli/backend';
import { USAGE_EXIT_CODE } from '../../lib/cli/errors';
import { runCli } from '../../lib/cli/program';
import { readSecretInput } from '../../lib/cli/secrets';
import { outputKey } from '../../lib/stack-outputs';
import { awsError, cliHarness } from './helpers';

const cloudformation = mockClient(CloudFormationClient);
const secretsManager = mockClient(SecretsManagerClient);
const GITHUB_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretGithub-AbCdEf';
const SVIX_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretSvix-AbCdEf';

const dir = mkdtempSync(join(tmpdir(), 'hookline-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A configuration with a verifying and an unverified source, loaded through --config. */
const configFile = join(dir, 'secrets.config.ts');
writeFileSync(
  configFile,
  `export default {
  stackName: 'Hooks',
  sources: {
    github: { type: 'github' },
    svix: { type: 'standard-webhooks' },
    open: { type: 'unverified', dangerouslyAcceptUnverifiedRequests: true },
  },
  queues: { events: {} },
};
`,
);

beforeEach(() => {
  cloudformation.reset();
  secretsManager.reset();
  cloudformation.on(DescribeStacksCommand, { StackName: 'Hooks' }).resolves({
    Stacks: [
      {
        StackName: 'Hooks',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          { OutputKey: outputKey('SigningSecretId', 'github'), OutputValue: GITHUB_SECRET_ARN },
          { OutputKey: outputKey('SigningSecretId', 'svix'), OutputValue: SVIX_SECRET_ARN },
        ],
      },
    ],
  });
  secretsManager.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
});

/** The real program, real target resolution from the stack outputs, AWS mocked; the typed value is injected. */
async function cli(args: string[], typed = 'whsec-new-value\n') {
  const reads: string[] = [];
  const { deps, stdout, stderr } = cliHarness({
    connect: (options, output) => connect(options, output, { AWS_REGION: 'eu-west-1' }),
    loadConfig: (path) => loadConfig(path, {}),
    readSecret: async (question) => {
      reads.push(question);
      return typed;
    },
  });
  const code = await runCli(['secrets', 'set', ...args, '--config', configFile], deps);
  return { code, stdout: stdout(), stderr: stderr(), reads };
}

const stored = () =>
  secretsManager
    .commandCalls(PutSecretValueCommand)
    .map((call) => [call.args[0].input.SecretId, JSON.parse(call.args[0].input.SecretString ?? '')]);

describe('hookline secrets set', () => {
  it('stores the value as the only secret in the secret the stack output names, and never prints it', async () => {
    const run = await cli(['github']);
    expect(run.code).toBe(0);
    expect(stored()).toEqual([[GITHUB_SECRET_ARN, { secrets: ['whsec-new-value'] }]]);
    expect(run.stdout).toContain(`github: set the signing secret in ${GITHUB_SECRET_ARN}; 1 active`);
    expect(run.reads).toEqual(['signing secret for github (input hidden): ']);
    expect(run.stdout + run.stderr).not.toContain('whsec-new-value');
  });

  it('--json prints the outcome without the value', async () => {
    const run = await cli(['github', '--json']);
    expect(JSON.parse(run.stdout)).toEqual({
      source: 'github',
      secretId: GITHUB_SECRET_ARN,
      mode: 'replace',
      activeSecrets: 1,
      versionId: 'v2',
    });
    expect(run.stdout + run.stderr).not.toContain('whsec-new-value');
  });

  it('--add puts the new secret first and keeps the old ones, without duplicates', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: GITHUB_SECRET_ARN })
      .resolvesOnce({ SecretString: 'old-plain' })
      .resolvesOnce({ SecretString: '{"secrets":["whsec-new-value","old-plain"]}' });
    expect((await cli(['github', '--add'])).code).toBe(0);
    expect((await cli(['github', '--add'])).code).toBe(0);
    expect(stored()).toEqual([
      [GITHUB_SECRET_ARN, { secrets: ['whsec-new-value', 'old-plain'] }],
      [GITHUB_SECRET_ARN, { secrets: ['whsec-new-value', 'old-plain'] }],
    ]);
  });

  it('--remove-old keeps only the newest stored secret and reads no value', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: GITHUB_SECRET_ARN })
      .resolves({ SecretString: '{"secrets":["value-3","value-2","value-1"]}' });
    const run = await cli(['github', '--remove-old']);
    expect(run.code).toBe(0);
    expect(run.reads).toEqual([]);
    expect(stored()).toEqual([[GITHUB_SECRET_ARN, { secrets: ['value-3'] }]]);
    expect(run.stdout + run.stderr).not.toMatch(/value-\d/);
  });

  it.each([
    ['an empty value', ['github'], '\n', 'error: the secret is empty: pass it on stdin or at the prompt\n'],
    ['an unknown source', ['gitlab'], 'x', 'error: unknown source "gitlab": use one of github, svix, open\n'],
    [
      'a value with whitespace at one end (a paste with a space)',
      ['github'],
      ' whsec-new-value',
      'error: not stored: the secret starts or ends with whitespace, which no sender issues: copy it again without it (source github is github); nothing was changed\n',
    ],
    [
      'a key/value JSON secret, which the ingest could not use',
      ['github', '--add'],
      '{"webhookSecret":"abc"}',
      'error: not stored: the secret is a JSON document: pass the plain secret the sender shows',
    ],
    [
      'a Standard Webhooks key with no key bytes',
      ['svix'],
      'whsec_!!!!',
      'error: not stored: a Standard Webhooks secret is whsec_ followed by the base64 key the sender shows; this one decodes to no key bytes (source svix is standard-webhooks)',
    ],
    [
      'a source without a secret (unverified)',
      ['open'],
      'x',
      'error: source open is unverified: it verifies nothing, so it has no signing secret\n',
    ],
    [
      '--add together with --remove-old',
      ['github', '--add', '--remove-old'],
      'x',
      "error: option '--add' cannot be used with option '--remove-old'\n",
    ],
  ])('refuses %s and stores nothing', async (_case, args, typed, message) => {
    const run = await cli(args, typed);
    // Two flags that exclude each other are a usage error; every other refusal is the command failing.
    expect(run.code).toBe(args.includes('--remove-old') ? USAGE_EXIT_CODE : 1);
    expect(run.stderr).toContain(message);
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('--add on a secret that holds no value yet stores the value as the only secret', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: GITHUB_SECRET_ARN })
      .rejects(
        awsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        ),
      );
    const run = await cli(['github', '--add']);
    expect(run.code).toBe(0);
    expect(stored()).toEqual([[GITHUB_SECRET_ARN, { secrets: ['whsec-new-value'] }]]);
    expect(run.stdout).toContain('1 active');
  });

  it('--add on a secret deleted since the deploy says to redeploy, and stores nothing', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: GITHUB_SECRET_ARN })
      .rejects(awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."));
    const run = await cli(['github', '--add']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: secret ${GITHUB_SECRET_ARN} not found in stack Hooks in eu-west-1: redeploy with npx cdk deploy\n`,
    );
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it("--remove-old on a secret that holds no value yet is refused, not stored as an empty list that verifies nothing, naming the set that stores one with this run's target flags", async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: GITHUB_SECRET_ARN })
      .rejects(
        awsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        ),
      );
    const run = await cli(['github', '--remove-old', '--region', 'eu-west-1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: source github has no stored secret to keep: set one with hookline secrets set github --region eu-west-1 --config ${configFile}\n`,
    );
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('--add over a stored value the ingest cannot read is refused, naming the way out', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: GITHUB_SECRET_ARN })
      .resolves({ SecretString: '{"secrets":"not-a-list"}' });
    const run = await cli(['github', '--add']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: the stored secret ${GITHUB_SECRET_ARN} is not readable \\(.+\\): set it without --add\\n$`,
      ),
    );
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('a stack that publishes no secret for the source says to redeploy, and stores nothing', async () => {
    cloudformation.on(DescribeStacksCommand, { StackName: 'Hooks' }).resolves({
      Stacks: [{ StackName: 'Hooks', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });
    const run = await cli(['github']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: source github has no SigningSecretId output in stack Hooks in eu-west-1: redeploy with npx cdk deploy\n',
    );
    expect(run.reads).toEqual([]);
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('stores a Standard Webhooks key as the sender issues it', async () => {
    const key = `whsec_${Buffer.from('a real key of 24 bytes..').toString('base64')}`;
    expect((await cli(['svix'], `${key}\n`)).code).toBe(0);
    expect(stored()).toEqual([[SVIX_SECRET_ARN, { secrets: [key] }]]);
  });

  it('--local says that local mode reads the secret from HOOKLINE_SECRET_<SOURCE>', async () => {
    const run = await cli(['github', '--local']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: local mode stores no secrets: it reads HOOKLINE_SECRET_GITHUB from the environment local mode was started in/,
    );
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('--help offers the deployed target flags and not --local, which it refuses', async () => {
    const { deps, stdout } = cliHarness();
    expect(await runCli(['secrets', 'set', '--help'], deps)).toBe(0);
    expect(stdout()).toMatch(/--stack <name>/);
    expect(stdout()).toMatch(/--region <region>/);
    expect(stdout()).toMatch(/--config <path>/);
    expect(stdout()).toMatch(/--json/);
    expect(stdout()).not.toContain('--local');
  });

  it('says AWS cannot be reached, not local mode, when the network fails', async () => {
    secretsManager
      .on(PutSecretValueCommand)
      .rejects(Object.assign(new Error('getaddrinfo ENOTFOUND secretsmanager'), { code: 'ENOTFOUND' }));
    const run = await cli(['github']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot store the signing secret of github in ${GITHUB_SECRET_ARN}: cannot reach AWS (ENOTFOUND): check your network or --region\n`,
    );
  });

  it('explains a denied write in one line that names what it could not store and the action it needs', async () => {
    secretsManager.on(PutSecretValueCommand).rejects(awsError('AccessDeniedException', 'not allowed'));
    const run = await cli(['github']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot store the signing secret of github in ${GITHUB_SECRET_ARN}: access denied in stack Hooks in eu-west-1: not allowed (grant your AWS identity secretsmanager:PutSecretValue)\n`,
    );
  });
});

describe('reading the secret', () => {
  it('reads all of piped stdin', async () => {
    const input = new PassThrough();
    const prompt = new PassThrough();
    const value = readSecretInput(input, prompt, 'secret: ');
    input.end('piped-secret\n');
    expect(await value).toBe('piped-secret\n');
    expect(prompt.read()).toBeNull();
  });

  it('prompts on a terminal without echoing what is typed, in raw mode', async () => {
    const modes: boolean[] = [];
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      setRawMode: (mode: boolean) => modes.push(mode),
    });
    const prompt = Object.assign(new PassThrough(), { isTTY: true });
    const value = readSecretInput(input, prompt, 'secret: ');
    input.write('typo\u007f\u007fed-secret\r');
    expect(await value).toBe('tyed-secret');
    expect(String(prompt.read())).toBe('secret: \n');
    expect(modes).toEqual([true, false]);
  });

  it('refuses to ask on a terminal whose stderr, where the question goes, is redirected, and names the pipe instead', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    const prompt = new PassThrough();
    await expect(readSecretInput(input, prompt, 'secret: ')).rejects.toThrow(
      `cannot ask for the secret: stderr, where the question goes, is not a terminal; pipe the value on stdin instead (printf '%s' "$SECRET" | hookline secrets set <source>)`,
    );
    expect(prompt.read()).toBeNull();
  });
});
