// XEP-0280 §6.1 eligibility and the §6.2/§6.3 wrapping, on single stanzas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredXml } from '../../core/roster.js';
import { isEligible, wrapCarbon } from './rules.js';

const message = (inner: string, attrs = '') => parseStoredXml(`<message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden'${attrs}>${inner}</message>`);

test('§6.1: chat; normal with a body; IM payloads (receipts, chat states, markers) whatever the body', () => {
  assert.equal(isEligible(message('', " type='chat'"), 'received', true), true);
  assert.equal(isEligible(message('<body>hi</body>'), 'received', true), true);
  assert.equal(isEligible(message('<body>hi</body>', " type='normal'"), 'received', true), true);
  assert.equal(isEligible(message("<x xmlns='urn:example'/>"), 'received', true), false);
  assert.equal(isEligible(message("<request xmlns='urn:xmpp:receipts'/>"), 'sent', false), true);
  assert.equal(isEligible(message("<active xmlns='http://jabber.org/protocol/chatstates'/>"), 'sent', false), true);
  assert.equal(isEligible(message("<displayed xmlns='urn:xmpp:chat-markers:0' id='x'/>"), 'sent', false), true);
  assert.equal(isEligible(message('<body>news</body>', " type='headline'"), 'received', true), false);
});

test('§6.1: groupchat and errors (tracked separately) are not eligible by content', () => {
  assert.equal(isEligible(message('<body>all</body>', " type='groupchat'"), 'received', true), false);
  assert.equal(isEligible(message('<body>failed</body>', " type='error'"), 'received', true), false);
});

test('§6.4 / XEP-0334: <private/> or <no-copy/> keeps a message out; so does a carbon inside a message', () => {
  assert.equal(isEligible(message("<body>x</body><private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/>", " type='chat'"), 'sent', false), false);
  assert.equal(isEligible(message("<body>x</body><private xmlns='urn:xmpp:carbons:2'/>", " type='chat'"), 'sent', false), false);
  assert.equal(isEligible(message("<body>x</body><no-copy xmlns='urn:xmpp:hints'/>", " type='chat'"), 'received', true), false);
  assert.equal(isEligible(message("<body>x</body><no-store xmlns='urn:xmpp:hints'/>", " type='chat'"), 'received', true), true);
  assert.equal(isEligible(message("<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'/></received>", " type='chat'"), 'received', true), false);
});

test('§6.1.1: MUC private messages from a participant are not copied, to one they are; invitations are', () => {
  const pm = "<body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/>";
  assert.equal(isEligible(message(pm, " type='chat'"), 'received', true), false);
  assert.equal(isEligible(message(pm, " type='chat'"), 'sent', false), true);
  assert.equal(isEligible(message("<x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x>"), 'received', false), true);
  assert.equal(isEligible(message("<x xmlns='jabber:x:conference' jid='room@muc'/>"), 'received', true), true);
});

test('§6.2: the copy comes from the bare JID with the original type, the original in jabber:client inside <forwarded/>', () => {
  const original = message('<body>What man art thou</body>', " type='chat'");
  const carbon = wrapCarbon('received', original, 'romeo@montague.example');
  carbon.attrs.to = 'romeo@montague.example/home';
  assert.equal(
    carbon.toString(),
    '<message from="romeo@montague.example" type="chat" to="romeo@montague.example/home"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">' +
      '<message xmlns="jabber:client" from="juliet@capulet.example/balcony" to="romeo@montague.example/garden" type="chat"><body>What man art thou</body></message>' +
      '</forwarded></received></message>',
  );
  // The original is untouched (it is still being delivered).
  assert.equal(original.toString(), '<message xmlns="jabber:client" from="juliet@capulet.example/balcony" to="romeo@montague.example/garden" type="chat"><body>What man art thou</body></message>');
  assert.equal(original.parent, null);
});

test('§6.3 with XEP-0313 §3.5: a sent copy carries the archive id by the account, and no stanza-id the client claimed by it', () => {
  const sent = parseStoredXml(
    "<message xmlns='jabber:client' from='romeo@montague.example/home' to='juliet@capulet.example' type='chat'><body>hi</body>" +
      "<stanza-id xmlns='urn:xmpp:sid:0' by='romeo@montague.example' id='forged'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>",
  );
  const carbon = wrapCarbon('sent', sent, 'romeo@montague.example', 'archive-1');
  const copy = carbon.getChild('sent')!.getChild('forwarded')!.getChild('message')!;
  assert.deepEqual(copy.getChildren('stanza-id', 'urn:xmpp:sid:0').map((s) => s.attrs.id), ['archive-1']);
  assert.equal(copy.getChild('origin-id', 'urn:xmpp:sid:0')?.attrs.id, 'o1');
  // The message itself goes on unchanged.
  assert.deepEqual(sent.getChildren('stanza-id', 'urn:xmpp:sid:0').map((s) => s.attrs.id), ['forged']);
});
