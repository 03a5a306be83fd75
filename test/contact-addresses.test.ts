// XEP-0157 Contact Addresses: the addresses from the config appear in the server's disco#info as an XEP-0128
// form; a value that is not a URI stops the server before it starts, with the line and the fix.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { loadConfigText } from '../src/config/index.js';
import { enabledModules } from '../src/start.js';
import { connectClient, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DATA = 'jabber:x:data';
const SERVERINFO = 'http://jabber.org/network/serverinfo';

const MODULES = `modules:
  disco:
  contact_addresses:
    abuse: ['mailto:abuse@shakespeare.lit', 'xmpp:abuse@shakespeare.lit']
    admin: [mailto:xmpp@shakespeare.lit, 'xmpp:admins@shakespeare.lit']
    feedback:
      - http://shakespeare.lit/feedback.php
      - mailto:feedback@shakespeare.lit
      - xmpp:feedback@shakespeare.lit?message
    security: xmpp:security@shakespeare.lit
    status: [https://status.shakespeare.lit]
    support: [http://shakespeare.lit/support.php, xmpp:support@shakespeare.lit]`;

async function discoInfo(client: XmppClient) {
  const reply = await client.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: NS_DISCO_INFO })));
  return reply.getChild('query', NS_DISCO_INFO)!;
}

function serverinfoForms(query: import('@xmpp/xml').Element) {
  return query.getChildren('x', NS_DATA).filter((x) => x.getChildren('field').some((f) => f.attrs.var === 'FORM_TYPE' && f.getChildText('value') === SERVERINFO));
}

describe('contact addresses (XEP-0157)', () => {
  let server: TestServer;
  let juliet: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('juliet');
    juliet = await connectClient(server, 'juliet', undefined, 'chamber');
  });

  after(async () => {
    await juliet?.stop().catch(() => {});
    await server?.stop();
  });

  test('Juliet asks the server for disco#info and finds its contact addresses in a serverinfo form (§3)', async () => {
    const query = await discoInfo(juliet);
    const forms = serverinfoForms(query);
    assert.equal(forms.length, 1);
    const form = forms[0];
    assert.equal(form.attrs.type, 'result');
    const fields = form.getChildren('field');
    assert.deepEqual(
      fields.map((f) => [f.attrs.var, f.attrs.type]),
      [
        ['FORM_TYPE', 'hidden'],
        ['abuse-addresses', 'list-multi'],
        ['admin-addresses', 'list-multi'],
        ['feedback-addresses', 'list-multi'],
        ['security-addresses', 'list-multi'],
        ['status-addresses', 'list-multi'],
        ['support-addresses', 'list-multi'],
      ],
    );
    const values = (name: string) => fields.find((f) => f.attrs.var === name)!.getChildren('value').map((v) => v.text());
    assert.deepEqual(values('FORM_TYPE'), [SERVERINFO]);
    assert.deepEqual(values('abuse-addresses'), ['mailto:abuse@shakespeare.lit', 'xmpp:abuse@shakespeare.lit']);
    assert.deepEqual(values('admin-addresses'), ['mailto:xmpp@shakespeare.lit', 'xmpp:admins@shakespeare.lit']);
    assert.deepEqual(values('feedback-addresses'), ['http://shakespeare.lit/feedback.php', 'mailto:feedback@shakespeare.lit', 'xmpp:feedback@shakespeare.lit?message']);
    // A single address may be written without a list.
    assert.deepEqual(values('security-addresses'), ['xmpp:security@shakespeare.lit']);
    assert.deepEqual(values('status-addresses'), ['https://status.shakespeare.lit']);
    assert.deepEqual(values('support-addresses'), ['http://shakespeare.lit/support.php', 'xmpp:support@shakespeare.lit']);
    // No sales addresses were configured, so there is no such field.
    assert.equal(fields.find((f) => f.attrs.var === 'sales-addresses'), undefined);
  });

  test('asking twice gives the same form (the published one is not consumed)', async () => {
    const first = serverinfoForms(await discoInfo(juliet))[0].toString();
    const second = serverinfoForms(await discoInfo(juliet))[0].toString();
    assert.equal(second, first);
  });
});

describe('contact addresses configuration', () => {
  test('with no addresses configured, no form is published', async () => {
    const server = await startTestServer({ modules: 'modules:\n  disco:\n  contact_addresses:' });
    try {
      await server.createUser('juliet');
      const juliet = await connectClient(server, 'juliet');
      try {
        assert.equal(serverinfoForms(await discoInfo(juliet)).length, 0);
      } finally {
        await juliet.stop();
      }
    } finally {
      await server.stop();
    }
  });

  test('a value that is not a URI is a config error naming the key, the line and the fix', () => {
    const check = (modules: string) => () => enabledModules(loadConfigText(`hosts: [localhost]\n${modules}\n`, 'quire.yaml', tmpdir()));
    assert.throws(check("modules:\n  contact_addresses:\n    abuse: ['xmpp:abuse@shakespeare.lit', abuse@shakespeare.lit]\n    status: status.shakespeare.lit"), (err: Error) => {
      assert.equal(err.name, 'ConfigError');
      assert.equal(
        err.message,
        [
          'quire.yaml:4:43: modules.contact_addresses.abuse[1]: expected a URI, got "abuse@shakespeare.lit". Fix: write mailto:abuse@shakespeare.lit for email, or xmpp:abuse@shakespeare.lit for XMPP.',
          'quire.yaml:5:5: modules.contact_addresses.status[0]: expected a URI, got "status.shakespeare.lit". Fix: write https://status.shakespeare.lit.',
        ].join('\n'),
      );
      return true;
    });
    assert.throws(check("modules:\n  contact_addresses:\n    support: ['mailto:']"), /support\[0\]: expected a URI, got "mailto:"/);
    assert.throws(check('modules:\n  contact_addresses:\n    abuze: [mailto:abuse@shakespeare.lit]'), /modules\.contact_addresses\.abuze: unknown key\. Did you mean "abuse"\?/);
  });
});
