// Publishing, the XMPP side (XEP-0277 on PEP, XEP-0472 on pubsub.localhost), with real @xmpp/client clients: the
// microblog node's configuration, entries checked (refused with bad-request + invalid-payload and a text) and
// normalized (alternate links, id, dates, author, comments link), the comments node made with the configuration
// XEP-0277 recommends, comments published by another account, social-feed nodes and the disco features.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NODE_CONFIG, NS_DISCO_INFO, NS_ERRORS, NS_EVENT, NS_PUBSUB, PUBSUB, createNode, errorText, expectError, fields, iq, nextEvent, owner, publish, pubsub, result, roundTrip, subscribe, xml, type X } from './helpers/pubsub.js';
import { ATOM, MICROBLOG, PUBLISHING_MODULES, SOCIAL_FEED, atomEntry } from './helpers/blog.js';

async function nodeConfig(client: XmppClient, service: string | undefined, node: string) {
  const reply = await iq(client, 'get', service, owner(xml('configure', { node })));
  return fields(result(reply)?.getChild('configure')?.getChild('x', 'jabber:x:data'));
}

async function publishRaw(client: XmppClient, service: string | undefined, node: string, payload: X, id?: string): Promise<X> {
  return iq(client, 'set', service, pubsub(xml('publish', { node }, xml('item', { id }, payload))));
}

async function itemOf(client: XmppClient, service: string | undefined, node: string, id: string): Promise<X> {
  const reply = await iq(client, 'get', service, pubsub(xml('items', { node }, xml('item', { id }))));
  const entry = result(reply)?.getChild('items')?.getChild('item')?.getChild('entry', ATOM);
  assert.ok(entry, `the item ${id} of ${node}: ${reply.toString()}`);
  return entry;
}

