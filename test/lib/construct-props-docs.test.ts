import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROJECT_COMPILER_OPTIONS } from '../helpers/ts-compiler-options';

const root = join(__dirname, '..', '..');
const lib = join(root, 'lib');

/**
 * Every property a CDK app sets on a construct of the package entry: those of each exported `...Props` interface
 * and of the interfaces and object types they hold (a queue to watch, a retry policy), declared in lib/ (the
 * configuration's own types have their test in config-docs.test.ts).
 */
function constructProps(): { name: string; node: ts.PropertySignature }[] {
  const program = ts.createProgram([join(lib, 'index.ts')], PROJECT_COMPILER_OPTIONS);
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(join(lib, 'index.ts'));
  const entry = index && checker.getSymbolAtLocation(index);
  if (!entry) throw new Error('lib/index.ts not found');
  const ownDeclaration = (d: ts.Node) => {
    const file = d.getSourceFile().fileName;
    return file.startsWith(lib) && !file.startsWith(join(lib, 'config'));
  };
  const found: { name: string; node: ts.PropertySignature }[] = [];
  const seen = new Set<ts.Node>();
  const visitMembers = (owner: string, members: ts.NodeArray<ts.TypeElement>) => {
    for (const member of members) {
      if (!ts.isPropertySignature(member) || seen.has(member)) continue;
      seen.add(member);
      const name = `${owner}.${member.name.getText()}`;
      found.push({ name, node: member });
      if (member.type) visitType(name, checker.getTypeFromTypeNode(member.type));
    }
  };
  const visitType = (owner: string, type: ts.Type) => {
    const parts = type.isUnion() ? type.types : [type];
    for (const part of parts) {
      const element = checker.isArrayType(part)
        ? checker.getTypeArguments(part as ts.TypeReference)[0]
        : part;
      for (const declaration of element?.getSymbol()?.getDeclarations() ?? []) {
        if (!ownDeclaration(declaration)) continue;
        if (ts.isInterfaceDeclaration(declaration)) visitMembers(declaration.name.text, declaration.members);
        else if (ts.isTypeLiteralNode(declaration)) visitMembers(owner, declaration.members);
      }
    }
  };
  for (const exported of checker.getExportsOfModule(entry)) {
    if (!exported.name.endsWith('Props')) continue;
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.getDeclarations() ?? []) {
      if (ts.isInterfaceDeclaration(declaration) && ownDeclaration(declaration))
        visitMembers(declaration.name.text, declaration.members);
    }
  }
  return found;
}

describe('the props of the constructs of the package entry', () => {
  const props = constructProps();

  it('are found, nested types included', () => {
    const names = props.map((p) => p.name);
    expect(names).toContain('QueueConsumerProps.retentionPeriod');
    // Its function and event source settings are the configuration's (`ConsumerConfig`), documented there once.
    expect(names).not.toContain('QueueConsumerProps.timeout');
    // So are its retry and rate limit, and its circuit breaker's settings (their hover: config-docs.test.ts).
    expect(names).not.toContain('QueueConsumerProps.retry');
    expect(names).not.toContain('ConsumerCircuitBreaker.window');
    expect(names).toContain('ConsumerForward.secretCache');
    expect(names).toContain('PipelineAlarmsProps.archiveDelivery.threshold');
  });

  it('are each readonly, described, and give the default of an optional one', () => {
    const problems = props.flatMap(({ name, node }) => {
      const readonly = node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword) ?? false;
      const described = ts.getJSDocCommentsAndTags(node).length > 0;
      const defaulted = ts.getJSDocTags(node).some((t) => t.tagName.text === 'default');
      return [
        ...(readonly ? [] : [`${name}: not readonly`]),
        ...(described ? [] : [`${name}: no JSDoc`]),
        ...(node.questionToken && !defaulted ? [`${name}: optional without @default`] : []),
      ];
    });
    expect(problems).toEqual([]);
  });
});
