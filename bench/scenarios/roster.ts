// roster: logins of accounts with 200-contact rosters (mutual 'both' subscriptions): each login gets the
// roster and sends initial presence, so the server broadcasts it to online contacts and probes them all
// (RFC 6121 §4.2-4.3). Half of the accounts stay online, so every login meets about 100 online contacts.
import type { Job, JobResult } from '../lib/job.js';
import { rosterUser } from '../lib/layout.js';
import { loginLoop } from './login.js';

export function roster(job: Job): Promise<JobResult> {
  const n = job.layout.rosterAccounts;
  return loginLoop(job, {
    users: Array.from({ length: n }, (_, i) => rosterUser(i + 1)),
    inFlight: Math.min(100, Math.floor(n / 4)),
    warmupMs: job.quick ? 2000 : 5000,
    durationMs: job.quick ? 5000 : 20_000,
    starttls: false,
    rosterGet: true,
    keepOnline: Math.floor(n / 2),
  });
}
