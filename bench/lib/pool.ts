// Shared load-generator building blocks: logging many accounts in with a bounded number in flight, and the
// stepped-rate search used by the messages and fan-out scenarios.
import { XmppClient, nextSourceAddress, type ClientOptions } from './client.js';
import type { Job } from './job.js';
import { quantile } from './stats.js';
import { sleep } from './proc.js';

export function log(line: string): void {
  process.stderr.write(`[loadgen] ${line}\n`);
}

export function clientOptions(job: Job, user: string, extra: Partial<ClientOptions> = {}): ClientOptions {
  return {
    host: job.host,
    port: job.port,
    domain: job.domain,
    user,
    password: job.layout.password,
    starttls: false,
    localAddress: nextSourceAddress(),
    timeoutMs: 60_000,
    ...extra,
  };
}

/**
 * Logs in every user with at most `inFlight` negotiations at once; resolves the clients that are online and
 * the number that failed. Bounded by deadlineMs overall.
 */
export async function loginAll(
  job: Job,
  users: string[],
  inFlight: number,
  deadlineMs: number,
  extra: Partial<ClientOptions> = {},
  onStanza: ((text: string, client: XmppClient) => void) | null = null,
): Promise<{ clients: XmppClient[]; failures: number; firstError: string; seconds: number }> {
  const clients: XmppClient[] = [];
  let failures = 0;
  let firstError = '';
  let next = 0;
  const started = performance.now();
  const deadline = Date.now() + deadlineMs;
  const worker = async () => {
    while (next < users.length && Date.now() < deadline) {
      const index = next++;
      const client = new XmppClient(clientOptions(job, users[index]!, extra));
      client.tag = index;
      client.onStanza = onStanza;
      try {
        await client.login();
        clients.push(client);
      } catch (err) {
        failures++;
        if (!firstError) firstError = (err as Error).message;
        client.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, users.length) }, worker));
  return { clients, failures, firstError, seconds: (performance.now() - started) / 1000 };
}

/** Closes every client and waits (bounded) until their sockets are gone. */
export async function closeAll(clients: XmppClient[], timeoutMs = 10_000): Promise<void> {
  let open = clients.length;
  if (!open) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    for (const client of clients) {
      const previous = client.onClose;
      client.onClose = (c) => {
        previous?.(c);
        if (--open === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      client.close();
    }
  });
  for (const client of clients) client.destroy();
}

export interface StepResult {
  /** Offered rate of the step in operations per second (messages, publishes). */
  offered: number;
  /** Deliveries per second measured over the step. */
  delivered: number;
  p50: number;
  p99: number;
  lost: number;
  /** Load-generator CPU use over the step, as a share of one core. */
  loadgenCpu: number;
}

/**
 * One step of a rate search: `send(seq)` is called `rate` times per second for `seconds`, spread over 10 ms
 * ticks; `expected` deliveries per send are awaited for a drain period. `received(seq)` is fed by the scenario
 * through the returned `deliver` function with the send time recorded here.
 */
export class RateStep {
  private sentAt: Float64Array;
  private latencies: Float64Array;
  private count = 0;
  private sent = 0;
  readonly capacity: number;

  constructor(
    readonly rate: number,
    readonly seconds: number,
    readonly perSend: number,
    readonly seqBase: number,
  ) {
    this.capacity = Math.ceil(rate * seconds) + 16;
    this.sentAt = new Float64Array(this.capacity);
    this.latencies = new Float64Array(this.capacity * perSend);
  }

  /** Records one delivery of send number seq (absolute, as passed to send). */
  deliver(seq: number, now: number): void {
    const i = seq - this.seqBase;
    if (i < 0 || i >= this.sent || this.count >= this.latencies.length) return;
    this.latencies[this.count++] = now - this.sentAt[i]!;
  }

  async run(send: (seq: number) => void, drainMs: number): Promise<StepResult> {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const total = Math.min(this.capacity - 16, Math.round(this.rate * this.seconds));
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = (performance.now() - started) / 1000;
        const due = Math.min(total, Math.floor(elapsed * this.rate));
        while (this.sent < due) {
          this.sentAt[this.sent] = performance.now();
          send(this.seqBase + this.sent);
          this.sent++;
        }
        if (this.sent >= total || elapsed > this.seconds * 3) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, 10);
    });
    const sendEnd = performance.now();
    const expected = this.sent * this.perSend;
    const drainDeadline = sendEnd + drainMs;
    while (this.count < expected && performance.now() < drainDeadline) await sleep(20);
    const cpu = process.cpuUsage(cpuStart);
    const lastDelivery = performance.now();
    // A server may deliver an item twice (e.g. PEP's last-item on presence); extra deliveries do not hide losses.
    const got = Math.min(this.count, expected);
    const lost = expected - got;
    const all = new Float64Array(expected);
    all.set(this.latencies.subarray(0, got));
    all.fill(Infinity, got);
    const window = Math.max(this.seconds, (Math.min(lastDelivery, drainDeadline) - started) / 1000);
    return {
      offered: this.rate,
      delivered: got / window,
      p50: quantile(all, 0.5),
      p99: quantile(all, 0.99),
      lost,
      loadgenCpu: (cpu.user + cpu.system) / 1e6 / ((lastDelivery - started) / 1000),
    };
  }
}

/**
 * Steps the offered rate up (×factor) until p99 exceeds the limit or deliveries fall behind, then bisects
 * twice between the last good and the first bad rate. Bounded by maxSteps. Returns every step and the best
 * one (the highest delivered rate whose p99 stayed under the limit), or null if even the first failed.
 */
export async function rateSearch(
  start: number,
  factor: number,
  maxSteps: number,
  runStep: (rate: number) => Promise<StepResult>,
  p99LimitMs = 100,
): Promise<{ steps: StepResult[]; best: StepResult | null }> {
  const steps: StepResult[] = [];
  let best: StepResult | null = null;
  let good = 0;
  let bad = 0;
  let rate = start;
  const ok = (r: StepResult) => r.p99 <= p99LimitMs && r.lost === 0;
  for (let i = 0; i < maxSteps; i++) {
    const r = await runStep(rate);
    steps.push(r);
    log(`  rate ${Math.round(rate)}/s: delivered ${Math.round(r.delivered)}/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms lost ${r.lost} loadgen cpu ${(r.loadgenCpu * 100).toFixed(0)}%`);
    if (ok(r)) {
      if (!best || r.delivered > best.delivered) best = r;
      good = rate;
      if (bad === 0) {
        rate = rate * factor;
        continue;
      }
    } else {
      bad = rate;
      if (good === 0) {
        // Not even the starting rate: try lower, once or twice.
        if (rate / factor / factor < start / 10) break;
        rate = rate / factor / factor;
        bad = 0;
        continue;
      }
    }
    if (bad - good <= good * 0.125) break;
    rate = (good + bad) / 2;
  }
  return { steps, best };
}

/** The note for a search whose every step failed: what the lowest rate gave. */
export function lowestNote(steps: StepResult[], unit: string): string {
  const lowest = steps.reduce((a, b) => (b.offered < a.offered ? b : a), steps[0]!);
  const p99 = Number.isFinite(lowest.p99) ? `${lowest.p99.toFixed(0)} ms` : `lost ${lowest.lost}`;
  return `p99 over 100 ms even at the lowest rate (${+lowest.offered.toFixed(2)} ${unit}: ${Math.round(lowest.delivered)} delivered/s, p50 ${lowest.p50.toFixed(0)} ms, p99 ${p99})`;
}
