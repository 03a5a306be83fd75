// XEP-0292 vCard4 Over XMPP: Juliet publishes her vCard to the PEP node urn:xmpp:vcard4 with an open access model;
// Romeo reads it with a pubsub items request or the IQ-based <vcard/> get.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_DISCO_INFO, NS_PUBSUB, expectError, iq, publish, result, xml } from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  vcard4:';
const NS_VCARD4 = 'urn:ietf:params:xml:ns:vcard-4.0';
const NODE = 'urn:xmpp:vcard4';

describe('XEP-0292 vCard4 Over XMPP', () => {
  let server: TestServer;
  let juliet: XmppClient;
  let romeo: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('juliet');
    await server.createUser('romeo');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
  });

  after(async () => {
    await Promise.allSettled([juliet?.stop(), romeo?.stop()]);
    await server?.stop();
  });

  test('§5: the account advertises urn:ietf:params:xml:ns:vcard-4.0', async () => {
    const query = result(await iq(romeo, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_INFO })))!;
    assert.ok(query.getChildren('feature').some((f) => f.attrs.var === NS_VCARD4));
  });

  test('before any vCard4 is published, the IQ-based get is item-not-found', async () => {
    expectError(await iq(romeo, 'get', 'juliet@localhost', xml('vcard', { xmlns: NS_VCARD4 })), 'cancel', 'item-not-found');
  });

  test('§3: a vCard published to urn:xmpp:vcard4 with access_model open is read by PEP and by the IQ-based get', async () => {
    const vcard = xml('vcard', { xmlns: NS_VCARD4 }, xml('fn', {}, xml('text', {}, 'Juliet Capulet')), xml('nickname', {}, xml('text', {}, 'Jules')));
    await publish(juliet, undefined, NODE, vcard, 'current', { 'pubsub#access_model': 'open' });

    const items = result(await iq(romeo, 'get', 'juliet@localhost', xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: NODE }))))!;
    assert.equal(items.getChild('items')!.getChild('item')!.getChild('vcard', NS_VCARD4)!.getChild('fn')!.getChildText('text'), 'Juliet Capulet');

    const answer = result(await iq(romeo, 'get', 'juliet@localhost', xml('vcard', { xmlns: NS_VCARD4 })))!;
    assert.equal(answer.name, 'vcard');
    assert.equal(answer.attrs.xmlns, NS_VCARD4);
    assert.equal(answer.getChild('nickname')!.getChildText('text'), 'Jules');
  });

  test('the IQ-based get follows the node access model: a whitelist node is forbidden to others', async () => {
    result(
      await iq(
        juliet,
        'set',
        undefined,
        xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' }, xml('configure', { node: NODE }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, 'http://jabber.org/protocol/pubsub#node_config')), xml('field', { var: 'pubsub#access_model' }, xml('value', {}, 'whitelist'))))),
      ),
    );
    const reply = await iq(romeo, 'get', 'juliet@localhost', xml('vcard', { xmlns: NS_VCARD4 }));
    // XEP-0060 §6.5.9.3: not on the whitelist.
    expectError(reply, 'cancel', 'not-allowed', 'closed-node');
    // Her own get still works.
    const own = result(await iq(juliet, 'get', undefined, xml('vcard', { xmlns: NS_VCARD4 })))!;
    assert.equal(own.getChild('fn')!.getChildText('text'), 'Juliet Capulet');
  });
});
