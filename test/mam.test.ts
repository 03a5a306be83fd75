// XEP-0313 Message Archive Management end to end: Romeo and Juliet talk, and each finds the conversation in
// their own archive, under the stanza-id they saw, paged with XEP-0059 as Conversations, Gajim and Dino page it.
// Also XEP-0441 preferences, XEP-0334 hints, and an archive that outlives a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as XElement } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_DATA, NS_FORWARD, NS_MAM, NS_RSM, bodiesOf, errorOf, finOf, withoutTextSearch, forwardedOf, idsOf, iq, mam, nextId, type QueryOptions, type QueryOutcome } from './helpers/mam.js';

const NS_DELAY = 'urn:xmpp:delay';
const NS_SID = 'urn:xmpp:sid:0';
const NS_HINTS = 'urn:xmpp:hints';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_ROSTER = 'jabber:iq:roster';

const MODULES = ['modules:', '  roster:', '  presence:', '  disco:', '  stanza_id:', '  mam:', '    max_page_size: 10'].join('\n');

interface Line {
  from: 'romeo' | 'juliet';
  body: string;
  /** The stanza-id the recipient saw. */
  sid: string;
  /** The address the message was sent to. */
  to: string;
}

describe('XEP-0313 message archive management', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let juliet: XmppClient;
  let nurse: XmppClient;
  const clients = (): XmppClient[] => [romeo, juliet, nurse].filter((c) => c !== undefined);
  const conversation: Line[] = [];
  /** Juliet's archive ids of the Romeo conversation, in order, once the first test read them. */
  let ids: string[] = [];

  /** Sends a message and resolves with it as the recipient got it. */
  async function deliver(sender: XmppClient, recipient: XmppClient, attrs: Record<string, string>, ...children: XElement[]): Promise<XElement> {
    const id = nextId('m');
    const received = nextStanza(recipient, (s) => s.is('message') && s.attrs.id === id);
    await sender.send(xml('message', { id, ...attrs }, ...children));
    return received;
  }

  async function say(from: 'romeo' | 'juliet', to: string, body: string): Promise<void> {
    const [sender, recipient, recipientBare] = from === 'romeo' ? [romeo, juliet, 'juliet@localhost'] : [juliet, romeo, 'romeo@localhost'];
    const received = await deliver(sender, recipient, { to, type: 'chat' }, xml('body', {}, body));
    const sid = received.getChildren('stanza-id', NS_SID).find((s) => s.attrs.by === recipientBare);
    assert.ok(sid, received.toString());
    conversation.push({ from, body, sid: sid.attrs.id, to });
  }

  async function online(user: string, resource: string): Promise<XmppClient> {
    const client = await connectClient(server, user, undefined, resource);
    const self = nextStanza(client, (s) => s.is('presence') && s.attrs.from === `${user}@localhost/${resource}`);
    await client.send(xml('presence'));
    await self;
    return client;
  }

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['romeo', 'juliet', 'nurse', 'benvolio']) await server.createUser(user);
    romeo = await online('romeo', 'orchard');
    juliet = await online('juliet', 'balcony');
    nurse = await online('nurse', 'chamber');
    // Two lines to Juliet's full JID and one from Juliet to Romeo's, so that a full-JID 'with' has something to tell apart.
    await say('romeo', 'juliet@localhost', 'But soft, what light through yonder window breaks?');
    await say('juliet', 'romeo@localhost', 'Ay me!');
    await say('romeo', 'juliet@localhost/balcony', 'She speaks.');
    await say('juliet', 'romeo@localhost/orchard', 'O Romeo, Romeo, wherefore art thou Romeo?');
    await say('romeo', 'juliet@localhost', 'Shall I hear more, or shall I speak at this?');
    await say('juliet', 'romeo@localhost', "'Tis but thy name that is my enemy.");
  });

  after(async () => {
    await Promise.allSettled(clients().map((c) => c.stop()));
    await server?.stop();
  });

  test('§7: the account advertises urn:xmpp:mam:2 and #extended on its bare JID', async () => {
    const info = await iq(juliet, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'juliet@localhost');
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_MAM), features.join(' '));
    assert.ok(features.includes(`${NS_MAM}#extended`), features.join(' '));
  });

  test('§4: Juliet queries her archive: the conversation in order, forwarded with delay stamps, ids = the stanza-ids she saw', async () => {
    const outcome = await mam(juliet);
    assert.deepEqual(bodiesOf(outcome), conversation.map((l) => l.body));
    ids = idsOf(outcome);
    assert.equal(new Set(ids).size, ids.length, 'unique ids');
    conversation.forEach((line, i) => {
      const result = outcome.results[i];
      const forwarded = forwardedOf(result);
      // §3.5: a received message is archived under the stanza-id the account saw.
      if (line.from === 'romeo') assert.equal(result.attrs.id, line.sid);
      // A sent one under an id of Juliet's archive, not Romeo's.
      else assert.notEqual(result.attrs.id, line.sid);
      assert.equal(result.attrs.queryid !== undefined, true);
      assert.equal(forwarded.attrs.xmlns, 'jabber:client');
      assert.equal(forwarded.attrs.from, line.from === 'romeo' ? 'romeo@localhost/orchard' : 'juliet@localhost/balcony');
      assert.equal(forwarded.attrs.to, line.to);
      assert.equal(forwarded.attrs.type, 'chat');
      const stamp = result.getChild('forwarded', NS_FORWARD)!.getChild('delay', NS_DELAY)!.attrs.stamp;
      assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    });
    for (const message of outcome.messages) {
      assert.equal(message.attrs.to, 'juliet@localhost/balcony');
      assert.ok(message.attrs.from === undefined || message.attrs.from === 'juliet@localhost');
    }
    assert.deepEqual(finOf(outcome), { complete: true, first: ids[0], index: '0', last: ids[5], count: 6 });
  });

  test('§3.5: Romeo\'s archive has the same conversation, with the ids he saw on what he received', async () => {
    const outcome = await mam(romeo);
    assert.deepEqual(bodiesOf(outcome), conversation.map((l) => l.body));
    conversation.forEach((line, i) => {
      const result = outcome.results[i];
      if (line.from === 'juliet') assert.equal(result.attrs.id, line.sid);
      else {
        // What Romeo sent carries his archive's stanza-id in the stored copy only: Juliet never saw one by Romeo.
        const sid = forwardedOf(result).getChildren('stanza-id', NS_SID).find((s) => s.attrs.by === 'romeo@localhost');
        assert.equal(sid?.attrs.id, result.attrs.id);
      }
    });
    assert.equal(finOf(outcome).complete, true);
  });

  test('§4.1.1: with a bare JID gives the conversation with that contact; with a full JID only that resource\'s messages', async () => {
    const fromNurse = await deliver(nurse, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'Madam!'));
    assert.ok(fromNurse.getChild('stanza-id', NS_SID));

    const withNurse = await mam(juliet, { fields: { with: 'nurse@localhost' } });
    assert.deepEqual(bodiesOf(withNurse), ['Madam!']);
    assert.equal(finOf(withNurse).count, 1);

    const withRomeo = await mam(juliet, { fields: { with: 'romeo@localhost' } });
    assert.deepEqual(idsOf(withRomeo), ids);
    assert.equal(finOf(withRomeo).complete, true);

    // The archive holds the nurse now too: without 'with' there are seven.
    assert.equal(finOf(await mam(juliet, { max: 0 })).count, 7);

    // romeo@localhost/orchard is the 'from' of everything Romeo sent and the 'to' of one of Juliet's lines.
    const withResource = await mam(juliet, { fields: { with: 'romeo@localhost/orchard' } });
    const expected = conversation.filter((l) => l.from === 'romeo' || l.to === 'romeo@localhost/orchard').map((l) => l.body);
    assert.deepEqual(bodiesOf(withResource), expected);
    assert.equal(finOf(withResource).complete, true);
    // Paged, a full JID pages like any other filter.
    const firstTwo = await mam(juliet, { fields: { with: 'romeo@localhost/orchard' }, max: 2 });
    assert.deepEqual(bodiesOf(firstTwo), expected.slice(0, 2));
    assert.equal(finOf(firstTwo).complete, false);
    const rest = await mam(juliet, { fields: { with: 'romeo@localhost/orchard' }, max: 2, after: finOf(firstTwo).last });
    assert.deepEqual(bodiesOf(rest), expected.slice(2));
    assert.equal(finOf(rest).complete, true);
  });

  test('§4.1.2: start and end are inclusive bounds on the time each message was received', async () => {
    const all = await mam(juliet, { fields: { with: 'romeo@localhost' } });
    const stamps = all.results.map((r) => r.getChild('forwarded', NS_FORWARD)!.getChild('delay', NS_DELAY)!.attrs.stamp);
    const times = stamps.map((s) => Date.parse(s));
    const start = stamps[2];
    const end = stamps[4];
    const between = await mam(juliet, { fields: { with: 'romeo@localhost', start, end } });
    assert.deepEqual(idsOf(between), ids.filter((_, i) => times[i] >= times[2] && times[i] <= times[4]));
    assert.ok(idsOf(between).includes(ids[2]) && idsOf(between).includes(ids[4]));

    const future = await mam(juliet, { fields: { start: new Date(Date.now() + 86_400_000).toISOString() } });
    assert.equal(future.results.length, 0);
    assert.deepEqual(finOf(future), { complete: true, first: undefined, index: undefined, last: undefined, count: 0 });

    // An offset written as one is the same instant.
    const shifted = new Date(times[0] + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const fromShifted = await mam(juliet, { fields: { with: 'romeo@localhost', start: shifted } });
    assert.deepEqual(idsOf(fromShifted), ids);

    const bad = await mam(juliet, { fields: { start: 'yesterday' } });
    assert.deepEqual(errorOf(bad.reply), { type: 'modify', condition: 'bad-request' });
  });

  test('§4.3 / XEP-0059: paging forward with <after/>; <first/>, <last/> and complete exact at each edge', async () => {
    const filter = { with: 'romeo@localhost' };
    const page1 = await mam(juliet, { fields: filter, max: 2 });
    assert.deepEqual(idsOf(page1), ids.slice(0, 2));
    assert.deepEqual(finOf(page1), { complete: false, first: ids[0], index: '0', last: ids[1], count: 6 });
    const page2 = await mam(juliet, { fields: filter, max: 2, after: ids[1] });
    assert.deepEqual(idsOf(page2), ids.slice(2, 4));
    assert.deepEqual(finOf(page2), { complete: false, first: ids[2], index: undefined, last: ids[3], count: 6 });
    // The last page ends exactly at the last message: complete.
    const page3 = await mam(juliet, { fields: filter, max: 2, after: ids[3] });
    assert.deepEqual(idsOf(page3), ids.slice(4, 6));
    assert.deepEqual(finOf(page3), { complete: true, first: ids[4], index: undefined, last: ids[5], count: 6 });
    // After the last one: an empty, complete page.
    const beyond = await mam(juliet, { fields: filter, max: 2, after: ids[5] });
    assert.deepEqual(idsOf(beyond), []);
    assert.deepEqual(finOf(beyond), { complete: true, first: undefined, index: undefined, last: undefined, count: 6 });
  });

  test('§4.3.3 / XEP-0059: an empty <before/> gives the last page, and <before/> pages backwards, in chronological order', async () => {
    const filter = { with: 'romeo@localhost' };
    const last = await mam(juliet, { fields: filter, max: 2, before: '' });
    assert.deepEqual(idsOf(last), ids.slice(4, 6));
    assert.deepEqual(finOf(last), { complete: false, first: ids[4], index: '4', last: ids[5], count: 6 });
    const middle = await mam(juliet, { fields: filter, max: 2, before: ids[4] });
    assert.deepEqual(idsOf(middle), ids.slice(2, 4));
    assert.equal(finOf(middle).complete, false);
    const first = await mam(juliet, { fields: filter, max: 2, before: ids[2] });
    assert.deepEqual(idsOf(first), ids.slice(0, 2));
    assert.deepEqual(finOf(first), { complete: true, first: ids[0], index: undefined, last: ids[1], count: 6 });
  });

  test('XEP-0059: <max>0</max> gives the count alone; <index/> starts a page anywhere', async () => {
    const count = await mam(juliet, { fields: { with: 'romeo@localhost' }, max: 0 });
    assert.deepEqual(idsOf(count), []);
    assert.deepEqual(finOf(count), { complete: false, first: undefined, index: undefined, last: undefined, count: 6 });
    const fromIndex = await mam(juliet, { fields: { with: 'romeo@localhost' }, max: 3, index: 2 });
    assert.deepEqual(idsOf(fromIndex), ids.slice(2, 5));
    assert.deepEqual(finOf(fromIndex), { complete: false, first: ids[2], index: '2', last: ids[4], count: 6 });
  });

  test('§4.3.1: the server caps a page at max_page_size (10 here) and says it is not complete', async () => {
    // Four more lines from the nurse make 11 messages in Juliet's archive.
    for (const body of ['Your mother', 'is coming', 'to your chamber', 'Anon!']) {
      await deliver(nurse, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, body));
    }
    const unasked = await mam(juliet);
    assert.equal(unasked.results.length, 10);
    assert.equal(finOf(unasked).complete, false);
    assert.equal(finOf(unasked).count, 11);
    const greedy = await mam(juliet, { max: 1000 });
    assert.equal(greedy.results.length, 10);
    assert.equal(finOf(greedy).complete, false);
    const rest = await mam(juliet, { max: 1000, after: finOf(greedy).last });
    assert.equal(rest.results.length, 1);
    assert.equal(finOf(rest).complete, true);
  });

  test('§4.1.3 (#extended): after-id, before-id and ids; §4.3.4 flip-page', async () => {
    const between = await mam(juliet, { fields: { 'after-id': ids[1], 'before-id': ids[4] } });
    assert.deepEqual(idsOf(between), ids.slice(2, 4));
    assert.equal(finOf(between).complete, true);
    // before-id does not page backwards (§9): with max it gives the first items of the range.
    const limited = await mam(juliet, { fields: { 'after-id': ids[0], 'before-id': ids[5] }, max: 2 });
    assert.deepEqual(idsOf(limited), ids.slice(1, 3));
    assert.equal(finOf(limited).complete, false);
    // RSM <after/> inside the range moves the page on; the later of the two bounds wins.
    const pagedOn = await mam(juliet, { fields: { 'after-id': ids[0], 'before-id': ids[5] }, max: 2, after: ids[2] });
    assert.deepEqual(idsOf(pagedOn), ids.slice(3, 5));
    assert.equal(finOf(pagedOn).complete, true);

    const picked = await mam(juliet, { fields: { ids: [ids[3], ids[0]] } });
    assert.deepEqual(idsOf(picked), [ids[0], ids[3]]);
    assert.deepEqual(finOf(picked), { complete: true, first: ids[0], index: '0', last: ids[3], count: 2 });

    const flipped = await mam(juliet, { fields: { with: 'romeo@localhost' }, max: 3, before: '', flip: true });
    assert.deepEqual(idsOf(flipped), [ids[5], ids[4], ids[3]]);
    const fin = finOf(flipped);
    assert.equal(fin.first, ids[3]);
    assert.equal(fin.last, ids[5]);
  });

  test('§4.1.3, §4.3.2: an id the archive does not hold is item-not-found', async () => {
    const unknownIds: QueryOptions[] = [
      { after: 'no-such-id', max: 5 },
      { before: 'no-such-id', max: 5 },
      { fields: { 'after-id': 'no-such-id' } },
      { fields: { 'before-id': 'no-such-id' } },
      { fields: { ids: [ids[0], 'no-such-id'] } },
      // An id from Romeo's archive is not in Juliet's.
      { fields: { 'after-id': ids[0] }, after: conversation[1].sid },
    ];
    for (const options of unknownIds) {
      const outcome = await mam(juliet, options);
      assert.deepEqual(errorOf(outcome.reply), { type: 'cancel', condition: 'item-not-found' }, JSON.stringify(options));
      assert.equal(outcome.results.length, 0);
    }
  });

  test('§4.1: a field the server does not know is feature-not-implemented; a form of another type is bad-request', async () => {
    const unknown = await mam(juliet, { fields: { '{http://example.com/}free-text-search': 'Romeo' } });
    assert.deepEqual(errorOf(unknown.reply), { type: 'cancel', condition: 'feature-not-implemented' });
    const wrongType = await mam(juliet, { fields: { with: 'romeo@localhost' }, formTypeValue: 'urn:xmpp:mam:1' });
    assert.deepEqual(errorOf(wrongType.reply), { type: 'modify', condition: 'bad-request' });
    const badMax = await iq(juliet, 'set', xml('query', { xmlns: NS_MAM }, xml('set', { xmlns: NS_RSM }, xml('max', {}, 'ten'))));
    assert.deepEqual(errorOf(badMax), { type: 'modify', condition: 'bad-request' });
    // include-groupchat is understood (#groupchat-field), though no groupchat message is ever kept.
    const groupchat = await mam(juliet, { fields: { with: 'romeo@localhost', 'include-groupchat': 'true' } });
    assert.deepEqual(idsOf(groupchat), ids);
  });

  test('§4.1.5: an IQ get of the query returns the form fields', async () => {
    const reply = await iq(juliet, 'get', xml('query', { xmlns: NS_MAM }));
    assert.equal(reply.attrs.type, 'result');
    const form = reply.getChild('query', NS_MAM)!.getChild('x', NS_DATA)!;
    assert.equal(form.attrs.type, 'form');
    const fields = Object.fromEntries(form.getChildren('field').map((f) => [f.attrs.var, f]));
    assert.equal(fields.FORM_TYPE.attrs.type, 'hidden');
    assert.equal(fields.FORM_TYPE.getChildText('value'), NS_MAM);
    assert.equal(fields.with.attrs.type, 'jid-single');
    assert.equal(fields.start.attrs.type, 'text-single');
    assert.equal(fields.end.attrs.type, 'text-single');
    assert.equal(fields['before-id'].attrs.type, 'text-single');
    assert.equal(fields['after-id'].attrs.type, 'text-single');
    assert.equal(fields.ids.attrs.type, 'list-multi');
    assert.ok(fields.ids.getChild('validate', 'http://jabber.org/protocol/xdata-validate')!.getChild('open'));
    // §4.1: no field is required.
    for (const field of form.getChildren('field')) assert.equal(field.getChild('required'), undefined);
  });

  test('§5: archive metadata names the first and the last message', async () => {
    const reply = await iq(juliet, 'get', xml('metadata', { xmlns: NS_MAM }));
    const metadata = reply.getChild('metadata', NS_MAM)!;
    assert.equal(metadata.getChild('start')!.attrs.id, ids[0]);
    const all = await mam(juliet, { max: 1, before: '' });
    assert.equal(metadata.getChild('end')!.attrs.id, idsOf(all)[0]);
    assert.match(metadata.getChild('end')!.attrs.timestamp, /^\d{4}-\d\d-\d\dT/);
    // Benvolio has never written: an empty archive has empty metadata.
    const benvolio = await connectClient(server, 'benvolio', undefined, 'street');
    try {
      const empty = await iq(benvolio, 'get', xml('metadata', { xmlns: NS_MAM }));
      assert.equal(empty.getChild('metadata', NS_MAM)!.children.length, 0);
    } finally {
      await benvolio.stop();
    }
  });

  test('§8.1: Romeo cannot query, read the preferences of or discover the form of Juliet\'s archive', async () => {
    const outcome = await mam(romeo, { to: 'juliet@localhost' });
    assert.deepEqual(errorOf(outcome.reply), { type: 'auth', condition: 'forbidden' });
    assert.equal(outcome.results.length, 0);
    assert.deepEqual(errorOf(await iq(romeo, 'get', xml('prefs', { xmlns: NS_MAM }), 'juliet@localhost')), { type: 'auth', condition: 'forbidden' });
    assert.deepEqual(errorOf(await iq(romeo, 'get', xml('query', { xmlns: NS_MAM }), 'juliet@localhost')), { type: 'auth', condition: 'forbidden' });
    assert.deepEqual(errorOf(await iq(romeo, 'get', xml('metadata', { xmlns: NS_MAM }), 'juliet@localhost')), { type: 'auth', condition: 'forbidden' });
  });

  test('XEP-0334 and §6.1.1: no-store, no-permanent-store, chat states alone, headline and error are not archived; <store/> is', async () => {
    const lastId = async (client: XmppClient) => idsOf(await mam(client, { max: 1, before: '' }))[0];
    const romeoBefore = await lastId(romeo);
    const julietBefore = await lastId(juliet);

    const noStore = await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'secret 1'), xml('no-store', { xmlns: NS_HINTS }));
    // Delivered all the same, with a stanza-id (XEP-0359 stamps what the account receives).
    assert.equal(noStore.getChildText('body'), 'secret 1');
    await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'secret 2'), xml('no-permanent-store', { xmlns: NS_HINTS }));
    await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }));
    await deliver(romeo, juliet, { to: 'juliet@localhost/balcony', type: 'headline' }, xml('body', {}, 'news'));
    await deliver(romeo, juliet, { to: 'juliet@localhost/balcony', type: 'error' }, xml('body', {}, 'failed'), xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS })));
    await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('custom', { xmlns: 'urn:example:payload' }), xml('store', { xmlns: NS_HINTS }));
    await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'Good night!'));

    for (const [client, previous] of [[romeo, romeoBefore], [juliet, julietBefore]] as const) {
      const since = await mam(client, { after: previous });
      assert.equal(since.results.length, 2, since.results.map((r) => r.toString()).join('\n'));
      assert.ok(forwardedOf(since.results[0]).getChild('custom', 'urn:example:payload'));
      assert.equal(bodiesOf(since)[1], 'Good night!');
      assert.equal(finOf(since).complete, true);
    }
  });

  test('§6.1.1: a note to oneself is archived once', async () => {
    await deliver(juliet, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'Remember: the friar at noon'));
    const notes = await mam(juliet, { fields: { with: 'juliet@localhost' } });
    assert.deepEqual(bodiesOf(notes), ['Remember: the friar at noon']);
  });

  test('XEP-0441: preferences: get the defaults, set never/always/roster, and archiving follows them', async () => {
    const initial = await iq(juliet, 'get', xml('prefs', { xmlns: NS_MAM }));
    const prefs = initial.getChild('prefs', NS_MAM)!;
    assert.equal(prefs.attrs.default, 'always');
    assert.ok(prefs.getChild('always') && prefs.getChild('never'), 'both lists are present, even empty');

    // default roster, the nurse always, Benvolio never.
    const set = await iq(
      juliet,
      'set',
      xml(
        'prefs',
        { xmlns: NS_MAM, default: 'roster' },
        xml('always', {}, xml('jid', {}, 'nurse@localhost')),
        xml('never', {}, xml('jid', {}, 'benvolio@localhost')),
      ),
    );
    const applied = set.getChild('prefs', NS_MAM)!;
    assert.equal(applied.attrs.default, 'roster');
    assert.deepEqual(applied.getChild('always')!.getChildren('jid').map((j) => j.text()), ['nurse@localhost']);
    assert.deepEqual(applied.getChild('never')!.getChildren('jid').map((j) => j.text()), ['benvolio@localhost']);
    const reread = (await iq(juliet, 'get', xml('prefs', { xmlns: NS_MAM }))).getChild('prefs', NS_MAM)!;
    assert.equal(reread.attrs.default, 'roster');

    const benvolio = await online('benvolio', 'street');
    try {
      const archived = async (client: XmppClient, body: string) => bodiesOf(await mam(client, { max: 1, before: '' }))[0] === body;
      // Romeo is not in Juliet's roster: under 'roster' his message is delivered, not archived by her (but by him).
      await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'not yet in her roster'));
      assert.equal(await archived(juliet, 'not yet in her roster'), false);
      assert.equal(await archived(romeo, 'not yet in her roster'), true);
      // The nurse is on 'always'.
      await deliver(nurse, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'always the nurse'));
      assert.equal(await archived(juliet, 'always the nurse'), true);
      // Benvolio is on 'never', whichever way the message goes.
      await deliver(benvolio, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'never Benvolio'));
      assert.equal(await archived(juliet, 'never Benvolio'), false);
      await deliver(juliet, benvolio, { to: 'benvolio@localhost', type: 'chat' }, xml('body', {}, 'never to Benvolio'));
      assert.equal(await archived(juliet, 'never to Benvolio'), false);
      assert.equal(await archived(benvolio, 'never to Benvolio'), true);

      // Once Romeo is in her roster, 'roster' archives him.
      const added = await iq(juliet, 'set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'romeo@localhost', name: 'Romeo' })));
      assert.equal(added.attrs.type, 'result');
      await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'now in her roster'));
      assert.equal(await archived(juliet, 'now in her roster'), true);

      // default never: only 'always' gets in.
      await iq(juliet, 'set', xml('prefs', { xmlns: NS_MAM, default: 'never' }, xml('always', {}, xml('jid', {}, 'nurse@localhost')), xml('never')));
      await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'under never'));
      assert.equal(await archived(juliet, 'under never'), false);
      await deliver(nurse, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'nurse under never'));
      assert.equal(await archived(juliet, 'nurse under never'), true);
    } finally {
      await benvolio.stop();
    }

    const invalid = await iq(juliet, 'set', xml('prefs', { xmlns: NS_MAM, default: 'sometimes' }));
    assert.deepEqual(errorOf(invalid), { type: 'modify', condition: 'bad-request' });
    // Back to always, for what follows.
    const reset = await iq(juliet, 'set', xml('prefs', { xmlns: NS_MAM, default: 'always' }));
    assert.equal(reset.getChild('prefs', NS_MAM)!.attrs.default, 'always');
  });

  test('the archive and the preferences survive a restart', async () => {
    const before = await mam(juliet, { fields: { with: 'romeo@localhost' }, max: 6 });
    await iq(juliet, 'set', xml('prefs', { xmlns: NS_MAM, default: 'roster' }, xml('always'), xml('never', {}, xml('jid', {}, 'benvolio@localhost'))));
    await Promise.allSettled(clients().map((c) => c.stop()));
    romeo = juliet = nurse = undefined as unknown as XmppClient;
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir });

    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const after = await mam(juliet, { fields: { with: 'romeo@localhost' }, max: 6 });
    assert.deepEqual(idsOf(after), idsOf(before));
    assert.deepEqual(idsOf(after), ids);
    assert.deepEqual(bodiesOf(after), conversation.map((l) => l.body));
    const prefs = (await iq(juliet, 'get', xml('prefs', { xmlns: NS_MAM }))).getChild('prefs', NS_MAM)!;
    assert.equal(prefs.attrs.default, 'roster');
    assert.deepEqual(prefs.getChild('never')!.getChildren('jid').map((j) => j.text()), ['benvolio@localhost']);
    // Paging goes on from an id given out before the restart.
    const next = await mam(juliet, { fields: { with: 'romeo@localhost' }, max: 2, after: ids[3] });
    assert.deepEqual(idsOf(next), ids.slice(4, 6));
  });
});

