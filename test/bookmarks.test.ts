// XEP-0402 PEP Native Bookmarks with §5 compatibility: Juliet's modern client keeps bookmarks in the PEP node
// urn:xmpp:bookmarks:1, her old client in XEP-0049 private storage (XEP-0048 storage:bookmarks). The server keeps
// both in step, so each client sees what the other stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host } from '../src/core/host.js';
import { startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_DISCO_INFO, NS_EVENT, NS_PUBSUB, capsClient, iq, nextEvent, publish, result, xml, type X } from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  private:\n  pep:\n  bookmarks:';
const BOOKMARKS = 'urn:xmpp:bookmarks:1';
const LEGACY = 'storage:bookmarks';
const NS_PRIVATE = 'jabber:iq:private';

describe('XEP-0402 PEP Native Bookmarks, compatibility with XEP-0048 in private storage', () => {
  let server: TestServer;
  let modern: XmppClient;
  let legacy: XmppClient;

  /** Resolves after the next time the server brought Juliet's two bookmark stores in step. */
  function synced(): Promise<void> {
    const host = server.running.server.hosts.get('localhost') as Host;
    return new Promise((resolve) => {
      const off = host.events.on('bookmarks/synced', ({ user }: { user: string }) => {
        if (user !== 'juliet') return undefined;
        off();
        resolve();
        return undefined;
      });
    });
  }

  const privateGet = async (client: XmppClient): Promise<X> => {
    const query = result(await iq(client, 'get', undefined, xml('query', { xmlns: NS_PRIVATE }, xml('storage', { xmlns: LEGACY }))))!;
    return query.getChild('storage', LEGACY)!;
  };
  const pepItems = async (client: XmppClient): Promise<X[]> => {
    const reply = result(await iq(client, 'get', undefined, xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: BOOKMARKS }))))!;
    return reply.getChild('items')!.getChildren('item');
  };

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('juliet');
    await server.createUser('romeo');
    modern = await capsClient(server, 'juliet', 'modern', [`${BOOKMARKS}+notify`]);
    legacy = await capsClient(server, 'juliet', 'legacy', []);
  });

  after(async () => {
    await Promise.allSettled([modern?.stop(), legacy?.stop()]);
    await server?.stop();
  });

  test('§5: the account advertises urn:xmpp:bookmarks:1#compat', async () => {
    const query = result(await iq(modern, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_INFO })))!;
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(`${BOOKMARKS}#compat`), features.join(' '));
  });

  test('a legacy private-storage set publishes one PEP item per room; the modern client is notified', async () => {
    const done = synced();
    const event = nextEvent(modern, BOOKMARKS);
    result(
      await iq(
        legacy,
        'set',
        undefined,
        xml(
          'query',
          { xmlns: NS_PRIVATE },
          xml(
            'storage',
            { xmlns: LEGACY },
            xml('conference', { jid: 'council@conference.shakespeare.lit', name: 'Council', autojoin: 'true' }, xml('nick', {}, 'Juliet')),
            xml('url', { name: 'Verona', url: 'https://verona.example/' }),
          ),
        ),
      ),
    );
    const message = await event;
    const item = message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'council@conference.shakespeare.lit');
    const conference = item.getChild('conference', BOOKMARKS)!;
    assert.equal(conference.attrs.name, 'Council');
    assert.equal(conference.attrs.autojoin, 'true');
    assert.equal(conference.getChildText('nick'), 'Juliet');
    await done;

    const items = await pepItems(modern);
    assert.deepEqual(items.map((i) => i.attrs.id), ['council@conference.shakespeare.lit']);
    // XEP-0402 §3: the node is private, keeps every item, and sends none on presence.
    const config = result(
      await iq(modern, 'get', undefined, xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' }, xml('configure', { node: BOOKMARKS }))),
    )!;
    const values = new Map(config.getChild('configure')!.getChild('x')!.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value')]));
    assert.equal(values.get('pubsub#access_model'), 'whitelist');
    assert.ok(['1', 'true'].includes(values.get('pubsub#persist_items') ?? ''));
    assert.equal(values.get('pubsub#send_last_published_item'), 'never');
  });

  test('a PEP publish and retract update what the legacy client reads from private storage (the <url/> stays)', async () => {
    let done = synced();
    await publish(modern, undefined, BOOKMARKS, xml('conference', { xmlns: BOOKMARKS, name: 'Orchard', autojoin: 'false' }, xml('password', {}, 'wherefore')), 'orchard@conference.shakespeare.lit');
    await done;
    let storage = await privateGet(legacy);
    const rooms = storage.getChildren('conference').map((c) => `${c.attrs.jid} ${c.attrs.name} ${c.attrs.autojoin} ${c.getChildText('password') ?? ''}`);
    assert.deepEqual(rooms.sort(), ['council@conference.shakespeare.lit Council true ', 'orchard@conference.shakespeare.lit Orchard false wherefore']);
    assert.equal(storage.getChild('url')?.attrs.url, 'https://verona.example/');

    done = synced();
    result(await iq(modern, 'set', undefined, xml('pubsub', { xmlns: NS_PUBSUB }, xml('retract', { node: BOOKMARKS, notify: 'true' }, xml('item', { id: 'council@conference.shakespeare.lit' })))));
    await done;
    storage = await privateGet(legacy);
    assert.deepEqual(storage.getChildren('conference').map((c) => c.attrs.jid), ['orchard@conference.shakespeare.lit']);
  });

  test('§5: a legacy set that drops a room retracts it; unchanged rooms keep their PEP extensions and are not republished', async () => {
    // The modern client adds an extension the legacy format cannot carry.
    let done = synced();
    await publish(
      modern,
      undefined,
      BOOKMARKS,
      xml('conference', { xmlns: BOOKMARKS, name: 'Orchard', autojoin: 'false' }, xml('password', {}, 'wherefore'), xml('extensions', {}, xml('state', { xmlns: 'urn:example:state' }))),
      'orchard@conference.shakespeare.lit',
    );
    await done;

    done = synced();
    const events: X[] = [];
    const listener = (s: X) => {
      if (s.is('message') && s.getChild('event', NS_EVENT)) events.push(s);
    };
    modern.on('stanza', listener);
    result(
      await iq(
        legacy,
        'set',
        undefined,
        xml(
          'query',
          { xmlns: NS_PRIVATE },
          xml(
            'storage',
            { xmlns: LEGACY },
            xml('conference', { jid: 'orchard@conference.shakespeare.lit', name: 'Orchard', autojoin: 'false' }, xml('password', {}, 'wherefore')),
            xml('conference', { jid: 'tomb@conference.shakespeare.lit', name: 'Tomb', autojoin: '1' }),
          ),
        ),
      ),
    );
    await done;
    const items = await pepItems(modern);
    modern.removeListener('stanza', listener);
    assert.deepEqual(items.map((i) => i.attrs.id).sort(), ['orchard@conference.shakespeare.lit', 'tomb@conference.shakespeare.lit']);
    const orchard = items.find((i) => i.attrs.id === 'orchard@conference.shakespeare.lit')!.getChild('conference', BOOKMARKS)!;
    assert.ok(orchard.getChild('extensions')?.getChild('state', 'urn:example:state'), 'the extension survives');
    // Only the new room was announced: the unchanged one was left alone.
    const announced = events.flatMap((e) => e.getChild('event', NS_EVENT)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id));
    assert.deepEqual(announced, ['tomb@conference.shakespeare.lit']);

    // The URL bookmark is gone from this set, as the legacy client asked.
    const storage = await privateGet(legacy);
    assert.equal(storage.getChild('url'), undefined);
    assert.deepEqual(storage.getChildren('conference').map((c) => c.attrs.jid).sort(), ['orchard@conference.shakespeare.lit', 'tomb@conference.shakespeare.lit']);
  });
});
