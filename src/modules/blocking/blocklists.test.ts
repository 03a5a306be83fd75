// XEP-0191 §5 JID matching, and the blocklist cache: one load per account, changes applied in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '../../core/jid/index.js';
import { SessionDirectory } from '../../core/session.js';
import { MemoryBackend } from '../../storage/memory/index.js';
import { Blocklists, isBlocked } from './blocklists.js';

test('§5: each kind of item matches what the XEP says and nothing more', () => {
  const cases: [item: string, jid: string, blocked: boolean][] = [
    // <user@domain/resource>: only that resource
    ['romeo@montague.net/orchard', 'romeo@montague.net/orchard', true],
    ['romeo@montague.net/orchard', 'romeo@montague.net/garden', false],
    ['romeo@montague.net/orchard', 'romeo@montague.net', false],
    // <user@domain>: any resource
    ['romeo@montague.net', 'romeo@montague.net', true],
    ['romeo@montague.net', 'romeo@montague.net/orchard', true],
    ['romeo@montague.net', 'benvolio@montague.net', false],
    ['romeo@montague.net', 'montague.net', false],
    // <domain/resource>: only that resource of the domain itself
    ['montague.net/gateway', 'montague.net/gateway', true],
    ['montague.net/gateway', 'montague.net', false],
    ['montague.net/gateway', 'romeo@montague.net/gateway', false],
    // <domain>: the domain, its users and its resources
    ['montague.net', 'montague.net', true],
    ['montague.net', 'romeo@montague.net', true],
    ['montague.net', 'romeo@montague.net/orchard', true],
    ['montague.net', 'montague.net/gateway', true],
    ['montague.net', 'capulet.net', false],
    ['montague.net', 'chat.montague.net', false],
  ];
  for (const [item, jid, blocked] of cases) assert.equal(isBlocked(new Set([item]), parseJid(jid)), blocked, `${item} vs ${jid}`);
  assert.equal(isBlocked(new Set(), parseJid('romeo@montague.net')), false);
});

async function setup() {
  const backend = new MemoryBackend();
  await backend.open();
  const store = backend.map('blocklist');
  return { store, lists: new Blocklists(store, new SessionDirectory()) };
}

test('a list is read once: readers during the load share it, later ones get it synchronously', async () => {
  const { store, lists } = await setup();
  await store.set('localhost', 'juliet', 'romeo@montague.net', '<item jid="romeo@montague.net"/>');
  let reads = 0;
  const getAll = store.getAll.bind(store);
  store.getAll = (host, user) => (reads++, getAll(host, user));
  const first = lists.get('localhost', 'juliet');
  const second = lists.get('localhost', 'juliet');
  assert.ok(first instanceof Promise);
  assert.equal(first, second);
  assert.deepEqual([...(await first)], ['romeo@montague.net']);
  const third = lists.get('localhost', 'juliet');
  assert.ok(!(third instanceof Promise));
  assert.equal(third, lists.peek('juliet@localhost'));
  assert.equal(reads, 1);
});

test('changes run one after the other, and a failed one does not stop the next', async () => {
  const { lists } = await setup();
  const order: string[] = [];
  const a = lists.change('localhost', 'juliet', async (list) => {
    await lists.add('localhost', 'juliet', ['a@x']);
    await new Promise((r) => setImmediate(r));
    list.add('a@x');
    order.push('a');
  });
  const b = lists.change('localhost', 'juliet', async () => {
    order.push('b');
    throw new Error('b fails');
  });
  const c = lists.change('localhost', 'juliet', async (list) => {
    order.push(`c saw ${[...list].join()}`);
  });
  await a;
  await assert.rejects(b, /b fails/);
  await c;
  assert.deepEqual(order, ['a', 'b', 'c saw a@x']);
});
