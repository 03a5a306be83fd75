// Interop: Debian's slixmpp and its XEP-0060 plugin (test/interop/slix_pubsub.py) use pubsub.localhost:
// disco, create, subscribe, publish with and without an ItemID, the notification, retrieval and retraction, and a
// search of the node's archive (XEP-0442, XEP-0431) read with slixmpp's MAM stanzas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { runInteropScript, slixmppMissing, type SlixEvent } from './helpers/slixmpp.js';

const missing = slixmppMissing('slixmpp.plugins.xep_0060');

const runScript = (args: string[]) => runInteropScript('slix_pubsub.py', args);

describe('slixmpp XEP-0060 interop', { skip: missing }, () => {
  let server: TestServer;

  before(async () => {
    // slixmpp 1.8 knows only the tls-unique channel binding; without -PLUS on offer it uses plain SCRAM.
    server = await startTestServer({
      modules: 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  pubsub:\n  pubsub_mam:',
      extra: 'auth: { mechanisms: [SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1] }',
    });
    await server.createUser('horatio', 'horatio-password');
  });

  after(async () => {
    await server?.stop();
  });

  test('create, subscribe, publish, notification, items and retract through the xep_0060 plugin; a search of the node archive', async () => {
    const run = await runScript(['--port', String(server.port), '--jid', 'horatio@localhost/slix', '--password', 'horatio-password', '--service', 'pubsub.localhost', '--node', 'princely_musings']);
    const why = `slix_pubsub.py (${run.code}):\n${run.events.map((e) => JSON.stringify(e)).join('\n')}\n${run.stderr}`;
    assert.equal(run.code, 0, why);
    const byName = (name: string) => run.events.filter((e) => e.event === name);
    const info = byName('info')[0];
    assert.deepEqual(info.identities, [['pubsub', 'service']], why);
    assert.ok((info.features as string[]).includes('http://jabber.org/protocol/pubsub#publish'), why);
    assert.deepEqual(byName('created')[0], { event: 'created', node: 'princely_musings' });
    assert.equal(byName('subscribed')[0].subscription, 'subscribed');
    const published = byName('published');
    assert.equal(published[0].id, 'first');
    assert.match(String(published[1].id), /^[0-9a-f]{32}$/);
    assert.deepEqual(byName('notified')[0], { event: 'notified', node: 'princely_musings', id: 'first', title: 'Soliloquy' });
    assert.deepEqual(byName('items')[0], { event: 'items', ids: ['first', published[1].id], titles: ['Soliloquy', 'Second thoughts'] });
    assert.deepEqual(byName('retracted')[0], { event: 'retracted', ids: [published[1].id] });
    const archive = byName('archive')[0] as SlixEvent & { results: [string, string, string][] };
    assert.deepEqual(archive.results.map(([, item, title]) => [item, title]), [[published[1].id, 'Second thoughts']], why);
    assert.match(archive.results[0][0], new RegExp(`^${published[1].id}@[\\w-]+$`), 'a result is named by its item and revision');
    assert.deepEqual([archive.count, archive.complete], [1, true]);
    assert.equal(run.events.at(-1)?.event, 'done');
  });
});
