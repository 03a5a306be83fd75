// `quire token` for administrators: create (the token alone on stdout), list, revoke, with the errors and exit
// codes of `quire user` and `quire roster`; the expiry limits come from the app_tokens module's options; the
// server's verify accepts what the CLI created; `quire user delete` takes the account's tokens with it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/index.js';
import { Accounts } from '../src/core/accounts.js';
import { AppTokens, type AppTokenGrant } from '../src/core/app-tokens.js';
import { openStorage } from '../src/start.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TOKEN = /^qt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;
const DAY = 86_400_000;

function quire(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

/** A data folder with a config (and `extra` YAML); the arguments that name the config. */
function workspace(t: TestContext, extra = ''): { config: string; c: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(config, `hosts: [localhost]\ndata_dir: data\n${extra}`);
  return { config, c: ['--config', config] };
}

/** What the server's token service says of a token, reading the same storage. */
async function verify(config: string, token: string): Promise<AppTokenGrant | null> {
  const storage = await openStorage(loadConfigFile(config));
  try {
    return await new AppTokens(storage, new Accounts(storage.accounts)).verify(token);
  } finally {
    await storage.close();
  }
}

test('create prints the token, list shows it without the secret, revoke ends it', async (t) => {
  const { config, c } = workspace(t);
  assert.equal((await quire(['user', 'add', 'alice@localhost', '--password', 'pw-alice', ...c])).code, 0);

  const before = Date.now();
  const created = await quire(['token', 'create', 'alice@localhost', '--label', 'Blog editor', '--scope', 'write', '--node', 'urn:xmpp:microblog:0', '--node', 'pubsub.localhost/news', '--expires', '7', ...c]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, TOKEN, 'the token alone on stdout');
  const id = token.slice(3, 19);
  assert.match(created.stderr, new RegExp(`^created app token ${id} for alice@localhost \\(Blog editor; write; urn:xmpp:microblog:0, pubsub\\.localhost/news; expires \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\\. It is shown only now: store it\\.\\n$`));

  const grant = await verify(config, token);
  assert.ok(grant);
  assert.deepEqual([grant.host, grant.user, grant.scope, grant.nodes, grant.label], ['localhost', 'alice', 'write', ['urn:xmpp:microblog:0', 'pubsub.localhost/news'], 'Blog editor']);
  assert.ok(grant.expiresAt! >= before + 7 * DAY && grant.expiresAt! <= Date.now() + 7 * DAY);

  // Defaults: label "command line", read, every node, the module's default expiry (90 days).
  const plain = await quire(['token', 'create', 'Alice', ...c]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /\(command line; read; \(all nodes\); expires /);

  const listed = await quire(['token', 'list', 'alice@localhost', ...c]);
  assert.equal(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.equal(lines.length, 2);
  const [first] = lines;
  assert.deepEqual(first.slice(0, 4), [id, 'Blog editor', 'write', 'urn:xmpp:microblog:0, pubsub.localhost/news']);
  assert.match(first[4], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(first[5], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(first[6], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'last used: the verify above');
  assert.deepEqual(lines[1].slice(1, 4), ['command line', 'read', '(all nodes)']);
  const expires = Date.parse(lines[1][5]);
  assert.ok(expires >= before + 90 * DAY - 1000 && expires <= Date.now() + 90 * DAY, `expires in 90 days: ${lines[1][5]}`);
  assert.equal(lines[1][6], 'never', 'not used yet');
  assert.ok(!listed.stdout.includes(token.slice(20)), 'never the secret');

  const revoked = await quire(['token', 'revoke', 'alice@localhost', id, ...c]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.stdout.trim(), `revoked app token ${id} of alice@localhost`);
  assert.equal(await verify(config, token), null);
  const again = await quire(['token', 'revoke', 'alice@localhost', id, ...c]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim(), `quire: alice@localhost has no app token ${id} (see quire token list alice@localhost)`);
  assert.equal((await quire(['token', 'list', 'alice@localhost', ...c])).stdout.trim().split('\n').length, 1);
});

test('wrong arguments and unknown accounts exit 1 with a message that says what to do', async (t) => {
  const { c } = workspace(t);
  assert.equal((await quire(['user', 'add', 'alice@localhost', '--password', 'pw', ...c])).code, 0);
  const cases: [string[], RegExp][] = [
    [['token', 'create', 'nobody@localhost'], /^quire: nobody@localhost does not exist$/],
    [['token', 'list', 'nobody@localhost'], /^quire: nobody@localhost does not exist$/],
    [['token', 'revoke', 'nobody@localhost', '0123456789abcdef'], /^quire: nobody@localhost does not exist$/],
    [['token', 'create', 'alice@example.com'], /^quire: example\.com is not one of the hosts in .*quire\.yaml \(localhost\)$/],
    [['token', 'create', 'alice@localhost', '--scope', 'admin'], /^quire: --scope must be read or write, not "admin"$/],
    [['token', 'create', 'alice@localhost', '--expires', '0'], /^quire: --expires must be a whole number of days from 1 to 365 \(app_tokens max_expiry_days\), not "0"$/],
    [['token', 'create', 'alice@localhost', '--expires', 'soon'], /not "soon"$/],
    [['token', 'create', 'alice@localhost', '--expires', '366'], /from 1 to 365 .*not "366"$/],
    [['token', 'create', 'alice@localhost', '--label', ' '], /^quire: the label is empty: name the application the token is for$/],
    [['token', 'create', 'alice@localhost', '--node', 'pubsub.localhost/'], /^quire: "pubsub\.localhost\/" names a service but no node: write pubsub\.localhost\/NODE$/],
  ];
  for (const [args, message] of cases) {
    const result = await quire([...args, ...c]);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr.trim(), message, args.join(' '));
    assert.equal(result.stdout, '', args.join(' '));
  }
  assert.equal((await quire(['token', 'list', 'alice@localhost', ...c])).stdout, '', 'nothing was created');
  const missing = await quire(['token', 'revoke', 'alice@localhost', ...c]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing required argument 'id'/);
});

test("the expiry default and limit are the app_tokens module's options; a bad option is a config error (exit 2)", async (t) => {
  const { config, c } = workspace(t, 'modules:\n  disco:\n  adhoc:\n  app_tokens: { default_expiry_days: 3, max_expiry_days: 10 }\n');
  assert.equal((await quire(['user', 'add', 'alice@localhost', '--password', 'pw', ...c])).code, 0);
  const before = Date.now();
  const created = await quire(['token', 'create', 'alice@localhost', ...c]);
  assert.equal(created.code, 0, created.stderr);
  const grant = await verify(config, created.stdout.trim());
  assert.ok(grant!.expiresAt! >= before + 3 * DAY && grant!.expiresAt! <= Date.now() + 3 * DAY);
  const tooLong = await quire(['token', 'create', 'alice@localhost', '--expires', '11', ...c]);
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.stderr, /from 1 to 10 \(app_tokens max_expiry_days\)/);

  const bad = workspace(t, 'modules:\n  adhoc:\n  app_tokens: { default_expiry_days: 30, max_expiry_days: 10 }\n');
  const refused = await quire(['token', 'create', 'alice@localhost', ...bad.c]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /quire\.yaml:5:\d+: modules\.app_tokens\.default_expiry_days: is more than max_expiry_days \(10\)\. Fix: write 10 or less, or raise max_expiry_days\./);
});

test("quire user delete takes the account's tokens and their index entries with it", async (t) => {
  const { config, c } = workspace(t);
  for (const user of ['alice', 'bob']) assert.equal((await quire(['user', 'add', `${user}@localhost`, '--password', 'pw', ...c])).code, 0);
  const alice = (await quire(['token', 'create', 'alice@localhost', ...c])).stdout.trim();
  const bob = (await quire(['token', 'create', 'bob@localhost', ...c])).stdout.trim();
  assert.equal((await quire(['user', 'delete', 'alice@localhost', ...c])).code, 0);
  assert.equal(await verify(config, alice), null);
  assert.ok(await verify(config, bob));
  const storage = await openStorage(loadConfigFile(config));
  try {
    assert.deepEqual([...(await storage.map('app-token-index').getAll('', '')).keys()], [bob.slice(3, 19)], 'no orphan in the index');
  } finally {
    await storage.close();
  }
});
