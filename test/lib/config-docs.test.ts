import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

/** What an editor shows on hover over each marked field of a `defineConfig({...})` call. */
function hoverTags(source: string): Map<string, string | undefined> {
  const fileName = join(root, '__hover__.ts');
  const compilerOptions: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Preserve,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host: ts.LanguageServiceHost = {
    getScriptFileNames: () => [fileName],
    getScriptVersion: () => '1',
    getScriptSnapshot: (name) =>
      name === fileName
        ? ts.ScriptSnapshot.fromString(source)
        : ts.sys.fileExists(name)
          ? ts.ScriptSnapshot.fromString(readFileSync(name, 'utf8'))
          : undefined,
    getCurrentDirectory: () => root,
    getCompilationSettings: () => compilerOptions,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: (name) => name === fileName || ts.sys.fileExists(name),
    readFile: (name) => (name === fileName ? source : ts.sys.readFile(name)),
  };
  const service = ts.createLanguageService(host);
  const tags = new Map<string, string | undefined>();
  for (const match of source.matchAll(/\/\*hover\*\/(\w+)/g)) {
    const field = match[1] ?? '';
    const info = service.getQuickInfoAtPosition(fileName, (match.index ?? 0) + '/*hover*/'.length);
    const tag = info?.tags?.find((t) => t.name === 'default');
    tags.set(field, tag ? ts.displayPartsToString(tag.text) : undefined);
  }
  return tags;
}

describe('the configuration reference in the editor', () => {
  it('shows the default of configuration, queue, consumer and sender fields on hover', () => {
    const tags = hoverTags(`
      import { Duration } from 'aws-cdk-lib';
      import { defineConfig } from './lib/config';
      export default defineConfig({
        /*hover*/stackName: 'X',
        sources: { s: { type: 'hmac', header: 'x-sig', /*hover*/algorithm: 'sha256', /*hover*/tolerance: Duration.minutes(1) } },
        queues: {
          q: {
            /*hover*/maxReceiveCount: 5,
            consumer: { entry: 'x.ts', /*hover*/batchSize: 10, retry: { /*hover*/base: Duration.seconds(1) } },
          },
        },
        ingest: { /*hover*/rateLimit: 1000 },
        schedules: [{ name: 'n', expression: 'rate(1 hour)', queue: 'q', type: 't', /*hover*/timezone: 'UTC' }],
      });
    `);
    expect(Object.fromEntries(tags)).toEqual({
      stackName: "'Hookline'",
      algorithm: "'sha256'",
      tolerance: 'Duration.minutes(5)',
      maxReceiveCount: '5',
      batchSize: '10',
      base: 'Duration.seconds(10)',
      rateLimit: '1000',
      timezone: "'UTC'",
    });
  }, 60_000);

  it('documents a default for every optional field of the input types', () => {
    const file = ts.createSourceFile(
      'schema.ts',
      readFileSync(join(root, 'lib', 'config', 'schema.ts'), 'utf8'),
      ts.ScriptTarget.ES2022,
      true,
    );
    const undocumented: string[] = [];
    const visit = (node: ts.Node, parent: string) => {
      const owner = ts.isInterfaceDeclaration(node) ? node.name.text : parent;
      if (ts.isPropertySignature(node) && node.questionToken) {
        const hasDefault = ts.getJSDocTags(node).some((t) => t.tagName.text === 'default');
        if (!hasDefault) undocumented.push(`${owner}.${node.name.getText(file)}`);
      }
      ts.forEachChild(node, (child) => visit(child, owner));
    };
    visit(file, '');
    expect(undocumented).toEqual([]);
  });
});
