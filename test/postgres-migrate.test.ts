// `quire migrate` between SQLite and PostgreSQL, as an operator runs it. Skipped without PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { PostgresBackend } from '../src/storage/postgres/index.js';
import { SqliteBackend } from '../src/storage/sqlite/index.js';

const URL_BASE = process.env.QUIRE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SKIP_MESSAGE =
  'PostgreSQL is not reachable: start PostgreSQL on 127.0.0.1:5432 (see ../shared/design/SERVICES.md) or set QUIRE_TEST_POSTGRES_URL';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const admin = () => postgres(URL_BASE, { max: 1, connect_timeout: 2, onnotice: () => {} });
const sql = admin();
const reachable = await sql`SELECT 1`.then(() => true, () => false);

const quire = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('quire migrate copies SQLite to PostgreSQL and back, and can run twice; archives stay searchable', { skip: reachable ? false : SKIP_MESSAGE }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
  const schema = `quire_test_${randomBytes(6).toString('hex')}`;
  try {
    await sql`CREATE SCHEMA ${sql(schema)}`;
    const url = new URL(URL_BASE);
    url.searchParams.set('search_path', schema);

    const source = new SqliteBackend({ path: join(dir, 'from.db') });
    await source.open();
    await source.accounts.create('localhost', 'juliet', { createdAt: 1, credentials: {} });
    await source.keyval('vcard').set('localhost', 'juliet', '<vCard/>');
    await source.map('roster').set('localhost', 'juliet', 'romeo@localhost', '<item/>');
    await source.archive('offline').append('localhost', 'juliet', { id: 'o1', value: '<message/>' });
    await source.archive('mam').append('localhost', 'juliet', { id: 'a1', with: 'romeo@localhost', value: '<message><body>…</body></message>', text: 'Parting is such sweet sorrow' });
    await source.archive('mam').append('localhost', 'juliet', { id: 'a2', with: 'romeo@localhost', value: '<message><body>…</body></message>', text: 'À Vérone, sous le balcon' });
    await source.archive('mam').append('localhost', 'juliet', { id: 'a3', with: 'romeo@localhost', value: '<message><received/></message>' });
    await source.close();
    /** What a search finds in Juliet's MAM archive: each search once as a word, once with accents, once by prefix. */
    const searches = async (backend: PostgresBackend | SqliteBackend) => {
      const mam = backend.archive('mam');
      const found = async (text: string) => (await mam.query('localhost', 'juliet', { text })).items.map((item) => item.id);
      return [await found('sorrow'), await found('verone BALCON'), await found('swe* part*'), await found('received'), await mam.count('localhost', 'juliet', { text: 'sous' })];
    };
    const expected = [['a1'], ['a2'], ['a1'], [], 1];

    for (let run = 0; run < 2; run++) {
      const result = quire(['migrate', '--from', `sqlite:${join(dir, 'from.db')}`, '--to', `postgres:${url}`]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /copied 1 accounts, 1 keyval, 1 map and 4 archive rows from sqlite to postgres; counts verified/);
    }
    const [{ n }] = await sql`SELECT COUNT(*)::int AS n FROM ${sql(schema)}.archive`;
    assert.equal(n, 4);
    const migrated = new PostgresBackend({ url: URL_BASE, schema, max: 1 });
    await migrated.open();
    try {
      assert.deepEqual(await searches(migrated), expected);
    } finally {
      await migrated.close();
    }

    const back = quire(['migrate', '--from', url.toString(), '--to', `sqlite:${join(dir, 'back.db')}`]);
    assert.equal(back.status, 0, back.stderr);
    const copy = new SqliteBackend({ path: join(dir, 'back.db') });
    await copy.open();
    try {
      assert.deepEqual(await copy.accounts.list('localhost'), ['juliet']);
      assert.equal(await copy.keyval('vcard').get('localhost', 'juliet'), '<vCard/>');
      assert.equal(await copy.map('roster').get('localhost', 'juliet', 'romeo@localhost'), '<item/>');
      assert.deepEqual((await copy.archive('offline').query('localhost', 'juliet')).items.map((item) => item.id), ['o1']);
      assert.deepEqual(await searches(copy), expected);
    } finally {
      await copy.close();
    }

    const wrong = quire(['migrate', '--from', 'mysql://db', '--to', `sqlite:${join(dir, 'x.db')}`]);
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /names no storage/);
  } finally {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`.catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => sql.end({ timeout: 1 }));
