// Interop: Debian's slixmpp and its XEP-0050 plugin (test/interop/slix_adhoc.py) list the server's commands, run
// the app token creation command through its form with the plugin's workflow, and read the list command's table;
// the token it was given is one the server verifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { runInteropScript, slixmppMissing } from './helpers/slixmpp.js';

const CREATE = 'https://quire.im/commands/app-tokens#create';
const LIST = 'https://quire.im/commands/app-tokens#list';
const REVOKE = 'https://quire.im/commands/app-tokens#revoke';

const missing = slixmppMissing('slixmpp.plugins.xep_0050');

interface FieldView {
  type: string;
  label: string;
  value: unknown;
  options: string[];
}

const runScript = (args: string[]) => runInteropScript('slix_adhoc.py', args);

describe('slixmpp XEP-0050 interop', { skip: missing }, () => {
  let server: TestServer;

  before(async () => {
    // slixmpp 1.8 knows only the tls-unique channel binding; without -PLUS on offer it uses plain SCRAM.
    server = await startTestServer({
      modules: 'modules:\n  disco:\n  adhoc:\n  app_tokens: { default_expiry_days: 14, max_expiry_days: 30 }',
      extra: 'auth: { mechanisms: [SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1] }',
    });
    await server.createUser('horatio', 'horatio-password');
  });

  after(async () => {
    await server?.stop();
  });

  test('the xep_0050 plugin lists the commands and creates an app token through the form', async () => {
    const run = await runScript([
      '--port', String(server.port),
      '--jid', 'horatio@localhost/slix',
      '--password', 'horatio-password',
      '--server', 'localhost',
      '--node', CREATE,
      '--list-node', LIST,
      '--label', 'Slixmpp bot',
      '--scope', 'write',
      '--nodes', 'urn:xmpp:microblog:0',
      '--nodes', 'pubsub.localhost/news',
      '--expires', '10',
    ]);
    const why = `slix_adhoc.py (${run.code}):\n${run.events.map((e) => JSON.stringify(e)).join('\n')}\n${run.stderr}`;
    assert.equal(run.code, 0, why);
    const byName = (name: string) => run.events.find((e) => e.event === name)!;

    // slixmpp keeps disco items in a set: their order is lost.
    assert.deepEqual((byName('commands').items as string[][]).sort((a, b) => a[1].localeCompare(b[1])), [
      ['localhost', CREATE, 'Create an app token'],
      ['localhost', LIST, 'List app tokens'],
      ['localhost', REVOKE, 'Revoke an app token'],
    ].sort((a, b) => a[1].localeCompare(b[1])), why);

    const form = byName('form');
    assert.equal(form.status, 'executing', why);
    assert.deepEqual(form.actions, ['complete'], why);
    const fields = form.fields as Record<string, FieldView>;
    assert.deepEqual(Object.keys(fields), ['FORM_TYPE', 'label', 'scope', 'nodes', 'expires'], why);
    assert.deepEqual([fields.scope.type, fields.scope.options, fields.scope.value], ['list-single', ['read', 'write'], 'read'], why);
    assert.equal(fields.nodes.type, 'text-multi', why);
    assert.equal(fields.expires.value, '14', why);

    const completed = byName('completed');
    assert.equal(completed.status, 'completed', why);
    assert.ok((completed.notes as string[][]).some(([type, text]) => type === 'info' && /will not be shown again/.test(text)), why);
    const values = completed.values as Record<string, unknown>;
    const token = values.token as string;
    assert.match(token, /^qt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, why);

    const grant = await server.running.server.tokens.verify(token);
    assert.ok(grant, 'the server verifies the token slixmpp was given');
    assert.deepEqual([grant.user, grant.label, grant.scope, grant.nodes], ['horatio', 'Slixmpp bot', 'write', ['urn:xmpp:microblog:0', 'pubsub.localhost/news']]);
    assert.ok(Math.abs(grant.expiresAt! - (Date.now() + 10 * 86_400_000)) < 60_000, 'expires in the 10 days slixmpp asked for');

    assert.deepEqual(byName('listed'), { event: 'listed', status: 'completed', ids: [grant.id] }, why);
    assert.equal(run.events.at(-1)?.event, 'done', why);
  });
});
