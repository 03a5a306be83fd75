// The app token service on the memory and SQLite backends: the token's shape, what is stored (a hash, never the
// token), verify's refusals, the per-account limit, lastUsed at most once a minute, and deletion with the account.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend } from '../storage/memory/index.js';
import { SqliteBackend } from '../storage/sqlite/index.js';
import { Accounts } from './accounts.js';
import { AppTokenError, AppTokens, grantAllows, parseTokenNode, type AppTokenGrant } from './app-tokens.js';
import type { StorageBackend } from './storage-api.js';

const DAY = 86_400_000;

interface Fixture {
  storage: StorageBackend;
  accounts: Accounts;
  tokens: AppTokens;
  cleanup(): Promise<void>;
}

const backends: [string, () => StorageBackend & { cleanup?: () => void }][] = [
  ['memory', () => new MemoryBackend()],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'quire-tokens-'));
      return Object.assign(new SqliteBackend({ path: join(dir, 'quire.sqlite') }), { cleanup: () => rmSync(dir, { recursive: true, force: true }) });
    },
  ],
];

for (const [kind, makeBackend] of backends) {
  async function fixture(options: { maxPerAccount?: number } = {}): Promise<Fixture> {
    const storage = makeBackend();
    await storage.open();
    const accounts = new Accounts(storage.accounts);
    await accounts.create('example.org', 'alice', 'alice-password');
    await accounts.create('example.org', 'bob', 'bob-password');
    await accounts.create('example.net', 'alice', 'other-alice');
    const tokens = new AppTokens(storage, accounts, options);
    return {
      storage,
      accounts,
      tokens,
      async cleanup() {
        await storage.close();
        storage.cleanup?.();
      },
    };
  }

  describe(`app tokens on ${kind}`, () => {
    test('a token is qt_, a hex id, _ and 43 base64url characters; storage keeps its SHA-256, never the token', async () => {
      const f = await fixture();
      try {
        const created = await f.tokens.create('example.org', 'alice', { label: 'Blog editor', scope: 'write', nodes: ['urn:xmpp:microblog:0'], expiresAt: Date.now() + DAY });
        assert.match(created.token, /^qt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
        assert.equal(created.token.slice(3, 19), created.id);
        // 43 base64url characters carry 258 bits, of which 256 come from randomBytes(32): more than the 192 asked for.
        assert.equal(Buffer.from(created.token.slice(20), 'base64url').length, 32);
        const stored = await f.storage.map('app-tokens').getAll('example.org', 'alice');
        const value = stored.get(created.id)!;
        assert.ok(!value.includes(created.token.slice(20)), 'the secret is not stored');
        assert.ok(value.includes(createHash('sha256').update(created.token).digest('base64url')), 'its SHA-256 is');
        assert.match(value, /^<token id="[0-9a-f]{16}" scope="write" created="\d+" expires="\d+"><label>Blog editor<\/label><hash algorithm="sha-256">/);
        // The server-wide index names the account, so that verify needs no host.
        assert.equal(await f.storage.map('app-token-index').get('', '', created.id), '<token host="example.org" user="alice"/>');
        const tokens = await Promise.all(Array.from({ length: 20 }, () => f.tokens.create('example.org', 'bob', { label: 'x', scope: 'read', nodes: [] })));
        assert.equal(new Set(tokens.map((t) => t.token)).size, 20);
      } finally {
        await f.cleanup();
      }
    });

    test('verify gives the grant, and refuses malformed, unknown, wrong-secret, revoked and expired tokens', async () => {
      const f = await fixture();
      try {
        const expiresAt = Date.now() + 2 * DAY;
        const { id, token } = await f.tokens.create('example.org', 'alice', { label: 'Reader', scope: 'read', nodes: ['news', 'pubsub.example.org/feed'], expiresAt });
        const grant = await f.tokens.verify(token);
        assert.deepEqual(grant, { id, host: 'example.org', user: 'alice', scope: 'read', nodes: ['news', 'pubsub.example.org/feed'], expiresAt, label: 'Reader' } satisfies AppTokenGrant);

        const secret = token.slice(20);
        const flipped = secret[0] === 'A' ? 'B' + secret.slice(1) : 'A' + secret.slice(1);
        for (const wrong of ['', 'qt_', token + 'x', token.slice(0, -1), token.replace('qt_', 'qx_'), `qt_${id}_${flipped}`, `qt_${'0'.repeat(16)}_${secret}`, token.toUpperCase()]) {
          assert.equal(await f.tokens.verify(wrong), null, `refused: ${wrong}`);
        }
        assert.deepEqual(await f.tokens.verify(token, expiresAt - 1), grant, 'valid until the last millisecond');
        assert.equal(await f.tokens.verify(token, expiresAt), null, 'expired at expiresAt');

        assert.equal(await f.tokens.revoke('example.org', 'bob', id), false, "bob cannot revoke alice's token");
        assert.notEqual(await f.tokens.verify(token), null);
        assert.equal(await f.tokens.revoke('example.org', 'alice', id), true);
        assert.equal(await f.tokens.verify(token), null);
        assert.equal(await f.tokens.revoke('example.org', 'alice', id), false, 'gone already');
        assert.equal(await f.storage.map('app-token-index').get('', '', id), null, 'the index entry went with it');

        // An index entry left without its record (an account deleted while a token was being made) is removed.
        const index = f.storage.map('app-token-index');
        await index.set('', '', 'fedcba9876543210', '<token host="example.org" user="alice"/>');
        assert.equal(await f.tokens.verify(`qt_fedcba9876543210_${secret}`), null);
        assert.equal(await index.get('', '', 'fedcba9876543210'), null);
      } finally {
        await f.cleanup();
      }
    });

    test('list shows an account its own tokens, oldest first, with lastUsed written at most once a minute', async () => {
      const f = await fixture();
      try {
        const now = Date.now();
        const first = await f.tokens.create('example.org', 'alice', { label: 'First', scope: 'read', nodes: [] }, now - 2000);
        const second = await f.tokens.create('example.org', 'alice', { label: 'Second', scope: 'write', nodes: ['a', 'a', ' b ', ''], expiresAt: now + DAY }, now - 1000);
        await f.tokens.create('example.org', 'bob', { label: "Bob's", scope: 'read', nodes: [] });
        await f.tokens.create('example.net', 'alice', { label: 'The other alice', scope: 'read', nodes: [] });
        const listed = await f.tokens.list('example.org', 'alice');
        assert.deepEqual(
          listed.map((r) => [r.id, r.label, r.scope, r.nodes, r.createdAt, r.expiresAt, r.lastUsed]),
          [
            [first.id, 'First', 'read', [], now - 2000, null, null],
            [second.id, 'Second', 'write', ['a', 'b'], now - 1000, now + DAY, null],
          ],
        );

        // A second service on the same storage whose lastUsed writes are counted.
        const writes: string[] = [];
        const counting: Pick<StorageBackend, 'map'> = {
          map(name) {
            const store = f.storage.map(name);
            if (name !== 'app-token-usage') return store;
            return { ...store, set: async (host, user, key, value) => void (writes.push(key), await store.set(host, user, key, value)) };
          },
        };
        const tokens = new AppTokens(counting, f.accounts);
        await tokens.verify(first.token, now);
        await tokens.verify(first.token, now + 30_000);
        await tokens.verify(first.token, now + 59_999);
        // list() is queued behind the write for the account, so it sees it.
        assert.equal((await tokens.list('example.org', 'alice'))[0].lastUsed, now);
        assert.deepEqual(writes, [first.id], 'one write within the minute');
        await tokens.verify(first.token, now + 60_000);
        assert.equal((await tokens.list('example.org', 'alice'))[0].lastUsed, now + 60_000);
        assert.deepEqual(writes, [first.id, first.id]);
      } finally {
        await f.cleanup();
      }
    });

    test('create checks the account, label, scope, nodes and expiry', async () => {
      const f = await fixture();
      try {
        const refused = async (spec: Parameters<AppTokens['create']>[2], code: string, message: RegExp, user = 'alice') => {
          await assert.rejects(f.tokens.create('example.org', user, spec), (err: unknown) => err instanceof AppTokenError && err.code === code && message.test(err.message));
        };
        await refused({ label: 'x', scope: 'read', nodes: [] }, 'not-found', /^nobody@example\.org does not exist$/, 'nobody');
        await refused({ label: '  ', scope: 'read', nodes: [] }, 'invalid', /label is empty/);
        await refused({ label: 'x'.repeat(101), scope: 'read', nodes: [] }, 'invalid', /longer than 100/);
        await refused({ label: 'a\u0000b', scope: 'read', nodes: [] }, 'invalid', /control characters/);
        await refused({ label: 'x', scope: 'admin' as 'read', nodes: [] }, 'invalid', /read or write/);
        await refused({ label: 'x', scope: 'read', nodes: ['pubsub.example.org/'] }, 'invalid', /names a service but no node/);
        await refused({ label: 'x', scope: 'read', nodes: Array.from({ length: 101 }, (_, i) => `n${i}`) }, 'invalid', /at most 100 nodes/);
        await refused({ label: 'x', scope: 'read', nodes: [], expiresAt: Date.now() - 1 }, 'invalid', /in the future/);
        assert.deepEqual(await f.tokens.list('example.org', 'alice'), []);
      } finally {
        await f.cleanup();
      }
    });

    test('an account has at most maxPerAccount tokens; expired ones make way', async () => {
      const f = await fixture({ maxPerAccount: 3 });
      try {
        const now = Date.now();
        const soon = await f.tokens.create('example.org', 'alice', { label: 'soon', scope: 'read', nodes: [], expiresAt: now + 1000 }, now);
        await f.tokens.create('example.org', 'alice', { label: 'b', scope: 'read', nodes: [] }, now + 1);
        await f.tokens.create('example.org', 'alice', { label: 'c', scope: 'read', nodes: [] }, now + 2);
        await assert.rejects(f.tokens.create('example.org', 'alice', { label: 'd', scope: 'read', nodes: [] }, now), (err: unknown) => err instanceof AppTokenError && err.code === 'limit' && /revoke one first/.test(err.message));
        // Concurrent creates at the limit do not slip past it.
        const racing = await Promise.allSettled([1, 2].map(() => f.tokens.create('example.org', 'bob', { label: 'r', scope: 'read', nodes: [] })));
        assert.equal(racing.filter((r) => r.status === 'fulfilled').length, 2);
        const more = await Promise.allSettled([1, 2].map(() => f.tokens.create('example.org', 'bob', { label: 'r', scope: 'read', nodes: [] })));
        assert.deepEqual(more.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        // Once "soon" has expired, it is removed to make room.
        const later = now + 2000;
        const d = await f.tokens.create('example.org', 'alice', { label: 'd', scope: 'read', nodes: [] }, later);
        assert.deepEqual((await f.tokens.list('example.org', 'alice')).map((r) => r.label), ['b', 'c', 'd']);
        assert.equal(await f.storage.map('app-token-index').get('', '', soon.id), null);
        assert.notEqual(await f.tokens.verify(d.token), null);
      } finally {
        await f.cleanup();
      }
    });

    test("deleting an account deletes its tokens and their index entries, and nobody else's", async () => {
      const f = await fixture();
      try {
        const alice = await Promise.all([1, 2, 3].map((n) => f.tokens.create('example.org', 'alice', { label: `t${n}`, scope: 'read', nodes: [] })));
        const bob = await f.tokens.create('example.org', 'bob', { label: 'bob', scope: 'read', nodes: [] });
        await f.tokens.verify(alice[0].token);
        await f.accounts.delete('example.org', 'alice');
        for (const { token } of alice) assert.equal(await f.tokens.verify(token), null);
        const index = await f.storage.map('app-token-index').getAll('', '');
        assert.deepEqual([...index.keys()], [bob.id], 'no orphans in the server-wide index');
        assert.equal((await f.storage.map('app-tokens').getAll('example.org', 'alice')).size, 0);
        assert.equal((await f.storage.map('app-token-usage').getAll('example.org', 'alice')).size, 0);
        assert.notEqual(await f.tokens.verify(bob.token), null);
        // A new account of the same name starts without tokens.
        await f.accounts.create('example.org', 'alice', 'new-password');
        assert.deepEqual(await f.tokens.list('example.org', 'alice'), []);
      } finally {
        await f.cleanup();
      }
    });
  });
}

test('node entries: a name on the own PEP service, or service/node; a grant covers what its scope and nodes say', () => {
  const owner = 'alice@example.org';
  assert.deepEqual(parseTokenNode('urn:xmpp:microblog:0', owner), { service: owner, node: 'urn:xmpp:microblog:0' });
  assert.deepEqual(parseTokenNode('http://jabber.org/protocol/tune', owner), { service: owner, node: 'http://jabber.org/protocol/tune' });
  assert.deepEqual(parseTokenNode('drafts/2024', owner), { service: owner, node: 'drafts/2024' });
  assert.deepEqual(parseTokenNode('pubsub.example.org/news', owner), { service: 'pubsub.example.org', node: 'news' });
  assert.deepEqual(parseTokenNode('Bob@Example.org/urn:xmpp:microblog:0', owner), { service: 'bob@example.org', node: 'urn:xmpp:microblog:0' });

  const grant: AppTokenGrant = { id: '0', host: 'example.org', user: 'alice', scope: 'read', nodes: ['news', 'pubsub.example.org/feed'], expiresAt: null, label: 'x' };
  assert.equal(grantAllows(grant, { service: owner, node: 'news' }, 'read'), true);
  assert.equal(grantAllows(grant, { service: owner, node: 'news' }, 'write'), false, 'a read token does not write');
  assert.equal(grantAllows(grant, { service: 'pubsub.example.org', node: 'feed' }, 'read'), true);
  assert.equal(grantAllows(grant, { service: 'pubsub.example.org', node: 'news' }, 'read'), false);
  assert.equal(grantAllows(grant, { service: owner, node: 'feed' }, 'read'), false);
  const writer: AppTokenGrant = { ...grant, scope: 'write', nodes: [] };
  assert.equal(grantAllows(writer, { service: 'pubsub.example.org', node: 'anything' }, 'write'), true, 'no nodes: every node');
  assert.equal(grantAllows(writer, { service: owner, node: 'anything' }, 'read'), true, 'write implies read');
});
