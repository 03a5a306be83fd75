import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXmppUri, xmppItemUri, xmppJidUri, xmppNodeUri } from './xmpp-uri.js';

test('node and item URIs take the form of XEP-0277 and XEP-0060 §12.21', () => {
  assert.equal(xmppNodeUri('romeo@montague.lit', 'urn:xmpp:microblog:0'), 'xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0');
  assert.equal(xmppItemUri('romeo@montague.lit', 'urn:xmpp:microblog:0', '1cb57d9c-1c46-11dd-838c-001143d5d5db'),
    'xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c-1c46-11dd-838c-001143d5d5db');
  assert.equal(xmppNodeUri('pubsub.montague.lit', 'urn:xmpp:microblog:0:comments/dd88'), 'xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fdd88');
  assert.equal(xmppItemUri('news.montague.lit', 'a;b=c', 'x y'), 'xmpp:news.montague.lit?;node=a%3Bb%3Dc;item=x%20y');
  assert.equal(xmppJidUri('ro?meo#1@montague.lit'), 'xmpp:ro%3Fmeo%231@montague.lit');
});

test('URIs read back, with the whitespace of XEP-0277 examples tolerated', () => {
  assert.deepEqual(parseXmppUri(`xmpp:benvolio@montague.lit?;
                      node=urn%3Axmpp%3Amicroblog%3A0;
                      item=c4145006`), { jid: 'benvolio@montague.lit', action: '', params: { node: 'urn:xmpp:microblog:0', item: 'c4145006' } });
  assert.deepEqual(parseXmppUri('xmpp:romeo@montague.lit'), { jid: 'romeo@montague.lit', params: {} });
  const uri = xmppItemUri('news.montague.lit', 'a;b=c', 'x y');
  assert.deepEqual(parseXmppUri(uri)?.params, { node: 'a;b=c', item: 'x y' });
  assert.equal(parseXmppUri('https://montague.lit/'), undefined);
  assert.equal(parseXmppUri('xmpp:%E0%A4%A@x'), undefined);
});
