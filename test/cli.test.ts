// The `quire` command, run as a real process: accounts, config checks that name the line and the fix,
// `init`, and `start` serving clients until SIGTERM ends every stream with system-shutdown.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { client, xml } from '@xmpp/client';
import { loadConfigFile } from '../src/config/index.js';
import { Accounts } from '../src/core/accounts.js';
import { openStorage } from '../src/start.js';
import { QUIRE_VERSION } from '../src/version.js';

// `start` generates a self-signed certificate; the test client accepts it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning');

// The compiled CLI next to this compiled test (dist/src/cli/main.js, or the same inside a build folder).
// bin/quire.js only forwards to dist/src/cli/main.js, so this is the same program.
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const VERSION = QUIRE_VERSION;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `quire ARGS` to completion in `cwd`, with `input` on its standard input. */
function quire(args: string[], options: { cwd: string; input?: string }): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, stdio: 'pipe' });
  return collect(child, options.input);
}

function collect(child: ChildProcessWithoutNullStreams, input?: string): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A fresh folder with a quire.yaml whose listeners take free loopback ports; removed after the test. */
function workspace(t: TestContext, extra = ''): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(
    config,
    [
      'hosts: [localhost]',
      'data_dir: ./data',
      'listeners:',
      '  c2s: { host: 127.0.0.1, port: 0 }',
      '  c2s_tls: { host: 127.0.0.1, port: 0 }',
      'log: { level: info, format: json }',
      extra,
    ].join('\n'),
  );
  return { dir, config };
}

/** Reads the account store the CLI wrote, the way the server would. */
async function passwordWorks(config: string, user: string, password: string): Promise<boolean> {
  const storage = await openStorage(loadConfigFile(config));
  try {
    return await new Accounts(storage.accounts).checkPassword('localhost', user, password);
  } finally {
    await storage.close();
  }
}

describe('quire version', () => {
  test('prints the package version and the Node.js version', async (t) => {
    const { dir } = workspace(t);
    const result = await quire(['version'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `quire ${VERSION} (Node.js ${process.version})`);
    const flag = await quire(['--version'], { cwd: dir });
    assert.equal(flag.code, 0);
    assert.equal(flag.stdout.trim(), VERSION);
  });

  test('an unknown command exits 1 and says so', async (t) => {
    const { dir } = workspace(t);
    const result = await quire(['frobnicate'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /unknown command 'frobnicate'/);
  });
});

describe('quire user', () => {
  test('add, list, add again, passwd, delete', async (t) => {
    const { dir, config } = workspace(t);

    const added = await quire(['user', 'add', 'alice@localhost', '--password', 'x', '--config', config], { cwd: dir });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout.trim(), 'created alice@localhost');

    // The host part may be left out: the first host is meant. The password may come on stdin.
    const piped = await quire(['user', 'add', 'Bob', '--config', config], { cwd: dir, input: 'bob-password\n' });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout.trim(), 'created bob@localhost', 'usernames are case-folded (RFC 8265 UsernameCaseMapped)');

    const listed = await quire(['user', 'list', '--config', config], { cwd: dir });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), ['alice@localhost', 'bob@localhost']);

    const again = await quire(['user', 'add', 'alice@localhost', '--password', 'y', '--config', config], { cwd: dir });
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), 'quire: alice@localhost already exists');
    assert.equal(again.stdout, '');
    assert.equal(await passwordWorks(config, 'alice', 'x'), true, 'the failed add left the password alone');

    const changed = await quire(['user', 'passwd', 'alice@localhost', '--config', config], { cwd: dir, input: 'new-password\n' });
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout.trim(), 'changed the password of alice@localhost');
    assert.equal(await passwordWorks(config, 'alice', 'new-password'), true);
    assert.equal(await passwordWorks(config, 'alice', 'x'), false);

    const nobody = await quire(['user', 'passwd', 'carol@localhost', '--password', 'whatever', '--config', config], { cwd: dir });
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr.trim(), 'quire: carol@localhost does not exist');

    const deleted = await quire(['user', 'delete', 'alice@localhost', '--config', config], { cwd: dir });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), 'deleted alice@localhost');
    const remaining = await quire(['user', 'list', '--config', config], { cwd: dir });
    assert.equal(remaining.stdout.trim(), 'bob@localhost');

    const twice = await quire(['user', 'delete', 'alice@localhost', '--config', config], { cwd: dir });
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr.trim(), 'quire: alice@localhost does not exist');
  });

  test('addresses that are not accounts of this server are refused with a clear message', async (t) => {
    const { dir, config } = workspace(t);
    const cases: [string, RegExp][] = [
      ['a@b@localhost', /^quire: "a@b@localhost" is not a valid account address: .*domainpart/],
      ['al ice@localhost', /^quire: "al ice@localhost" is not a valid account address: .*localpart/],
      ['alice@example.com', /^quire: example\.com is not one of the hosts in .*quire\.yaml \(localhost\)$/],
      ['alice@localhost/phone', /^quire: "alice@localhost\/phone" is not an account address; write it as user@localhost$/],
    ];
    for (const [jid, message] of cases) {
      const result = await quire(['user', 'add', jid, '--password', 'x', '--config', config], { cwd: dir });
      assert.equal(result.code, 1, jid);
      assert.match(result.stderr.trim(), message);
      assert.equal(result.stdout, '', jid);
    }
    const list = await quire(['user', 'list', 'example.com', '--config', config], { cwd: dir });
    assert.equal(list.code, 1);
    assert.match(list.stderr, /example\.com is not one of the configured hosts \(localhost\)/);
    assert.equal((await quire(['user', 'list', '--config', config], { cwd: dir })).stdout, '', 'nothing was created');
  });
});

