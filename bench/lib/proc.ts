// Process plumbing for the harness: free ports, pinned server processes, RSS, readiness and bounded stops.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync, closeSync } from 'node:fs';
import net from 'node:net';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A process and its descendants: a server with worker processes counts as all of them. */
export function processTree(pid: number): number[] {
  return [pid, ...descendants(pid)];
}

/** Resident memory (VmRSS) of a process and its descendants, in KiB (0 when it is gone). */
export function rssKiB(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${member}/status`, 'latin1');
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
      total += m ? Number(m[1]) : 0;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** User+system CPU time of a process and its descendants in seconds (from /proc/PID/stat), or 0 when gone. */
export function cpuSeconds(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

export interface SpawnOptions {
  /** CPU list for taskset, or null not to pin. */
  cpu: string | null;
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (the caller must be root). */
  uid?: number;
  gid?: number;
}

/**
 * Starts a command in its own process group, pinned with taskset, with the open-files limit raised to the
 * hard limit, stdout and stderr to a log file. The shell and taskset exec, so the child's pid is the command's.
 */
export function spawnPinned(command: string, args: string[], opts: SpawnOptions): ChildProcess {
  const fd = openSync(opts.logFile, 'a');
  const pin = opts.cpu !== null && hasTaskset() ? ['taskset', '-c', opts.cpu] : [];
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...pin, command, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    uid: opts.uid,
    gid: opts.gid,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return child;
}

let tasksetChecked: boolean | null = null;
export function hasTaskset(): boolean {
  if (tasksetChecked === null) tasksetChecked = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return tasksetChecked;
}

/** Waits until a process has exited, up to timeoutMs; resolves whether it did. */
export async function waitExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  return !alive(pid);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; its state in /proc says it is done.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM to a process group, then SIGKILL after graceMs if it is still there. */
export async function stopGroup(pgid: number, graceMs = 15_000, watchPid = pgid): Promise<void> {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  if (await waitExit(watchPid, graceMs)) {
    try {
      process.kill(-pgid, 'SIGKILL'); // leftovers of the group, if any
    } catch {
      /* none */
    }
    return;
  }
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await waitExit(watchPid, 5000);
}

/** Pids of every descendant of a process (via /proc/PID/task/TID/children, or a /proc scan). */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(name));
      parents.set(ppid, list);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length && out.length < 1000) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * Waits until an XMPP server answers a stream header with stream features on host:port (bounded by
 * timeoutMs), so that a scenario never races the server's start.
 */
export async function waitForXmpp(host: string, port: number, domain: string, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('the server process exited during start');
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      let data = '';
      const done = (result: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => done(false), 2000);
      socket.on('connect', () => socket.write(`<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`));
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
        if (data.includes('</stream:features>') || data.includes('<stream:features/>')) done(true);
        else if (data.includes('stream:error')) {
          last = data.slice(0, 300);
          done(false);
        }
      });
      socket.on('error', (err) => {
        last = err.message;
        done(false);
      });
    });
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`the server on ${host}:${port} did not offer stream features within ${timeoutMs} ms (${last})`);
}

export function run(command: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): { status: number; out: string } {
  const r = spawnSync(command, args, { input: opts.input, timeout: opts.timeoutMs ?? 600_000, env: opts.env ?? process.env, encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}
