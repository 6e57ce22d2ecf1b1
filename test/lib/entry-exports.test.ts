import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryExportNames } from '../../lib/entry-exports';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Inside the repository, so a package an entry imports resolves as a project's would.
const dir = mkdtempSync(join(ROOT, 'node_modules', '.tmp-entry-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the files (name to text) under a folder of their own and gives the path of the first. */
function entry(files: Record<string, string>): string {
  const folder = mkdtempSync(join(dir, 'entry-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(folder, name, '..'), { recursive: true });
    writeFileSync(join(folder, name), text);
  }
  return join(folder, Object.keys(files)[0] ?? '');
}

describe('entryExportNames', () => {
  it('lists the names an ES module exports, however it exports them', () => {
    const file = entry({
      'events.ts': [
        "import { z } from 'zod';",
        'export const handler = async () => z.string();',
        'const inner = () => 1;',
        'export { inner as renamed };',
        "export * from './more';",
        'export default function () {}',
        'export type Shape = { a: string };',
      ].join('\n'),
      'more.ts': "export function fromMore() {}\nexport * from './deeper/most';\n",
      'deeper/most.ts': 'export class Deepest {}\n',
    });
    expect([...(entryExportNames(file) ?? [])].sort()).toEqual([
      'Deepest',
      'default',
      'fromMore',
      'handler',
      'renamed',
    ]);
  });

  it('lists nothing for a module that exports nothing', () => {
    expect(entryExportNames(entry({ 'empty.ts': 'const handler = () => 1;\nvoid handler;\n' }))).toEqual([]);
  });

  it('tells a CommonJS module, static or built at run time, whose bundle as an ES module exports only default', () => {
    expect(entryExportNames(entry({ 'static.js': 'exports.handler = async () => 1;\n' }))).toBe('commonjs');
    expect(entryExportNames(entry({ 'object.cjs': 'module.exports = { handler: async () => 1 };\n' }))).toBe(
      'commonjs',
    );
    const dynamic = "for (const name of ['handler']) module.exports[name] = async () => 1;\n";
    expect(entryExportNames(entry({ 'dynamic.js': dynamic }))).toBe('commonjs');
    const esModule = {
      'assigned.js': 'exports.handler = async () => 1;\n',
      'package.json': '{ "type": "module" }',
    };
    expect(entryExportNames(entry(esModule))).toBe('commonjs');
  });

  it('lists the exports of an ES module that re-exports a CommonJS one, which is how to keep CommonJS code', () => {
    const file = entry({
      'wrapper.ts': "import legacy from './legacy.cjs';\nexport const handler = legacy.handler;\n",
      'legacy.cjs': 'exports.handler = async () => 1;\n',
    });
    expect(entryExportNames(file)).toEqual(['handler']);
  });

  it("does not claim to know the exports of a module that re-exports a package's, which are not bundled", () => {
    expect(
      entryExportNames(entry({ 'reexport.ts': "export * from 'zod';\nexport const mine = 1;\n" })),
    ).toBeUndefined();
  });

  it('does not claim to know the exports of a file esbuild cannot build: the bundling at synth says why', () => {
    expect(entryExportNames(entry({ 'broken.ts': 'export const handler = (;\n' }))).toBeUndefined();
  });
});
