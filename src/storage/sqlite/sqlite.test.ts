import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SqliteBackend } from './index.js';
import { storageSuite } from '../suite.js';

/** A database path inside a fresh temporary folder; the nested folder does not exist yet, open() creates it. */
function tempDatabase(): { path: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'quire-sqlite-'));
  return { path: join(dir, 'data', 'quire.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Reads the file with a separate connection, as an operator's sqlite3 shell would. */
function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

storageSuite('sqlite', async () => {
  const { path, cleanup } = tempDatabase();
  return { backend: new SqliteBackend({ path }), reopen: async () => new SqliteBackend({ path }), cleanup };
});

describe('sqlite backend', () => {
  test('the database is in WAL mode', async () => {
    const { path, cleanup } = tempDatabase();
    const backend = new SqliteBackend({ path });
    try {
      await backend.open();
      assert.equal(backend.kind, 'sqlite');
      assert.equal(inspect(path, (db) => db.pragma('journal_mode', { simple: true })), 'wal');
    } finally {
      await backend.close();
      await cleanup();
    }
  });

  test('migrations run once: opening an existing database again is safe', async () => {
    const { path, cleanup } = tempDatabase();
    try {
      const first = new SqliteBackend({ path });
      await first.open();
      await first.keyval('vcard').set('example.org', 'juliet', '<vCard/>');
      await first.close();

      const second = new SqliteBackend({ path });
      await second.open();
      assert.equal(await second.keyval('vcard').get('example.org', 'juliet'), '<vCard/>');
      await second.close();

      const versions = inspect(path, (db) => db.prepare('SELECT version FROM schema_migrations ORDER BY version').all());
      assert.deepEqual(versions, [{ version: 1 }, { version: 2 }]);
    } finally {
      await cleanup();
    }
  });

  test('a database from before search (schema 1) is upgraded: its items stay, without words, and new ones have them', async () => {
    const { path, cleanup } = tempDatabase();
    try {
      mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      db.exec(MIGRATIONS[0].sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)').run();
      db.prepare("INSERT INTO archive (store, host, username, id, when_ms, with_jid, value) VALUES ('mam', 'example.org', 'juliet', 'old', 1, 'romeo@example.org', '<body>sun</body>')").run();
      db.close();

      const backend = new SqliteBackend({ path });
      await backend.open();
      try {
        const mam = backend.archive('mam');
        await mam.append('example.org', 'juliet', { id: 'new', when: 2, with: 'romeo@example.org', value: '<body>sun</body>', text: 'sun' });
        const found = async (q: object) => (await mam.query('example.org', 'juliet', q)).items.map((item) => item.id);
        assert.deepEqual(await found({}), ['old', 'new']);
        assert.deepEqual(await found({ text: 'sun' }), ['new']);
        assert.deepEqual(await found({ withPrefix: 'romeo@' }), ['old', 'new']);
        assert.deepEqual(await mam.usage('example.org', 'juliet'), { items: 2, bytes: 32 });
        assert.equal(await mam.delete('example.org', 'juliet', { ids: ['old'] }), 1);
      } finally {
        await backend.close();
      }
      const versions = inspect(path, (db) => db.prepare('SELECT version FROM schema_migrations ORDER BY version').all());
      assert.deepEqual(versions, [{ version: 1 }, { version: 2 }]);
    } finally {
      await cleanup();
    }
  });

  test('the search index keeps one row per item with words, however items come and go', async () => {
    const { path, cleanup } = tempDatabase();
    const backend = new SqliteBackend({ path });
    const indexed = () => inspect(path, (db) => (db.prepare('SELECT COUNT(*) AS n FROM archive_search').get() as { n: number }).n);
    try {
      await backend.open();
      const mam = backend.archive('mam');
      await backend.accounts.create('example.org', 'juliet', { createdAt: 0, credentials: {} });
      await mam.append('example.org', 'juliet', { id: 'a', value: '<a/>', text: 'sun' });
      await mam.append('example.org', 'juliet', { id: 'b', value: '<b/>', text: 'moon' });
      await mam.append('example.org', 'juliet', { id: 'c', value: '<c/>' });
      await mam.append('example.org', 'juliet', { id: 'd', value: '<d/>', text: '?!' });
      assert.equal(indexed(), 2, 'no row without words');
      await mam.append('example.org', 'juliet', { id: 'a', value: '<a/>', text: 'stars' });
      assert.equal(indexed(), 2, 'a replaced item has its new words only');
      await mam.append('example.org', 'juliet', { id: 'b', value: '<b/>' });
      assert.equal(indexed(), 1, 'replaced without text, it has none');
      await mam.append('example.org', 'juliet', { id: 'e', value: '<e/>', text: 'sun' });
      await mam.append('example.org', 'romeo', { id: 'a', value: '<a/>', text: 'sun' });
      assert.equal(await mam.delete('example.org', 'juliet', { text: 'stars' }), 1);
      assert.equal(indexed(), 2);
      // An operator deleting rows by hand takes the words along too (a trigger does it).
      const db = new Database(path);
      db.prepare("DELETE FROM archive WHERE username = 'romeo'").run();
      db.close();
      assert.equal(indexed(), 1);
      await backend.accounts.delete('example.org', 'juliet');
      assert.equal(indexed(), 0);
    } finally {
      await backend.close();
      await cleanup();
    }
  });

  test('a database from a newer Quire is refused, not migrated', async () => {
    const { path, cleanup } = tempDatabase();
    try {
      const backend = new SqliteBackend({ path });
      await backend.open();
      await backend.close();
      const db = new Database(path);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)').run();
      db.close();
      await assert.rejects(new SqliteBackend({ path }).open(), /schema version 999 is newer/);
    } finally {
      await cleanup();
    }
  });

  test('close() checkpoints the WAL into the database file', async () => {
    const { path, cleanup } = tempDatabase();
    try {
      const backend = new SqliteBackend({ path });
      await backend.open();
      await backend.archive('mam').append('example.org', 'juliet', { value: '<message/>' });
      await backend.close();
      await backend.close(); // a second close is harmless
      assert.ok(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0);
      assert.deepEqual(inspect(path, (db) => db.prepare('SELECT COUNT(*) AS n FROM archive').get()), { n: 1 });
    } finally {
      await cleanup();
    }
  });

  test('a burst of 1000 concurrent appends keeps every item and pages through them exactly', async () => {
    const { path, cleanup } = tempDatabase();
    const backend = new SqliteBackend({ path });
    try {
      await backend.open();
      const mam = backend.archive('mam');
      const appended = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
        mam.append('example.org', 'juliet', { when: 1_700_000_000_000 + i, with: 'romeo@example.org', value: `<body>${i}</body>` })));
      assert.equal(new Set(appended).size, 1000);
      assert.equal(await mam.count('example.org', 'juliet', { with: 'romeo@example.org' }), 1000);

      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 1; ; pages++) {
        const page = await mam.query('example.org', 'juliet', { limit: 100, after });
        seen.push(...page.items.map((item) => item.id));
        after = seen[seen.length - 1];
        assert.equal(page.complete, pages === 10);
        if (page.complete) break;
      }
      assert.deepEqual(seen, appended);
    } finally {
      await backend.close();
      await cleanup();
    }
  });

  test("':memory:' works without touching the file system", async () => {
    const backend = new SqliteBackend({ path: ':memory:' });
    await backend.open();
    try {
      assert.equal(await backend.accounts.create('example.org', 'juliet', { createdAt: 0, credentials: {} }), true);
      assert.deepEqual(await backend.accounts.list('example.org'), ['juliet']);
    } finally {
      await backend.close();
    }
  });
});