describe('Publishing over XMPP: XEP-0277 and XEP-0472', () => {
  let server: TestServer;
  let alice: XmppClient;
  let bob: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: PUBLISHING_MODULES });
    for (const user of ['alice', 'bob']) await server.createUser(user);
    alice = await connectClient(server, 'alice', undefined, 'desk');
    bob = await connectClient(server, 'bob', undefined, 'phone');
    for (const c of [alice, bob]) await c.send(xml('presence'));
    await Promise.all([alice, bob].map(roundTrip));
  });

  after(async () => {
    await Promise.allSettled([alice, bob].map((c) => c?.stop()));
    await server?.stop();
  });

  test('the account and the pubsub service advertise the social-feed and microblog features', async () => {
    const account = await iq(alice, 'get', 'alice@localhost', xml('query', { xmlns: NS_DISCO_INFO }));
    const accountFeatures = result(account)!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(accountFeatures.includes(SOCIAL_FEED) && accountFeatures.includes(MICROBLOG), accountFeatures.join(' '));
    const service = await iq(alice, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO }));
    const serviceFeatures = result(service)!.getChildren('feature').map((f) => f.attrs.var);
    for (const f of [SOCIAL_FEED, MICROBLOG, 'urn:xmpp:pubsub-social-feed:gallery:1']) assert.ok(serviceFeatures.includes(f), `${f} in ${serviceFeatures.join(' ')}`);
  });

  test('Alice publishes a post: the auto-created microblog node has the XEP-0277 configuration, the entry comes back normalized', async () => {
    const id = await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'Hello, world', text: 'My first post.' }), 'hello', { 'pubsub#access_model': 'open' });
    assert.equal(id, 'hello');
    const config = await nodeConfig(alice, undefined, MICROBLOG);
    assert.equal(config.get('pubsub#notify_retract')?.values[0], 'true');
    assert.equal(config.get('pubsub#max_items')?.values[0], 'max');
    assert.equal(config.get('pubsub#persist_items')?.values[0], 'true');
    assert.equal(config.get('pubsub#send_last_published_item')?.values[0], 'never');
    assert.equal(config.get('pubsub#max_payload_size')?.values[0], String(1024 * 1024));
    assert.equal(config.get('pubsub#type')?.values[0], MICROBLOG);
    assert.equal(config.get('pubsub#access_model')?.values[0], 'open');

    const entry = await itemOf(alice, undefined, MICROBLOG, 'hello');
    const links = entry.getChildren('link').map((l) => l.attrs);
    assert.ok(links.some((l) => l.rel === 'alternate' && l.href === 'xmpp:alice@localhost?;node=urn%3Axmpp%3Amicroblog%3A0;item=hello'), JSON.stringify(links));
    assert.ok(links.some((l) => l.rel === 'alternate' && l.type === 'text/html' && l.href === `http://localhost:${server.httpPort}/blog/alice@localhost/hello`), JSON.stringify(links));
    const replies = links.find((l) => l.rel === 'replies' && l.title === 'comments');
    assert.equal(replies?.href, 'xmpp:pubsub.localhost?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fhello');
    assert.match(entry.getChildText('id') ?? '', /^tag:alice@localhost,\d{4}-\d\d-\d\d:posts\/hello$/);
    assert.ok(entry.getChildText('updated') && entry.getChildText('published'));
    assert.equal(entry.getChild('author')?.getChildText('uri'), 'xmpp:alice@localhost');
  });

  test('the post has its comments node on pubsub.localhost with the recommended configuration, and Bob comments there', async () => {
    const node = 'urn:xmpp:microblog:0:comments/hello';
    const config = await nodeConfig(alice, PUBSUB, node);
    assert.equal(config.get('pubsub#access_model')?.values[0], 'open');
    assert.equal(config.get('pubsub#publish_model')?.values[0], 'open');
    assert.equal(config.get('pubsub#notify_retract')?.values[0], 'true');
    assert.equal(config.get('pubsub#max_items')?.values[0], 'max');
    await subscribe(alice, PUBSUB, node, 'alice@localhost');
    const heard = nextEvent(alice, node);
    await publish(bob, PUBSUB, node, atomEntry({ title: 'Welcome, Alice!' }));
    const comment = (await heard).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(comment.attrs.publisher, 'bob@localhost');
    const entry = comment.getChild('entry', ATOM)!;
    // A comment is normalized too: its author is its publisher; it gets no comments of its own.
    assert.equal(entry.getChild('author')?.getChildText('uri'), 'xmpp:bob@localhost');
    assert.ok(!entry.getChildren('link').some((l) => l.attrs.rel === 'replies'));
  });

  test('republishing keeps the Atom id and the published date; retracting the post deletes its comments node', async () => {
    const first = await itemOf(alice, undefined, MICROBLOG, 'hello');
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'Hello again', text: 'Edited.' }), 'hello');
    const second = await itemOf(alice, undefined, MICROBLOG, 'hello');
    assert.equal(second.getChildText('id'), first.getChildText('id'));
    assert.equal(second.getChildText('published'), first.getChildText('published'));
    assert.equal(second.getChildText('title'), 'Hello again');

    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'Short-lived' }), 'gone');
    await nodeConfig(alice, PUBSUB, 'urn:xmpp:microblog:0:comments/gone');
    result(await iq(alice, 'set', undefined, pubsub(xml('retract', { node: MICROBLOG }, xml('item', { id: 'gone' })))));
    const reply = await iq(alice, 'get', PUBSUB, owner(xml('configure', { node: 'urn:xmpp:microblog:0:comments/gone' })));
    expectError(reply, 'cancel', 'item-not-found');
  });

  test('invalid entries are refused with bad-request, invalid-payload and a text that says what is wrong', async () => {
    const cases: [X, RegExp][] = [
      [xml('note', { xmlns: 'urn:example:notes' }, 'hi'), /must be an <entry xmlns='http:\/\/www\.w3\.org\/2005\/Atom'\/>/],
      [xml('entry', { xmlns: ATOM }, xml('content', {}, 'no title')), /needs a <title\/>/],
      [xml('entry', { xmlns: ATOM }, xml('title', {}, 'Bad date'), xml('updated', {}, '2008-05-08 18:30:02')), /is not an RFC 3339 date-time/],
      [xml('entry', { xmlns: ATOM }, xml('title', {}, 'Two'), xml('title', {}, 'titles')), /exactly one <title\/>/],
    ];
    for (const [payload, text] of cases) {
      const reply = await publishRaw(alice, undefined, MICROBLOG, payload, 'bad');
      const error = expectError(reply, 'modify', 'bad-request', 'invalid-payload');
      assert.ok(error.getChild('invalid-payload', NS_ERRORS), reply.toString());
      assert.match(errorText(reply) ?? '', text);
    }
  });

  test('the microblog node keeps what XEP-0277 requires: turning notify_retract off is refused', async () => {
    const reply = await iq(alice, 'set', undefined, owner(xml('configure', { node: MICROBLOG }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NODE_CONFIG)), xml('field', { var: 'pubsub#notify_retract' }, xml('value', {}, '0'))))));
    expectError(reply, 'modify', 'not-acceptable');
    assert.match(errorText(reply) ?? '', /notify_retract must stay true/);
    // Submitting back the form as given (its 1 MiB max_payload_size is above PEP's cap) changes nothing and succeeds.
    const form = result(await iq(alice, 'get', undefined, owner(xml('configure', { node: MICROBLOG }))))!.getChild('configure')!.getChild('x', 'jabber:x:data')!;
    form.attrs.type = 'submit';
    result(await iq(alice, 'set', undefined, owner(xml('configure', { node: MICROBLOG }, form))));
  });

  test('a social-feed node on pubsub.localhost gets the base profile; a gallery post needs a picture', async () => {
    await createNode(bob, PUBSUB, 'bob-news', { 'pubsub#type': SOCIAL_FEED, 'pubsub#access_model': 'open' });
    const config = await nodeConfig(bob, PUBSUB, 'bob-news');
    assert.equal(config.get('pubsub#max_items')?.values[0], 'max');
    assert.equal(config.get('pubsub#notify_retract')?.values[0], 'true');
    assert.equal(config.get('pubsub#send_last_published_item')?.values[0], 'never');
    assert.equal(config.get('pubsub#max_payload_size')?.values[0], String(1024 * 1024));
    await publish(bob, PUBSUB, 'bob-news', atomEntry({ title: 'News', text: 'Today.' }), 'n1');
    const entry = await itemOf(bob, PUBSUB, 'bob-news', 'n1');
    const links = entry.getChildren('link').map((l) => l.attrs);
    assert.ok(links.some((l) => l.href === `http://localhost:${server.httpPort}/blog/pubsub.localhost/bob-news/n1`), JSON.stringify(links));
    assert.ok(links.some((l) => l.rel === 'replies' && l.href === 'xmpp:pubsub.localhost?;node=bob-news%3Acomments%2Fn1'));
    await nodeConfig(bob, PUBSUB, 'bob-news:comments/n1');
    // Retracting the post deletes its comments node, as on PEP.
    await publish(bob, PUBSUB, 'bob-news', atomEntry({ title: 'Short-lived', text: 'Soon gone.' }), 'n2');
    await nodeConfig(bob, PUBSUB, 'bob-news:comments/n2');
    result(await iq(bob, 'set', PUBSUB, pubsub(xml('retract', { node: 'bob-news' }, xml('item', { id: 'n2' })))));
    expectError(await iq(bob, 'get', PUBSUB, owner(xml('configure', { node: 'bob-news:comments/n2' }))), 'cancel', 'item-not-found');
    await nodeConfig(bob, PUBSUB, 'bob-news:comments/n1');
    // The feed's owner retracting someone else's post leaves that author's comments node to its author.
    result(await iq(bob, 'set', PUBSUB, owner(xml('affiliations', { node: 'bob-news' }, xml('affiliation', { jid: 'alice@localhost', affiliation: 'publisher' })))));
    await publish(alice, PUBSUB, 'bob-news', atomEntry({ title: 'Guest post', text: 'Hello from Alice.' }), 'g1');
    await nodeConfig(alice, PUBSUB, 'bob-news:comments/g1');
    result(await iq(bob, 'set', PUBSUB, pubsub(xml('retract', { node: 'bob-news' }, xml('item', { id: 'g1' })))));
    await nodeConfig(alice, PUBSUB, 'bob-news:comments/g1');

    await createNode(bob, PUBSUB, 'bob-pictures', { 'pubsub#type': 'urn:xmpp:pubsub-social-feed:gallery:1' });
    const refused = await publishRaw(bob, PUBSUB, 'bob-pictures', atomEntry({ title: 'No picture' }));
    expectError(refused, 'modify', 'bad-request', 'invalid-payload');
    assert.match(errorText(refused) ?? '', /gallery post needs a picture/);
    const picture = xml('entry', { xmlns: ATOM }, xml('title', {}, 'Sunset'), xml('link', { rel: 'enclosure', type: 'image/jpeg', href: 'https://example.org/sunset.jpg' }));
    await publish(bob, PUBSUB, 'bob-pictures', picture, 'p1');
  });

  test('a post written through the Storage API goes through the same checks and normalization', async () => {
    const url = `http://127.0.0.1:${server.httpPort}/storage/alice@localhost/urn:xmpp:microblog:0`;
    const headers = { authorization: `Basic ${Buffer.from('alice@localhost:secret-password').toString('base64')}`, 'content-type': 'application/xml' };
    const refused = await fetch(`${url}/bad-http`, { method: 'PUT', headers, body: `<entry xmlns="${ATOM}"><content>no title</content></entry>` });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { text: string }).text, /needs a <title\/> .*\[bad-request \(invalid-payload\)\]/);
    const stored = await fetch(`${url}/from-storage`, { method: 'PUT', headers, body: `<entry xmlns="${ATOM}"><title>Over the Storage API</title></entry>` });
    assert.equal(stored.status, 201);
    const entry = await itemOf(alice, undefined, MICROBLOG, 'from-storage');
    assert.ok(entry.getChildren('link').some((l) => l.attrs.rel === 'replies'));
    assert.equal(entry.getChild('author')?.getChildText('uri'), 'xmpp:alice@localhost');
  });

  test('nodes that are not posts are left alone', async () => {
    await publish(alice, undefined, 'urn:example:notes', xml('note', { xmlns: 'urn:example:notes' }, 'anything'), 'n');
    await publish(alice, PUBSUB, 'plain', xml('note', { xmlns: 'urn:example:notes' }, 'anything'), 'n');
    const reply = await iq(alice, 'get', PUBSUB, pubsub(xml('items', { node: 'plain' })));
    assert.equal(result(reply)?.getChild('items')?.getChild('item')?.getChild('note', 'urn:example:notes')?.text(), 'anything');
    assert.ok(NS_PUBSUB);
  });
});

describe('Publishing over XMPP without the pubsub module', () => {
  test('posts are checked and normalized, and get no comments link: there is nowhere to comment', async () => {
    const server = await startTestServer({ modules: 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  microblog:' });
    try {
      await server.createUser('alice');
      const alice = await connectClient(server, 'alice');
      try {
        await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'Alone' }), 'alone');
        const entry = await itemOf(alice, undefined, MICROBLOG, 'alone');
        const links = entry.getChildren('link').map((l) => l.attrs);
        assert.deepEqual(links.map((l) => l.rel), ['alternate'], JSON.stringify(links));
        assert.match(links[0].href ?? '', /^xmpp:alice@localhost\?;node=/);
        assert.ok(entry.getChildText('id'));
      } finally {
        await alice.stop();
      }
    } finally {
      await server.stop();
    }
  });
});
