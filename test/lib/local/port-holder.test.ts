import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portHolder } from '../../../lib/local/port-holder';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A `/proc` with one process (pid 4242) holding socket inode 777, listening or not, on port 3000 (0BB8). */
function fakeProc(state: string): string {
  const proc = mkdtempSync(join(tmpdir(), 'hookline-proc-'));
  dirs.push(proc);
  mkdirSync(join(proc, 'net'));
  const header =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  writeFileSync(
    join(proc, 'net', 'tcp'),
    `${header}   0: 0100007F:0BB8 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 777 1 0\n`,
  );
  mkdirSync(join(proc, '4242', 'fd'), { recursive: true });
  symlinkSync('socket:[777]', join(proc, '4242', 'fd', '3'));
  writeFileSync(join(proc, '4242', 'cmdline'), 'python3\0-m\0http.server\x003000\0');
  return proc;
}

describe('portHolder', () => {
  it('names the process listening on the port, with its command line', () => {
    expect(portHolder(3000, fakeProc('0A'))).toBe('pid 4242 (python3 -m http.server 3000)');
  });

  it('names nobody for a socket that is not listening, another port, or a system without /proc', () => {
    expect(portHolder(3000, fakeProc('01'))).toBeUndefined();
    expect(portHolder(3001, fakeProc('0A'))).toBeUndefined();
    expect(portHolder(3000, join(tmpdir(), 'no-such-proc'))).toBeUndefined();
  });

  it('names this process for a port it listens on, where the system says who listens (Linux)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const named = existsSync('/proc/net/tcp') ? new RegExp(`^pid ${process.pid} \\(.+\\)$`) : /^$/;
      expect(portHolder(port) ?? '').toMatch(named);
    } finally {
      server.close();
    }
  });
});
