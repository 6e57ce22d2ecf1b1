/**
 * The IAM actions a module's AWS SDK calls need, read from its source: every `new <Name>Command(` whose command it
 * imports from an `@aws-sdk/client-*` package. What a grant must allow is then derived from the code that sends
 * the calls, so a call added without its grant, or a grant left after its call went, fails a template test.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The IAM prefix of each SDK client package the runtime uses. */
const IAM_PREFIX: Readonly<Record<string, string>> = {
  cloudwatch: 'cloudwatch',
  dynamodb: 'dynamodb',
  firehose: 'firehose',
  lambda: 'lambda',
  s3: 's3',
  scheduler: 'scheduler',
  'secrets-manager': 'secretsmanager',
  sqs: 'sqs',
};

/** SQS authorizes a batch call with its single call's action; there is no `sqs:SendMessageBatch`. */
const SQS_BATCH = /^(SendMessage|DeleteMessage|ChangeMessageVisibility)Batch$/;

/** The action of one command of one client package. */
function actionOf(client: string, command: string): string {
  const prefix = IAM_PREFIX[client];
  if (!prefix) throw new Error(`no IAM prefix known for @aws-sdk/client-${client}`);
  const operation = command.replace(/Command$/, '');
  return `${prefix}:${prefix === 'sqs' ? operation.replace(SQS_BATCH, '$1') : operation}`;
}

/** Which client package each imported command comes from, in one module's source. */
function importedCommands(source: string): Map<string, string> {
  const clients = new Map<string, string>();
  const imports = /import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g;
  for (const [, names = '', client = ''] of source.matchAll(imports)) {
    for (const name of names.split(',')) {
      const imported = name.trim().replace(/^type\s+/, '');
      if (imported.endsWith('Command')) clients.set(imported, client);
    }
  }
  return clients;
}

/** The sorted IAM actions of the SDK commands one module sends. */
function actionsOfSource(source: string, where: string): string[] {
  const clients = importedCommands(source);
  const actions = new Set<string>();
  for (const [, command = ''] of source.matchAll(/new\s+(\w+Command)\(/g)) {
    const client = clients.get(command);
    if (!client) throw new Error(`${where} sends ${command}, imported from no @aws-sdk/client-* package`);
    actions.add(actionOf(client, command));
  }
  return [...actions].sort();
}

/** The sorted IAM actions the SDK calls of a module of this repository need (`lambda/shared/job-record.ts`). */
export function sdkActionsOf(repositoryPath: string): string[] {
  const path = resolve(ROOT, repositoryPath);
  return actionsOfSource(readFileSync(path, 'utf8'), repositoryPath);
}

/**
 * The sorted IAM actions the SDK calls of an installed package's entry need, read from the ES module its `exports`
 * map gives for `import` (`@aws-lambda-powertools/idempotency`, `./dynamodb`).
 */
export function sdkActionsOfPackageEntry(packageName: string, subpath: string): string[] {
  const resolved = createRequire(resolve(ROOT, 'package.json')).resolve(`${packageName}/${subpath.slice(2)}`);
  const directory = resolved.slice(0, resolved.lastIndexOf(`/${packageName}/`) + packageName.length + 1);
  const manifest = JSON.parse(readFileSync(resolve(directory, 'package.json'), 'utf8'));
  const entry = manifest.exports?.[subpath]?.import as string | undefined;
  if (!entry) throw new Error(`${packageName} exports no ES module for ${subpath}`);
  return actionsOfSource(readFileSync(resolve(directory, entry), 'utf8'), `${packageName}/${entry}`);
}
