// Optimistic concurrency: of N writers that all read the same ETag and PUT with If-Match at once, exactly one wins
// and the others get 412; of N creators with If-None-Match: *, exactly one creates. The condition is checked inside
// the service's queue, where XMPP publishes wait their turn too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { PUBSUB, iq, pubsub, roundTrip, xml } from './helpers/pubsub.js';
import { STORAGE_MODULES, basic, storageUrl } from './helpers/http.js';

describe('Storage API: concurrent conditional writers', () => {
  let server: TestServer;
  let alice: XmppClient;
  const url = (...segments: string[]) => storageUrl(server, ...segments);
  const headers = (extra: Record<string, string>) => ({ ...basic('alice'), 'content-type': 'application/json', ...extra });

  before(async () => {
    server = await startTestServer({ modules: STORAGE_MODULES });
    await server.createUser('alice');
    alice = await connectClient(server, 'alice', undefined, 'desk');
    await roundTrip(alice);
    assert.equal((await fetch(url(PUBSUB, 'counter'), { method: 'PUT', headers: headers({}), body: '{"access_model": "open"}' })).status, 201);
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await server?.stop();
  });

  test('10 PUTs with the same If-Match: exactly one 2xx, nine 412; the winner is what is stored', async () => {
    const created = await fetch(url(PUBSUB, 'counter', 'value'), { method: 'PUT', headers: headers({}), body: '{"n": 0}' });
    const etag = created.headers.get('etag')!;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => fetch(url(PUBSUB, 'counter', 'value'), { method: 'PUT', headers: headers({ 'if-match': etag }), body: `{"n": ${i + 1}}` })),
    );
    const statuses = answers.map((a) => a.status);
    assert.deepEqual(statuses.filter((s) => s >= 200 && s < 300), [204], statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 412).length, 9, statuses.join(' '));
    const winner = statuses.indexOf(204);
    const stored = await fetch(url(PUBSUB, 'counter', 'value'));
    assert.deepEqual(await stored.json(), { n: winner + 1 });
    assert.equal(stored.headers.get('etag'), answers[winner].headers.get('etag'));
    // Every loser is told why.
    for (const answer of answers.filter((a) => a.status === 412)) assert.equal((await answer.json()).error, 'precondition-failed');
  });

  test('10 creators with If-None-Match: *: exactly one 201', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => fetch(url(PUBSUB, 'counter', 'fresh'), { method: 'PUT', headers: headers({ 'if-none-match': '*' }), body: `{"by": ${i}}` })),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, ...Array(9).fill(412)]);
  });

  test('an XMPP publish in between makes a conditional HTTP write with the older ETag fail', async () => {
    const etag = (await fetch(url(PUBSUB, 'counter', 'value'))).headers.get('etag')!;
    const published = await iq(alice, 'set', PUBSUB, pubsub(xml('publish', { node: 'counter' }, xml('item', { id: 'value' }, xml('json', { xmlns: 'urn:xmpp:json:0' }, '{"n": "xmpp"}')))));
    assert.equal(published.attrs.type, 'result');
    assert.equal((await fetch(url(PUBSUB, 'counter', 'value'), { method: 'PUT', headers: headers({ 'if-match': etag }), body: '{"n": "late"}' })).status, 412);
    assert.deepEqual(await (await fetch(url(PUBSUB, 'counter', 'value'))).json(), { n: 'xmpp' });
  });
});
