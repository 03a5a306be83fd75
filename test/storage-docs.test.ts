// docs/storage.md runs: every ```sh block of its tour with the real curl (in one shell, so variables carry over), its
// ```http answer checked (status, the headers shown, the body, `…` standing for what differs between runs), and its
// ```xml blocks sent by or expected at a real XMPP client (test/helpers/docs.ts). The server's http.public_url is the
// document's http://localhost:5280, so URLs in the answers are compared as written; only the commands are pointed
// at the test server's port. An example that breaks makes this test fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestServer } from './helpers/server.js';
import { STORAGE_MODULES } from './helpers/http.js';
import { Shell, blocks, runTour, tourClients, type TourClient } from './helpers/docs.js';

const DOC = fileURLToPath(new URL('../../docs/storage.md', import.meta.url));
const DOC_BASE = 'http://localhost:5280';

test('the examples of docs/storage.md do what it says', async (t) => {
  if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed (apt-get install curl)');
  const server = await startTestServer({ modules: `${STORAGE_MODULES}\n  pubsub_mam:`, extra: `http: { public_url: "${DOC_BASE}" }` });
  const shell = new Shell();
  let clients = new Map<string, TourClient>();
  try {
    clients = await tourClients(server, ['alice', 'bob']);
    const base = `http://127.0.0.1:${server.httpPort}`;
    const text = readFileSync(DOC, 'utf8');
    const end = text.split('\n').findIndex((l) => l === '## Authentication');
    const tour = blocks(text).filter((b) => b.line < end);
    const ran = await runTour(tour, 'docs/storage.md', shell, clients, (s) => s.split(DOC_BASE).join(base));
    // As many as the tour has: a change in how blocks are found must not quietly skip some.
    assert.equal(ran, 19, `ran ${ran} examples`);
  } finally {
    shell.close();
    for (const { client } of clients.values()) await client.stop().catch(() => {});
    await server.stop();
  }
});
