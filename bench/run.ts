// `npm run bench`: prepares Quire, Prosody and ejabberd with the same accounts, runs every scenario against
// each (one server at a time, pinned to CPU 0, the load generator in its own process on CPU 1), and prints one
// table of medians with the ratio Quire/peer. See BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS, type Job, type JobResult, type ScenarioName } from './lib/job.js';
import type { Layout } from './lib/layout.js';
import { hasTaskset } from './lib/proc.js';
import { median } from './lib/stats.js';
import { EjabberdServer } from './servers/ejabberd.js';
import { ProsodyServer } from './servers/prosody.js';
import { QuireServer } from './servers/quire.js';
import type { RunningServer, ServerAdapter } from './servers/types.js';

const USAGE = `usage: npm run bench -- [options]
  --quick               short smoke run (few accounts, short steps, 1 run)
  --runs N              runs per figure, the median is reported (default 3; 1 with --quick)
  --only LIST           servers to run, comma-separated: quire,prosody,ejabberd (default all)
  --scenario LIST       scenarios, comma-separated: ${SCENARIOS.join(',')} (default all)
  --target HOST:PORT    run against a server that is already running (no install, no start)
  --domain D            its domain (default localhost); its accounts must be the harness's (see BENCHMARKS.md)
  --pid PID             its process, for memory figures
  --no-pin              do not pin the server and the load generator to CPUs 0 and 1
  --out FILE            also write the table and raw results (markdown + JSON) to FILE(.json)
  --profile DIR         Quire writes a V8 CPU profile of every run into DIR (open it in Chrome DevTools)
  --quire-modules SET   peers (default: the modules Prosody and ejabberd run too) or standard (Quire's defaults:
                        message archive, carbons, stream management and the rest)
  --quire-workers LIST  Quire's network_workers setting, one Quire column per entry (e.g. 0,1; default 0):
                        with workers, sockets and TLS run in child processes (see "Using both cores")
  --keep                keep the temporary folder with configs, data and logs
  --render F.json[,G.json]  print the table of runs saved with --out again (several files are merged)
`;

