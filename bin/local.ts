/**
 * `npm start`: runs the pipeline of hookline.config.ts (or HOOKLINE_CONFIG) on this machine.
 */
import type { ResolvedConfig } from '../lib/config';
import { configFailureMessage, configPath, readConfig } from '../lib/load-config';
import { assertNodeVersion } from '../lib/local/emulators';
import { PortInUseError } from '../lib/local/http-api';
import { startLocalMode } from '../lib/local/local-mode';
import { Reporter } from '../lib/local/reporter';
import { localSecrets } from '../lib/local/secrets';

async function main(): Promise<number> {
  assertNodeVersion();
  const reporter = new Reporter();
  let config: ResolvedConfig;
  try {
    config = await readConfig(configPath());
  } catch (error) {
    const message = configFailureMessage(error);
    if (message === undefined) throw error;
    reporter.problem(message);
    return 1;
  }

  const started = performance.now();
  let local: Awaited<ReturnType<typeof startLocalMode>>;
  try {
    local = await startLocalMode({ config, reporter });
  } catch (error) {
    reporter.problem(
      error instanceof PortInUseError
        ? error.message
        : `local mode failed to start: ${(error as Error).stack ?? error}`,
    );
    return 1;
  }

  const secrets = localSecrets(config.sources);
  reporter.info(
    `hookline local mode is running (${Math.round(performance.now() - started)} ms), stack ${config.stackName}`,
  );
  for (const source of config.sources) {
    const secret = secrets[source.name];
    reporter.info(
      `  ${source.name.padEnd(12)} POST ${local.webhookUrls[source.name]}  (${source.type}${
        secret
          ? `, secret ${secret.isDefault ? `dev default "${secret.value}"` : `from ${secret.envName}`}`
          : ''
      })`,
    );
  }
  const example = config.sources.find((s) => s.type === 'github');
  if (example) {
    const url = local.webhookUrls[example.name];
    const secret = secrets[example.name]?.value ?? '';
    reporter.info(
      `try: body='{"ref":"refs/heads/main","commits":[]}'; sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac '${secret}' -hex | sed 's/^.* //'); ` +
        `curl -s -X POST ${url} -H 'content-type: application/json' -H 'x-github-event: push' ` +
        `-H "x-github-delivery: $(date +%s%N)" -H "x-hub-signature-256: sha256=$sig" -d "$body"`,
    );
  }
  reporter.info(`status: ${local.url}/_hookline/status   (Ctrl-C to stop; HOOKLINE_LOG=json for JSON lines)`);

  await new Promise<void>((resolveSignal) => {
    process.once('SIGINT', () => resolveSignal());
    process.once('SIGTERM', () => resolveSignal());
  });
  reporter.info('stopping: draining in-flight work (Ctrl-C again to quit at once)...');
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await local.stop();
  reporter.info('stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
