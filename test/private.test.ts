// XEP-0049 Private XML Storage: Hamlet keeps his client's preferences on the server, reads them back,
// nobody else can touch them, reserved namespaces are refused, and the data survives a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { PRIVATE_STORED_EVENT, type PrivateStoredEvent } from '../src/modules/private/index.js';

const NS_PRIVATE = 'jabber:iq:private';
const MODULES = 'modules:\n  disco:\n  private:';

type StanzaError = Error & { condition?: string; element?: import('@xmpp/xml').Element };

function exodusPrefs(nick: string) {
  return xml('exodus', { xmlns: 'exodus:prefs' }, xml('defaultnick', {}, nick));
}

function rejectsWith(promise: Promise<unknown>, condition: string, type: string) {
  return assert.rejects(promise, (err: StanzaError) => {
    assert.equal(err.condition, condition);
    assert.equal(err.element?.attrs.type, type);
    return true;
  });
}

describe('private XML storage (XEP-0049)', () => {
  let server: TestServer;
  let hamlet: XmppClient;
  let macbeth: XmppClient;
  const stored: PrivateStoredEvent[] = [];

  const get = (client: XmppClient, fragment: ReturnType<typeof xml>, to?: string) =>
    client.iqCaller.request(xml('iq', { type: 'get', to }, xml('query', { xmlns: NS_PRIVATE }, fragment)));
  const set = (client: XmppClient, fragments: ReturnType<typeof xml>[], to?: string) =>
    client.iqCaller.request(xml('iq', { type: 'set', to }, xml('query', { xmlns: NS_PRIVATE }, ...fragments)));

  const start = async (dataDir?: string) => {
    server = await startTestServer({ modules: MODULES, dataDir });
    server.running.server.hosts.get('localhost')!.events.on(PRIVATE_STORED_EVENT, (event: PrivateStoredEvent) => {
      stored.push(event);
      return undefined;
    });
  };

  before(async () => {
    await start();
    await server.createUser('hamlet');
    await server.createUser('macbeth');
    hamlet = await connectClient(server, 'hamlet', undefined, 'denmark');
    macbeth = await connectClient(server, 'macbeth', undefined, 'scotland');
  });

  after(async () => {
    await Promise.allSettled([hamlet?.stop(), macbeth?.stop()]);
    await server?.stop();
  });

  test('the server advertises jabber:iq:private', async () => {
    const info = await hamlet.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === NS_PRIVATE));
  });

  test('Hamlet asks for data he never stored: the empty element comes back', async () => {
    const reply = await get(hamlet, xml('exodus', { xmlns: 'exodus:prefs' }));
    const fragment = reply.getChild('query', NS_PRIVATE)!.getChild('exodus', 'exodus:prefs');
    assert.ok(fragment);
    assert.equal(fragment.children.length, 0);
  });

  test('Hamlet stores his preferences (example 1) and retrieves them (example 2)', async () => {
    stored.length = 0;
    const result = await hamlet.iqCaller.request(xml('iq', { type: 'set', id: '1001' }, xml('query', { xmlns: NS_PRIVATE }, exodusPrefs('Hamlet'))));
    assert.equal(result.attrs.type, 'result');
    assert.equal(result.attrs.id, '1001');
    assert.equal(result.children.length, 0);

    const reply = await hamlet.iqCaller.request(xml('iq', { type: 'get', id: '1002' }, xml('query', { xmlns: NS_PRIVATE }, xml('exodus', { xmlns: 'exodus:prefs' }))));
    assert.equal(reply.attrs.from, 'hamlet@localhost');
    assert.equal(reply.getChild('query', NS_PRIVATE)!.getChild('exodus', 'exodus:prefs')!.toString(), exodusPrefs('Hamlet').toString());

    // Other modules (XEP-0402 bookmarks) hear about it.
    assert.equal(stored.length, 1);
    assert.equal(stored[0].user, 'hamlet');
    assert.equal(stored[0].host.name, 'localhost');
    assert.equal(stored[0].element.ns, 'exodus:prefs');
    assert.equal(stored[0].element.getChildText('defaultnick'), 'Hamlet');
  });

  test('a set may carry several fragments; each is kept under its own name and namespace', async () => {
    const bookmarks = xml('storage', { xmlns: 'storage:bookmarks' }, xml('conference', { jid: 'elsinore@conference.localhost', autojoin: 'true', name: 'Elsinore' }, xml('nick', {}, 'Hamlet')));
    const notes = xml('storage', { xmlns: 'storage:rosternotes' }, xml('note', { jid: 'ophelia@localhost' }, 'Get thee to a nunnery'));
    await set(hamlet, [bookmarks, notes]);
    const gotBookmarks = await get(hamlet, xml('storage', { xmlns: 'storage:bookmarks' }));
    assert.equal(gotBookmarks.getChild('query')!.getChild('storage', 'storage:bookmarks')!.toString(), bookmarks.toString());
    const gotNotes = await get(hamlet, xml('storage', { xmlns: 'storage:rosternotes' }));
    assert.equal(gotNotes.getChild('query')!.getChild('storage', 'storage:rosternotes')!.toString(), notes.toString());
    // The earlier fragment is untouched.
    const prefs = await get(hamlet, xml('exodus', { xmlns: 'exodus:prefs' }));
    assert.equal(prefs.getChild('query')!.getChild('exodus', 'exodus:prefs')!.getChildText('defaultnick'), 'Hamlet');
  });

  test('a prefix declared on the <iq/> is kept with the stored fragment', async () => {
    await hamlet.iqCaller.request(
      xml('iq', { type: 'set', 'xmlns:p': 'urn:example:prefixed' }, xml('query', { xmlns: NS_PRIVATE }, xml('p:settings', {}, xml('p:colour', {}, 'black')))),
    );
    const reply = await get(hamlet, xml('settings', { xmlns: 'urn:example:prefixed' }));
    const settings = reply.getChild('query')!.getChild('settings', 'urn:example:prefixed');
    assert.ok(settings, reply.toString());
    assert.equal(settings.getChild('colour', 'urn:example:prefixed')?.text(), 'black');
  });

  test('Hamlet may not read or write Macbeth\'s private data: forbidden (example 3)', async () => {
    await rejectsWith(set(hamlet, [exodusPrefs('Macbeth')], 'macbeth@localhost'), 'forbidden', 'auth');
    await rejectsWith(get(hamlet, xml('exodus', { xmlns: 'exodus:prefs' }), 'macbeth@localhost'), 'forbidden', 'auth');
    // Macbeth's own data is unaffected.
    const reply = await get(macbeth, xml('exodus', { xmlns: 'exodus:prefs' }));
    assert.equal(reply.getChild('query')!.getChild('exodus', 'exodus:prefs')!.children.length, 0);
  });

  test('a <query/> without a child is not-acceptable (§2, example 4); a get of two fragments is a bad request', async () => {
    await rejectsWith(hamlet.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_PRIVATE }))), 'not-acceptable', 'modify');
    await rejectsWith(hamlet.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_PRIVATE }))), 'not-acceptable', 'modify');
    await rejectsWith(
      hamlet.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_PRIVATE }, xml('exodus', { xmlns: 'exodus:prefs' }), xml('storage', { xmlns: 'storage:bookmarks' })))),
      'bad-request',
      'modify',
    );
  });

  test('reserved namespaces are refused with not-acceptable (example 5), and a mixed set stores nothing', async () => {
    stored.length = 0;
    await rejectsWith(set(hamlet, [xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, 'Hamlet'))]), 'not-acceptable', 'modify');
    await rejectsWith(set(hamlet, [xml('query', { xmlns: 'jabber:iq:roster' })]), 'not-acceptable', 'modify');
    await rejectsWith(set(hamlet, [xml('x', { xmlns: 'http://jabber.org/protocol/muc' })]), 'not-acceptable', 'modify');
    await rejectsWith(get(hamlet, xml('vCard', { xmlns: 'vcard-temp' })), 'not-acceptable', 'modify');
    // A fragment with no namespace of its own is in jabber:iq:private.
    await rejectsWith(set(hamlet, [xml('prefs', {}, 'x')]), 'not-acceptable', 'modify');
    await rejectsWith(set(hamlet, [exodusPrefs('Yorick'), xml('vCard', { xmlns: 'vcard-temp' })]), 'not-acceptable', 'modify');
    const reply = await get(hamlet, xml('exodus', { xmlns: 'exodus:prefs' }));
    assert.equal(reply.getChild('query')!.getChild('exodus', 'exodus:prefs')!.getChildText('defaultnick'), 'Hamlet');
    assert.equal(stored.length, 0);
  });

  test('storing an empty fragment clears it', async () => {
    await set(macbeth, [exodusPrefs('Macbeth')]);
    await set(macbeth, [xml('exodus', { xmlns: 'exodus:prefs' })]);
    const reply = await get(macbeth, xml('exodus', { xmlns: 'exodus:prefs' }));
    assert.equal(reply.getChild('query')!.getChild('exodus', 'exodus:prefs')!.children.length, 0);
  });

  test('the data survives a restart', async () => {
    await Promise.allSettled([hamlet.stop(), macbeth.stop()]);
    await server.stop({ keepData: true });
    await start(server.dataDir);
    hamlet = await connectClient(server, 'hamlet', undefined, 'denmark');
    macbeth = await connectClient(server, 'macbeth', undefined, 'scotland');
    const prefs = await get(hamlet, xml('exodus', { xmlns: 'exodus:prefs' }));
    assert.equal(prefs.getChild('query')!.getChild('exodus', 'exodus:prefs')!.toString(), exodusPrefs('Hamlet').toString());
    const bookmarks = await get(hamlet, xml('storage', { xmlns: 'storage:bookmarks' }));
    assert.equal(bookmarks.getChild('query')!.getChild('storage', 'storage:bookmarks')!.getChild('conference')!.attrs.jid, 'elsinore@conference.localhost');
  });
});
