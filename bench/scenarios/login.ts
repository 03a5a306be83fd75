// login: sessions established per second with about 100 logins in flight (connect, [STARTTLS], SCRAM-SHA-1,
// bind, initial presence), each session closed once it is up; sustained for a fixed time after a warm-up.
import { XmppClient } from '../lib/client.js';
import type { Job, JobResult } from '../lib/job.js';
import { plainUser } from '../lib/layout.js';
import { clientOptions, log } from '../lib/pool.js';
import { cpuSeconds, sleep } from '../lib/proc.js';
import { quantile } from '../lib/stats.js';

export interface LoginLoopOptions {
  users: string[];
  inFlight: number;
  warmupMs: number;
  durationMs: number;
  starttls: boolean;
  rosterGet: boolean;
  /** Sessions kept online (the oldest is closed when a new one comes up); 0 closes each at once. */
  keepOnline: number;
}

/** Runs logins back to back; shared by the login and roster scenarios. */
export async function loginLoop(job: Job, o: LoginLoopOptions): Promise<JobResult> {
  const latencies: number[] = [];
  let completed = 0;
  let failures = 0;
  let firstError = '';
  let measuring = false;
  let stopping = false;
  let resource = 0;
  const offline = [...o.users];
  const online: XmppClient[] = [];
  const busy = new Set<string>();
  const started = performance.now();
  const one = async (): Promise<void> => {
    while (!stopping) {
      const user = offline.shift();
      if (user === undefined) {
        await sleep(5);
        continue;
      }
      busy.add(user);
      const client = new XmppClient(clientOptions(job, user, { starttls: o.starttls, rosterGet: o.rosterGet, resource: `b${++resource}`, timeoutMs: 30_000 }));
      try {
        const ms = await client.login();
        if (measuring && !stopping) {
          completed++;
          latencies.push(ms);
        }
        if (o.keepOnline > 0) {
          online.push(client);
          if (online.length > o.keepOnline) {
            const oldest = online.shift()!;
            oldest.close();
            offline.push(oldest.opts.user);
          }
        } else {
          client.close();
          offline.push(user);
        }
      } catch (err) {
        if (!stopping) {
          failures++;
          if (!firstError) firstError = (err as Error).message;
        }
        client.destroy();
        offline.push(user);
      }
      busy.delete(user);
    }
  };
  const workers = Array.from({ length: o.inFlight }, one);
  await sleep(o.warmupMs);
  const cpu0 = cpuSeconds(job.serverPid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await sleep(o.durationMs);
  stopping = true;
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = (cpuSeconds(job.serverPid) - cpu0) / seconds;
  const ownUsage = process.cpuUsage(own0);
  const loadgenCpu = (ownUsage.user + ownUsage.system) / 1e6 / seconds;
  await Promise.race([Promise.all(workers), sleep(35_000)]);
  for (const c of online) c.close();
  await sleep(500);
  for (const c of online) c.destroy();
  log(`${completed} logins in ${seconds.toFixed(1)} s (${(completed / seconds).toFixed(0)}/s), ${failures} failed, server cpu ${(serverCpu * 100).toFixed(0)}%, loadgen cpu ${(loadgenCpu * 100).toFixed(0)}%, total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (!completed) return { figures: {}, note: `no login completed: ${firstError}` };
  return {
    figures: {
      logins_per_s: completed / seconds,
      p50_ms: quantile(latencies, 0.5),
      p99_ms: quantile(latencies, 0.99),
    },
    note: failures ? `${failures} logins failed: ${firstError}` : loadgenCpu > 0.9 ? `the load generator used ${(loadgenCpu * 100).toFixed(0)}% of its core` : undefined,
    details: { server_cpu: serverCpu, loadgen_cpu: loadgenCpu, failures },
  };
}

export function login(job: Job): Promise<JobResult> {
  const pool = Math.min(job.layout.plainAccounts, job.quick ? 400 : 2000);
  return loginLoop(job, {
    users: Array.from({ length: pool }, (_, i) => plainUser(i + 1)),
    inFlight: 100,
    warmupMs: job.quick ? 1000 : 3000,
    durationMs: job.quick ? 5000 : 25_000,
    starttls: job.variant === 'starttls',
    rosterGet: false,
    keepOnline: 0,
  });
}
