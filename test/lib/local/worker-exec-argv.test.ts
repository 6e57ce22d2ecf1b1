import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../../lib/local/function-runtime';

describe('the Node flags of worker threads', () => {
  it("drop the host's preloads (tsx's loader under npm start) in both spellings and keep every other flag", () => {
    expect(
      workerExecArgv([
        '--require',
        '/p/node_modules/tsx/dist/preflight.cjs',
        '--import',
        'file:///p/node_modules/tsx/dist/loader.mjs',
        '--enable-source-maps',
        '--import=./other.mjs',
        '-r',
        './hook.cjs',
        '--experimental-loader=./loader.mjs',
        '--max-old-space-size=256',
      ]),
    ).toEqual(['--enable-source-maps', '--max-old-space-size=256']);
  });
});
