// messages: M online accounts each send chat messages to random online accounts; the offered rate steps up
// until p99 latency exceeds 100 ms. The message id carries a sequence number and the body the send time.
import type { XmppClient } from '../lib/client.js';
import type { Job, JobResult } from '../lib/job.js';
import { plainUser } from '../lib/layout.js';
import { closeAll, log, loginAll, lowestNote, RateStep, rateSearch } from '../lib/pool.js';
import { attr } from '../lib/scanner.js';
import { cpuSeconds, sleep } from '../lib/proc.js';

export async function messages(job: Job): Promise<JobResult> {
  const m = Math.min(job.layout.plainAccounts, job.quick ? 100 : 1000);
  const prefix = 'm' + Math.random().toString(36).slice(2, 6) + '-';
  let step: RateStep | null = null;
  const onStanza = (text: string) => {
    if (!text.startsWith('<message')) return;
    const id = attr(text, 'id');
    if (!id || !id.startsWith(prefix)) return;
    step?.deliver(parseInt(id.slice(prefix.length), 36), performance.now());
  };
  const users = Array.from({ length: m }, (_, i) => plainUser(i + 1));
  const { clients, failures, firstError } = await loginAll(job, users, 100, 300_000, {}, onStanza);
  if (clients.length < 2) {
    await closeAll(clients);
    return { figures: {}, note: `too few sessions online: ${firstError}` };
  }
  log(`messages: ${clients.length} online (${failures} failed)`);
  await sleep(1000);
  const jids = clients.map((c) => c.jid || `${c.opts.user}@${job.domain}`);
  let seq = 0;
  const n = clients.length;
  const send = (s: number) => {
    const from = (Math.random() * n) | 0;
    let to = (Math.random() * (n - 1)) | 0;
    if (to >= from) to++;
    const sender: XmppClient = clients[from]!;
    sender.send(`<message to='${jids[to]}' type='chat' id='${prefix}${s.toString(36)}'><body>bench ${Date.now()}</body></message>`);
  };
  const seconds = job.quick ? 2 : 4;
  const cpu0 = cpuSeconds(job.serverPid);
  const t0 = performance.now();
  const { steps, best } = await rateSearch(job.quick ? 500 : 1000, job.quick ? 1.5 : 2, job.quick ? 6 : 12, async (rate) => {
    step = new RateStep(rate, seconds, 1, seq);
    const r = await step.run(send, 2000);
    seq += step.capacity;
    step = null;
    await sleep(500);
    return r;
  });
  const serverCpu = (cpuSeconds(job.serverPid) - cpu0) / ((performance.now() - t0) / 1000);
  await closeAll(clients);
  if (!best) return { figures: {}, note: lowestNote(steps, 'messages/s'), details: { steps } };
  return {
    figures: { delivered_per_s: best.delivered, p50_ms: best.p50, p99_ms: best.p99 },
    note: failures ? `${failures} logins failed: ${firstError}` : undefined,
    details: { steps, server_cpu: serverCpu, loadgen_cpu_at_best: best.loadgenCpu },
  };
}
