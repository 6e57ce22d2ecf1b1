/**
 * Code conventions that a reviewer should not have to count by hand: every function, method, arrow function and
 * constructor in bin/, lib/, lambda/ and bench/ is at most MAX_FUNCTION_LINES lines long (from its first token to
 * its last, comments inside included, the JSDoc before it not), so that long procedures are split into named
 * steps.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SOURCE_DIRS = ['bin', 'lib', 'lambda', 'bench'];
const MAX_FUNCTION_LINES = 80;

/** A function, as `<file>#<name>`: `name` is the function's, `Class.method`, or `<enclosing> > (anonymous)`. */
type FunctionKey = `${string}#${string}`;

/**
 * Declarative tables, long because they list things one after another, not because they do many things: a
 * split would only cut the list into arbitrary pieces.
 */
const DECLARATIVE_TABLES: readonly FunctionKey[] = [
  // The dashboard's widgets, row by row, in the order they appear on the dashboard.
  'lib/pipeline-dashboard.ts#PipelineDashboard.constructor',
  // The CLI's commands with their options and help texts, in the order `hookline --help` lists them.
  'lib/cli/program.ts#buildProgram',
];

/** The TypeScript files git tracks or would track (untracked files that are not ignored) under SOURCE_DIRS. */
function sourceFiles(): string[] {
  const listed = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...SOURCE_DIRS],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  return listed
    .split('\n')
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && existsSync(path.join(ROOT, file)))
    .sort();
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression
  | ts.ConstructorDeclaration
  | ts.AccessorDeclaration;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** The name a function is known by; `enclosing` names the nearest named function around it. */
function functionName(node: FunctionLike, enclosing: string | undefined): string {
  const owner = ts.isClassLike(node.parent) ? `${node.parent.name?.text ?? '(class)'}.` : '';
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  if (node.name) return `${owner}${node.name.getText()}`;
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name) {
    return parent.name.getText();
  }
  return `${enclosing ?? '(module)'} > (anonymous)`;
}

interface FunctionSpan {
  readonly name: string;
  readonly firstLine: number;
  readonly lines: number;
}

/** Every function in `source`, outer before inner. */
function functionsIn(source: ts.SourceFile): FunctionSpan[] {
  const found: FunctionSpan[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node, enclosing: string | undefined): void => {
    let inner = enclosing;
    if (isFunctionLike(node)) {
      inner = functionName(node, enclosing);
      const firstLine = lineOf(node.getStart(source));
      found.push({ name: inner, firstLine, lines: lineOf(node.getEnd()) - firstLine + 1 });
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(source, undefined);
  return found;
}

interface LongFunction {
  readonly key: FunctionKey;
  readonly lines: number;
  readonly at: string;
}

function longFunctions(): LongFunction[] {
  return sourceFiles().flatMap((file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    return functionsIn(source)
      .filter((f) => f.lines > MAX_FUNCTION_LINES)
      .map((f) => ({ key: `${file}#${f.name}` as const, lines: f.lines, at: `${file}:${f.firstLine}` }));
  });
}

describe('function length', () => {
  const long = longFunctions();
  const longKeys = new Set(long.map((f) => f.key));

  it(`no function is longer than ${MAX_FUNCTION_LINES} lines, except declarative tables`, () => {
    const tolerated = new Set<string>(DECLARATIVE_TABLES);
    const offenders = long
      .filter((f) => !tolerated.has(f.key))
      .map((f) => `${f.at} ${f.key} is ${f.lines} lines: split it into named steps`);
    expect(offenders).toEqual([]);
  });

  it('every declarative table is still long, so the list cannot go stale', () => {
    const stale = DECLARATIVE_TABLES.filter((key) => !longKeys.has(key)).map(
      (key) => `${key} is no longer than ${MAX_FUNCTION_LINES} lines (or gone): remove it from the list`,
    );
    expect(stale).toEqual([]);
  });

  it('the length check finds functions of every kind, named as the lists name them', () => {
    const source = ts.createSourceFile(
      'probe.ts',
      'class K {\n  constructor() {}\n  m() {}\n}\nfunction f() {\n  [1].map(() => 1);\n}\nconst g = () => 0;',
      ts.ScriptTarget.Latest,
      true,
    );
    expect(functionsIn(source)).toEqual([
      { name: 'K.constructor', firstLine: 2, lines: 1 },
      { name: 'K.m', firstLine: 3, lines: 1 },
      { name: 'f', firstLine: 5, lines: 3 },
      { name: 'f > (anonymous)', firstLine: 6, lines: 1 },
      { name: 'g', firstLine: 8, lines: 1 },
    ]);
  });
});
