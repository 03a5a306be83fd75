// The storage suite against a real PostgreSQL server, each backend in its own schema so tests never
// see each other's data. Skipped (with how to enable it) when PostgreSQL is not reachable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import postgres from 'postgres';
import { MIGRATIONS, PostgresBackend } from './index.js';
import { storageSuite } from '../suite.js';
import { copyBackend } from '../export.js';
import { SqliteBackend } from '../sqlite/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../errors.js';
import { isTemporaryStorageError } from '../../core/storage-api.js';
import type { Logger, LogFn } from '../../core/logger.js';

export const POSTGRES_TEST_URL = process.env.QUIRE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SKIP_MESSAGE =
  'PostgreSQL is not reachable: start PostgreSQL on 127.0.0.1:5432 (see ../shared/design/SERVICES.md) or set QUIRE_TEST_POSTGRES_URL';

/** An administrative connection for creating and dropping test schemas. */
function admin(): postgres.Sql {
  return postgres(POSTGRES_TEST_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
}

async function reachable(): Promise<boolean> {
  const sql = admin();
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const uniqueSchema = () => `quire_test_${randomBytes(6).toString('hex')}`;

async function dropSchema(schema: string): Promise<void> {
  const sql = admin();
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A logger that records messages, to check that an outage and the recovery are logged. */
function recordingLogger(lines: string[]): Logger {
  const fn = (level: string): LogFn => ((a: unknown, b?: string) => { lines.push(`${level}: ${typeof a === 'string' ? a : b}`); }) as LogFn;
  const log: Logger = {
    trace: fn('trace'), debug: fn('debug'), info: fn('info'), warn: fn('warn'), error: fn('error'), fatal: fn('fatal'),
    child: () => log,
  };
  return log;
}

if (!(await reachable())) {
  test('postgres storage', { skip: SKIP_MESSAGE }, () => {});
} else {
  storageSuite('postgres', async () => {
    const schema = uniqueSchema();
    return {
      backend: new PostgresBackend({ url: POSTGRES_TEST_URL, schema, max: 4 }),
      reopen: async () => new PostgresBackend({ url: POSTGRES_TEST_URL, schema, max: 4 }),
      cleanup: () => dropSchema(schema),
    };
  });

  describe('postgres backend', () => {
    test('migrations run once: opening an existing schema again is safe', async () => {
      const schema = uniqueSchema();
      try {
        const first = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
        await first.open();
        assert.equal(first.kind, 'postgres');
        await first.keyval('vcard').set('example.org', 'juliet', '<vCard/>');
        await first.close();
        await first.close(); // a second close is harmless

        const second = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
        await second.open();
        assert.equal(await second.keyval('vcard').get('example.org', 'juliet'), '<vCard/>');
        await second.close();

        const sql = admin();
        try {
          const versions = await sql`SELECT version FROM ${sql(schema)}.schema_migrations ORDER BY version`;
          assert.deepEqual(versions.map((row) => row.version), [1, 2]);
        } finally {
          await sql.end({ timeout: 1 });
        }
      } finally {
        await dropSchema(schema);
      }
    });

    test('a schema from before search (version 1) is upgraded: its items stay, without words, and new ones have them', async () => {
      const schema = uniqueSchema();
      const old = postgres(POSTGRES_TEST_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
      try {
        await old`CREATE SCHEMA ${old(schema)}`;
        await old.unsafe('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        await old.unsafe(MIGRATIONS[0].sql);
        await old`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)`;
        await old`
          INSERT INTO archive (store, host, username, id, when_ms, with_jid, value)
          VALUES ('mam', 'example.org', 'juliet', 'old', 1, 'romeo@example.org', '<body>sun</body>')`;

        const backend = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
        await backend.open();
        try {
          const mam = backend.archive('mam');
          await mam.append('example.org', 'juliet', { id: 'new', when: 2, with: 'romeo@example.org', value: '<body>sun</body>', text: 'sun' });
          const found = async (q: object) => (await mam.query('example.org', 'juliet', q)).items.map((item) => item.id);
          assert.deepEqual(await found({}), ['old', 'new']);
          assert.deepEqual(await found({ text: 'sun' }), ['new']);
          assert.deepEqual(await found({ withPrefix: 'romeo@' }), ['old', 'new']);
          assert.deepEqual(await mam.usage('example.org', 'juliet'), { items: 2, bytes: 32 });
        } finally {
          await backend.close();
        }
        const [column] = await old`
          SELECT collation_name FROM information_schema.columns
          WHERE table_schema = ${schema} AND table_name = 'archive' AND column_name = 'with_jid'`;
        assert.equal(column.collation_name, 'C', 'with_jid compares by code point');
        const versions = await old`SELECT version FROM schema_migrations ORDER BY version`;
        assert.deepEqual(versions.map((row) => row.version), [1, 2]);
      } finally {
        await old.end({ timeout: 1 });
        await dropSchema(schema);
      }
    });

    test('two backends opening the same fresh schema at once both succeed and share the data', async () => {
      const schema = uniqueSchema();
      const a = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
      const b = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
      try {
        await Promise.all([a.open(), b.open()]);
        await a.map('roster').set('example.org', 'juliet', 'romeo@example.org', '<item/>');
        assert.equal(await b.map('roster').get('example.org', 'juliet', 'romeo@example.org'), '<item/>');
      } finally {
        await a.close();
        await b.close();
        await dropSchema(schema);
      }
    });

    test('a schema from a newer Quire is refused, not migrated', async () => {
      const schema = uniqueSchema();
      try {
        const backend = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
        await backend.open();
        await backend.close();
        const sql = admin();
        try {
          await sql`INSERT INTO ${sql(schema)}.schema_migrations (version, applied_at) VALUES (999, 0)`;
        } finally {
          await sql.end({ timeout: 1 });
        }
        await assert.rejects(new PostgresBackend({ url: POSTGRES_TEST_URL, schema }).open(), /schema version 999 is newer/);
      } finally {
        await dropSchema(schema);
      }
    });

    test('an unreachable server rejects open() instead of hanging', async () => {
      // Port 1 on loopback: nothing listens there, the connection is refused at once.
      const backend = new PostgresBackend({ url: 'postgres://postgres@127.0.0.1:1/postgres', connectTimeout: 2 });
      await assert.rejects(backend.open(), (err: unknown) =>
        err instanceof StorageError && err.code === 'unavailable' && /cannot reach PostgreSQL at 127\.0\.0\.1:1/.test(err.message));
    });

    test('after its idle connections are terminated, the backend reconnects by itself', async () => {
      const schema = uniqueSchema();
      const lines: string[] = [];
      // A distinct application_name finds exactly this backend's connections in pg_stat_activity.
      const appName = `quire_test_${randomBytes(4).toString('hex')}`;
      const backend = new PostgresBackend({ url: `${POSTGRES_TEST_URL}?application_name=${appName}`, schema, max: 2, log: recordingLogger(lines) });
      const sql = admin();
      try {
        await backend.open();
        await backend.keyval('vcard').set('example.org', 'juliet', '<vCard/>');

        const vcard = backend.keyval('vcard');

        const terminated = await sql`
          SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = ${appName}`;
        assert.ok(terminated.length >= 1, 'the backend had connections to terminate');

        // The pool finds its connections closed on next use; the call is retried on a fresh one and succeeds.
        assert.equal(await vcard.get('example.org', 'juliet'), '<vCard/>');
        await backend.keyval('vcard').set('example.org', 'juliet', '<vCard><FN/></vCard>');
        assert.equal(await vcard.get('example.org', 'juliet'), '<vCard><FN/></vCard>');
      } finally {
        await backend.close();
        await sql.end({ timeout: 1 });
        await dropSchema(schema);
      }
    });

    test('while the database is unreachable calls reject as temporary; afterwards the pool reconnects by itself', async () => {
      // A TCP relay between the backend and PostgreSQL plays the network: closing it cuts every connection.
      const schema = uniqueSchema();
      const lines: string[] = [];
      const target = new URL(POSTGRES_TEST_URL);
      const sockets = new Set<net.Socket>();
      const relay = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
        }
        client.pipe(upstream).pipe(client);
      });
      const listen = (port: number) => new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
      await listen(0);
      const port = (relay.address() as net.AddressInfo).port;
      const url = new URL(POSTGRES_TEST_URL);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      const backend = new PostgresBackend({ url: url.toString(), schema, max: 2, connectTimeout: 2, log: recordingLogger(lines) });
      try {
        await backend.open();
        const vcard = backend.keyval('vcard');
        await vcard.set('example.org', 'juliet', '<vCard/>');

        // The database goes away: the relay stops listening and drops every connection.
        await new Promise<void>((resolve) => {
          relay.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        const err = await vcard.get('example.org', 'juliet').then(() => null, (e: unknown) => e);
        assert.ok(err instanceof StorageError && err.code === 'unavailable', String(err));
        assert.ok(isTemporaryStorageError(err));
        assert.ok(lines.some((line) => line.startsWith('warn: postgres connection lost')), lines.join('\n'));

        // It comes back on the same address: the next call reconnects without help.
        await listen(port);
        assert.equal(await vcard.get('example.org', 'juliet'), '<vCard/>');
        assert.ok(lines.some((line) => line.startsWith('info: postgres connection recovered')), lines.join('\n'));
      } finally {
        await backend.close();
        await new Promise<void>((resolve) => { relay.close(() => resolve()); for (const s of sockets) s.destroy(); });
        await dropSchema(schema);
      }
    });

    test('copyBackend copies every store from SQLite to PostgreSQL and back, and a second run changes nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'quire-migrate-'));
      const schema = uniqueSchema();
      const sqlite = new SqliteBackend({ path: join(dir, 'a.db') });
      const pg = new PostgresBackend({ url: POSTGRES_TEST_URL, schema });
      const back = new SqliteBackend({ path: join(dir, 'b.db') });
      try {
        await Promise.all([sqlite.open(), pg.open(), back.open()]);
        const record = { createdAt: 1, credentials: {} };
        await sqlite.accounts.create('example.org', 'juliet', record);
        await sqlite.keyval('vcard').set('example.org', 'juliet', '<vCard/>');
        await sqlite.map('roster').setMany('example.org', 'juliet', new Map([['romeo@example.org', '<item/>'], ['nurse@example.org', '<item/>']]));
        for (let i = 0; i < 600; i++) {
          // Every 100th item has text to search, one of them with accents and punctuation.
          const text = i % 100 === 0 ? `line ${i}${i === 300 ? ': Vérone, naïve' : ''}` : undefined;
          await sqlite.archive('mam').append('example.org', 'juliet', { id: `m${i}`, when: 1000 + i, with: 'romeo@example.org', value: `${i}`, text });
        }
        await sqlite.archive('mam').append('example.org', 'juliet', { id: 'm0', when: 5, value: 'moved to the end', text: 'moved' });

        const progress: number[] = [];
        const counts = await copyBackend(sqlite, pg, (p) => progress.push(p.done));
        assert.deepEqual(counts, { account: 1, keyval: 1, map: 2, archive: 600 });
        assert.equal(progress[progress.length - 1], 604);
        await copyBackend(sqlite, pg); // idempotent
        assert.deepEqual(await pg.countAll(), counts);
        await copyBackend(pg, back);

        for (const b of [pg, back]) {
          assert.deepEqual(await b.accounts.get('example.org', 'juliet'), record);
          assert.equal(await b.keyval('vcard').get('example.org', 'juliet'), '<vCard/>');
          assert.equal((await b.map('roster').getAll('example.org', 'juliet')).size, 2);
          const last = await b.archive('mam').query('example.org', 'juliet', { reverse: true, limit: 2 });
          assert.deepEqual(last.items.map((item) => [item.id, item.value]), [['m0', 'moved to the end'], ['m599', '599']]);
          assert.equal(await b.archive('mam').count('example.org', 'juliet'), 600);
          // The text came along: the copy finds what the original finds.
          const found = async (text: string) => (await b.archive('mam').query('example.org', 'juliet', { text })).items.map((item) => item.id);
          assert.deepEqual(await found('line'), ['m100', 'm200', 'm300', 'm400', 'm500']);
          assert.deepEqual(await found('verone NAIVE'), ['m300']);
          assert.deepEqual(await found('moved'), ['m0']);
          assert.equal(await b.archive('mam').count('example.org', 'juliet', { text: 'line*' }), 5);
        }
      } finally {
        await Promise.all([sqlite.close(), pg.close(), back.close()]);
        await dropSchema(schema);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
