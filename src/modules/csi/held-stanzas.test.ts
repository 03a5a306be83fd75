// XEP-0352: what an inactive client can do without for a while, and the queue that holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredXml } from '../../core/roster.js';
import type { Session } from '../../core/session.js';
import type { Element } from '../../core/xml/element.js';
import { HeldStanzas, holdKey } from './held-stanzas.js';

const ROMEO = 'romeo@montague.example';
const parse = (text: string) => parseStoredXml(text.replace(/^<(\w+)/, "<$1 xmlns='jabber:client'"));

test('presence updates wait, keyed by sender; subscriptions, own presence and MUC self-presence do not', () => {
  assert.equal(holdKey(parse("<presence from='juliet@capulet.example/balcony'><show>away</show></presence>"), ROMEO), 'presence juliet@capulet.example/balcony');
  assert.equal(holdKey(parse("<presence from='juliet@capulet.example/balcony' type='unavailable'/>"), ROMEO), 'presence juliet@capulet.example/balcony');
  assert.equal(holdKey(parse("<presence from='juliet@capulet.example' type='subscribe'/>"), ROMEO), null);
  assert.equal(holdKey(parse("<presence from='romeo@montague.example/home'/>"), ROMEO), null);
  assert.notEqual(holdKey(parse("<presence from='romeo@montague.example.evil/home'/>"), ROMEO), null);
  assert.equal(holdKey(parse("<presence from='room@muc/romeo'><x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x></presence>"), ROMEO), null);
  assert.equal(holdKey(parse("<presence from='room@muc/tybalt'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>"), ROMEO), 'presence room@muc/tybalt');
});

test('messages: a body, a subject, an error, an unknown payload or a <sent/> carbon are important; chat states, receipts, PEP wait', () => {
  const from = "from='juliet@capulet.example/balcony'";
  assert.equal(holdKey(parse(`<message ${from} type='chat'><body>hi</body></message>`), ROMEO), null);
  assert.equal(holdKey(parse(`<message ${from} type='groupchat'><subject>Verona</subject></message>`), ROMEO), null);
  assert.equal(holdKey(parse(`<message ${from} type='error'/>`), ROMEO), null);
  assert.equal(holdKey(parse(`<message ${from} type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>`), ROMEO), null);
  assert.equal(holdKey(parse(`<message ${from}><x xmlns='jabber:x:conference' jid='room@muc'/></message>`), ROMEO), null);
  assert.equal(
    holdKey(parse(`<message ${from} type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/><thread>t</thread><no-store xmlns='urn:xmpp:hints'/></message>`), ROMEO),
    'chatstate juliet@capulet.example/balcony',
  );
  assert.equal(holdKey(parse(`<message ${from}><received xmlns='urn:xmpp:receipts' id='1'/></message>`), ROMEO), '');
  assert.equal(holdKey(parse(`<message from='juliet@capulet.example'><event xmlns='http://jabber.org/protocol/pubsub#event'/></message>`), ROMEO), '');
  // The account's own PEP and carbons: sent carbons go at once, received ones are judged by what they carry.
  assert.equal(holdKey(parse(`<message from='${ROMEO}'><event xmlns='http://jabber.org/protocol/pubsub#event'/></message>`), ROMEO), null);
  const carbon = (kind: string, inner: string) =>
    parse(`<message from='${ROMEO}' type='chat'><${kind} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' ${from} type='chat'>${inner}</message></forwarded></${kind}></message>`);
  assert.equal(holdKey(carbon('sent', "<active xmlns='http://jabber.org/protocol/chatstates'/>"), ROMEO), null);
  assert.equal(holdKey(carbon('received', "<active xmlns='http://jabber.org/protocol/chatstates'/>"), ROMEO), 'carbon chatstate juliet@capulet.example/balcony');
  assert.equal(holdKey(carbon('received', '<body>hi</body>'), ROMEO), null);
});

test('the queue keeps order, replaces by key, copies what it holds and empties on flush', () => {
  const written: string[] = [];
  const session = { sendDirect: (s: Element) => written.push(s.attrs.id) } as unknown as Session;
  const held = new HeldStanzas();
  const stanza = (id: string) => parse(`<presence id='${id}'/>`);
  const reused = stanza('p1');
  held.hold(reused, 'presence a');
  reused.attrs.id = 'changed-after-hold';
  held.hold(stanza('r1'), '');
  held.hold(stanza('p2'), 'presence a');
  held.hold(stanza('q1'), 'presence b');
  assert.equal(held.size, 3);
  held.flush(session);
  assert.deepEqual(written, ['r1', 'p2', 'q1']);
  assert.equal(held.size, 0);
  held.flush(session);
  assert.equal(written.length, 3);
});

test('a sender that keeps changing presence does not grow the queue', () => {
  const written: string[] = [];
  const session = { sendDirect: (s: Element) => written.push(s.attrs.id) } as unknown as Session;
  const held = new HeldStanzas();
  held.hold(parse("<presence id='first'/>"), '');
  for (let i = 0; i < 10_000; i++) held.hold(parse(`<presence id='a${i}'/>`), 'presence a');
  held.hold(parse("<presence id='last'/>"), '');
  assert.equal(held.size, 3);
  assert.ok((held as unknown as { queue: unknown[] }).queue.length < 200);
  held.flush(session);
  assert.deepEqual(written, ['first', 'a9999', 'last']);
});
