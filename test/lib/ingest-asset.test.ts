import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { WebhookPipelineStack } from '../../lib/webhook-pipeline-stack';

/** The relative `import ... from './x'` specifiers a module loads statically (minified ESM). */
function staticImports(code: string): string[] {
  return [...code.matchAll(/(?:^|[;}\s])import\s*(?:[\w$*{][^'"]*?from\s*)?["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1] as string,
  );
}

/** Every file of the asset an import of `entry` reads before the handler runs. */
function loadedAtImport(entry: string): Set<string> {
  const seen = new Set<string>();
  for (const pending = [entry]; pending.length > 0; ) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const spec of staticImports(code)) pending.push(path.resolve(path.dirname(file), spec));
  }
  return seen;
}

/** The asset folder of the ingest function of a synthesized (and bundled) pipeline stack. */
function ingestAssetDir(outdir: string, template: Template): string {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'ingest' } } },
  });
  const [ingest] = Object.values(functions) as { Properties: { Code: { S3Key: string } } }[];
  if (!ingest) throw new Error('no ingest function in the template');
  return path.join(outdir, `asset.${ingest.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
}

/** A client package's code, recognised by its API's protocol name (minifying renames classes, not strings). */
const CLIENT_MARKERS = {
  S3: 'AmazonS3',
  DynamoDB: 'DynamoDB_2012',
  'Secrets Manager': 'secretsmanager',
  Firehose: 'Firehose_2015',
} as const;

describe('the deployed ingest asset', () => {
  let outdir: string;
  let assetDir: string;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'hookline-ingest-asset-'));
    // Only the ingest bundles: the example's consumers are left out, so synth runs esbuild once.
    const config = resolveConfig({
      ...exampleConfig,
      queues: Object.fromEntries(
        Object.entries(exampleConfig.queues).map(([name, { consumer: _consumer, ...queue }]) => [
          name,
          queue,
        ]),
      ),
    });
    const stack = new WebhookPipelineStack(new App({ outdir }), config.stackName, { config });
    assetDir = ingestAssetDir(outdir, Template.fromStack(stack));
  }, 120_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('is an entry file (index.handler) that loads the SQS client at import', () => {
    const loaded = [...loadedAtImport(path.join(assetDir, 'index.mjs'))];
    const code = loaded.map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(code).toContain('AmazonSQS');
  });

  it.each(Object.entries(CLIENT_MARKERS))(
    'keeps the %s client in a chunk of its own that the entry does not import statically',
    (_client, marker) => {
      const loaded = loadedAtImport(path.join(assetDir, 'index.mjs'));
      const chunks = readdirSync(path.join(assetDir, 'chunks'))
        .filter((name) => name.endsWith('.mjs'))
        .map((name) => path.join(assetDir, 'chunks', name));
      const holders = chunks.filter((file) => readFileSync(file, 'utf8').includes(marker));
      expect(holders.length).toBeGreaterThan(0);
      for (const holder of holders) expect(loaded).not.toContain(holder);
    },
  );
});
