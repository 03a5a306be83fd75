// docs/publishing.md runs: its tour with the real curl (one shell) and real XMPP clients, every answer shown
// checked (test/helpers/docs.ts). The server's http.public_url is the document's http://localhost:5280, so links
// in the answers are compared as written; only the commands are pointed at the test server's port. The tour's
// `quire token create` is stood in for by a shell function that prints a token made on the running server, since
// the test server's storage is not a config file's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestServer } from './helpers/server.js';
import { MICROBLOG, PUBLISHING_MODULES } from './helpers/blog.js';
import { Shell, blocks, runTour, tourClients, type TourClient } from './helpers/docs.js';

const DOC = fileURLToPath(new URL('../../docs/publishing.md', import.meta.url));
const DOC_BASE = 'http://localhost:5280';

test('the examples of docs/publishing.md do what it says', async (t) => {
  if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed (apt-get install curl)');
  const server = await startTestServer({ modules: PUBLISHING_MODULES, extra: `http: { public_url: "${DOC_BASE}" }` });
  const shell = new Shell();
  let clients = new Map<string, TourClient>();
  try {
    clients = await tourClients(server, ['alice', 'bob']);
    const { token } = await server.running.server.tokens.create('localhost', 'alice', { label: 'Blog editor', scope: 'write', nodes: [MICROBLOG] });
    await shell.run(`quire() { echo '${token}'; }`);
    const base = `http://127.0.0.1:${server.httpPort}`;
    const text = readFileSync(DOC, 'utf8');
    const end = text.split('\n').findIndex((l) => l === '## Reading');
    const tour = blocks(text).filter((b) => b.line < end);
    const ran = await runTour(tour, 'docs/publishing.md', shell, clients, (s) => s.split(DOC_BASE).join(base));
    // As many as the tour has: a change in how blocks are found must not quietly skip some.
    assert.equal(ran, 13, `ran ${ran} examples`);
  } finally {
    shell.close();
    for (const { client } of clients.values()) await client.stop().catch(() => {});
    await server.stop();
  }
});
