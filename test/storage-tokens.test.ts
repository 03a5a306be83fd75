// App tokens on the Storage API (Bearer): the checks of a grant. The token store (ad-hoc commands, `quire token`) is
// another module's; here a verifier of the test's own, set with setTokenVerifier, hands out grants: read or write
// scope, a node list (own PEP node names, or service/node), an expiry. The account's own access rules apply on top.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PUBSUB } from './helpers/pubsub.js';
import { STORAGE_MODULES, SseReader, basic, bearer, storageUrl } from './helpers/http.js';
import { setTokenVerifier, type AppTokenGrant } from '../src/http/auth.js';

describe('Storage API: app tokens', () => {
  let server: TestServer;
  const url = (...segments: string[]) => storageUrl(server, ...segments);
  const grants = new Map<string, AppTokenGrant>();
  const grant = (token: string, g: Partial<AppTokenGrant>) =>
    grants.set(token, { id: token, host: 'localhost', user: 'alice', scope: 'read', nodes: [], label: token, ...g });
  const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });

  before(async () => {
    server = await startTestServer({ modules: STORAGE_MODULES });
    await server.createUser('alice');
    await server.createUser('bob');
    setTokenVerifier(server.running.server, async (token) => grants.get(token) ?? null);
    grant('reader', { scope: 'read' });
    grant('writer', { scope: 'write' });
    grant('notes-only', { scope: 'write', nodes: ['notes', `${PUBSUB}/shared`] });
    grant('expired', { scope: 'write', expiresAt: Date.now() - 1000 });
    grant('bobs', { scope: 'write', user: 'bob' });
    for (const node of ['notes', 'secrets']) {
      assert.equal((await fetch(url('alice@localhost', node), { method: 'PUT', headers: json(basic('alice')), body: '{"access_model": "whitelist", "max_items": 10}' })).status, 201);
      assert.equal((await fetch(url('alice@localhost', node, 'one'), { method: 'PUT', headers: json(basic('alice')), body: '{"n": 1}' })).status, 201);
    }
    for (const node of ['shared', 'other']) {
      assert.equal((await fetch(url(PUBSUB, node), { method: 'PUT', headers: json(basic('alice')), body: '{"access_model": "whitelist"}' })).status, 201);
    }
  });

  after(async () => {
    await server?.stop();
  });

  test('a read token reads what its account may read, and cannot write (403 insufficient_scope)', async () => {
    assert.deepEqual(await (await fetch(url('alice@localhost', 'secrets', 'one'), { headers: bearer('reader') })).json(), { n: 1 });
    const events = await SseReader.open(url('alice@localhost', 'secrets', 'events'), bearer('reader'));
    events.close();
    for (const [method, path] of [['PUT', url('alice@localhost', 'secrets', 'two')], ['POST', url('alice@localhost', 'secrets')], ['DELETE', url('alice@localhost', 'secrets', 'one')], ['PUT', url('alice@localhost', 'newnode')], ['DELETE', url('alice@localhost', 'secrets')]] as const) {
      const answer = await fetch(path, { method, headers: json(bearer('reader')), body: method === 'DELETE' ? undefined : '{}' });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="Quire", error="insufficient_scope"');
      assert.equal((await answer.json()).error, 'insufficient-scope');
    }
  });

  test('a write token writes and manages nodes as its account', async () => {
    assert.equal((await fetch(url('alice@localhost', 'secrets', 'two'), { method: 'PUT', headers: json(bearer('writer')), body: '{"n": 2}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'scratch'), { method: 'PUT', headers: json(bearer('writer')), body: '{}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'scratch'), { method: 'DELETE', headers: bearer('writer') })).status, 204);
    // Its account's rights, no more: bob's PEP service is bob's.
    assert.equal((await fetch(url('bob@localhost', 'notes', 'x'), { method: 'PUT', headers: json(bearer('writer')), body: '{}' })).status, 403);
  });

  test('a token limited to some nodes cannot touch the others, nor see them listed', async () => {
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearer('notes-only') })).status, 200);
    assert.equal((await fetch(url('alice@localhost', 'notes', 'three'), { method: 'PUT', headers: json(bearer('notes-only')), body: '{}' })).status, 201);
    assert.equal((await fetch(url(PUBSUB, 'shared', 's1'), { method: 'PUT', headers: json(bearer('notes-only')), body: '{}' })).status, 201);
    for (const [method, path] of [['GET', url('alice@localhost', 'secrets', 'one')], ['GET', url('alice@localhost', 'secrets')], ['PUT', url('alice@localhost', 'secrets', 'x')], ['GET', url('alice@localhost', 'secrets', 'events')], ['PUT', url(PUBSUB, 'other', 'x')], ['GET', url(PUBSUB, 'other')]] as const) {
      const answer = await fetch(path, { method, headers: json(bearer('notes-only')), body: method === 'GET' ? undefined : '{}' });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.match((await answer.json()).text, /does not cover node/);
    }
    // An own-PEP node name does not cover a node of that name elsewhere.
    assert.equal((await fetch(url(PUBSUB, 'notes'), { method: 'PUT', headers: json(bearer('notes-only')), body: '{}' })).status, 403);
    const overview = await (await fetch(url('alice@localhost'), { headers: bearer('notes-only') })).json();
    assert.deepEqual(overview.nodes.map((n: { node: string }) => n.node), ['notes']);
    // Usage is the account's business, not a limited app's.
    assert.equal(overview.usage, undefined);
    assert.deepEqual((await (await fetch(url('alice@localhost'), { headers: bearer('writer') })).json()).usage.items, 4);
  });

  test('an expired grant is refused (401 invalid_token), whatever the verifier says', async () => {
    const answer = await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearer('expired') });
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="Quire", error="invalid_token", error_description="expired"');
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearer('unknown') })).status, 401);
  });

  test("a token acts as its own account: bob's token reads nothing of alice's whitelist nodes", async () => {
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearer('bobs') })).status, 403);
    assert.equal((await fetch(url('bob@localhost', 'mine', 'x'), { method: 'PUT', headers: json(bearer('bobs')), body: '{}' })).status, 201);
  });
});
