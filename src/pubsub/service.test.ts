// The engine on the memory backend: a fan-out to 1000 subscribers reads nothing from storage per subscriber and
// serializes the payload once; a reloaded service has what was stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '../core/jid/index.js';
import type { ArchiveStore, MapStore } from '../core/storage-api.js';
import { Element, xml } from '../core/xml/element.js';
import { MemoryBackend } from '../storage/memory/index.js';
import { NotificationMessage } from './notify.js';
import { PubSubService } from './service.js';
import { PubSubStore } from './store.js';
import { TEST_LIMITS, testEnvironment } from './test-environment.js';

const limits = TEST_LIMITS;

/** Wraps a store so that every call is counted. */
function counted<T extends object>(store: T, calls: { count: number }): T {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.count++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function setup() {
  const backend = new MemoryBackend();
  await backend.open();
  const calls = { count: 0 };
  const store = new PubSubStore(counted<MapStore>(backend.map('pubsub'), calls), counted<ArchiveStore>(backend.archive('pubsub-items'), calls));
  const sent: Element[] = [];
  const env = testEnvironment(store, { send: (stanza) => sent.push(stanza) });
  return { backend, env, calls, sent };
}

test('a publish to 1000 subscribers: constant storage work, one serialization of the payload', async () => {
  const { env, calls, sent } = await setup();
  const service = await PubSubService.load(env);
  const owner = parseJid('owner@example.org/desk');
  await service.createNode(owner, 'news', null);
  for (let i = 0; i < 1000; i++) await service.subscribe(parseJid(`reader${i}@example.org`), 'news', undefined, null);
  await new Promise((resolve) => setImmediate(resolve));
  sent.length = 0;
  calls.count = 0;

  const payload = xml('entry', { xmlns: 'http://www.w3.org/2005/Atom' }, xml('title', {}, 'Big news'));
  await service.publish(owner, 'news', { item: { id: 'n1', payload, payloadCount: 1 }, items: 1, publishOptions: null }, false);

  assert.equal(sent.length, 1000);
  assert.ok(calls.count <= 4, `storage calls for one publish: ${calls.count}`);
  // Every notification shares the one <event/> element, so its text is made once.
  const event = sent[0].children[0];
  for (const message of sent) {
    assert.ok(message instanceof NotificationMessage);
    assert.equal(message.children[0], event);
  }
  const text = (sent[0] as NotificationMessage).toString();
  assert.match(text, /^<message from="pubsub\.example\.org" to="reader0@example\.org" type="headline" id="[^"]+"><event xmlns="http:\/\/jabber\.org\/protocol\/pubsub#event"><items node="news"><item id="n1" publisher="owner@example\.org"><entry xmlns="http:\/\/www\.w3\.org\/2005\/Atom"><title>Big news<\/title><\/entry><\/item><\/items><\/event><\/message>$/);
  // A module on the delivery path may add to one message (stanza-id does) without touching the others.
  sent[1].append(xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', id: 'x', by: 'reader1@example.org' }));
  assert.match(sent[1].toString(), /<\/event><stanza-id xmlns="urn:xmpp:sid:0" id="x" by="reader1@example.org"\/><\/message>$/);
  assert.doesNotMatch(sent[2].toString(), /stanza-id/);
  const ids = new Set(sent.map((m) => m.attrs.id));
  assert.equal(ids.size, 1000, 'each notification has its own id');
});

test('a reloaded service has its nodes, affiliations, subscriptions and items', async () => {
  const { env } = await setup();
  const service = await PubSubService.load(env);
  const owner = parseJid('owner@example.org');
  await service.createNode(owner, 'kept', null);
  await service.setAffiliations(owner, 'kept', [{ jid: 'pub@example.org', affiliation: 'publisher' }]);
  const { subscription } = await service.subscribe(parseJid('reader@example.org/r'), 'kept', 'reader@example.org/r', null);
  await service.publish(owner, 'kept', { item: { id: 'a', payload: xml('x', { xmlns: 'urn:x' }, 'one'), payloadCount: 1 }, items: 1, publishOptions: null }, false);
  await service.publish(owner, 'kept', { item: { id: 'b', payload: xml('x', { xmlns: 'urn:x' }, 'two'), payloadCount: 1 }, items: 1, publishOptions: null }, false);

  const again = await PubSubService.load(env);
  const node = again.nodes.get('kept')!;
  assert.equal(node.affiliationOf('owner@example.org'), 'owner');
  assert.equal(node.affiliationOf('pub@example.org'), 'publisher');
  assert.deepEqual([...node.subscriptions.values()].map((s) => [s.subid, s.jid.full, s.state]), [[subscription.subid, 'reader@example.org/r', 'subscribed']]);
  const [result] = await again.items(owner, 'kept', {});
  assert.deepEqual(result.items.map((i) => [i.id, i.publisher, i.payload?.toString()]), [
    ['a', 'owner@example.org', '<x xmlns="urn:x">one</x>'],
    ['b', 'owner@example.org', '<x xmlns="urn:x">two</x>'],
  ]);
  assert.equal((await again.lastItem(node))?.id, 'b');
});

test('a payload that uses a prefix declared above it is stored standing on its own', async () => {
  const { env } = await setup();
  const service = await PubSubService.load(env);
  const owner = parseJid('owner@example.org');
  const iq = new Element('iq', { 'xmlns:a': 'urn:a' });
  const item = iq.c('item');
  const payload = item.c('a:thing', {});
  payload.t('prefixed');
  await service.publish(owner, 'prefixes', { item: { id: 'p', payload, payloadCount: 1 }, items: 1, publishOptions: null }, true);
  const [result] = await service.items(owner, 'prefixes', {});
  assert.equal(result.items[0].payload?.toString(), '<a:thing xmlns:a="urn:a">prefixed</a:thing>');
});

const publishItem = (service: PubSubService, who: string, node: string, id: string) =>
  service.publish(parseJid(who), node, { item: { id, payload: xml('x', { xmlns: 'urn:x' }, id), payloadCount: 1 }, items: 1, publishOptions: null }, true);

test('item_expire: expired items are neither returned nor kept after a sweep', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2025, 0, 1) });
  const { env } = await setup();
  const service = await PubSubService.load(env);
  const owner = parseJid('owner@example.org');
  const config = { type: 'submit' as const, formType: 'http://jabber.org/protocol/pubsub#node_config', fields: [{ var: 'pubsub#item_expire', values: ['60'] }, { var: 'pubsub#max_items', values: ['10'] }] };
  await service.createNode(owner, 'fleeting', config);
  await publishItem(service, 'owner@example.org', 'fleeting', 'old');
  t.mock.timers.tick(45_000);
  await publishItem(service, 'owner@example.org', 'fleeting', 'new');
  t.mock.timers.tick(30_000);
  const [result] = await service.items(owner, 'fleeting', {});
  assert.deepEqual(result.items.map((i) => i.id), ['new']);
  await service.sweep();
  const stored = await env.store.items(env.host, env.user, 'fleeting', {});
  assert.deepEqual(stored.items.map((i) => i.id), ['new']);
  t.mock.timers.tick(60_000);
  const node = service.nodes.get('fleeting')!;
  assert.equal(await service.lastItem(node), null, 'the last item expired too');
});

