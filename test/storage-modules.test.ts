// The storage module needs neither pep nor pubsub: it serves whichever is enabled, and says plainly what is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './helpers/server.js';
import { PUBSUB } from './helpers/pubsub.js';
import { basic, storageUrl } from './helpers/http.js';

const json = { ...basic('alice'), 'content-type': 'application/json' };

test('with pubsub only: pubsub.<host> is served, accounts are a 404 that says why', async (t) => {
  const server = await startTestServer({ modules: 'modules:\n  roster:\n  presence:\n  disco:\n  ping:\n  pubsub:\n  storage:' });
  t.after(() => server.stop());
  await server.createUser('alice');
  assert.equal((await fetch(storageUrl(server, PUBSUB, 'n'), { method: 'PUT', headers: json, body: '{"access_model": "open"}' })).status, 201);
  assert.equal((await fetch(storageUrl(server, PUBSUB, 'n', 'i'), { method: 'PUT', headers: json, body: '{}' })).status, 201);
  const pep = await fetch(storageUrl(server, 'alice@localhost'), { headers: basic('alice') });
  assert.equal(pep.status, 404);
  assert.match((await pep.json()).text, /PEP\) is not enabled on localhost/);
});

test('with pep only: accounts are served, service domains are a 404; CORS for the origins named only', async (t) => {
  const server = await startTestServer({ modules: "modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  storage: { cors_origins: ['https://app.example'] }" });
  t.after(() => server.stop());
  await server.createUser('alice');
  assert.equal((await fetch(storageUrl(server, 'alice@localhost', 'n', 'i'), { method: 'PUT', headers: json, body: '{}' })).status, 201);
  assert.equal((await fetch(storageUrl(server, 'alice@localhost', 'n', 'i'), { headers: basic('alice') })).status, 200);
  assert.equal((await fetch(storageUrl(server, PUBSUB))).status, 404);
  const named = await fetch(storageUrl(server, 'alice@localhost', 'n', 'i'), { headers: { ...basic('alice'), origin: 'https://app.example' } });
  assert.equal(named.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.equal(named.headers.get('vary'), 'Origin, Accept');
  const other = await fetch(storageUrl(server, 'alice@localhost', 'n', 'i'), { headers: { ...basic('alice'), origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});
