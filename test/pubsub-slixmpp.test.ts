// Interop: Debian's slixmpp and its XEP-0060 plugin (test/interop/slix_pubsub.py) use pubsub.localhost:
// disco, create, subscribe, publish with and without an ItemID, the notification, retrieval and retraction, and a
// search of the node's archive (XEP-0442, XEP-0431) read with slixmpp's MAM stanzas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.js';

// Debian's slixmpp is installed for the system interpreter, not for whatever python3 is first on PATH.
const PYTHON = '/usr/bin/python3';

const slixmppMissing = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import slixmpp.plugins.xep_0060'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is not available (${probe.error.message}); install python3 and python3-slixmpp (apt-get install python3-slixmpp)`;
  if (probe.status !== 0) return `slixmpp is not installed for ${PYTHON}: apt-get install python3-slixmpp`;
  return false;
})();

function findScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'interop', 'slix_pubsub.py');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('test/interop/slix_pubsub.py not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

interface SlixEvent {
  event: string;
  [field: string]: unknown;
}

function runScript(args: string[]): Promise<{ code: number | null; events: SlixEvent[]; stderr: string }> {
  const child = spawn(PYTHON, [findScript(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code,
        stderr,
        events: stdout
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as SlixEvent),
      }),
    );
  });
}

describe('slixmpp XEP-0060 interop', { skip: slixmppMissing }, () => {
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
