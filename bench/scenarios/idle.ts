// idle: accounts connect, authenticate and send initial presence, then stay idle; the figure is the server's resident
// memory per session. One server run climbs a ladder (1,000, then 5,000, then 10,000 sessions): every reading, the
// baseline included, is taken after the server has been quiet for a minute, and a step's figure is its RSS minus the
// baseline, divided by its sessions.
//
// Why a minute: servers treat quiet connections differently (Quire frees their parser buffers after 10 s), and
// garbage-collected runtimes give memory back lazily (V8's memory reducer runs about 40 s after allocation stops), so
// the memory a server holds for idle sessions is what it holds once that is done. A baseline read right after the
// warm-up would still hold the warm-up's garbage, and could end up above the settled figure.
import type { Job, JobResult } from '../lib/job.js';
import type { XmppClient } from '../lib/client.js';
import { plainUser } from '../lib/layout.js';
import { closeAll, log, loginAll } from '../lib/pool.js';
import { rssKiB, sleep } from '../lib/proc.js';

/** The highest of a few RSS samples after `quietMs` without traffic. */
async function quietRss(pid: number, quietMs: number): Promise<number> {
  await sleep(quietMs);
  let rss = 0;
  for (let i = 0; i < 5; i++) {
    rss = Math.max(rss, rssKiB(pid));
    await sleep(400);
  }
  return rss;
}

export async function idle(job: Job): Promise<JobResult> {
  const steps = job.variant.split(',').map(Number).map((n) => Math.min(n, job.layout.plainAccounts));
  const quietMs = job.quick ? 2000 : 60_000;
  const base = await quietRss(job.serverPid, quietMs);
  const figures: Record<string, number> = {};
  const details: Record<string, unknown>[] = [];
  const clients: XmppClient[] = [];
  let failures = 0;
  let firstError = '';
  for (const n of steps) {
    const users = Array.from({ length: n - clients.length }, (_, i) => plainUser(clients.length + failures + i + 1));
    const round = await loginAll(job, users, 100, 600_000);
    clients.push(...round.clients);
    failures += round.failures;
    firstError ||= round.firstError;
    log(`idle ${n}: ${clients.length} online (${round.clients.length} in ${round.seconds.toFixed(1)} s), ${failures} failed${firstError ? ` (${firstError})` : ''}`);
    const rss = await quietRss(job.serverPid, quietMs);
    const online = clients.filter((c) => c.online).length;
    if (!online) break;
    figures[`rss_per_session_kib_${n}`] = (rss - base) / online;
    figures[`rss_mib_${n}`] = rss / 1024;
    details.push({ sessions: online, rss_kib: rss, logins_per_s: round.clients.length / round.seconds });
  }
  await closeAll(clients);
  if (!Object.keys(figures).length) return { figures: {}, note: `no session came online: ${firstError}` };
  return {
    figures,
    note: failures ? `${failures} logins failed: ${firstError}` : undefined,
    details: { base_kib: base, steps: details },
  };
}
