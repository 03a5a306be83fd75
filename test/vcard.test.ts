// XEP-0054 vcard-temp: Juliet publishes her vCard, reads it back, Romeo reads it, nobody else may change it,
// and it survives a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const NS_VCARD = 'vcard-temp';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const MODULES = 'modules:\n  disco:\n  vcard: { max_size: 4096 }';

type StanzaError = Error & { condition?: string; element?: import('@xmpp/xml').Element };

/** Juliet's vCard, shaped like the XEP's §3.1 example, with text that needs escaping. */
function julietsVcard() {
  return xml(
    'vCard',
    { xmlns: NS_VCARD },
    xml('FN', {}, 'Juliet Capulet'),
    xml('N', {}, xml('FAMILY', {}, 'Capulet'), xml('GIVEN', {}, 'Juliet')),
    xml('NICKNAME', {}, 'Jules'),
    xml('PHOTO', {}, xml('TYPE', {}, 'image/png'), xml('BINVAL', {}, Buffer.from('not really a png').toString('base64'))),
    xml('TEL', {}, xml('HOME', {}), xml('VOICE', {}), xml('NUMBER', {})),
    xml('EMAIL', {}, xml('INTERNET', {}), xml('PREF', {}), xml('USERID', {}, 'juliet@capulet.lit')),
    xml('DESC', {}, 'What\'s in a name? <That which we call a rose> & so on 🌹'),
  );
}

describe('vcard-temp (XEP-0054)', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let juliet: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('romeo');
    await server.createUser('juliet');
    await server.createUser('mercutio');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
  });

  after(async () => {
    await Promise.allSettled([romeo?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('the server advertises vcard-temp, on itself and on accounts (§4)', async () => {
    const info = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === NS_VCARD));
    const account = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.ok(account.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === NS_VCARD));
  });

  test('Juliet asks for her own vCard before setting one: an empty <vCard/> (§3.1)', async () => {
    const reply = await juliet.iqCaller.request(xml('iq', { type: 'get', id: 'v1' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.attrs.type, 'result');
    assert.equal(reply.attrs.id, 'v1');
    const vcard = reply.getChild('vCard', NS_VCARD);
    assert.ok(vcard, 'an empty vCard element');
    assert.equal(vcard.children.length, 0);
  });

  test('Juliet publishes her vCard (§3.2) and gets it back whole', async () => {
    const set = await juliet.iqCaller.request(xml('iq', { type: 'set', id: 'v2' }, julietsVcard()));
    assert.equal(set.attrs.type, 'result');
    assert.equal(set.children.length, 0);
    const reply = await juliet.iqCaller.request(xml('iq', { type: 'get' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.getChild('vCard', NS_VCARD)!.toString(), julietsVcard().toString());
  });

  test('Romeo asks for Juliet\'s vCard at her bare JID; the server answers for her (§3.3)', async () => {
    const reply = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost', id: 'v3' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.attrs.from, 'juliet@localhost');
    assert.equal(reply.attrs.to, 'romeo@localhost/orchard');
    const vcard = reply.getChild('vCard', NS_VCARD)!;
    assert.equal(vcard.getChildText('FN'), 'Juliet Capulet');
    assert.equal(vcard.getChild('N')!.getChildText('GIVEN'), 'Juliet');
    assert.equal(vcard.getChildText('DESC'), 'What\'s in a name? <That which we call a rose> & so on 🌹');
  });

  test('an account with no vCard and an account that does not exist give the same service-unavailable (§3.3)', async () => {
    for (const to of ['mercutio@localhost', 'nobody@localhost']) {
      await assert.rejects(
        romeo.iqCaller.request(xml('iq', { type: 'get', to }, xml('vCard', { xmlns: NS_VCARD }))),
        (err: StanzaError) => {
          assert.equal(err.condition, 'service-unavailable');
          assert.equal(err.element?.attrs.type, 'cancel');
          return true;
        },
        to,
      );
    }
  });

  test('Romeo may not set Juliet\'s vCard: forbidden (§3.2)', async () => {
    await assert.rejects(
      romeo.iqCaller.request(xml('iq', { type: 'set', to: 'juliet@localhost' }, xml('vCard', { xmlns: NS_VCARD }, xml('FN', {}, 'Romeo\'s Juliet')))),
      (err: StanzaError) => {
        assert.equal(err.condition, 'forbidden');
        assert.equal(err.element?.attrs.type, 'auth');
        return true;
      },
    );
    const reply = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.getChild('vCard', NS_VCARD)!.getChildText('FN'), 'Juliet Capulet');
  });

  test('a vCard larger than max_size is refused with not-acceptable and the old one stays', async () => {
    const huge = xml('vCard', { xmlns: NS_VCARD }, xml('FN', {}, 'Juliet'), xml('PHOTO', {}, xml('TYPE', {}, 'image/jpeg'), xml('BINVAL', {}, 'A'.repeat(5000))));
    await assert.rejects(juliet.iqCaller.request(xml('iq', { type: 'set' }, huge)), (err: StanzaError) => {
      assert.equal(err.condition, 'not-acceptable');
      assert.equal(err.element?.attrs.type, 'modify');
      assert.match(err.element?.getChildText('text', STANZAS) ?? '', /at most 4096/);
      return true;
    });
    const reply = await juliet.iqCaller.request(xml('iq', { type: 'get' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.getChild('vCard', NS_VCARD)!.toString(), julietsVcard().toString());
  });

  test('setting the vCard to her own bare JID works too, and replaces the whole vCard', async () => {
    const desc = xml('vCard', { xmlns: NS_VCARD }, xml('FN', {}, 'Juliet'), xml('DESC', {}, 'Check out my balcony'));
    await juliet.iqCaller.request(xml('iq', { type: 'set', to: 'juliet@localhost' }, desc));
    const reply = await juliet.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.getChild('vCard', NS_VCARD)!.toString(), desc.toString());
    // Back to the full one for the restart test.
    await juliet.iqCaller.request(xml('iq', { type: 'set' }, julietsVcard()));
  });

  test('the vCard survives a restart', async () => {
    await Promise.allSettled([romeo.stop(), juliet.stop()]);
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir: server.dataDir });
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const reply = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(reply.getChild('vCard', NS_VCARD)!.toString(), julietsVcard().toString());
    const own = await juliet.iqCaller.request(xml('iq', { type: 'get' }, xml('vCard', { xmlns: NS_VCARD })));
    assert.equal(own.getChild('vCard', NS_VCARD)!.toString(), julietsVcard().toString());
  });
});
