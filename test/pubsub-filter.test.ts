// XEP-0462 PubSub Type Filtering: Rosa lists only the blogs of a service, not their comment nodes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  PUBSUB,
  createNode,
  expectError,
  iq,
  result,
  xml,
  type X,
} from './helpers/pubsub.js';

const NS_FILTER = 'urn:xmpp:pubsub-filter:0';
const MICROBLOG = 'urn:xmpp:microblog:0';
const COMMENTS = 'urn:xmpp:microblog:0:comments';

function filtered(fields: Record<string, string[]>): X {
  return xml(
    'query',
    { xmlns: NS_DISCO_ITEMS },
    xml(
      'filter',
      { xmlns: NS_FILTER },
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_FILTER)),
        ...Object.entries(fields).map(([name, values]) => xml('field', { var: name, type: 'list-multi' }, ...values.map((v) => xml('value', {}, v)))),
      ),
    ),
  );
}

const nodesOf = (query: X | undefined) => (query?.getChildren('item') ?? []).map((i) => i.attrs.node).sort();

describe('XEP-0462 PubSub type filtering', () => {
  let server: TestServer;
  let rosa: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  pubsub:' });
    await server.createUser('rosa');
    rosa = await connectClient(server, 'rosa');
    await createNode(rosa, PUBSUB, 'news', { 'pubsub#type': MICROBLOG });
    await createNode(rosa, PUBSUB, 'news-comments', { 'pubsub#type': COMMENTS });
    await createNode(rosa, PUBSUB, 'untyped');
  });

  after(async () => {
    await rosa?.stop();
    await server?.stop();
  });

  test('§2.1: the service advertises urn:xmpp:pubsub-filter:0', async () => {
    const info = result(await iq(rosa, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO })))!;
    assert.ok(info.getChildren('feature').some((f) => f.attrs.var === NS_FILTER));
  });

  test('§2.2: included-types keeps the listed types, and an empty value means untyped nodes', async () => {
    assert.deepEqual(nodesOf(result(await iq(rosa, 'get', PUBSUB, filtered({ 'included-types': [MICROBLOG] })))), ['news']);
    assert.deepEqual(nodesOf(result(await iq(rosa, 'get', PUBSUB, filtered({ 'included-types': [MICROBLOG, ''] })))), ['news', 'untyped']);
  });

  test('§2.2: excluded-types leaves the listed types out', async () => {
    assert.deepEqual(nodesOf(result(await iq(rosa, 'get', PUBSUB, filtered({ 'excluded-types': [COMMENTS] })))), ['news', 'untyped']);
    assert.deepEqual(nodesOf(result(await iq(rosa, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS })))), ['news', 'news-comments', 'untyped']);
  });

  test('§2.2: both lists at once is a bad-request', async () => {
    expectError(await iq(rosa, 'get', PUBSUB, filtered({ 'included-types': [MICROBLOG], 'excluded-types': [COMMENTS] })), 'modify', 'bad-request');
  });
});
