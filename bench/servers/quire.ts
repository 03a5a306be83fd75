// Quire under test: started from the built output (the same dist that bin/quire.js runs), with accounts and
// rosters written straight through its storage API before the first start.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../src/config/index.js';
import { openStorage } from '../../src/start.js';
import { deriveAllCredentials } from '../../src/core/sasl/credentials.js';
import { Rosters, newItem } from '../../src/core/roster.js';
import type { AccountRecord } from '../../src/core/storage-api.js';
import { QUIRE_VERSION } from '../../src/version.js';
import { allUsers, rosters, type Layout } from '../lib/layout.js';
import { alive, freePort, spawnPinned, stopGroup, waitForXmpp } from '../lib/proc.js';
import type { RunningServer, ServerAdapter } from './types.js';

/** What the peers run too: RFC 6121 IM, the everyday XEPs, PubSub and PEP. */
const BENCH_MODULES = ['roster', 'presence', 'disco', 'caps', 'offline', 'vcard', 'private', 'blocking', 'last', 'ping', 'version', 'time', 'pubsub', 'pep'];

/** dist/ (or the folder tsc wrote to): this file is <out>/bench/servers/quire.js. */
const OUT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class QuireServer implements ServerAdapter {
  readonly name: string;
  private dir = '';
  private configPath = '';
  private port = 0;
  private domain = '';

  /**
   * With a folder, the server writes a V8 CPU profile there when it stops (`--profile`). `standardModules` runs
   * Quire's own standard set instead of the peers' (`--quire-modules standard`): what a default install does.
   */
  constructor(
    private profileDir: string | null = null,
    private standardModules = false,
    private networkWorkers = 0,
  ) {
    this.name = networkWorkers ? `quire+${networkWorkers}w` : 'quire';
  }

  version(): string {
    const workers = this.networkWorkers ? `, ${this.networkWorkers} network worker${this.networkWorkers > 1 ? 's' : ''}` : '';
    return `Quire ${QUIRE_VERSION} (Node.js ${process.versions.node}${workers})`;
  }

  async prepare(workDir: string, layout: Layout): Promise<void> {
    this.dir = join(workDir, this.name);
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    this.port = await freePort();
    this.domain = layout.domain;
    this.configPath = join(this.dir, 'quire.yaml');
    // The same features as the peers' configs (bench/servers/prosody.ts, ejabberd.ts), so that every server does
    // the same work per stanza: Quire's defaults add XEP-0313 archiving, carbons, stream management, CSI and
    // stanza ids (measured alone with --quire-modules standard). No TLS requirement, so that the login scenario can
    // run with and without STARTTLS; no per-connection rate limit or failure throttle, as for the peers.
    writeFileSync(
      this.configPath,
      [
        `hosts: [${layout.domain}]`,
        `data_dir: ${JSON.stringify(join(this.dir, 'data'))}`,
        'storage: { backend: sqlite }',
        `network_workers: ${this.networkWorkers}`,
        'listeners:',
        `  c2s: { host: 127.0.0.1, port: ${this.port} }`,
        '  c2s_tls: { enabled: false }',
        '  http: { enabled: false }',
        '  https: { enabled: false }',
        'tls: { required: false }',
        'auth: { max_failures: 1000, failure_window: 1 }',
        'limits:',
        '  connection_timeout: 120',
        '  rate: { bytes_per_second: 1073741824, burst: 1073741824 }',
        // Without a modules key, Quire runs its standard set (its web listeners stay closed, above).
        ...(this.standardModules ? [] : [`modules: [${BENCH_MODULES.join(', ')}]`]),
        'log: { level: warn, format: json }',
        '',
      ].join('\n'),
    );
    const loaded = loadConfigFile(this.configPath);
    const storage = await openStorage(loaded);
    try {
      // Derived once, written for every account: same password, same salt (Quire stores no password).
      const record: AccountRecord = { credentials: await deriveAllCredentials(layout.password), createdAt: Date.now() };
      const users = allUsers(layout);
      for (const user of users) await storage.accounts.create(layout.domain, user, record);
      const store = new Rosters(storage);
      for (const [user, contacts] of rosters(layout)) {
        const roster = await store.get(layout.domain, user);
        const items = contacts.map((contact) => {
          const item = newItem(`${contact}@${layout.domain}`);
          item.subscription = 'both';
          return item;
        });
        await store.commit(roster, items);
        store.forget(layout.domain, user);
      }
    } finally {
      await storage.close();
    }
  }

  async start(cpu: string | null): Promise<RunningServer> {
    const main = join(OUT_ROOT, 'src', 'cli', 'main.js');
    const profile = this.profileDir ? ['--cpu-prof', '--cpu-prof-dir', this.profileDir] : [];
    const child = spawnPinned(process.execPath, [...profile, main, 'start', '--config', this.configPath], { cpu, logFile: join(this.dir, 'quire.log'), cwd: this.dir });
    const pid = child.pid!;
    await waitForXmpp('127.0.0.1', this.port, this.domain, 60_000, () => alive(pid));
    return { pid, host: '127.0.0.1', port: this.port, domain: this.domain, stop: () => stopGroup(pid, 15_000) };
  }
}
