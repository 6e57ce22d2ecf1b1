/**
 * What the AWS shared files say, read where and as the SDK and the AWS CLI read them: which profiles exist (to
 * explain missing credentials) and a profile's region (so the CLI targets the region `cdk deploy` used).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

export interface SharedAwsFile {
  readonly path: string;
  /** As the operator knows it: the variable's value, or `~/.aws/...`. */
  readonly shown: string;
}

export interface SharedAwsFiles {
  readonly config: SharedAwsFile;
  readonly credentials: SharedAwsFile;
}

/** The shared config and credentials files, where the SDK reads them (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`). */
export function sharedAwsFiles(env: Env): SharedAwsFiles {
  const file = (variable: string, name: string): SharedAwsFile => {
    const given = env[variable];
    return given
      ? { path: given, shown: given }
      : { path: join(homedir(), '.aws', name), shown: `~/.aws/${name}` };
  };
  return {
    config: file('AWS_CONFIG_FILE', 'config'),
    credentials: file('AWS_SHARED_CREDENTIALS_FILE', 'credentials'),
  };
}

/** One INI file's sections, by their bracketed name, each with its `key = value` settings. */
function iniSections(path: string): Map<string, Map<string, string>> {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // A missing (or unreadable) file defines nothing, as the SDK reads it.
  }
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^[\]]*)\]\s*$/.exec(line);
    if (header) {
      const name = (header[1] ?? '').trim();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      continue;
    }
    const setting = /^([^=#;\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (current && setting?.[1]) current.set(setting[1].trim(), setting[2] ?? '');
  }
  return sections;
}

/** The config file names a profile `[profile x]`, except the default one, `[default]`. */
function configProfileName(section: string): string | undefined {
  const named = /^profile\s+(.+)$/.exec(section);
  return named?.[1] ? named[1].trim() : section === 'default' ? 'default' : undefined;
}

/** The profiles the shared files define: `[default]` and `[profile x]` in config, `[x]` in credentials. */
export function sharedProfileNames(files: SharedAwsFiles): Set<string> {
  const fromConfig = [...iniSections(files.config.path).keys()].flatMap(
    (section) => configProfileName(section) ?? [],
  );
  return new Set([...fromConfig, ...iniSections(files.credentials.path).keys()]);
}

/**
 * The `region` of the profile in use (`AWS_PROFILE`, else `default`) in the shared config file, as `cdk deploy`
 * and the AWS CLI take it; undefined when the profile sets none.
 */
export function profileRegion(env: Env): string | undefined {
  const profile = env.AWS_PROFILE || 'default';
  for (const [section, settings] of iniSections(sharedAwsFiles(env).config.path)) {
    if (configProfileName(section) !== profile) continue;
    const region = settings.get('region');
    if (region) return region;
  }
  return undefined;
}
