/**
 * `npm start`: runs the pipeline of hookline.config.ts (or HOOKLINE_CONFIG) on this machine (`hookline dev`).
 */
import { runLocalMode } from '../lib/local/dev';

runLocalMode().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
