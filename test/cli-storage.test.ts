// `quire storage quota`, `usage` and `reindex` as real processes, on the data folder of a server that applies
// what they set: an account's own limits from the command line, and the usage the server counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from './helpers/server.js';
import { withoutTextSearch } from './helpers/mam.js';
import { basic, storageUrl } from './helpers/http.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  pubsub:\n  storage: { quota_bytes: 5000, default_max_revisions: 0 }';

function quire(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

test('an administrator sets an account\'s limits and reads its usage from the command line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(config, `hosts: [localhost]\ndata_dir: data\n${MODULES}\n`);
  const c = ['--config', config];
  assert.equal((await quire(['user', 'add', 'alice@localhost', '--password', 'secret-password', ...c])).code, 0);

  const shown = await quire(['storage', 'quota', 'alice@localhost', ...c]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.stdout, 'limits: 5000 bytes (host default), 100000 items (host default)\n');
  const set = await quire(['storage', 'quota', 'alice@localhost', '--bytes', '200', '--items', '0', ...c]);
  assert.equal(set.stdout, 'set the limits of alice@localhost\nlimits: 200 bytes (own), no limit (own)\n');
  const bad = await quire(['storage', 'quota', 'alice@localhost', '--bytes', 'lots', ...c]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--bytes takes a number/);
  assert.equal((await quire(['storage', 'usage', 'nobody@localhost', ...c])).code, 1);

  // The server applies the account's own limit.
  const server = await startTestServer({ modules: MODULES, dataDir: join(dir, 'data') });
  try {
    const url = (...s: string[]) => storageUrl(server, ...s);
    const headers = { ...basic('alice'), 'content-type': 'application/xml' };
    assert.equal((await fetch(url('alice@localhost', 'notes'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: '{"max_items": 10}' })).status, 201);
    const fits = `<note xmlns="urn:example:notes">${'x'.repeat(150 - '<note xmlns="urn:example:notes"></note>'.length)}</note>`;
    assert.equal((await fetch(url('alice@localhost', 'notes', 'n1'), { method: 'PUT', headers, body: fits })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'notes', 'n2'), { method: 'PUT', headers, body: '<note xmlns="urn:example:notes">more than fits</note>' })).status, 507);
  } finally {
    await server.stop({ keepData: true });
  }

  const usage = await quire(['storage', 'usage', 'alice@localhost', ...c]);
  assert.equal(usage.code, 0, usage.stderr);
  assert.equal(usage.stdout, 'alice@localhost stores 1 items, 150 bytes (0 earlier revisions) in 1 nodes\nlimits: 200 bytes (own), no limit (own)\n  notes\t1 items\t150 bytes\t0 revisions\n');
  const recounted = await quire(['storage', 'usage', 'alice@localhost', '--recount', ...c]);
  assert.equal(recounted.stdout, usage.stdout);
  const reset = await quire(['storage', 'quota', 'alice@localhost', '--bytes', 'default', '--items', 'default', ...c]);
  assert.equal(reset.stdout, 'set the limits of alice@localhost\nlimits: 5000 bytes (host default), 100000 items (host default)\n');
  const unit = await quire(['storage', 'quota', 'alice@localhost', '--bytes', '10M', ...c]);
  assert.match(unit.stdout, /limits: 10485760 bytes \(own\)/);
});

test('quire storage reindex makes items stored without search text searchable, in the order they had', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-reindex-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(config, `hosts: [localhost]\ndata_dir: data\n${MODULES}\n`);
  const dataDir = join(dir, 'data');
  const ids = async (server: TestServer, query = '') => (await (await fetch(`${storageUrl(server, 'alice@localhost', 'notes')}${query}`)).json()).items.map((i: { id: string }) => i.id);

  // Storage that cannot search keeps no text, as a Quire before search did.
  let server = await startTestServer({ modules: MODULES, dataDir, wrapStorage: withoutTextSearch });
  try {
    await server.createUser('alice');
    const json = { ...basic('alice'), 'content-type': 'application/json' };
    assert.equal((await fetch(storageUrl(server, 'alice@localhost', 'notes'), { method: 'PUT', headers: json, body: '{"access_model": "open", "max_items": 10, "max_revisions": 5}' })).status, 201);
    for (const [id, text] of [['n1', 'balcony one'], ['n2', 'garden'], ['n3', 'balcony three'], ['n1', 'balcony again']]) {
      assert.ok([200, 201, 204].includes((await fetch(storageUrl(server, 'alice@localhost', 'notes', id), { method: 'PUT', headers: json, body: JSON.stringify({ text }) })).status));
    }
  } finally {
    await server.stop({ keepData: true });
  }
  server = await startTestServer({ modules: MODULES, dataDir });
  try {
    assert.deepEqual(await ids(server, '?q=balcony'), []);
  } finally {
    await server.stop({ keepData: true });
  }

  const reindex = await quire(['storage', 'reindex', '--config', config]);
  assert.equal(reindex.code, 0, reindex.stderr);
  assert.equal(reindex.stdout, 'indexed the text of 3 items\n');

  server = await startTestServer({ modules: MODULES, dataDir });
  try {
    assert.deepEqual(await ids(server), ['n1', 'n3', 'n2']);
    assert.deepEqual(await ids(server, '?q=balcony'), ['n1', 'n3']);
    assert.deepEqual(await ids(server, '?q=again'), ['n1']);
  } finally {
    await server.stop();
  }
});
