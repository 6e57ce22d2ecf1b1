/** What `npm start` prints once ready: every URL a user can post to, with the credential it needs. */
import { describe, expect, it } from 'vitest';
import exampleConfig from '../../../hookline.config';
import { resolveConfig } from '../../../lib/config';
import { endpointLines } from '../../../lib/local/dev';

const local = {
  url: 'http://127.0.0.1:3000',
  webhookUrls: { github: 'http://127.0.0.1:3000/webhooks/github' },
};

describe('local mode endpoint lines', () => {
  it('lists the jobs endpoint of each queue it serves, with the token to use', () => {
    const config = resolveConfig({ ...exampleConfig, jobs: { endpoint: { queues: ['events', 'orders'] } } });
    const lines = endpointLines(config, local, {});
    expect(lines).toContain(
      '  jobs         POST http://127.0.0.1:3000/jobs/events  (bearer token dev default "dev-jobs-token")',
    );
    expect(lines).toContain(
      '  jobs         POST http://127.0.0.1:3000/jobs/orders  (bearer token dev default "dev-jobs-token")',
    );
    expect(endpointLines(config, local, { HOOKLINE_JOBS_TOKEN: 'hidden' }).join('\n')).toMatch(
      /jobs\/events {2}\(bearer token from HOOKLINE_JOBS_TOKEN\)/,
    );
    expect(endpointLines(config, local, { HOOKLINE_JOBS_TOKEN: 'hidden' }).join('\n')).not.toContain(
      'hidden',
    );
  });

  it('lists no jobs endpoint when none is configured', () => {
    const lines = endpointLines(resolveConfig(exampleConfig), local, {});
    expect(lines.some((line) => line.includes('/jobs/'))).toBe(false);
    expect(
      lines.some((line) => line.startsWith('  github       POST http://127.0.0.1:3000/webhooks/github')),
    ).toBe(true);
  });

  it('never prints a signing secret given in the environment: the curl line signs with the variable', () => {
    const config = resolveConfig(exampleConfig);
    const lines = endpointLines(config, local, { HOOKLINE_SECRET_GITHUB: 'real-github-secret' }).join('\n');
    expect(lines).not.toContain('real-github-secret');
    expect(lines).toMatch(/github .*\(github, secret from HOOKLINE_SECRET_GITHUB\)/);
    expect(lines).toContain(`openssl dgst -sha256 -hmac "$HOOKLINE_SECRET_GITHUB" -hex`);
    expect(endpointLines(config, local, {}).join('\n')).toContain(
      `openssl dgst -sha256 -hmac 'dev-secret-github' -hex`,
    );
  });

  it('signs its curl line for the GitHub source whatever its place, and prints none without one', () => {
    const { github: _, ...others } = exampleConfig.sources;
    const config = resolveConfig({
      ...exampleConfig,
      sources: { ...others, repos: { type: 'github' } },
      routes: [],
    });
    const urls = {
      url: local.url,
      webhookUrls: Object.fromEntries(config.sources.map((s) => [s.name, `${local.url}/webhooks/${s.name}`])),
    };
    const curl = endpointLines(config, urls, {}).filter((line) => line.startsWith('try: '));
    expect(curl).toHaveLength(1);
    expect(curl[0]).toContain(`-hmac 'dev-secret-repos' -hex`);
    expect(curl[0]).toContain(`curl -s -X POST ${local.url}/webhooks/repos `);
    const withoutGithub = resolveConfig({ ...exampleConfig, sources: others, routes: [] });
    expect(endpointLines(withoutGithub, urls, {}).some((line) => line.startsWith('try: '))).toBe(false);
  });
});
