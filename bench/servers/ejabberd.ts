// ejabberd under test: the Debian package, run as its own Erlang node with its own config, spool and logs.
// Accounts and rosters live in SQLite (erlang-p1-sqlite3), which the harness fills with better-sqlite3 before
// the first start: `ejabberdctl register` starts an Erlang VM per call and would take hours for 10,000 users.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { allUsers, rosters, sha1Credential, type Layout } from '../lib/layout.js';
import { alive, commandLine, descendants, freePort, run, sleep, spawnPinned, stopGroup, waitExit, waitForXmpp } from '../lib/proc.js';
import { ensurePackages, packageVersion, selfSigned, stopSystemService } from './debian.js';
import type { RunningServer, ServerAdapter } from './types.js';

const NODE_NAME = 'quirebench';
const SCHEMA_PATHS = ['/usr/share/ejabberd/sql/lite.sql'];

export class EjabberdServer implements ServerAdapter {
  readonly name = 'ejabberd';
  private dir = '';
  private port = 0;
  private domain = '';

  constructor(private log: (line: string) => void) {}

  version(): string {
    return `ejabberd ${packageVersion('ejabberd')} (Debian, Erlang/OTP ${packageVersion('erlang-base')})`;
  }

  async prepare(workDir: string, layout: Layout): Promise<void> {
    ensurePackages(
      [
        { name: 'ejabberd', marker: '/usr/sbin/ejabberdctl' },
        { name: 'erlang-p1-sqlite3', marker: '/usr/share/doc/erlang-p1-sqlite3' },
      ],
      this.log,
    );
    stopSystemService('ejabberd', ['/run/ejabberd/ejabberd.pid', '/var/run/ejabberd/ejabberd.pid'], this.log);
    this.dir = join(workDir, 'ejabberd');
    for (const sub of ['', 'logs', 'spool']) mkdirSync(join(this.dir, sub), { recursive: true });
    // ejabberdctl runs the node as the ejabberd user: it must reach and own its folders.
    chmodSync(workDir, 0o755);
    this.port = await freePort();
    const distPort = await freePort();
    this.domain = layout.domain;
    const cert = join(this.dir, 'cert.pem');
    const key = join(this.dir, 'key.pem');
    selfSigned(layout.domain, cert, key);
    const bundle = join(this.dir, 'server.pem');
    writeFileSync(bundle, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
    const db = join(this.dir, 'ejabberd.db');
    writeFileSync(
      join(this.dir, 'ejabberdctl.cfg'),
      [
        `ERLANG_NODE=${NODE_NAME}@localhost`,
        // A distribution port of its own instead of epmd, so that nothing outlives the node.
        `ERL_DIST_PORT=${distPort}`,
        'INET_DIST_INTERFACE=127.0.0.1',
        'POLL=true',
        'ERL_MAX_PORTS=65536',
        'ERL_PROCESSES=1000000',
        'EJABBERD_BYPASS_WARNINGS=true',
        '',
      ].join('\n'),
    );
    if (existsSync('/etc/ejabberd/inetrc')) copyFileSync('/etc/ejabberd/inetrc', join(this.dir, 'inetrc'));
    // Modules close to Quire's default set; STARTTLS offered, not required; no shaper (the stock config limits
    // clients to 1000 B/s); a listen backlog like the others' (the default, 5, drops connections under
    // 100 concurrent logins); accounts and rosters in SQL, everything else in Mnesia as by default.
    writeFileSync(
      join(this.dir, 'ejabberd.yml'),
      `# written by the Quire benchmark harness
hosts:
  - ${layout.domain}
loglevel: warning
log_rotate_count: 0
certfiles:
  - ${bundle}
listen:
  - port: ${this.port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    starttls: true
    starttls_required: false
auth_method: sql
auth_password_format: scram
sql_type: sqlite
sql_database: ${db}
new_sql_schema: false
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  pubsub_createnode:
    allow: local
api_permissions: {}
modules:
  mod_roster:
    db_type: sql
  mod_disco: {}
  mod_caps: {}
  mod_offline: {}
  mod_vcard:
    search: false
  mod_private: {}
  mod_privacy: {}
  mod_blocking: {}
  mod_last: {}
  mod_ping: {}
  mod_version: {}
  mod_time: {}
  mod_pubsub:
    host: pubsub.@HOST@
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
`,
    );
    // SCRAM as ejabberd stores it (auth_password_format: scram, SHA-1): base64 StoredKey, ServerKey and salt.
    const cred = sha1Credential(layout.password, undefined, 4096);
    const schema = SCHEMA_PATHS.find((p) => existsSync(p));
    if (!schema) throw new Error('ejabberd SQLite schema (lite.sql) not found');
    const sql = new Database(db);
    try {
      sql.exec(readFileSync(schema, 'utf8'));
      const insertUser = sql.prepare('INSERT INTO users (username, password, serverkey, salt, iterationcount) VALUES (?, ?, ?, ?, ?)');
      const insertItem = sql.prepare("INSERT INTO rosterusers (username, jid, nick, subscription, ask, askmessage, server, subscribe, type) VALUES (?, ?, '', 'B', 'N', '', 'N', '', 'item')");
      sql.transaction(() => {
        for (const user of allUsers(layout)) insertUser.run(user, cred.storedKey.toString('base64'), cred.serverKey.toString('base64'), cred.salt.toString('base64'), cred.iterations);
        for (const [user, contacts] of rosters(layout)) for (const contact of contacts) insertItem.run(user, `${contact}@${layout.domain}`);
      })();
    } finally {
      sql.close();
    }
    const chown = run('chown', ['-R', 'ejabberd:ejabberd', this.dir]);
    if (chown.status !== 0) throw new Error(`chown ejabberd: ${chown.out}`);
  }

  /** The ejabberd system user (from /etc/passwd), when the harness runs as root. */
  private account(): { uid: number; gid: number; home: string } | null {
    if (process.getuid?.() !== 0) return null;
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('ejabberd:'));
    if (!line) return null;
    const [, , uid, gid, , home] = line.split(':');
    return { uid: Number(uid), gid: Number(gid), home: home ?? '/var/lib/ejabberd' };
  }