describe('XEP-0313 §3.2 retention: max_age_days', () => {
  let server: TestServer;
  let juliet: XmppClient | undefined;

  after(async () => {
    await juliet?.stop();
    await server?.stop();
  });

  test('messages older than max_age_days are gone when the server starts, the oldest first; newer ones stay', async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  stanza_id:\n  mam:' });
    await server.createUser('juliet');
    const archive = server.running.server.storage.archive('mam');
    const day = 86_400_000;
    const line = (id: string, body: string) =>
      `<message xmlns="jabber:client" from="romeo@localhost/orchard" to="juliet@localhost" type="chat" id="${id}"><body>${body}</body></message>`;
    await archive.append('localhost', 'juliet', { id: 'old', when: Date.now() - 10 * day, with: 'romeo@localhost', value: line('a', 'ten days ago') });
    await archive.append('localhost', 'juliet', { id: 'older-than-two', when: Date.now() - 3 * day, with: 'romeo@localhost', value: line('b', 'three days ago') });
    await archive.append('localhost', 'juliet', { id: 'recent', when: Date.now() - day / 2, with: 'romeo@localhost', value: line('c', 'this morning') });
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });

    server = await startTestServer({ modules: 'modules:\n  disco:\n  stanza_id:\n  mam:\n    max_age_days: 2', dataDir });
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const outcome = await mam(juliet);
    assert.deepEqual(idsOf(outcome), ['recent']);
    assert.deepEqual(bodiesOf(outcome), ['this morning']);
    assert.deepEqual(finOf(outcome), { complete: true, first: 'recent', index: '0', last: 'recent', count: 1 });
  });
});

