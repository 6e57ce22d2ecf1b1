/**
 * `npm run build:console`: bundles the console's page into dist/console (app.js, app.css).
 */
import { buildConsoleBundle } from './assets';

const outfile = await buildConsoleBundle();
process.stdout.write(`console bundle: ${outfile}\n`);
