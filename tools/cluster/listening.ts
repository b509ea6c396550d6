/**
 * "Does process P listen on port N?", answered from /proc: a socket in
 * /proc/net/tcp (or tcp6) in state LISTEN on that port whose inode is one of
 * P's open file descriptors. Connecting to the port instead could be
 * answered by an unrelated process that already held it, while ours failed
 * to bind.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const TCP_LISTEN = '0A';

/** Inodes of the sockets `pid` holds open (empty when it is gone). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // closed between the listing and the read
    }
  }
  return inodes;
}

/** Inodes of the TCP sockets listening on `port`, IPv4 and IPv6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== TCP_LISTEN) continue;
      if (cols[1]!.slice(cols[1]!.lastIndexOf(':') + 1) === hexPort) inodes.add(cols[9]!);
    }
  }
  return inodes;
}

export function listensOn(pid: number, port: number): boolean {
  const listening = listeningInodes(port);
  if (listening.size === 0) return false;
  for (const inode of socketInodes(pid)) if (listening.has(inode)) return true;
  return false;
}
