// App tokens from a client (@xmpp/client): the app_tokens module's XEP-0050 commands create, list and revoke an
// account's tokens, and server.tokens.verify() accepts a created token until it is revoked or expires.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { command, commandResult, expectCommandError, submitted } from './helpers/adhoc.js';
import { NS_DISCO_ITEMS, iq, result, xml } from './helpers/pubsub.js';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';

const CREATE = 'https://quire.im/commands/app-tokens#create';
const LIST = 'https://quire.im/commands/app-tokens#list';
const REVOKE = 'https://quire.im/commands/app-tokens#revoke';
const FORM_TYPE = 'https://quire.im/commands/app-tokens';
const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const DAY = 86_400_000;
const TOKEN = /^qt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;

describe('app tokens over ad-hoc commands', () => {
  let server: TestServer;
  let alice: XmppClient;
  let bob: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  adhoc:\n  app_tokens: { default_expiry_days: 30, max_expiry_days: 60 }' });
    await server.createUser('alice');
    await server.createUser('bob');
    alice = await connectClient(server, 'alice');
    bob = await connectClient(server, 'bob');
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await bob?.stop().catch(() => {});
    await server?.stop();
  });

  const tokens = () => server.running.server.tokens;

  /** Runs the create command through to the token; returns the completed command. */
  async function createToken(client: XmppClient, values: Record<string, string | string[]>) {
    const { sessionid } = commandResult(await command(client, CREATE));
    return commandResult(await command(client, CREATE, { sessionid, action: 'complete', form: submitted(values) }));
  }

  test('an account finds the three commands in the server’s command list', async () => {
    const items = result(await iq(alice, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })))!;
    assert.deepEqual(items.getChildren('item').map((i) => i.attrs), [
      { jid: 'localhost', node: CREATE, name: 'Create an app token' },
      { jid: 'localhost', node: LIST, name: 'List app tokens' },
      { jid: 'localhost', node: REVOKE, name: 'Revoke an app token' },
    ]);
  });

  test('create: one form, then the token, shown once; verify accepts it until it expires', async () => {
    const first = commandResult(await command(alice, CREATE, { action: 'execute' }));
    assert.equal(first.status, 'executing');
    assert.deepEqual(first.actions, { allowed: ['complete'], execute: 'complete' });
    const fields = first.form!.fields;
    assert.deepEqual(fields.get('FORM_TYPE')?.values, [FORM_TYPE]);
    assert.deepEqual([fields.get('label')?.type, fields.get('scope')?.type, fields.get('nodes')?.type, fields.get('expires')?.type], ['text-single', 'list-single', 'text-multi', 'text-single']);
    assert.deepEqual(fields.get('scope')?.options, ['read', 'write']);
    assert.deepEqual(fields.get('scope')?.values, ['read']);
    assert.deepEqual(fields.get('expires')?.values, ['30'], 'the default expiry from the module options');
    assert.match(fields.get('expires')?.label ?? '', /1 to 60/);

    const before = Date.now();
    const done = commandResult(
      await command(alice, CREATE, {
        sessionid: first.sessionid,
        action: 'complete',
        form: submitted({ FORM_TYPE, label: 'Blog editor', scope: 'write', nodes: ['urn:xmpp:microblog:0', 'pubsub.localhost/news'], expires: '7' }),
      }),
    );
    assert.equal(done.status, 'completed');
    assert.equal(done.sessionid, first.sessionid);
    assert.ok(done.notes.some((n) => n.type === 'info' && /will not be shown again/.test(n.text)), JSON.stringify(done.notes));
    assert.equal(done.form?.type, 'result');
    const token = done.form!.fields.get('token')!.values[0];
    assert.match(token, TOKEN);
    const id = done.form!.fields.get('id')!.values[0];
    assert.deepEqual(done.form!.fields.get('nodes')?.values, ['urn:xmpp:microblog:0', 'pubsub.localhost/news']);

    const grant = await tokens().verify(token);
    assert.ok(grant, 'verify accepts the new token');
    assert.deepEqual({ ...grant, expiresAt: undefined }, { id, host: 'localhost', user: 'alice', scope: 'write', nodes: ['urn:xmpp:microblog:0', 'pubsub.localhost/news'], expiresAt: undefined, label: 'Blog editor' });
    assert.ok(grant.expiresAt! >= before + 7 * DAY && grant.expiresAt! <= Date.now() + 7 * DAY, 'expires in 7 days');
    // After expiry it is refused.
    assert.equal(await tokens().verify(token, grant.expiresAt!), null);
    assert.equal(await tokens().verify(token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA')), null, 'a wrong secret is refused');

    // list: the token's properties, never the token; last used since the verify above.
    const listed = commandResult(await command(alice, LIST));
    assert.equal(listed.status, 'completed');
    const x = listed.form!.x;
    assert.deepEqual(x.getChild('reported')!.getChildren('field').map((f) => f.attrs.var), ['id', 'label', 'scope', 'nodes', 'created', 'expires', 'last-used']);
    const row = x.getChildren('item').map((item) => new Map(item.getChildren('field').map((f) => [f.attrs.var, f.getChildren('value').map((v) => v.text())])))
      .find((r) => r.get('id')?.[0] === id)!;
    assert.deepEqual([row.get('label'), row.get('scope'), row.get('nodes')], [['Blog editor'], ['write'], ['urn:xmpp:microblog:0', 'pubsub.localhost/news']]);
    assert.match(row.get('created')![0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(row.get('last-used')![0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!listed.form!.x.toString().includes(token.slice(20)), 'the list never shows the secret');
  });

  test('values the account can correct bring the form back with a note; the session goes on', async () => {
    const { sessionid } = commandResult(await command(alice, CREATE));
    const tooLong = commandResult(await command(alice, CREATE, { sessionid, action: 'complete', form: submitted({ label: 'Reader', scope: 'read', expires: '61' }) }));
    assert.equal(tooLong.status, 'executing');
    assert.deepEqual(tooLong.notes, [{ type: 'error', text: 'Expires after: write a whole number of days from 1 to 60' }]);
    assert.deepEqual(tooLong.form?.fields.get('label')?.values, ['Reader'], 'what was typed is kept');
    const badNode = commandResult(await command(alice, CREATE, { sessionid, action: 'complete', form: submitted({ label: 'Reader', scope: 'read', nodes: ['pubsub.localhost/'], expires: '1' }) }));
    assert.equal(badNode.status, 'executing');
    assert.match(badNode.notes[0].text, /names a service but no node/);
    // A scope that is not one of the choices is not something a form lets one type: bad-payload.
    expectCommandError(await command(alice, CREATE, { sessionid, action: 'complete', form: submitted({ label: 'Reader', scope: 'admin', expires: '1' }) }), 'modify', 'bad-request', 'bad-payload');
    const done = commandResult(await command(alice, CREATE, { sessionid, action: 'complete', form: submitted({ label: 'Reader', scope: 'read', nodes: [], expires: '1' }) }));
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.form?.fields.get('nodes')?.values, ['(all your nodes)']);
  });

  test('cancel: no token is made', async () => {
    const count = (await tokens().list('localhost', 'alice')).length;
    const { sessionid } = commandResult(await command(alice, CREATE));
    assert.equal(commandResult(await command(alice, CREATE, { sessionid, action: 'cancel' })).status, 'canceled');
    expectCommandError(await command(alice, CREATE, { sessionid, action: 'complete', form: submitted({ label: 'x', scope: 'read', expires: '1' }) }), 'cancel', 'not-allowed', 'session-expired');
    assert.equal((await tokens().list('localhost', 'alice')).length, count);
  });

  test('revoke: choose a token, confirm (prev goes back), complete; verify refuses it from then on', async () => {
    const keep = await createToken(bob, { label: 'Keep', scope: 'read', expires: '5' });
    const drop = await createToken(bob, { label: 'Drop', scope: 'write', expires: '5' });
    const keepId = keep.form!.fields.get('id')!.values[0];
    const dropId = drop.form!.fields.get('id')!.values[0];
    const dropToken = drop.form!.fields.get('token')!.values[0];
    assert.ok(await tokens().verify(dropToken));

    const choose = commandResult(await command(bob, REVOKE));
    assert.equal(choose.status, 'executing');
    assert.deepEqual(choose.actions, { allowed: ['next'], execute: 'next' });
    assert.equal(choose.form?.fields.get('token')?.type, 'list-single');
    assert.deepEqual(choose.form?.fields.get('token')?.options, [keepId, dropId], "bob's tokens only, oldest first");
    const { sessionid } = choose;

    const confirm = commandResult(await command(bob, REVOKE, { sessionid, form: submitted({ token: keepId }) }));
    assert.deepEqual(confirm.actions, { allowed: ['prev', 'complete'], execute: 'complete' });
    assert.match(confirm.form!.x.getChildText('instructions') ?? '', /Revoke "Keep"/);
    const back = commandResult(await command(bob, REVOKE, { sessionid, action: 'prev' }));
    assert.deepEqual(back.form?.fields.get('token')?.values, [keepId], 'the choice made before is shown again');
    commandResult(await command(bob, REVOKE, { sessionid, action: 'next', form: submitted({ token: dropId }) }));
    const done = commandResult(await command(bob, REVOKE, { sessionid, action: 'complete' }));
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.notes, [{ type: 'info', text: `Revoked the token "Drop" (${dropId}): applications that use it are refused from now on.` }]);

    assert.equal(await tokens().verify(dropToken), null, 'refused after revoke');
    assert.ok(await tokens().verify(keep.form!.fields.get('token')!.values[0]), 'the other one still works');
    assert.deepEqual((await tokens().list('localhost', 'bob')).map((r) => r.id), [keepId]);
  });

  test("an account sees and revokes only its own tokens, and cannot continue another's session", async () => {
    const alices = commandResult(await command(alice, CREATE));
    expectCommandError(await command(bob, CREATE, { sessionid: alices.sessionid, action: 'complete', form: submitted({ label: 'Mine now', scope: 'write', expires: '1' }) }), 'modify', 'bad-request', 'bad-sessionid');
    const aliceToken = (await tokens().create('localhost', 'alice', { label: 'Alice', scope: 'read', nodes: [] })).record;
    const choose = commandResult(await command(bob, REVOKE));
    assert.ok(!choose.form!.fields.get('token')!.options.includes(aliceToken.id));
    expectCommandError(await command(bob, REVOKE, { sessionid: choose.sessionid, form: submitted({ token: aliceToken.id }) }), 'modify', 'bad-request', 'bad-payload');
    assert.ok((await tokens().list('localhost', 'alice')).some((r) => r.id === aliceToken.id));
    // Alice's session is untouched by Bob's attempt.
    const done = commandResult(await command(alice, CREATE, { sessionid: alices.sessionid, action: 'complete', form: submitted({ label: 'Still mine', scope: 'read', expires: '1' }) }));
    assert.equal(done.status, 'completed');
  });

  test('an account without tokens: list and revoke complete at once with a note', async () => {
    await server.createUser('carol');
    const carol = await connectClient(server, 'carol');
    try {
      const listed = commandResult(await command(carol, LIST));
      assert.equal(listed.status, 'completed');
      assert.deepEqual(listed.notes, [{ type: 'info', text: 'You have no app tokens.' }]);
      assert.equal(listed.form, undefined);
      const revoke = commandResult(await command(carol, REVOKE));
      assert.equal(revoke.status, 'completed');
      assert.deepEqual(revoke.notes, [{ type: 'info', text: 'You have no app tokens to revoke.' }]);
    } finally {
      await carol.stop();
    }
  });

  test("deleting an account deletes its tokens and the server-wide index's entries for them", async () => {
    await server.createUser('dave');
    const dave = await connectClient(server, 'dave');
    const created = await createToken(dave, { label: 'Dave', scope: 'read', expires: '3' });
    await dave.stop();
    const token = created.form!.fields.get('token')!.values[0];
    assert.ok(await tokens().verify(token));
    await server.running.server.accounts.delete('localhost', 'dave');
    assert.equal(await tokens().verify(token), null);
    const index = await server.running.server.storage.map('app-token-index').getAll('', '');
    assert.ok(![...index.values()].some((v) => v.includes('user="dave"')), 'no orphan in the index');
    assert.ok(index.size > 0, "the other accounts' entries stay");
  });
});
