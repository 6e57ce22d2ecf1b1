import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const probeDir = mkdtempSync(path.join(root, 'lambda', 'lint-probe-'));
afterAll(() => rmSync(probeDir, { recursive: true, force: true }));

function lint(file: string, source: string): string {
  const target = path.join(probeDir, file);
  writeFileSync(target, source);
  try {
    execFileSync(path.join(root, 'node_modules', '.bin', 'biome'), ['lint', '--colors=off', target], {
      cwd: root,
      stdio: 'pipe',
    });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    return `${stdout ?? ''}${stderr ?? ''}`;
  }
}

describe('dependency direction (bin -> lib -> lambda)', () => {
  it.each([
    ["import { Duration } from 'aws-cdk-lib';", 'must never import aws-cdk-lib'],
    ["import { Queue } from 'aws-cdk-lib/aws-sqs';", 'must never import aws-cdk-lib'],
    ["import { Construct } from 'constructs';", 'must never import constructs'],
    ["import { resolveConfig } from '../../lib/config';", 'must not import from lib/'],
  ])('rejects `%s` inside lambda/', (statement, message) => {
    const output = lint(
      'probe.ts',
      `${statement}\nexport const probe = [${statement.match(/\{ (\w+) \}/)?.[1]}];\n`,
    );
    expect(output).toContain(message);
  });

  it('accepts runtime imports inside lambda/', () => {
    const output = lint(
      'ok.ts',
      "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const probe = [SQSClient];\n",
    );
    expect(output).toBe('');
  });
});
