import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { HooklineConfigError } from '../../lib/config';
import { HooklineFunction } from '../../lib/hookline-function';
import { readConfig } from '../../lib/load-config';
import { bundle } from '../../lib/local/function-runtime';
import { handlerNotFoundMessage } from '../../lib/local/handler-export';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Inside the repository, so CDK's bundling finds esbuild as a project's would; a lockfile of its own makes it the
// folder CDK bundles from (and fingerprints), not the whole repository.
const project = mkdtempSync(join(ROOT, 'node_modules', '.tmp-commonjs-entry-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** Consumer entries (queue name to file and text), in every way a handler file can be written. */
const ENTRIES: Record<string, { file: string; text: string }> = {
  esm: { file: 'handlers/esm.ts', text: "export const handler = async () => 'esm';\n" },
  exportsCjs: { file: 'handlers/legacy.cjs', text: "exports.handler = async () => 'cjs';\n" },
  moduleExports: {
    file: 'handlers/commonjs/object.js',
    text: "module.exports = { handler: async () => 'object' };\n",
  },
  exportsInEsModule: {
    file: 'handlers/module/assigned.js',
    text: "exports.handler = async () => 'assigned';\n",
  },
  reexported: {
    file: 'handlers/reexport.ts',
    text: "import legacy from './legacy.cjs';\nexport const handler = legacy.handler;\n",
  },
};

function writeProject(): void {
  const files: Record<string, string> = {
    'package.json': '{ "name": "commonjs-entry", "type": "module" }\n',
    'package-lock.json': '{ "name": "commonjs-entry", "lockfileVersion": 3, "packages": {} }\n',
    'handlers/commonjs/package.json': '{ "type": "commonjs" }\n',
    'handlers/module/package.json': '{ "type": "module" }\n',
  };
  for (const { file, text } of Object.values(ENTRIES)) files[file] = text;
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(project, name, '..'), { recursive: true });
    writeFileSync(join(project, name), text);
  }
}

/** The queues whose consumer entry the configuration loader (synth and `npm start` alike) refuses. */
async function refusedEntries(): Promise<string[]> {
  const queues = Object.entries(ENTRIES).map(
    ([name, { file }]) => `${name}: { consumer: { entry: '${file}' } }`,
  );
  const config = join(project, 'hookline.config.ts');
  writeFileSync(
    config,
    `export default { sources: { github: { type: 'github' } }, queues: { ${queues.join(', ')} } };\n`,
  );
  try {
    await readConfig(config, project, true);
    return [];
  } catch (error) {
    if (!(error instanceof HooklineConfigError)) throw error;
    return error.violations.flatMap((v) => /^queues\.(\w+)\.consumer\.entry$/.exec(v.path)?.[1] ?? []);
  }
}

/** Imports a bundle; an empty module when it throws as it loads (as a Lambda init error would). */
async function importBundle(file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Each entry's bundle as `cdk synth` builds it (HooklineFunction, through NodejsFunction), by queue name. */
function deployedBundles(): Record<string, string> {
  const app = new App({
    outdir: join(project, 'cdk.out'),
    context: { 'aws:cdk:enable-asset-metadata': true },
  });
  const stack = new Stack(app, 'CommonJsEntry');
  const functions = Object.entries(ENTRIES).map(
    ([name, { file }]) =>
      [name, new HooklineFunction(stack, name, { entry: file, projectRoot: project })] as const,
  );
  const assembly = app.synth();
  const template = JSON.parse(readFileSync(join(assembly.directory, stack.templateFile), 'utf8')) as {
    Resources: Record<string, { Metadata?: Record<string, string> }>;
  };
  return Object.fromEntries(
    functions.map(([name, fn]) => {
      const id = stack.getLogicalId(fn.node.defaultChild as never);
      const asset = template.Resources[id]?.Metadata?.['aws:asset:path'] ?? '';
      return [name, join(assembly.directory, asset, 'index.mjs')];
    }),
  );
}

describe('a consumer entry that synth and local start accept is one whose bundle exports its handler', () => {
  it('refuses CommonJS entries, whose bundle exports only default, and accepts an ES module re-exporting one', async () => {
    writeProject();
    const refused = await refusedEntries();
    const deployed = deployedBundles();
    for (const [name, { file }] of Object.entries(ENTRIES)) {
      const localFile = join(project, 'local', `${name}.mjs`);
      await bundle(join(project, file), localFile);
      const local = await importBundle(localFile);
      const lambda = await importBundle(deployed[name] ?? '');
      const localFinds = handlerNotFoundMessage(file, 'handler', local) === undefined;
      // Lambda's runtime looks the handler up among the module's exports (`index.handler`).
      const lambdaFinds = typeof lambda.handler === 'function';
      expect({ name, localFinds, lambdaFinds, accepted: !refused.includes(name) }).toEqual({
        name,
        localFinds: lambdaFinds,
        lambdaFinds,
        accepted: lambdaFinds,
      });
    }
    expect(refused).toEqual(['exportsCjs', 'moduleExports', 'exportsInEsModule']);
  }, 180_000);
});
