import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Gives the run one temporary folder and removes it when the run ends. Every CDK synthesis without an `outdir`
 * writes its cloud assembly to a fresh `cdk.out*` folder under the system's temporary directory, and the emulator,
 * journal and local-mode tests make data dirs there; left behind, a few hundred runs fill the disk. Test workers
 * are started after this, so their `os.tmpdir()` (and every process they spawn) reads the `TMPDIR` set here.
 */
export default function runInOneTemporaryFolder(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(path.join(os.tmpdir(), 'hookline-test-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
