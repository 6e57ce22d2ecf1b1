import * as path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { INGEST_ENTRY, INGEST_ENTRY_FILE, splitBundleOptions } from '../../../lib/ingest-asset';

/** The project's own modules a function's bundle pulls in (packages stay external: only our graph matters). */
async function ownModules(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

/** The packages that the modules statically reachable from `entry` import (dynamic `import()`s not followed). */
async function packagesImportedAtLoad(entry: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
  });
  const { inputs } = result.metafile;
  const packages = new Set<string>();
  const pending = [entry];
  const seen = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of inputs[file]?.imports ?? []) {
      if (imported.kind === 'dynamic-import') continue;
      if (imported.external) packages.add(imported.path);
      else pending.push(imported.path);
    }
  }
  return packages;
}

/** The package files that put code into a function's bundle (packages included, as CDK bundles them). */
async function packageFilesInOutput(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([file, { bytesInOutput }]) => bytesInOutput > 0 && file.includes('node_modules/'))
      .map(([file]) => file),
  );
}

describe('the consumer bundle', () => {
  it('leaves out the sender registry and the ingest configuration', async () => {
    const modules = await ownModules('lambda/consumer/index.ts');
    expect(modules).toContain('lambda/shared/consumer-config.ts');
    expect(modules.filter((m) => m.startsWith('lambda/shared/senders/') || m.includes('ingest'))).toEqual([]);
  });

  it('holds nothing of hookline/testing, nor the producer it borrows durations from', async () => {
    const modules = await ownModules('lambda/consumers/events.ts');
    expect(modules).toContain('lambda/consumer/define-consumer.ts');
    expect(
      modules.filter((m) => m.startsWith('lambda/testing/') || m.startsWith('lambda/producer/')),
    ).toEqual([]);
  });

  it('is all the ingest function needs to read its configuration, senders included', async () => {
    const modules = await ownModules('lambda/ingest/handler.ts');
    expect(modules).toContain('lambda/shared/ingest-config.ts');
    expect(modules.some((m) => m.startsWith('lambda/shared/senders/'))).toBe(true);
  });
});

describe('the function bundles', () => {
  it.each(['lambda/ingest/handler.ts', 'lambda/consumer/index.ts'])(
    '%s keeps only the zod/mini parts its contracts use (no locales, no classic API)',
    async (entry) => {
      const zodFiles = (await packageFilesInOutput(entry)).filter((file) =>
        file.includes('node_modules/zod/'),
      );
      expect(zodFiles.length).toBeGreaterThan(0);
      expect(zodFiles.filter((file) => /zod\/v4\/(locales|classic)\//.test(file))).toEqual([]);
    },
  );
});

/** The packages whose code is in the output files an import of the split ingest entry reads. */
async function ingestPackagesLoadedAtImport(): Promise<{ atLoad: Set<string>; anywhere: Set<string> }> {
  const result = await build({
    ...splitBundleOptions(path.resolve(INGEST_ENTRY), '/tmp/hookline-ingest-split'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const { outputs } = result.metafile;
  // Each `import()` target is an entry point of the split build too; the function's is index.mjs.
  const entry = Object.keys(outputs).find((file) => file.endsWith(`/${INGEST_ENTRY_FILE}`)) as string;
  const seen = new Set<string>();
  for (const pending = [entry]; pending.length > 0; ) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imported of outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) pending.push(imported.path);
    }
  }
  const packagesOf = (files: string[]) =>
    new Set(
      files.flatMap((file) =>
        Object.keys(outputs[file]?.inputs ?? {}).flatMap(
          (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? [],
        ),
      ),
    );
  return { atLoad: packagesOf([...seen]), anywhere: packagesOf(Object.keys(outputs)) };
}

describe('the ingest function at cold start', () => {
  it('loads the SQS client from its entry, and the S3, DynamoDB, Secrets Manager and Firehose clients from chunks on first use', async () => {
    const { atLoad, anywhere } = await ingestPackagesLoadedAtImport();
    expect(atLoad).toContain('@aws-sdk/client-sqs');
    for (const deferred of [
      '@aws-sdk/client-s3',
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/client-firehose',
    ]) {
      expect(anywhere).toContain(deferred);
      expect(atLoad).not.toContain(deferred);
    }
  });
});

describe('the consumer runtime at cold start', () => {
  it('loads the SQS and S3 clients only when a record needs them (a failure, an early delete, a claim check)', async () => {
    const atLoad = await packagesImportedAtLoad('lambda/consumer/index.ts');
    expect(atLoad).toContain('@aws-lambda-powertools/batch');
    expect(atLoad).not.toContain('@aws-sdk/client-sqs');
    expect(atLoad).not.toContain('@aws-sdk/client-s3');
  });
});
