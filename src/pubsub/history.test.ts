// The engine's storage-facing parts on the memory backend: item revisions (stored, and derived for items stored
// before they existed), conditional writes, the history a node keeps, the usage it counts through every way items
// come and go, quota limits from hooks, observers, and anonymous readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '../core/jid/index.js';
import { xml } from '../core/xml/element.js';
import { MemoryBackend } from '../storage/memory/index.js';
import { QuotaExceeded, RevisionMismatch } from './errors.js';
import type { NodeChange, StorageLimits } from './hooks.js';
import { RevisionStore } from './revisions.js';
import { PubSubService } from './service.js';
import { PubSubStore } from './store.js';
import { TEST_LIMITS, testEnvironment } from './test-environment.js';

const limits = TEST_LIMITS;
const owner = parseJid('owner@example.org/desk');
const payload = (text: string) => xml('doc', { xmlns: 'urn:example' }, text);
/** Bytes of payload(text) as stored. */
const size = (text: string) => Buffer.byteLength(`<doc xmlns="urn:example">${text}</doc>`);

async function setup(options: { limits?: StorageLimits | null } = {}) {
  const backend = new MemoryBackend();
  await backend.open();
  const store = new PubSubStore(backend.map('pubsub'), backend.archive('pubsub-items'), new RevisionStore(backend.archive('pubsub-revisions')));
  const changes: NodeChange[] = [];
  const env = testEnvironment(store, { hooks: { limits: () => options.limits ?? null, changed: (_service, change) => void changes.push(change) } });
  const service = await PubSubService.load(env);
  const publish = (node: string, id: string | undefined, text: string, condition?: { ifMatch?: string[]; ifNoneMatch?: string[] }) =>
    service.publish(owner, node, { item: { id, payload: payload(text), payloadCount: 1 }, items: 1, publishOptions: null, condition }, true);
  return { backend, env, store, service, changes, publish };
}

test('revisions: new at every publish, stored with the item, the same after a reload', async () => {
  const { env, publish } = await setup();
  const first = await publish('docs', 'a', 'one');
  const second = await publish('docs', 'a', 'two');
  assert.notEqual(first.item!.rev, second.item!.rev);
  assert.equal(second.replaced, true);
  const reloaded = await PubSubService.load(env);
  const [result] = await reloaded.items(owner, 'docs', { ids: ['a'] });
  assert.equal(result.items[0].rev, second.item!.rev);
  assert.equal(result.items[0].size, size('two'));
});

test('an item stored before revisions existed gets a revision derived from what is stored, stable across reads', async () => {
  const { backend, service } = await setup();
  await service.createNode(owner, 'old', null);
  await backend.archive('pubsub-items').append('pubsub.example.org', '', { id: 'old\u001fx', when: 1000, with: 'old', value: "<item xmlns='urn:quire:pubsub:0' publisher='owner@example.org'><doc xmlns='urn:example'>legacy</doc></item>" });
  const read = async () => (await service.items(owner, 'old', { ids: ['x'] }))[0].items[0];
  const a = await read();
  const b = await read();
  assert.equal(a.rev, b.rev);
  assert.match(a.rev, /^[A-Za-z0-9_-]{16}$/);
  assert.equal(a.size, size('legacy'));
});

test('conditions: If-Match needs the current revision, If-None-Match: * needs no item; a failed condition writes nothing', async () => {
  const { service, publish } = await setup();
  const first = await publish('docs', 'a', 'one');
  await assert.rejects(publish('docs', 'a', 'x', { ifMatch: ['stale'] }), RevisionMismatch);
  await assert.rejects(publish('docs', 'a', 'x', { ifNoneMatch: ['*'] }), RevisionMismatch);
  await assert.rejects(publish('docs', 'b', 'x', { ifMatch: ['*'] }), RevisionMismatch);
  await assert.rejects(publish('nowhere', 'b', 'x', { ifMatch: ['*'] }), RevisionMismatch);
  assert.equal(service.nodes.has('nowhere'), false);
  assert.equal((await publish('docs', 'a', 'two', { ifMatch: [first.item!.rev] })).replaced, true);
  assert.equal((await publish('docs', 'c', 'new', { ifNoneMatch: ['*'] })).replaced, false);
  await assert.rejects(service.retract(owner, 'docs', ['a'], undefined, { ifMatch: [first.item!.rev] }), RevisionMismatch);
  assert.deepEqual((await service.items(owner, 'docs', { ids: ['a'] }))[0].items.map((i) => i.id), ['a']);
});

test('history: earlier revisions newest first, bounded by max_revisions, counted in the usage, gone with a retraction', async () => {
  const { service, publish } = await setup();
  await service.createNode(owner, 'wiki', { type: 'submit', fields: [{ var: '{urn:quire:history:0}max_revisions', values: ['2'] }] });
  for (const text of ['v1', 'v2', 'v3', 'v4']) await publish('wiki', 'home', text);
  const { current, earlier } = await service.history(owner, 'wiki', 'home');
  assert.equal(current.payload?.text(), 'v4');
  assert.deepEqual(earlier.map((r) => r.payload?.text()), ['v3', 'v2']);
  assert.deepEqual(current.revisions, { count: 2, bytes: size('v3') + size('v2') });
  const old = await service.revision(owner, 'wiki', 'home', earlier[1].rev);
  assert.equal(old.payload?.text(), 'v2');
  assert.equal(old.current, false);
  assert.deepEqual(await service.usage(), { items: 1, bytes: size('v4') + size('v3') + size('v2'), revisions: 2 });
  await service.retract(owner, 'wiki', ['home'], undefined);
  assert.deepEqual(await service.usage(), { items: 0, bytes: 0, revisions: 0 });
  await publish('wiki', 'home', 'fresh');
  assert.deepEqual((await service.history(owner, 'wiki', 'home')).earlier, []);
});