describe('quire check', () => {
  test('a good config is ok', async (t) => {
    const { dir, config } = workspace(t, 'modules: [disco, ping, register]');
    const result = await quire(['check', '--config', config], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines[0], `config ${config}: ok`);
    assert.ok(lines.includes('  modules: disco, ping, register'), result.stdout);
    assert.ok(lines.includes(`  storage: sqlite (${join(dir, 'data', 'quire.sqlite')})`), result.stdout);
  });

  test('a misspelt key names its line and column, suggests the right name, and says how to fix it', async (t) => {
    const { dir, config } = workspace(t);
    writeFileSync(config, 'hosts: [localhost]\ndata_dir: ./data\nlistners:\n  c2s: { port: 5222 }\n');
    const result = await quire(['check', '--config', config], { cwd: dir });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /quire\.yaml:3:1: listners: .*Did you mean "listeners"\?.*Fix: /);
  });

  test('a port that is not a number names its line and column and the fix', async (t) => {
    const { dir, config } = workspace(t);
    writeFileSync(config, 'hosts: [localhost]\ndata_dir: ./data\nlisteners:\n  c2s:\n    port: 52x2\n');
    const result = await quire(['check', '--config', config], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /quire\.yaml:5:11: listeners\.c2s\.port: .*"52x2".*Fix: /);
  });

  test('an unknown module is named, with its line', async (t) => {
    const { dir, config } = workspace(t);
    writeFileSync(config, 'hosts: [localhost]\ndata_dir: ./data\nmodules:\n  - disco\n  - pnig\n  - ping\n');
    const result = await quire(['check', '--config', config], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /quire\.yaml:5:5: modules: unknown module "pnig"\. Fix: .*\bping\b/);
  });

  test('a config file that does not exist is named, with the fix', async (t) => {
    const { dir } = workspace(t);
    const missing = join(dir, 'nowhere.yaml');
    const result = await quire(['check', '--config', missing], { cwd: dir });
    assert.equal(result.code, 2);
    assert.ok(result.stderr.startsWith(`${missing}: config file not found`), result.stderr);
    assert.match(result.stderr, /Fix: /);
  });
});