// XEP-0431: the text of Juliet's archive, searched through the {urn:xmpp:fulltext:0}fulltext field of the MAM
// form, on whatever storage the test servers run (SQLite, and PostgreSQL in npm test's second pass).
describe('XEP-0431 full text search in MAM', () => {
  const NS_FULLTEXT = 'urn:xmpp:fulltext:0';
  const FULLTEXT = `{${NS_FULLTEXT}}fulltext`;
  let server: TestServer;
  let romeo: XmppClient;
  let juliet: XmppClient;
  let nurse: XmppClient;
  /** Every body in Juliet's archive, in order. */
  const archived: string[] = [];
  const LINES = {
    soft: 'But soft, what light through yonder window breaks?',
    east: 'It is the east, and Juliet is the sun.',
    wherefore: 'O Romeo, Romeo, wherefore art thou Romeo?',
    arise: 'Arise, fair sun, and kill the envious moon',
    cafe: 'Ce soir, au Café de Vérone — à bientôt',
    sunday: 'The sun sets; Sunday comes, sunny or not.',
    nurse: 'The sun is up, madam!',
    plans: 'Meet me at midnight',
  };

  async function send(sender: XmppClient, recipient: XmppClient, to: string, ...children: XElement[]): Promise<void> {
    const id = nextId('ft');
    const received = nextStanza(recipient, (s) => s.is('message') && s.attrs.id === id);
    await sender.send(xml('message', { id, to, type: 'chat' }, ...children));
    await received;
  }

  async function online(user: string, resource: string): Promise<XmppClient> {
    const client = await connectClient(server, user, undefined, resource);
    const self = nextStanza(client, (s) => s.is('presence') && s.attrs.from === `${user}@localhost/${resource}`);
    await client.send(xml('presence'));
    await self;
    return client;
  }

  const search = (client: XmppClient, text: string, options: QueryOptions = {}) =>
    mam(client, { ...options, fields: { ...options.fields, [FULLTEXT]: text } });

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['romeo', 'juliet', 'nurse']) await server.createUser(user);
    romeo = await online('romeo', 'orchard');
    juliet = await online('juliet', 'garden');
    nurse = await online('nurse', 'chamber');
    const lines: [XmppClient, XmppClient, string, string][] = [
      [romeo, juliet, 'juliet@localhost', LINES.soft],
      [romeo, juliet, 'juliet@localhost', LINES.east],
      [juliet, romeo, 'romeo@localhost', LINES.wherefore],
      [romeo, juliet, 'juliet@localhost', LINES.arise],
      [juliet, romeo, 'romeo@localhost', LINES.cafe],
      [romeo, juliet, 'juliet@localhost', LINES.sunday],
      [nurse, juliet, 'juliet@localhost', LINES.nurse],
    ];
    for (const [sender, recipient, to, body] of lines) {
      await send(sender, recipient, to, xml('body', {}, body));
      archived.push(body);
    }
    // A subject is searched with the body; a receipt has no text to search but is archived all the same.
    await send(romeo, juliet, 'juliet@localhost', xml('subject', {}, 'Balcony plans'), xml('body', {}, LINES.plans));
    archived.push(LINES.plans);
    await send(romeo, juliet, 'juliet@localhost', xml('received', { xmlns: 'urn:xmpp:receipts', id: 'x' }));
    archived.push('');
  });

  after(async () => {
    await Promise.allSettled([romeo, juliet, nurse].filter((c) => c !== undefined).map((c) => c.stop()));
    await server?.stop();
  });

  test('§2.1: the account advertises urn:xmpp:fulltext:0; §3.1: form discovery lists the fulltext field, text-single', async () => {
    const info = await iq(juliet, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'juliet@localhost');
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_FULLTEXT), features.join(' '));
    const reply = await iq(juliet, 'get', xml('query', { xmlns: NS_MAM }));
    const field = reply.getChild('query', NS_MAM)!.getChild('x', NS_DATA)!.getChildren('field').find((f) => f.attrs.var === FULLTEXT);
    assert.equal(field?.attrs.type, 'text-single');
  });

  test('Juliet searches her archive: only the messages whose text holds every word, in order, any case, no accents', async () => {
    const sun = await search(juliet, 'sun');
    assert.deepEqual(bodiesOf(sun), [LINES.east, LINES.arise, LINES.sunday, LINES.nurse]);
    assert.deepEqual(finOf(sun), { complete: true, first: idsOf(sun)[0], index: '0', last: idsOf(sun)[3], count: 4 });
    // Each result is the archived message, forwarded as any MAM result is.
    assert.equal(forwardedOf(sun.results[0]).attrs.from, 'romeo@localhost/orchard');

    assert.deepEqual(bodiesOf(await search(juliet, 'SUN Juliet')), [LINES.east]);
    assert.deepEqual(bodiesOf(await search(juliet, 'sun* moon')), [LINES.arise]);
    assert.deepEqual(bodiesOf(await search(juliet, 'sund*')), [LINES.sunday]);
    // What Juliet sent is in her archive too, accents and all.
    assert.deepEqual(bodiesOf(await search(juliet, 'cafe VERONE')), [LINES.cafe]);
    assert.deepEqual(bodiesOf(await search(juliet, 'bient*')), [LINES.cafe]);
    assert.deepEqual(bodiesOf(await search(juliet, 'wherefore')), [LINES.wherefore]);
    // The subject is searched with the body.
    assert.deepEqual(bodiesOf(await search(juliet, 'balcony')), [LINES.plans]);
    // Romeo's archive holds the same conversation, seen from his side.
    assert.deepEqual(bodiesOf(await search(romeo, 'wherefore')), [LINES.wherefore]);
    assert.deepEqual(bodiesOf(await search(romeo, 'madam')), []);
  });

  test('only the text is searched: element names, attributes, JIDs and the receipt never match', async () => {
    for (const text of ['message', 'chat', 'body', 'subject', 'jabber', 'client', 'orchard', 'localhost', 'received', 'receipts', 'stanza']) {
      const outcome = await search(juliet, text);
      assert.deepEqual(bodiesOf(outcome), [], text);
      assert.equal(finOf(outcome).count, 0, text);
    }
    // The receipt is archived all the same.
    assert.equal(finOf(await mam(juliet, { max: 0 })).count, archived.length);
  });

  test('the search combines with the other fields and pages with XEP-0059 like any query', async () => {
    assert.deepEqual(bodiesOf(await search(juliet, 'sun', { fields: { with: 'nurse@localhost' } })), [LINES.nurse]);
    assert.deepEqual(bodiesOf(await search(juliet, 'sun', { fields: { with: 'romeo@localhost' } })), [LINES.east, LINES.arise, LINES.sunday]);
    // A full JID in 'with' (messages read one by one) is searched as well.
    assert.deepEqual(bodiesOf(await search(juliet, 'sun', { fields: { with: 'romeo@localhost/orchard' } })), [LINES.east, LINES.arise, LINES.sunday]);
    assert.deepEqual(bodiesOf(await search(romeo, 'romeo', { fields: { with: 'juliet@localhost/garden' } })), [LINES.wherefore]);
    const sun = await search(juliet, 'sun');
    const stamps = sun.results.map((r) => r.getChild('forwarded', NS_FORWARD)!.getChild('delay', NS_DELAY)!.attrs.stamp);
    // Messages may share a millisecond: the expected ones are those stamped within the bounds, both inclusive.
    const within = bodiesOf(sun).filter((_, i) => Date.parse(stamps[i]) >= Date.parse(stamps[1]) && Date.parse(stamps[i]) <= Date.parse(stamps[2]));
    assert.ok(within.includes(LINES.arise) && within.includes(LINES.sunday));
    assert.deepEqual(bodiesOf(await search(juliet, 'sun', { fields: { start: stamps[1], end: stamps[2] } })), within);

    const first = await search(juliet, 'sun', { max: 2 });
    assert.deepEqual(bodiesOf(first), [LINES.east, LINES.arise]);
    assert.deepEqual(finOf(first), { complete: false, first: idsOf(first)[0], index: '0', last: idsOf(first)[1], count: 4 });
    const next = await search(juliet, 'sun', { max: 2, after: finOf(first).last });
    assert.deepEqual(bodiesOf(next), [LINES.sunday, LINES.nurse]);
    assert.equal(finOf(next).complete, true);
    const last = await search(juliet, 'sun', { max: 3, before: '' });
    assert.deepEqual(bodiesOf(last), [LINES.arise, LINES.sunday, LINES.nurse]);
    assert.deepEqual(finOf(last), { complete: false, first: idsOf(last)[0], index: '1', last: idsOf(last)[2], count: 4 });
    const earlier = await search(juliet, 'sun', { max: 3, before: idsOf(last)[0] });
    assert.deepEqual(bodiesOf(earlier), [LINES.east]);
    assert.equal(finOf(earlier).complete, true);
    const flipped = await search(juliet, 'sun', { max: 2, before: '', flip: true });
    assert.deepEqual(bodiesOf(flipped), [LINES.nurse, LINES.sunday]);
    const fromIndex = await search(juliet, 'sun', { max: 1, index: 2 });
    assert.deepEqual(bodiesOf(fromIndex), [LINES.sunday]);
  });

  test('§3.2: quotes, operators and punctuation are not syntax; a search without words finds nothing; an empty field is no search', async () => {
    const hostile = ['"romeo" OR (juliet) -tybalt NEAR:*', "'; DROP TABLE archive; --", '"', '(', 'sun AND', '{words}:sun', 'sun\\', '%_'];
    // AND is a word like any other: sun and "and" are in two lines.
    const expected = [[], [], [], [], [LINES.east, LINES.arise], [], [LINES.east, LINES.arise, LINES.sunday, LINES.nurse], []];
    for (const [i, text] of hostile.entries()) {
      const outcome = await search(juliet, text);
      assert.equal(outcome.reply.attrs.type, 'result', `${text}: ${outcome.reply.toString()}`);
      assert.deepEqual(bodiesOf(outcome), expected[i], text);
    }
    assert.deepEqual(bodiesOf(await search(juliet, 'sun AND juliet')), [LINES.east]);
    for (const text of ['?!', '…', '*']) {
      const outcome = await search(juliet, text);
      assert.deepEqual(finOf(outcome), { complete: true, first: undefined, index: undefined, last: undefined, count: 0 }, text);
    }
    // §2.2: only a non-empty value is searched for.
    for (const text of ['', '   ']) assert.equal(finOf(await search(juliet, text)).count, archived.length, JSON.stringify(text));
    // Two values for the one text-single field.
    const twice = await mam(juliet, { fields: { [FULLTEXT]: ['sun', 'moon'] } });
    assert.deepEqual(errorOf(twice.reply), { type: 'modify', condition: 'bad-request' });
    // The archive is all there.
    assert.deepEqual(bodiesOf(await search(juliet, 'sun')), [LINES.east, LINES.arise, LINES.sunday, LINES.nurse]);
  });
});