test('usage follows items pushed out by max_items (with their history), purges and expiry; observers hear each change', async () => {
  const { service, changes, publish } = await setup();
  await service.createNode(owner, 'feed', { type: 'submit', fields: [{ var: 'pubsub#max_items', values: ['2'] }, { var: '{urn:quire:history:0}max_revisions', values: ['1'] }] });
  await publish('feed', 'a', 'a1');
  await publish('feed', 'a', 'a2');
  await publish('feed', 'b', 'b1');
  assert.deepEqual(await service.usage(), { items: 2, bytes: size('a2') + size('a1') + size('b1'), revisions: 1 });
  // A third item pushes the oldest out, with its revision.
  changes.length = 0;
  await publish('feed', 'c', 'c1');
  assert.deepEqual(await service.usage(), { items: 2, bytes: size('b1') + size('c1'), revisions: 0 });
  assert.deepEqual(changes.map((c) => [c.kind, c.kind === 'retracted' ? c.ids : c.kind === 'published' ? c.item.id : null]), [['published', 'c'], ['retracted', ['a']]]);
  await service.purge(owner, 'feed');
  assert.deepEqual(await service.usage(), { items: 0, bytes: 0, revisions: 0 });
  // item_expire: the sweep removes what expired and says which.
  await service.configure(owner, 'feed', { type: 'submit', fields: [{ var: 'pubsub#item_expire', values: ['0'] }] });
  await publish('feed', 'old', 'gone soon');
  changes.length = 0;
  await new Promise((resolve) => setTimeout(resolve, 2));
  await service.sweep();
  assert.deepEqual(await service.usage(), { items: 0, bytes: 0, revisions: 0 });
  assert.deepEqual(changes.map((c) => c.kind === 'retracted' && c.ids), [['old']]);
});

test('limits from hooks: exactly at the limit is admitted, one byte over is QuotaExceeded; reductions always pass', async () => {
  const { publish } = await setup({ limits: { bytes: size('12345') * 2 + size(''), items: 0 } });
  await publish('q', 'a', '12345');
  await publish('q', 'b', '12345');
  await publish('q', 'c', '');
  await assert.rejects(publish('q', 'b', '123456'), (err: QuotaExceeded) => err instanceof QuotaExceeded && /may store \d+ bytes; it stores \d+ and this needs 1 more/.test(err.message));
  await publish('q', 'b', '1234');
  await publish('q', 'b', '12345');
  const items = await setup({ limits: { bytes: 0, items: 2 } });
  await items.publish('q', 'a', '');
  await items.publish('q', 'b', '');
  await assert.rejects(items.publish('q', 'c', ''), (err: QuotaExceeded) => /may store 2 items; it stores 2/.test(err.message));
  await items.publish('q', 'b', 'replacing adds no item');
});

test('usage of a node stored before usage was kept is counted from its items, once', async () => {
  const { env, backend, publish } = await setup();
  await publish('docs', 'a', 'one');
  await publish('docs', 'b', 'two');
  await backend.map('pubsub').set('pubsub.example.org', '', 'u\u001fdocs', null);
  const reloaded = await PubSubService.load(env);
  assert.equal(reloaded.nodes.get('docs')!.usage, undefined);
  assert.deepEqual(await reloaded.usage(), { items: 2, bytes: size('one') + size('two'), revisions: 0 });
  assert.notEqual(await backend.map('pubsub').get('pubsub.example.org', '', 'u\u001fdocs'), null);
  // Counted before a change, not after it: a publish and a retraction on such a node count once.
  await backend.map('pubsub').set('pubsub.example.org', '', 'u\u001fdocs', null);
  const again = await PubSubService.load(env);
  await again.publish(owner, 'docs', { item: { id: 'c', payload: payload('three'), payloadCount: 1 }, items: 1, publishOptions: null }, false);
  assert.deepEqual(await again.usage(), { items: 3, bytes: size('one') + size('two') + size('three'), revisions: 0 });
  await backend.map('pubsub').set('pubsub.example.org', '', 'u\u001fdocs', null);
  const third = await PubSubService.load(env);
  await third.retract(owner, 'docs', ['a'], undefined);
  assert.deepEqual(await third.usage(), { items: 2, bytes: size('two') + size('three'), revisions: 0 });
});

test('anonymous readers: open nodes only', async () => {
  const { service, publish } = await setup();
  await publish('public', 'a', 'hello');
  await service.createNode(owner, 'closed', { type: 'submit', fields: [{ var: 'pubsub#access_model', values: ['whitelist'] }] });
  assert.equal((await service.items(null, 'public', {}))[0].items.length, 1);
  await assert.rejects(service.items(null, 'closed', {}), (err: { condition: string }) => err.condition === 'not-authorized');
  assert.equal(await service.visible(service.nodes.get('closed')!, null), false);
  assert.equal(await service.visible(service.nodes.get('public')!, null), true);
});