interface Options {
  quick: boolean;
  runs: number;
  only: string[];
  scenarios: ScenarioName[];
  target: { host: string; port: number } | null;
  domain: string;
  pid: number;
  pin: boolean;
  out: string | null;
  keep: boolean;
  profile: string | null;
  standardModules: boolean;
  /** Quire is run once per entry, with that many network workers (0: one process). */
  quireWorkers: number[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, runs: 0, only: ['quire', 'prosody', 'ejabberd'], scenarios: [...SCENARIOS], target: null, domain: 'localhost', pid: 0, pin: true, out: null, keep: false, profile: null, standardModules: false, quireWorkers: [0] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    switch (arg) {
      case '--quick': o.quick = true; break;
      case '--runs': o.runs = Math.max(1, Math.min(20, Number(value()) || 1)); break;
      case '--only': o.only = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--scenario': o.scenarios = value().split(',').map((s) => s.trim()) as ScenarioName[]; break;
      case '--target': {
        const [host, port] = value().split(':');
        o.target = { host: host!, port: Number(port) };
        break;
      }
      case '--domain': o.domain = value(); break;
      case '--pid': o.pid = Number(value()); break;
      case '--no-pin': o.pin = false; break;
      case '--out': o.out = value(); break;
      case '--keep': o.keep = true; break;
      case '--profile': o.profile = value(); break;
      case '--quire-modules': {
        const set = value();
        if (set !== 'peers' && set !== 'standard') throw new Error(`--quire-modules is peers or standard, not "${set}"`);
        o.standardModules = set === 'standard';
        break;
      }
      case '--quire-workers':
        o.quireWorkers = value().split(',').map((n) => Math.max(0, Math.min(64, Number(n) || 0)));
        break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); break;
      default: throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  for (const s of o.scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
  for (const s of o.only) if (!['quire', 'prosody', 'ejabberd'].includes(s)) throw new Error(`unknown server ${s}; one of quire, prosody, ejabberd`);
  if (!o.runs) o.runs = o.quick ? 1 : 3;
  return o;
}

function say(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Scenario variants in table order. */
function variants(scenario: ScenarioName, quick: boolean): string[] {
  switch (scenario) {
    // One run climbs the whole ladder (see scenarios/idle.ts).
    case 'idle': return [quick ? '100,200' : '1000,5000,10000'];
    case 'login': return ['plain', 'starttls'];
    case 'fanout': return ['pubsub', 'pep'];
    default: return [''];
  }
}

function layoutFor(quick: boolean, domain: string): Layout {
  return quick
    ? { domain, password: 'bench-password', plainAccounts: 400, rosterAccounts: 200, rosterSize: 50, fanout: 100 }
    : { domain, password: 'bench-password', plainAccounts: 10_000, rosterAccounts: 1000, rosterSize: 200, fanout: 1000 };
}

const LOADGEN = fileURLToPath(new URL('./loadgen.js', import.meta.url));

/** Runs one scenario in a load-generator process (pinned to CPU 1) and resolves its result. */
function runLoadgen(job: Job, pin: boolean): Promise<JobResult> {
  return new Promise((resolve) => {
    const pinArgs = pin && hasTaskset() ? ['taskset', '-c', '1'] : [];
    const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...pinArgs, process.execPath, LOADGEN, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25 * 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      resolve(line ? (JSON.parse(line.slice(7)) as JobResult) : { figures: {}, note: `load generator gave no result: ${out.slice(-300)}` });
    });
  });
}

interface Row {
  key: string;
  figure: string;
  label: string;
  better: 'lower' | 'higher';
}

function rowsFor(scenario: ScenarioName, variant: string): Row[] {
  const key = `${scenario}/${variant}`;
  switch (scenario) {
    case 'idle':
      return variant.split(',').flatMap((step): Row[] => {
        const n = Number(step).toLocaleString('en-US');
        return [
          { key, figure: `rss_per_session_kib_${step}`, label: `idle ${n}: server RSS per session (KiB)`, better: 'lower' },
          { key, figure: `rss_mib_${step}`, label: `idle ${n}: server RSS (MiB)`, better: 'lower' },
        ];
      });
    case 'login':
      return [
        { key, figure: 'logins_per_s', label: `login ${variant === 'starttls' ? 'with STARTTLS' : 'without TLS'}: sessions/s`, better: 'higher' },
        { key, figure: 'p99_ms', label: `login ${variant === 'starttls' ? 'with STARTTLS' : 'without TLS'}: p99 login time (ms)`, better: 'lower' },
      ];
    case 'messages':
      return [
        { key, figure: 'delivered_per_s', label: 'messages: delivered/s at p99 < 100 ms', better: 'higher' },
        { key, figure: 'p50_ms', label: 'messages: p50 latency (ms)', better: 'lower' },
        { key, figure: 'p99_ms', label: 'messages: p99 latency (ms)', better: 'lower' },
      ];
    case 'fanout': {
      const what = variant === 'pep' ? 'PEP fan-out' : 'PubSub fan-out';
      return [
        { key, figure: 'notifications_per_s', label: `${what}: notifications/s at p99 < 100 ms`, better: 'higher' },
        { key, figure: 'p50_ms', label: `${what}: p50 latency (ms)`, better: 'lower' },
        { key, figure: 'p99_ms', label: `${what}: p99 latency (ms)`, better: 'lower' },
      ];
    }
    case 'roster':
      return [
        { key, figure: 'logins_per_s', label: 'roster (200 contacts): logins/s', better: 'higher' },
        { key, figure: 'p99_ms', label: 'roster (200 contacts): p99 login time (ms)', better: 'lower' },
      ];
  }
}

/** The table of medians with Quire/peer ratios, and the notes of every run. */
function renderTable(results: Record<string, Record<string, JobResult[]>>, servers: string[], plan: { scenario: ScenarioName; variant: string }[]): { lines: string[]; notes: string[] } {
  // Ratios: Quire (one process) over each peer, and Quire with network workers over Quire in one process.
  const hasQuire = servers.includes('quire');
  const peers = servers.filter((s) => !s.startsWith('quire'));
  const withWorkers = servers.filter((s) => s.startsWith('quire+'));
  const pairs: [string, string][] = hasQuire ? [...peers.map((p): [string, string] => ['quire', p]), ...withWorkers.map((w): [string, string] => [w, 'quire'])] : [];
  const header = ['scenario: figure', ...servers, ...pairs.map(([a, b]) => `${a}/${b}`), 'better'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const notes: string[] = [];
  // A rate search that failed even at its lowest rate delivered nothing within the latency bound: it counts
  // as 0 for the throughput figure (so that one bad run does not vanish from the median), and not at all for
  // the latencies.
  const figureOf = (r: JobResult, figure: string) => r.figures[figure] ?? ((figure === 'delivered_per_s' || figure === 'notifications_per_s') && r.note?.startsWith('p99 over 100 ms') ? 0 : NaN);
  for (const { scenario, variant } of plan) {
    for (const row of rowsFor(scenario, variant)) {
      const med: Record<string, number> = {};
      for (const server of servers) med[server] = median((results[server]?.[row.key] ?? []).map((r) => figureOf(r, row.figure)));
      const cells = servers.map((s) => {
        const v = med[s]!;
        if (Number.isFinite(v)) return fmt(v);
        const note = results[s]?.[row.key]?.find((r) => r.note)?.note;
        return note?.startsWith('skipped') ? 'skipped' : '–';
      });
      const ratios = pairs.map(([a, b]) => (Number.isFinite(med[a]!) && Number.isFinite(med[b]!) && med[b] !== 0 ? (med[a]! / med[b]!).toFixed(2) : '–'));
      lines.push(`| ${[row.label, ...cells, ...ratios, row.better].join(' | ')} |`);
    }
    for (const server of servers) {
      const seen = new Map<string, number>();
      for (const r of results[server]?.[`${scenario}/${variant}`] ?? []) if (r.note) seen.set(r.note, (seen.get(r.note) ?? 0) + 1);
      for (const [note, count] of seen) notes.push(`- ${server}, ${scenario}${variant ? ` ${variant}` : ''}${count > 1 ? ` (${count} runs)` : ''}: ${note}`);
    }
  }
  return { lines, notes };
}

/** `--render FILE.json`: prints the table of a saved run again (after a change to the table's rules). */
function renderSaved(files: string): void {
  // Several files (comma-separated) are merged server by server, e.g. Quire measured again after a full run.
  type Saved = { head?: string[]; servers?: string[]; plan?: { scenario: ScenarioName; variant: string }[]; results: Record<string, Record<string, JobResult[]>> };
  const all = files.split(',').map((file) => JSON.parse(readFileSync(file, 'utf8')) as Saved);
  // A scenario in a later file replaces that scenario's results of the earlier ones, for the servers it measured
  // (Quire measured again keeps the peers' figures of the first file).
  let mergedPlan: { scenario: ScenarioName; variant: string }[] | undefined;
  for (const s of all) {
    if (!s.plan) continue;
    const replaced = new Set(s.plan.map((p) => p.scenario));
    mergedPlan = [...(mergedPlan ?? []).filter((p) => !replaced.has(p.scenario)), ...s.plan];
    for (const earlier of all.slice(0, all.indexOf(s))) {
      for (const [server, byKey] of Object.entries(earlier.results)) {
        if (!(server in s.results)) continue;
        for (const key of Object.keys(byKey)) if (replaced.has(key.split('/')[0] as ScenarioName)) delete byKey[key];
      }
    }
  }
  mergedPlan?.sort((a, b) => SCENARIOS.indexOf(a.scenario) - SCENARIOS.indexOf(b.scenario));
  const saved: Saved = { head: all.find((s) => s.head)?.head, plan: mergedPlan, servers: [...new Set(all.flatMap((s) => s.servers ?? Object.keys(s.results)))], results: {} };
  // Later files win scenario by scenario, so a scenario measured again replaces only itself.
  for (const s of all) for (const [server, byKey] of Object.entries(s.results)) saved.results[server] = { ...saved.results[server], ...byKey };
  const file = files;
  const servers = saved.servers ?? Object.keys(saved.results);
  const plan =
    saved.plan ??
    Object.keys(saved.results[servers[0]!] ?? {}).map((key) => {
      const [scenario, variant] = key.split('/');
      return { scenario: scenario as ScenarioName, variant: variant ?? '' };
    });
  const { lines, notes } = renderTable(saved.results, servers, plan);
  process.stdout.write([...(saved.head ?? [`(rendered from ${file})`]), '', ...lines, ...(notes.length ? ['', 'Notes:', ...notes] : [])].join('\n') + '\n');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

async function main(): Promise<void> {
  const renderAt = process.argv.indexOf('--render');
  if (renderAt !== -1) return renderSaved(process.argv[renderAt + 1] ?? '');
  const o = parseArgs(process.argv.slice(2));
  const workDir = mkdtempSync(join(os.tmpdir(), 'quire-bench-'));
  const layout = layoutFor(o.quick, o.domain);
  const started = new Date();
  const loadAtStart = loadAverage();
  say(`work folder ${workDir}; load average ${loadAtStart}; ${os.cpus().length} CPUs`);
  if (o.pin && !hasTaskset()) say('taskset is missing: server and load generator are not pinned');

  const adapters: ServerAdapter[] = [];
  if (o.target) {
    const target = o.target;
    adapters.push({
      name: 'target',
      version: () => `${target.host}:${target.port} (${o.domain})`,
      prepare: async () => {},
      start: async (): Promise<RunningServer> => ({ pid: o.pid, host: target.host, port: target.port, domain: o.domain, stop: async () => {} }),
    });
  } else {
    if (o.only.includes('quire')) for (const workers of o.quireWorkers) adapters.push(new QuireServer(o.profile, o.standardModules, workers));
    if (o.only.includes('prosody')) adapters.push(new ProsodyServer(say));
    if (o.only.includes('ejabberd')) adapters.push(new EjabberdServer(say));
  }

  const plan: { scenario: ScenarioName; variant: string }[] = [];
  for (const scenario of SCENARIOS) if (o.scenarios.includes(scenario)) for (const variant of variants(scenario, o.quick)) plan.push({ scenario, variant });

  /** results[server][scenario/variant] = one result per run */
  const results: Record<string, Record<string, JobResult[]>> = {};
  const versions: Record<string, string> = {};
  let current: RunningServer | null = null;
  const interrupt = async () => {
    say('interrupted: stopping the server under test');
    await current?.stop();
    if (!o.keep) rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  for (const adapter of adapters) {
    results[adapter.name] = {};
    try {
      say(`${adapter.name}: preparing (install, config, ${layout.plainAccounts + layout.rosterAccounts + layout.fanout + 1} accounts, rosters)`);
      const t = Date.now();
      await adapter.prepare(workDir, layout);
      versions[adapter.name] = adapter.version();
      say(`${adapter.name}: ${versions[adapter.name]} prepared in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } catch (err) {
      say(`${adapter.name}: could not be prepared: ${(err as Error).message}`);
      for (const { scenario, variant } of plan) results[adapter.name]![`${scenario}/${variant}`] = [{ figures: {}, note: `not prepared: ${(err as Error).message.split('\n')[0]}` }];
      continue;
    }
    for (const { scenario, variant } of plan) {
      const key = `${scenario}/${variant}`;
      const runs: JobResult[] = (results[adapter.name]![key] = []);
      for (let run = 1; run <= o.runs; run++) {
        say(`${adapter.name}: ${key} run ${run}/${o.runs}`);
        let result: JobResult;
        try {
          current = await adapter.start(o.pin ? '0' : null);
          result = await runLoadgen({ scenario, variant, host: current.host, port: current.port, domain: current.domain, layout, serverPid: current.pid, quick: o.quick }, o.pin);
        } catch (err) {
          result = { figures: {}, note: `server failed: ${(err as Error).message}` };
        } finally {
          await current?.stop();
          current = null;
        }
        // Other work on the machine skews every figure: keep the 1-minute load average beside each run.
        result.load = os.loadavg()[0];
        runs.push(result);
        const shown = Object.entries(result.figures).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
        // Saved after every run, so that an interrupted benchmark keeps what it measured (see --render).
        if (o.out) writeFileSync(o.out + '.json', JSON.stringify({ servers: adapters.map((a) => a.name), plan, layout, results }, null, 2));
        say(`${adapter.name}: ${key} run ${run}: ${shown}${result.note ? ` (${result.note})` : ''} [load ${result.load.toFixed(2)}]`);
        if (result.note?.startsWith('skipped')) break;
      }
    }
  }

  const servers = adapters.map((a) => a.name);
  const { lines, notes } = renderTable(results, servers, plan);
  const runLoads = () => {
    const loads = Object.values(results).flatMap((byKey) => Object.values(byKey).flatMap((runs) => runs.map((r) => r.load ?? NaN))).filter(Number.isFinite);
    return loads.length ? `median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}` : 'none';
  };
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const head = [
    `Quire benchmark, ${started.toISOString()} (${o.quick ? 'quick' : 'full'}, ${o.runs} run${o.runs > 1 ? 's' : ''} each, medians)`,
    `Machine: ${cpu}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; Node.js ${process.versions.node}`,
    `Pinning: ${o.pin && hasTaskset() ? 'server on CPU 0, load generator on CPU 1 (taskset)' : 'none'}`,
    `Load average: ${loadAtStart} at start, ${loadAverage()} at end, 1-minute load after each run: ${runLoads()}; took ${((Date.now() - started.getTime()) / 60000).toFixed(1)} min`,
    ...Object.entries(versions).map(([name, v]) => `${name}: ${v}`),
  ];
  const summary = [
    ...head,
    '',
    ...lines,
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
  ].join('\n');
  process.stdout.write(summary + '\n');
  if (o.out) {
    writeFileSync(o.out, summary + '\n');
    writeFileSync(o.out + '.json', JSON.stringify({ head, servers, plan, layout, results }, null, 2));
    say(`wrote ${o.out} and ${o.out}.json`);
  }
  if (o.keep) say(`kept ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

main().catch((err: Error) => {
  process.stderr.write(`[bench] ${err.message}\n`);
  process.exit(1);
});