describe('quire init', () => {
  test('writes a quire.yaml that check accepts, and never overwrites one', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'quire-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const init = await quire(['init'], { cwd: dir });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^wrote quire\.yaml; edit it, then run: quire check --config quire\.yaml/);
    assert.ok(existsSync(join(dir, 'quire.yaml')));

    // Without --config, check reads ./quire.yaml.
    const check = await quire(['check'], { cwd: dir });
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout.split('\n')[0], `config ${join(dir, 'quire.yaml')}: ok`);
    assert.match(check.stdout, /^ {2}modules: .*\bdisco\b.*\bping\b/m);

    const before = readFileSync(join(dir, 'quire.yaml'), 'utf8');
    writeFileSync(join(dir, 'quire.yaml'), before + '# mine\n');
    const again = await quire(['init'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.equal(again.stderr.trim(), 'quire: quire.yaml exists already; not overwriting it');
    assert.equal(readFileSync(join(dir, 'quire.yaml'), 'utf8'), before + '# mine\n');

    const elsewhere = await quire(['init', 'other.yaml'], { cwd: dir });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.equal(readFileSync(join(dir, 'other.yaml'), 'utf8'), before);
  });
});

describe('quire start', () => {
  /** Starts the server and resolves with the process and its banner once the banner is printed. */
  function start(dir: string, config: string): { child: ChildProcessWithoutNullStreams; banner: Promise<string>; exited: Promise<Result> } {
    const child = spawn(process.execPath, [CLI, 'start', '--config', config], { cwd: dir, stdio: 'pipe' });
    const exited = collect(child);
    let seen = '';
    const banner = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        seen += chunk;
        const match = /^Quire .* is serving [^]*?Stop with Ctrl\+C\.$/m.exec(seen);
        if (match) resolve(match[0]);
      });
      void exited.then((r) => reject(new Error(`quire start exited (${r.code}) before its banner:\n${r.stdout}\n${r.stderr}`)));
    });
    return { child, banner, exited };
  }

  const running: ChildProcessWithoutNullStreams[] = [];
  after(() => {
    // A failed assertion must not leave a server behind.
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  test('serves clients, and SIGTERM ends their streams with system-shutdown and exits 0', async (t) => {
    const { dir, config } = workspace(t, 'modules: [disco, ping, register]');
    const added = await quire(['user', 'add', 'alice@localhost', '--password', 'alice-password', '--config', config], { cwd: dir });
    assert.equal(added.code, 0, added.stderr);

    const server = start(dir, config);
    running.push(server.child);
    const banner = await server.banner;
    assert.match(banner, new RegExp(`^Quire ${VERSION.replace(/\./g, '\\.')} is serving localhost \\(config: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, data: `));
    assert.match(banner, /in-band registration \(XEP-0077\) is on/);
    assert.match(banner, /The TLS certificate is self-signed/);
    const port = Number(/Clients connect to localhost, port (\d+) \(STARTTLS\) or (\d+) \(direct TLS\)\./.exec(banner)?.[1]);
    assert.ok(port > 0, banner);

    // Alice logs in with the account the CLI created, over STARTTLS, and the server answers her.
    const alice = client({ service: `xmpp://127.0.0.1:${port}`, domain: 'localhost', username: 'alice', password: 'alice-password', resource: 'laptop' });
    // Each negotiation step may take longer than @xmpp/client's default 2 s on a loaded machine.
    Object.assign(alice, { timeout: 20_000 });
    alice.reconnect.stop();
    const streamError = new Promise<string | undefined>((resolve) => alice.on('error', (err: Error & { condition?: string }) => resolve(err.condition)));
    await alice.start();
    assert.equal(alice.jid?.toString(), 'alice@localhost/laptop');
    const pong = await alice.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(pong.attrs.type, 'result');

    // RFC 6120 §4.9.3.19: shutting down closes every stream with <system-shutdown/>.
    server.child.kill('SIGTERM');
    assert.equal(await streamError, 'system-shutdown');
    const result = await server.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.signal, null);
    assert.match(result.stdout, /"msg":"stopped"/);
    await alice.stop().catch(() => {});
  });

  test('a port in use is a config error that says how to fix it', async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const taken = (blocker.address() as net.AddressInfo).port;
    const { dir, config } = workspace(t);
    writeFileSync(config, `hosts: [localhost]\ndata_dir: ./data\nlisteners:\n  c2s: { host: 127.0.0.1, port: ${taken} }\n  c2s_tls: { enabled: false }\nlog: { level: error, format: json }\n`);
    const server = start(dir, config);
    running.push(server.child);
    server.banner.catch(() => {});
    const result = await server.exited;
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`port ${taken} is already in use\\. Fix: `));
  });
});