// XEP-0431 §2.1 is advertised only where the storage can search: behind a backend whose archives cannot (all of
// Quire's can; this one pretends), neither the feature nor the field is offered, and the field is unknown.
describe('XEP-0431 on storage that cannot search', () => {
  let server: TestServer;
  let juliet: XmppClient | undefined;

  after(async () => {
    await juliet?.stop();
    await server?.stop();
  });

  test('no urn:xmpp:fulltext:0, no fulltext field in the form, and the field is feature-not-implemented', async () => {
    server = await startTestServer({ modules: MODULES, wrapStorage: withoutTextSearch });
    await server.createUser('juliet');
    juliet = await connectClient(server, 'juliet', undefined, 'garden');
    const info = await iq(juliet, 'get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'juliet@localhost');
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_MAM), features.join(' '));
    assert.ok(!features.includes('urn:xmpp:fulltext:0'), features.join(' '));
    const reply = await iq(juliet, 'get', xml('query', { xmlns: NS_MAM }));
    const fields = reply.getChild('query', NS_MAM)!.getChild('x', NS_DATA)!.getChildren('field').map((f) => f.attrs.var);
    assert.ok(fields.includes('with') && !fields.includes('{urn:xmpp:fulltext:0}fulltext'), fields.join(' '));
    const outcome = await mam(juliet, { fields: { '{urn:xmpp:fulltext:0}fulltext': 'sun' } });
    assert.deepEqual(errorOf(outcome.reply), { type: 'cancel', condition: 'feature-not-implemented' });
  });
});
