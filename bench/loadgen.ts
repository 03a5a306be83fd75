// The load generator: one process per scenario run, started by run.ts (pinned to its own core). It reads the
// job from argv as JSON, runs the scenario and prints one line `RESULT <json>` on stdout.
import type { Job, JobResult } from './lib/job.js';
import { plainUser } from './lib/layout.js';
import { closeAll, log, loginAll } from './lib/pool.js';
import { sleep } from './lib/proc.js';
import { fanout } from './scenarios/fanout.js';
import { idle } from './scenarios/idle.js';
import { login } from './scenarios/login.js';
import { messages } from './scenarios/messages.js';
import { roster } from './scenarios/roster.js';

const runners: Record<Job['scenario'], (job: Job) => Promise<JobResult>> = { idle, login, messages, fanout, roster };

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const runner = runners[job.scenario];
  if (!runner) throw new Error(`unknown scenario ${job.scenario}`);
  log(`${job.scenario} ${job.variant} against ${job.host}:${job.port} (${job.domain})`);
  // Warm-up, the same for every server: the first logins load code (Erlang modules, V8 optimisation, Lua
  // chunks) and open storage; the scenario should not measure that.
  const warm = await loginAll(job, Array.from({ length: Math.min(50, job.layout.plainAccounts) }, (_, i) => plainUser(i + 1)), 10, 60_000);
  await closeAll(warm.clients);
  if (warm.failures) log(`warm-up: ${warm.failures} logins failed (${warm.firstError})`);
  await sleep(1000);
  const result = await runner(job);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

// Bounded: a scenario that hangs is ended here, whatever it was waiting for.
const watchdog = setTimeout(() => {
  process.stdout.write(`RESULT ${JSON.stringify({ figures: {}, note: 'load generator timed out' })}\n`);
  process.exit(3);
}, 20 * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stdout.write(`RESULT ${JSON.stringify({ figures: {}, note: `load generator failed: ${err.message}` })}\n`);
    process.exit(2);
  },
);
