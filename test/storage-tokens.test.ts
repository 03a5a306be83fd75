// App tokens on the Storage API (Bearer), made by the server's token service as `quire token create` and the ad-hoc
// command make them: read or write scope, a node list (own PEP node names, or service/node), an expiry. The account's
// own access rules apply on top.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { PUBSUB } from './helpers/pubsub.js';
import { STORAGE_MODULES, SseReader, basic, bearer, storageUrl } from './helpers/http.js';
import type { NewAppToken } from '../src/core/app-tokens.js';

describe('Storage API: app tokens', () => {
  let server: TestServer;
  const url = (...segments: string[]) => storageUrl(server, ...segments);
  /** Token strings by label. */
  const tokens = new Map<string, string>();
  const grant = async (label: string, spec: Partial<NewAppToken> & { user?: string }) => {
    const { token } = await server.running.server.tokens.create('localhost', spec.user ?? 'alice', { label, scope: 'read', nodes: [], ...spec });
    tokens.set(label, token);
  };
  const bearerOf = (label: string) => bearer(tokens.get(label) ?? label);
  const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });

  before(async () => {
    server = await startTestServer({ modules: STORAGE_MODULES });
    await server.createUser('alice');
    await server.createUser('bob');
    await grant('reader', { scope: 'read' });
    await grant('writer', { scope: 'write' });
    await grant('notes-only', { scope: 'write', nodes: ['notes', `${PUBSUB}/shared`] });
    await grant('bobs', { scope: 'write', user: 'bob' });
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
    assert.deepEqual(await (await fetch(url('alice@localhost', 'secrets', 'one'), { headers: bearerOf('reader') })).json(), { n: 1 });
    const events = await SseReader.open(url('alice@localhost', 'secrets', 'events'), bearerOf('reader'));
    events.close();
    for (const [method, path] of [['PUT', url('alice@localhost', 'secrets', 'two')], ['POST', url('alice@localhost', 'secrets')], ['DELETE', url('alice@localhost', 'secrets', 'one')], ['PUT', url('alice@localhost', 'newnode')], ['DELETE', url('alice@localhost', 'secrets')]] as const) {
      const answer = await fetch(path, { method, headers: json(bearerOf('reader')), body: method === 'DELETE' ? undefined : '{}' });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="Quire", error="insufficient_scope"');
      assert.equal((await answer.json()).error, 'insufficient-scope');
    }
  });

  test('a write token writes and manages nodes as its account', async () => {
    assert.equal((await fetch(url('alice@localhost', 'secrets', 'two'), { method: 'PUT', headers: json(bearerOf('writer')), body: '{"n": 2}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'scratch'), { method: 'PUT', headers: json(bearerOf('writer')), body: '{}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'scratch'), { method: 'DELETE', headers: bearerOf('writer') })).status, 204);
    // Its account's rights, no more: bob's PEP service is bob's.
    assert.equal((await fetch(url('bob@localhost', 'notes', 'x'), { method: 'PUT', headers: json(bearerOf('writer')), body: '{}' })).status, 403);
  });

  test('a token limited to some nodes cannot touch the others, nor see them listed', async () => {
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearerOf('notes-only') })).status, 200);
    assert.equal((await fetch(url('alice@localhost', 'notes', 'three'), { method: 'PUT', headers: json(bearerOf('notes-only')), body: '{}' })).status, 201);
    assert.equal((await fetch(url(PUBSUB, 'shared', 's1'), { method: 'PUT', headers: json(bearerOf('notes-only')), body: '{}' })).status, 201);
    for (const [method, path] of [['GET', url('alice@localhost', 'secrets', 'one')], ['GET', url('alice@localhost', 'secrets')], ['PUT', url('alice@localhost', 'secrets', 'x')], ['GET', url('alice@localhost', 'secrets', 'events')], ['PUT', url(PUBSUB, 'other', 'x')], ['GET', url(PUBSUB, 'other')]] as const) {
      const answer = await fetch(path, { method, headers: json(bearerOf('notes-only')), body: method === 'GET' ? undefined : '{}' });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.match((await answer.json()).text, /does not cover node/);
    }
    // An own-PEP node name does not cover a node of that name elsewhere.
    assert.equal((await fetch(url(PUBSUB, 'notes'), { method: 'PUT', headers: json(bearerOf('notes-only')), body: '{}' })).status, 403);
    const overview = await (await fetch(url('alice@localhost'), { headers: bearerOf('notes-only') })).json();
    assert.deepEqual(overview.nodes.map((n: { node: string }) => n.node), ['notes']);
    // Usage is the account's business, not a limited app's.
    assert.equal(overview.usage, undefined);
    assert.deepEqual((await (await fetch(url('alice@localhost'), { headers: bearerOf('writer') })).json()).usage.items, 4);
  });

  test('an expired or revoked token is refused (401), like an unknown one', async () => {
    await grant('expiring', { scope: 'write', expiresAt: Date.now() + 60_000 });
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearerOf('expiring') })).status, 200);
    // Its expiry passes: the stored record is moved into the past, as the clock would.
    const records = server.running.server.storage.map('app-tokens');
    for (const [id, xml] of await records.getAll('localhost', 'alice')) {
      if (xml.includes('expires=')) await records.set('localhost', 'alice', id, xml.replace(/expires="\d+"/, `expires="${Date.now() - 1000}"`));
    }
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearerOf('expiring') })).status, 401);
    await grant('revoked', { scope: 'read' });
    const [revoked] = (await server.running.server.tokens.list('localhost', 'alice')).filter((t) => t.label === 'revoked');
    assert.ok(await server.running.server.tokens.revoke('localhost', 'alice', revoked!.id));
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearerOf('revoked') })).status, 401);
    const unknown = await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearer('qt_0000000000000000_' + 'A'.repeat(43)) });
    assert.equal(unknown.status, 401);
    assert.match(unknown.headers.get('www-authenticate') ?? '', /Bearer realm="Quire"/);
  });

  test("a token acts as its own account: bob's token reads nothing of alice's whitelist nodes", async () => {
    assert.equal((await fetch(url('alice@localhost', 'notes', 'one'), { headers: bearerOf('bobs') })).status, 403);
    assert.equal((await fetch(url('bob@localhost', 'mine', 'x'), { method: 'PUT', headers: json(bearerOf('bobs')), body: '{}' })).status, 201);
  });
});
