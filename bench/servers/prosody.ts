// Prosody under test: the Debian package, run as its own process with its own config and data folder.
// Accounts and rosters are written straight into its internal storage files (util.datamanager's Lua tables),
// which is what mod_auth_internal_hashed and the roster manager read: thousands of prosodyctl calls would take hours.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allUsers, rosters, sha1Credential, PUBLISHER, type Layout } from '../lib/layout.js';
import { alive, freePort, spawnPinned, stopGroup, waitForXmpp } from '../lib/proc.js';
import { ensurePackages, packageVersion, selfSigned, stopSystemService } from './debian.js';
import type { RunningServer, ServerAdapter } from './types.js';

/** util.datamanager's encoding of host and user names in paths. */
function encode(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

function luaString(s: string): string {
  return JSON.stringify(s); // bench names and hex keys are plain ASCII, where JSON and Lua quoting agree
}

export class ProsodyServer implements ServerAdapter {
  readonly name = 'prosody';
  private dir = '';
  private configPath = '';
  private port = 0;
  private domain = '';

  constructor(private log: (line: string) => void) {}

  version(): string {
    return `Prosody ${packageVersion('prosody')} (Debian)`;
  }

  async prepare(workDir: string, layout: Layout): Promise<void> {
    ensurePackages([{ name: 'prosody', marker: '/usr/bin/prosody' }], this.log);
    stopSystemService('prosody', ['/run/prosody/prosody.pid', '/var/run/prosody/prosody.pid'], this.log);
    this.dir = join(workDir, 'prosody');
    const data = join(this.dir, 'data');
    mkdirSync(data, { recursive: true });
    this.port = await freePort();
    this.domain = layout.domain;
    const cert = join(this.dir, 'cert.pem');
    const key = join(this.dir, 'key.pem');
    selfSigned(layout.domain, cert, key);
    this.configPath = join(this.dir, 'prosody.cfg.lua');
    // Modules close to Quire's default set; c2s without required encryption (SCRAM needs none) so that the
    // login scenario runs with and without STARTTLS; no s2s, http or admin socket.
    writeFileSync(
      this.configPath,
      `-- written by the Quire benchmark harness
run_as_root = true
daemonize = false
pidfile = ${luaString(join(this.dir, 'prosody.pid'))}
data_path = ${luaString(data)}
plugin_paths = {}
log = { warn = ${luaString(join(this.dir, 'prosody.log'))} }
network_backend = "epoll"
network_settings = { tcp_backlog = 1024 }
interfaces = { "127.0.0.1" }
c2s_ports = { ${this.port} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
c2s_require_encryption = false
s2s_require_encryption = false
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
admins = { ${luaString(`${PUBLISHER}@${layout.domain}`)} }
ssl = { certificate = ${luaString(cert)}; key = ${luaString(key)}; }
modules_enabled = {
  "roster"; "saslauth"; "tls"; "disco"; "private"; "vcard_legacy"; "blocklist"; "ping"; "version"; "time";
  "uptime"; "lastactivity"; "pep";
}
modules_disabled = { "s2s"; "admin_socket"; "posix"; }
VirtualHost ${luaString(layout.domain)}
Component ${luaString(`pubsub.${layout.domain}`)} "pubsub"
`,
    );
    // mod_auth_internal_hashed: salt is used as given (not base64) and sent base64-encoded in SCRAM; keys in hex.
    const saltText = 'quire-bench-' + Math.random().toString(36).slice(2);
    const cred = sha1Credential(layout.password, Buffer.from(saltText), 4096);
    const account = `return {\n\t["iteration_count"] = ${cred.iterations};\n\t["salt"] = ${luaString(saltText)};\n\t["server_key"] = ${luaString(cred.serverKey.toString('hex'))};\n\t["stored_key"] = ${luaString(cred.storedKey.toString('hex'))};\n};\n`;
    const hostDir = join(data, encode(layout.domain));
    mkdirSync(join(hostDir, 'accounts'), { recursive: true });
    mkdirSync(join(hostDir, 'roster'), { recursive: true });
    for (const user of allUsers(layout)) writeFileSync(join(hostDir, 'accounts', `${encode(user)}.dat`), account);
    for (const [user, contacts] of rosters(layout)) {
      const lines = ['return {', '\t[false] = { ["version"] = 1; ["pending"] = {}; };'];
      for (const contact of contacts) lines.push(`\t[${luaString(`${contact}@${layout.domain}`)}] = { ["subscription"] = "both"; ["groups"] = {}; };`);
      lines.push('};', '');
      writeFileSync(join(hostDir, 'roster', `${encode(user)}.dat`), lines.join('\n'));
    }
  }

  async start(cpu: string | null): Promise<RunningServer> {
    const child = spawnPinned('prosody', ['--config', this.configPath, '-F'], { cpu, logFile: join(this.dir, 'stdout.log'), cwd: this.dir });
    const pid = child.pid!;
    await waitForXmpp('127.0.0.1', this.port, this.domain, 60_000, () => alive(pid));
    return { pid, host: '127.0.0.1', port: this.port, domain: this.domain, stop: () => stopGroup(pid, 15_000) };
  }
}
