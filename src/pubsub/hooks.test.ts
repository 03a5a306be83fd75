// The profile hooks (hooks.ts) in the engine: nodeDefaults and checkConfig shape a node's configuration on creation
// and configuration, beforePublish rewrites or refuses a payload inside the service's queue and sees the version it
// replaces, and a hook can create a node on its own service (createNodeFromHook) without waiting for itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '../core/jid/index.js';
import { xml, type Element } from '../core/xml/element.js';
import { MemoryBackend } from '../storage/memory/index.js';
import { NS_NODE_CONFIG } from './config.js';
import { PubSubError, pubsubError } from './errors.js';
import type { ServiceHooks } from './hooks.js';
import { PubSubService } from './service.js';
import { PubSubStore } from './store.js';
import { testEnvironment } from './test-environment.js';

const owner = parseJid('owner@example.org/desk');
const form = (values: Record<string, string>) => ({ type: 'submit' as const, formType: NS_NODE_CONFIG, fields: Object.entries(values).map(([v, value]) => ({ var: v, values: [value] })) });

async function service(hooks: ServiceHooks): Promise<PubSubService> {
  const backend = new MemoryBackend();
  await backend.open();
  return PubSubService.load(testEnvironment(new PubSubStore(backend.map('pubsub'), backend.archive('pubsub-items')), { hooks }));
}

const publish = (svc: PubSubService, node: string, payload: Element, id?: string) =>
  svc.publish(owner, node, { item: { id, payload, payloadCount: 1 }, items: 1, publishOptions: null }, true);

test('nodeDefaults gives new nodes their start, under the creator\'s form; checkConfig has the last word', async () => {
  const svc = await service({
    nodeDefaults: (_s, node, config) => (node.startsWith('blog') ? { ...config, max_items: 'max', max_payload_size: 1 << 20 } : config),
    checkConfig: (s, node, config) => {
      if (!node.startsWith('blog')) return config;
      if (s.nodes.has(node) && !config.notify_retract) throw pubsubError('not-acceptable', undefined, { text: 'notify_retract stays on' });
      return { ...config, notify_retract: true };
    },
  });
  const blog = await svc.createNode(owner, 'blog', form({ 'pubsub#title': 'Mine', 'pubsub#notify_retract': '0' }));
  assert.equal(blog.config.max_items, 'max');
  assert.equal(blog.config.max_payload_size, 1 << 20, 'above the service cap: given by a module, not asked by a client');
  assert.equal(blog.config.title, 'Mine');
  assert.equal(blog.config.notify_retract, true);
  assert.equal((await svc.createNode(owner, 'other', null)).config.max_items, 10);
  await assert.rejects(svc.configure(owner, 'blog', form({ 'pubsub#notify_retract': '0' })), (err: unknown) => err instanceof PubSubError && err.condition === 'not-acceptable');
  // The form as given back, with its value above the cap, changes nothing and is accepted.
  await svc.configure(owner, 'blog', form({ 'pubsub#max_payload_size': String(1 << 20), 'pubsub#title': 'Still mine' }));
  assert.equal(blog.config.title, 'Still mine');
  await assert.rejects(svc.configure(owner, 'blog', form({ 'pubsub#max_payload_size': String(2 << 20) })), (err: unknown) => err instanceof PubSubError && err.condition === 'not-acceptable');
  // Auto-created by a publish: the same start.
  await publish(svc, 'blog-2', xml('note', { xmlns: 'urn:example' }, 'x'));
  assert.equal(svc.nodes.get('blog-2')!.config.max_items, 'max');
});

test('beforePublish rewrites the payload that is stored and sent, refuses with a PubSubError, and sees the previous version', async () => {
  const seen: { id: string; given: boolean; previous: string | null }[] = [];
  const svc = await service({
    async beforePublish(_s, node, payload, context) {
      const previous = await context.previous();
      seen.push({ id: context.itemId, given: context.idGiven, previous: previous?.payload?.text() ?? null });
      if (payload.text() === 'bad') throw pubsubError('bad-request', 'invalid-payload', { text: 'not in this node' });
      return xml('note', { xmlns: 'urn:example' }, `${payload.text()} (seen by ${node.name} as ${context.requester.bare})`);
    },
  });
  const first = await publish(svc, 'notes', xml('note', { xmlns: 'urn:example' }, 'one'), 'n1');
  assert.equal(first.item!.payload!.text(), 'one (seen by notes as owner@example.org)');
  await publish(svc, 'notes', xml('note', { xmlns: 'urn:example' }, 'two'), 'n1');
  const generated = await publish(svc, 'notes', xml('note', { xmlns: 'urn:example' }, 'three'));
  await assert.rejects(publish(svc, 'notes', xml('note', { xmlns: 'urn:example' }, 'bad'), 'n2'), (err: unknown) => err instanceof PubSubError && err.pubsubCondition === 'invalid-payload' && err.text === 'not in this node');
  assert.deepEqual(seen, [
    { id: 'n1', given: true, previous: null },
    { id: 'n1', given: true, previous: 'one (seen by notes as owner@example.org)' },
    { id: generated.id!, given: false, previous: null },
    { id: 'n2', given: true, previous: null },
  ]);
  const [stored] = await svc.items(owner, 'notes', { ids: ['n1', 'n2'] });
  assert.deepEqual(stored!.items.map((i) => i.payload!.text()), ['two (seen by notes as owner@example.org)']);
});

test('a changed hook creates a node on its own service from inside the queue', async () => {
  const svc: PubSubService = await service({
    async changed(s, change) {
      if (change.kind === 'published' && !change.node.endsWith(':comments')) await s.createNodeFromHook(owner, `${change.node}:comments`);
    },
  });
  await publish(svc, 'posts', xml('note', { xmlns: 'urn:example' }, 'x'), 'p1');
  assert.ok(svc.nodes.has('posts:comments'));
});
