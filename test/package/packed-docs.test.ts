/**
 * The installed package's documentation: an app reads README.md in node_modules/hookline (and npm shows it),
 * so every relative link of a packed Markdown file must reach a file the package holds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

/** The files `npm pack` puts in the tarball, by their path in it (no build: links never point into dist/). */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const [pack] = JSON.parse(output.slice(output.indexOf('['))) as { files: { path: string }[] }[];
  return (pack?.files ?? []).map((file) => file.path);
}

/** The relative link targets of a Markdown file, resolved against its folder, without their anchors. */
function relativeLinks(markdownPath: string): string[] {
  const text = readFileSync(resolve(REPO, markdownPath), 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] ?? '')
    .filter((link) => !/^[a-z]+:/i.test(link) && !link.startsWith('#'))
    .map((link) => posix.normalize(posix.join(posix.dirname(markdownPath), link.split('#')[0] ?? '')));
}

describe('the packed package', () => {
  it('holds every file a packed Markdown file links to, so the README read from node_modules has no dead link', () => {
    const files = packedFiles();
    const packed = new Set(files);
    const markdown = files.filter((file) => file.endsWith('.md'));
    expect(markdown).toContain('README.md');
    const dead = markdown.flatMap((file) =>
      relativeLinks(file)
        .filter((target) => !packed.has(target))
        .map((target) => `${file} -> ${target}`),
    );
    expect(dead).toEqual([]);
  });

  it("links and holds the guide of every entry point that has one (hookline/consumer's, hookline/testing's)", () => {
    const manifest = JSON.parse(readFileSync(resolve(REPO, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { default: string }>;
    };
    const guides = Object.values(manifest.exports)
      .map((target) => (typeof target === 'string' ? target : target.default))
      .map((target) => /^\.\/dist\/(.+)\/index\.js$/.exec(target)?.[1])
      .map((folder) => `${folder}/README.md`)
      .filter((guide) => existsSync(resolve(REPO, guide)));
    expect(guides).toEqual(expect.arrayContaining(['lambda/consumer/README.md', 'lambda/testing/README.md']));
    const packed = new Set(packedFiles());
    const linked = new Set(relativeLinks('README.md'));
    expect(guides.filter((guide) => !packed.has(guide) || !linked.has(guide))).toEqual([]);
  });
});
