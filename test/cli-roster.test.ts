// `quire roster` for administrators: list, add (with a subscription state), remove.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectClient, startTestServer, xmppXml as xml } from './helpers/server.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function quire(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

test('an administrator manages a roster from the command line, and the user sees it at login', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-roster-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(config, 'hosts: [localhost]\ndata_dir: data\n');
  const c = ['--config', config];

  assert.equal((await quire(['user', 'add', 'romeo@localhost', '--password', 'pw-romeo', ...c])).code, 0);
  const added = await quire(['roster', 'add', 'romeo@localhost', 'Juliet@Localhost', '--name', 'Juliet', '--group', 'Capulets', '--subscription', 'both', ...c]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /juliet@localhost is in romeo@localhost's roster \(subscription both\)/);

  const listed = await quire(['roster', 'list', 'romeo@localhost', ...c]);
  assert.equal(listed.stdout, 'juliet@localhost\tboth\tJuliet\tCapulets\n');

  const bad = await quire(['roster', 'add', 'romeo@localhost', 'juliet@localhost', '--subscription', 'sometimes', ...c]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--subscription must be none, to, from or both/);
  const nobody = await quire(['roster', 'list', 'nobody@localhost', ...c]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /nobody@localhost does not exist/);

  // The server reads the same data folder: Romeo's client gets the roster the administrator wrote.
  const server = await startTestServer({ dataDir: join(dir, 'data') });
  try {
    const romeo = await connectClient(server, 'romeo', 'pw-romeo');
    const query = await romeo.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
    assert.deepEqual(query.getChildren('item').map((i) => i.attrs), [{ jid: 'juliet@localhost', name: 'Juliet', subscription: 'both' }]);
    await romeo.stop();
  } finally {
    await server.stop({ keepData: true });
  }

  const removed = await quire(['roster', 'remove', 'romeo@localhost', 'juliet@localhost', ...c]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((await quire(['roster', 'list', 'romeo@localhost', ...c])).stdout, '');
  const again = await quire(['roster', 'remove', 'romeo@localhost', 'juliet@localhost', ...c]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not in romeo@localhost's roster/);
});
