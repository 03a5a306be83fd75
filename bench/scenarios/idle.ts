// idle: N accounts connect, authenticate and send initial presence, then stay idle; the figure is the
// server's resident memory per session (RSS from /proc/PID/status, after minus before).
import type { Job, JobResult } from '../lib/job.js';
import { plainUser } from '../lib/layout.js';
import { closeAll, log, loginAll } from '../lib/pool.js';
import { rssKiB, sleep } from '../lib/proc.js';

/** RSS once it stops moving (three samples within 1%), bounded to 15 s. */
async function settledRss(pid: number): Promise<number> {
  let last = rssKiB(pid);
  let stable = 0;
  for (let i = 0; i < 30 && stable < 3; i++) {
    await sleep(500);
    const now = rssKiB(pid);
    stable = Math.abs(now - last) <= last * 0.01 ? stable + 1 : 0;
    last = now;
  }
  return last;
}

export async function idle(job: Job): Promise<JobResult> {
  const n = Math.min(Number(job.variant), job.layout.plainAccounts);
  const before = await settledRss(job.serverPid);
  const users = Array.from({ length: n }, (_, i) => plainUser(i + 1));
  const { clients, failures, firstError, seconds } = await loginAll(job, users, 100, 600_000);
  log(`idle ${n}: ${clients.length} online in ${seconds.toFixed(1)} s, ${failures} failed${firstError ? ` (${firstError})` : ''}`);
  // Idle means idle: the sessions stay quiet for a minute before the server's memory is read. Servers treat quiet
  // connections differently (Quire frees their parser buffers after 10 s), and garbage-collected runtimes give
  // memory back lazily (V8's memory reducer runs about 40 s after allocation stops), so the memory a server holds
  // for idle sessions is what it holds once that is done. Then the highest of a few samples.
  await sleep(job.quick ? 1000 : 60_000);
  let after = 0;
  for (let i = 0; i < 5; i++) {
    after = Math.max(after, rssKiB(job.serverPid));
    await sleep(400);
  }
  const online = clients.filter((c) => c.online).length;
  await closeAll(clients);
  if (!online) return { figures: {}, note: `no session came online: ${firstError}` };
  return {
    figures: {
      rss_per_session_kib: (after - before) / online,
      rss_mib: after / 1024,
      logins_per_s: online / seconds,
    },
    note: failures ? `${failures} of ${n} logins failed: ${firstError}` : undefined,
    details: { before_kib: before, after_kib: after, online },
  };
}
