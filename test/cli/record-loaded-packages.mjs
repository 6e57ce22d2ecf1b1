/**
 * Preloaded (`node --import`) into a CLI run by the tests: at exit, writes the packages the run loaded to the
 * file named by RECORD_LOADED_PACKAGES, one a line (appended: the tsx launcher and the process it starts both
 * record). CommonJS packages (the AWS SDK, aws-cdk-lib) are read from the module cache, however they were
 * imported; ES module packages (zod) from a resolve hook, which sees every module the run resolves.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';

const require = createRequire(import.meta.url);
const file = process.env.RECORD_LOADED_PACKAGES;
const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)\//;

if (file) {
  const names = new Set();
  const note = (path) => {
    const match = PACKAGE.exec(path.replaceAll('\\', '/'));
    if (match?.[1]) names.add(match[1]);
  };
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      note(resolved.url);
      return resolved;
    },
  });
  process.on('exit', () => {
    for (const path of Object.keys(require.cache)) note(path);
    appendFileSync(file, [...names].map((name) => `${name}\n`).join(''));
  });
}
