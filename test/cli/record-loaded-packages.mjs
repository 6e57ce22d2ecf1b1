/**
 * Preloaded (`node --import`) into a CLI run by the tests: at exit, writes the packages the run loaded (from the
 * CommonJS module cache, where the AWS SDK and aws-cdk-lib land however they are imported) to the file named by
 * RECORD_LOADED_PACKAGES, one a line (appended: the
 * tsx launcher and the process it starts both record).
 */
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const file = process.env.RECORD_LOADED_PACKAGES;
if (file) {
  process.on('exit', () => {
    const names = new Set();
    for (const path of Object.keys(require.cache)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path.replaceAll('\\', '/'));
      if (match?.[1]) names.add(match[1]);
    }
    appendFileSync(file, [...names].map((name) => `${name}\n`).join(''));
  });
}
