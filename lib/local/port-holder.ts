/**
 * Who listens on a TCP port, where this system says so without a tool: Linux's `/proc` (the socket's inode in
 * `/proc/net/tcp{,6}`, then the process with a descriptor on it, among those this user may read). Elsewhere, or for
 * another user's process, nobody is named.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** `/proc/net/tcp`'s state of a listening socket. */
const LISTEN = '0A';
const COMMAND_CHARS = 80;

/** The process listening on `port`, as `pid <n> (<command line>)`, or undefined when it cannot be told. */
export function portHolder(port: number, proc = '/proc'): string | undefined {
  const inodes = listeningInodes(port, proc);
  if (inodes.size === 0) return undefined;
  for (const pid of readable(proc).filter((name) => /^\d+$/.test(name))) {
    for (const fd of readable(`${proc}/${pid}/fd`)) {
      const inode = /^socket:\[(\d+)\]$/.exec(readLink(`${proc}/${pid}/fd/${fd}`))?.[1];
      if (inode && inodes.has(inode)) return `pid ${pid} (${commandLine(proc, pid)})`;
    }
  }
  return undefined;
}

function listeningInodes(port: number, proc: string): Set<string> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readText(`${proc}/net/${table}`).split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (local?.endsWith(suffix) && state === LISTEN && inode && inode !== '0') inodes.add(inode);
    }
  }
  return inodes;
}

function commandLine(proc: string, pid: string): string {
  const command = readText(`${proc}/${pid}/cmdline`).split('\0').join(' ').replace(/\s+/g, ' ').trim();
  return command.length > COMMAND_CHARS ? `${command.slice(0, COMMAND_CHARS - 3)}...` : command || 'unknown';
}

function readable(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