  private ctlArgs(): string[] {
    return [
      '--config-dir', this.dir,
      '--config', join(this.dir, 'ejabberd.yml'),
      '--ctl-config', join(this.dir, 'ejabberdctl.cfg'),
      '--logs', join(this.dir, 'logs'),
      '--spool', join(this.dir, 'spool'),
    ];
  }

  async start(cpu: string | null): Promise<RunningServer> {
    // Started as the ejabberd user, so that ejabberdctl does not switch users with su: su's PAM session
    // would drop the open-files limit to 1024 and the node would refuse connections beyond about 1,000.
    const user = this.account();
    const child = spawnPinned('ejabberdctl', [...this.ctlArgs(), 'foreground'], {
      cpu,
      logFile: join(this.dir, 'logs', 'stdout.log'),
      cwd: this.dir,
      uid: user?.uid,
      gid: user?.gid,
      env: { ...process.env, HOME: user?.home ?? process.env.HOME, USER: 'ejabberd', LOGNAME: 'ejabberd' },
    });
    const groupId = child.pid!;
    // The server's memory is that of the Erlang VM (beam.smp), a descendant of ejabberdctl and su.
    let beam = 0;
    const deadline = Date.now() + 60_000;
    while (!beam && Date.now() < deadline) {
      beam = descendants(groupId).find((pid) => commandLine(pid).includes('beam') && commandLine(pid).includes(NODE_NAME)) ?? 0;
      if (!beam) {
        if (!alive(groupId)) throw new Error(`ejabberd exited during start; see ${join(this.dir, 'logs')}`);
        await sleep(200);
      }
    }
    if (!beam) throw new Error('ejabberd: no Erlang VM appeared');
    const beamPid = beam;
    await waitForXmpp('127.0.0.1', this.port, this.domain, 120_000, () => alive(beamPid));
    return {
      pid: beamPid,
      host: '127.0.0.1',
      port: this.port,
      domain: this.domain,
      stop: async () => {
        // SIGTERM makes the Erlang VM stop its applications in order (init:stop/0).
        try {
          process.kill(beamPid, 'SIGTERM');
        } catch {
          /* gone */
        }
        if (!(await waitExit(beamPid, 20_000))) {
          try {
            process.kill(beamPid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await stopGroup(groupId, 5000);
      },
    };
  }
}