test('too many subscriptions is policy-violation + too-many-subscriptions (§6.1.3.9)', async () => {
  const { env } = await setup();
  const service = await PubSubService.load({ ...env, limits: { ...limits, maxSubscriptionsPerJid: 2 } });
  const owner = parseJid('owner@example.org');
  for (const name of ['a', 'b', 'c']) await service.createNode(owner, name, null);
  const reader = parseJid('reader@example.org');
  await service.subscribe(reader, 'a', undefined, null);
  await service.subscribe(reader, 'b', undefined, null);
  await assert.rejects(service.subscribe(reader, 'c', undefined, null), (err: { condition?: string; type?: string; appCondition?: Element }) => {
    assert.equal(err.condition, 'policy-violation');
    assert.equal(err.type, 'wait');
    assert.equal(err.appCondition?.name, 'too-many-subscriptions');
    return true;
  });
});

test('presence-based delivery and show-values skip local subscribers who are away or offline (§12.3)', async () => {
  const { env, sent } = await setup();
  const presence: Record<string, { full: string; show: string }[]> = {
    'online@example.org': [{ full: 'online@example.org/a', show: 'online' }],
    'offline@example.org': [],
    'dnd@example.org': [{ full: 'dnd@example.org/a', show: 'dnd' }],
  };
  const service = await PubSubService.load({ ...env, presenceOf: (bare) => presence[bare] });
  const owner = parseJid('owner@example.org');
  await service.createNode(owner, 'live', { type: 'submit', formType: 'http://jabber.org/protocol/pubsub#node_config', fields: [{ var: 'pubsub#presence_based_delivery', values: ['1'] }, { var: 'pubsub#send_last_published_item', values: ['never'] }] });
  for (const who of ['online', 'offline', 'dnd', 'remote']) await service.subscribe(parseJid(`${who}@example.org`), 'live', undefined, null);
  await service.createNode(owner, 'chatty', null);
  await service.subscribe(parseJid('dnd@example.org'), 'chatty', undefined, { type: 'submit', fields: [{ var: 'pubsub#show-values', values: ['chat', 'online'] }] });
  await service.subscribe(parseJid('online@example.org'), 'chatty', undefined, { type: 'submit', fields: [{ var: 'pubsub#show-values', values: ['chat', 'online'] }] });
  await new Promise((resolve) => setImmediate(resolve));
  sent.length = 0;
  await publishItem(service, 'owner@example.org', 'live', 'l1');
  await publishItem(service, 'owner@example.org', 'chatty', 'c1');
  assert.deepEqual(sent.map((m) => `${m.attrs.to} ${(m.children[0] as Element).getChild('items')!.attrs.node}`).sort(), [
    'dnd@example.org live',
    'online@example.org chatty',
    'online@example.org live',
    // Presence of remote subscribers is not known: they get what they subscribed to.
    'remote@example.org live',
  ]);
});
