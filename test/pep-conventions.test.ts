// XEP-0222 and XEP-0223: persistent public and private data in PEP, by publish-options alone. Juliet keeps a
// public profile (open access) and private notes (whitelist); Romeo reads the first and not the second; both
// survive a restart of the server; a publish whose preconditions the node does not meet fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_PUBSUB, expectError, iq, publish, result, xml, type X } from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:';
const PUBLIC = 'urn:example:profile';
const PRIVATE = 'urn:example:notes';
const PUBLIC_OPTIONS = { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'open' };
const PRIVATE_OPTIONS = { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'whitelist' };

describe('XEP-0222/XEP-0223 persistent public and private data in PEP', () => {
  let server: TestServer;
  let juliet: XmppClient;
  let romeo: XmppClient;

  const login = async () => {
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
  };
  const items = (client: XmppClient, node: string) => iq(client, 'get', 'juliet@localhost', xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node })));
  const payloadOf = (reply: X, name: string, ns: string) => result(reply)!.getChild('items')!.getChild('item')!.getChild(name, ns);

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('juliet');
    await server.createUser('romeo');
    await login();
  });

  after(async () => {
    await Promise.allSettled([juliet?.stop(), romeo?.stop()]);
    await server?.stop();
  });

  test('XEP-0222 §3: public data published with persist_items and access_model open is readable by anyone', async () => {
    await publish(juliet, undefined, PUBLIC, xml('profile', { xmlns: PUBLIC }, 'Capulet'), 'current', PUBLIC_OPTIONS);
    assert.equal(payloadOf(await items(romeo, PUBLIC), 'profile', PUBLIC)?.text(), 'Capulet');
  });

  test('XEP-0223 §3: private data published with access_model whitelist is hers alone', async () => {
    await publish(juliet, undefined, PRIVATE, xml('notes', { xmlns: PRIVATE }, 'meet at the tomb'), 'current', PRIVATE_OPTIONS);
    assert.equal(payloadOf(await items(juliet, PRIVATE), 'notes', PRIVATE)?.text(), 'meet at the tomb');
    // XEP-0060 §6.5.9.3: not on the whitelist.
    expectError(await items(romeo, PRIVATE), 'cancel', 'not-allowed', 'closed-node');
  });

  test('XEP-0223 §3: a publish whose preconditions the node does not meet fails with precondition-not-met', async () => {
    const reply = await iq(
      juliet,
      'set',
      undefined,
      xml(
        'pubsub',
        { xmlns: NS_PUBSUB },
        xml('publish', { node: PRIVATE }, xml('item', { id: 'current' }, xml('notes', { xmlns: PRIVATE }, 'leaked'))),
        xml('publish-options', {}, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, 'http://jabber.org/protocol/pubsub#publish-options')), xml('field', { var: 'pubsub#access_model' }, xml('value', {}, 'open')))),
      ),
    );
    expectError(reply, 'cancel', 'conflict', 'precondition-not-met');
    // The item was not replaced.
    assert.equal(payloadOf(await items(juliet, PRIVATE), 'notes', PRIVATE)?.text(), 'meet at the tomb');
  });

  test('XEP-0223 §1: the data persists across a server restart, access model included', async () => {
    await Promise.allSettled([juliet.stop(), romeo.stop()]);
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir });
    await login();
    assert.equal(payloadOf(await items(juliet, PRIVATE), 'notes', PRIVATE)?.text(), 'meet at the tomb');
    expectError(await items(romeo, PRIVATE), 'cancel', 'not-allowed', 'closed-node');
    assert.equal(payloadOf(await items(romeo, PUBLIC), 'profile', PUBLIC)?.text(), 'Capulet');
  });
});
