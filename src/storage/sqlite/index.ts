// SQLite storage backend (the embedded default), on better-sqlite3.
// better-sqlite3 is synchronous: every method runs to completion before the next one starts, so
// within this process statements never interleave; the async signatures only match the interface.
// The SQL stays plain (ON CONFLICT, no SQLite-only types) so the PostgreSQL backend can mirror it; full-text
// search is the exception (an FTS5 table here, a tsvector column there), fed the same words by text-search.ts.
// The user column is `username` because `user` is reserved in PostgreSQL.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError, cursorNotFound } from '../errors.js';
import type { ExportCounts, ExportRow, Exportable } from '../export.js';
import { indexWords, searchWords, type SearchWord } from '../text-search.js';
import { prefixUpperBound } from '../with-prefix.js';
import type {
  AccountRecord, AccountStore, ArchiveItem, ArchiveQuery, ArchiveResult, ArchiveStore, ArchiveUsage,
  KeyValStore, MapStore, StorageBackend,
} from '../types.js';

/** Numbered schema steps. Append new steps; never edit one that has shipped. Exported for the upgrade tests. */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE accounts (
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        record TEXT NOT NULL,          -- AccountRecord as JSON: SCRAM credentials, never a password
        created_at INTEGER NOT NULL,   -- ms since the epoch, for admin queries
        PRIMARY KEY (host, username)
      );
      CREATE TABLE keyval (
        store TEXT NOT NULL,
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (store, host, username)
      );
      CREATE TABLE map (
        store TEXT NOT NULL,
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (store, host, username, key)
      );
      CREATE TABLE archive (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order; AUTOINCREMENT never reuses a deleted seq
        store TEXT NOT NULL,
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        id TEXT NOT NULL,
        when_ms INTEGER NOT NULL,
        with_jid TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (store, host, username, id)
      );
      CREATE INDEX archive_by_when ON archive (store, host, username, when_ms);
      CREATE INDEX archive_by_with ON archive (store, host, username, with_jid, seq);
    `,
  },
  {
    // Full-text search of archives (the text given to ArchiveStore.append).
    version: 2,
    sql: `
      -- The caller's text as given (NULL: appended without text), for quire migrate and any future re-indexing.
      ALTER TABLE archive ADD COLUMN search_text TEXT;
      -- One row per archive row with words, rowid = archive.seq. Contentless: the words are not stored a second
      -- time, and contentless_delete lets a row go by its rowid alone. 'words' holds what text-search.ts makes of
      -- the text (normalized words, space-separated), so this backend finds what the others find; unicode61 with
      -- remove_diacritics 2 folds them no further, and 'M*' keeps combining marks inside words as text-search.ts
      -- does. 'owner' is one token naming the archive (store, host, user): a search reads the postings of one
      -- account's archive instead of every match on the server.
      CREATE VIRTUAL TABLE archive_search USING fts5(
        owner, words, content = '', contentless_delete = 1,
        tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
      );
      -- However an archive row goes (replaced by append, delete, account deletion, an operator's own DELETE),
      -- its words go with it.
      CREATE TRIGGER archive_search_delete AFTER DELETE ON archive WHEN old.search_text IS NOT NULL BEGIN
        DELETE FROM archive_search WHERE rowid = old.seq;
      END;
    `,
  },
];

type Param = string | number | null;

interface PendingWrite {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The open database plus its prepared statements, shared by the stores of one backend.
 *
 * Group commit: writes wait for the end of the current event-loop turn and commit together in one transaction,
 * each inside its own savepoint (a failing write rolls back alone and rejects its own promise). A commit writes
 * the WAL and costs far more than the rows in it, so a burst of archived messages pays for one commit instead of
 * one each. A write's promise resolves once it is committed. Reads and direct transactions first commit what is
 * waiting, so everything written before them is visible to them.
 */
class Connection {
  #db: Database.Database | undefined;
  readonly #statements = new Map<string, Database.Statement<Param[]>>();
  #pending: PendingWrite[] = [];
  #flushScheduled = false;

  get db(): Database.Database {
    if (!this.#db) throw new StorageError('not-open', 'sqlite backend is not open');
    return this.#db;
  }

  set db(db: Database.Database | undefined) {
    this.#db = db;
    this.#statements.clear();
  }

  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  /** Prepares each distinct SQL string once. The set of strings is small and fixed (see archiveFilter). */
  stmt(sql: string): Database.Statement<Param[]> {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<Param[]>(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  get<Row>(sql: string, ...params: Param[]): Row | undefined {
    this.flush();
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  all<Row>(sql: string, ...params: Param[]): Row[] {
    this.flush();
    return this.stmt(sql).all(...params) as Row[];
  }

  /** Runs one statement now; for use inside write() and transaction(). */
  run(sql: string, ...params: Param[]): number {
    return this.stmt(sql).run(...params).changes;
  }

  /** Runs one INSERT now and returns the new row's rowid; for use inside write() and transaction(). */
  insert(sql: string, ...params: Param[]): number {
    return Number(this.stmt(sql).run(...params).lastInsertRowid);
  }

  /** Runs fn in a transaction now, after the writes that are waiting. */
  transaction<T>(fn: () => T): T {
    this.flush();
    return this.db.transaction(fn)();
  }

  /** Queues a write for the next group commit; resolves with fn's result once it is committed. */
  write<T>(fn: () => T): Promise<T> {
    if (!this.#db) return Promise.reject(new StorageError('not-open', 'sqlite backend is not open'));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ op: fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#scheduledFlush);
      }
    });
  }

  readonly #scheduledFlush = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  /** Commits every queued write in one transaction. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      const db = this.db;
      db.transaction(() => {
        for (const { op } of batch) {
          try {
            // A nested better-sqlite3 transaction is a savepoint.
            outcomes.push({ ok: true, value: db.transaction(op)() });
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      for (const { reject } of batch) reject(err);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => (outcomes[i]!.ok ? resolve : reject)(outcomes[i]!.value));
  }
}

function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock up front, so two processes opening a fresh file at once
  // run the steps one after the other and the second finds them applied.
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const { current } = db.prepare('SELECT MAX(version) AS current FROM schema_migrations').get() as { current: number | null };
    const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
    if ((current ?? 0) > latest) {
      throw new Error(`database schema version ${current} is newer than this Quire supports (${latest}); upgrade Quire`);
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (const step of MIGRATIONS) {
      if (step.version <= (current ?? 0)) continue;
      db.exec(step.sql);
      record.run(step.version, Date.now());
    }
  }).immediate();
}

export interface SqliteOptions {
  /** Database file path, or ':memory:'. */
  path: string;
}

export class SqliteBackend implements StorageBackend, Exportable {
  readonly kind = 'sqlite';
  readonly accounts: AccountStore;
  readonly #path: string;
  readonly #conn = new Connection();

  constructor(opts: SqliteOptions) {
    this.#path = opts.path;
    this.accounts = accountStore(this.#conn);
  }

  async open(): Promise<void> {
    if (this.#conn.isOpen) return;
    if (this.#path !== ':memory:') mkdirSync(dirname(this.#path), { recursive: true });
    const db = new Database(this.#path);
    try {
      // Set first, so the pragmas and migrations below wait for another process's lock instead of failing.
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      // NORMAL rather than FULL: in WAL mode NORMAL never corrupts the database and loses nothing when
      // the process crashes; only a power loss or OS crash can roll back the last few commits (those
      // since the last WAL sync). FULL would fsync on every commit, i.e. every archived message, which
      // on ordinary disks caps throughput at a few hundred writes per second. A chat server can afford
      // to lose the final moments before a power cut; it cannot afford that ceiling.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.#conn.db = db;
  }

  async close(): Promise<void> {
    if (!this.#conn.isOpen) return;
    const db = this.#conn.db;
    this.#conn.flush();
    this.#conn.db = undefined;
    try {
      // Fold the WAL back into the main file so a copied/backed-up .db file is complete on its own.
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }

  keyval(store: string): KeyValStore {
    const conn = this.#conn;
    return {
      async get(host, user) {
        const row = conn.get<{ value: string }>(
          'SELECT value FROM keyval WHERE store = ? AND host = ? AND username = ?', store, host, user);
        return row ? row.value : null;
      },
      async set(host, user, value) {
        await conn.write(() => {
          if (value === null) {
            conn.run('DELETE FROM keyval WHERE store = ? AND host = ? AND username = ?', store, host, user);
          } else {
            conn.run(
              'INSERT INTO keyval (store, host, username, value) VALUES (?, ?, ?, ?) ' +
              'ON CONFLICT (store, host, username) DO UPDATE SET value = excluded.value',
              store, host, user, value);
          }
        });
      },
    };
  }

  map(store: string): MapStore {
    const conn = this.#conn;
    const set = (host: string, user: string, key: string, value: string | null) => {
      if (value === null) {
        conn.run('DELETE FROM map WHERE store = ? AND host = ? AND username = ? AND key = ?', store, host, user, key);
      } else {
        conn.run(
          'INSERT INTO map (store, host, username, key, value) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (store, host, username, key) DO UPDATE SET value = excluded.value',
          store, host, user, key, value);
      }
    };
    return {
      async get(host, user, key) {
        const row = conn.get<{ value: string }>(
          'SELECT value FROM map WHERE store = ? AND host = ? AND username = ? AND key = ?', store, host, user, key);
        return row ? row.value : null;
      },
      async set(host, user, key, value) {
        await conn.write(() => set(host, user, key, value));
      },
      async setMany(host, user, entries) {
        await conn.write(() => {
          for (const [key, value] of entries) set(host, user, key, value);
        });
      },
      async getAll(host, user) {
        const rows = conn.all<{ key: string; value: string }>(
          'SELECT key, value FROM map WHERE store = ? AND host = ? AND username = ? ORDER BY key', store, host, user);
        return new Map(rows.map((row) => [row.key, row.value]));
      },
      async deleteAll(host, user) {
        await conn.write(() => conn.run('DELETE FROM map WHERE store = ? AND host = ? AND username = ?', store, host, user));
      },
    };
  }

  archive(store: string): ArchiveStore {
    return archiveStore(this.#conn, store);
  }

  async *exportAll(): AsyncIterable<ExportRow> {
    const conn = this.#conn;
    // Archives are read in pages by seq rather than through one open iterator, as they can be large.
    for (const row of conn.all<{ host: string; username: string; record: string }>('SELECT host, username, record FROM accounts')) {
      yield { kind: 'account', host: row.host, user: row.username, record: JSON.parse(row.record) as AccountRecord };
    }
    for (const row of conn.all<{ store: string; host: string; username: string; value: string }>('SELECT store, host, username, value FROM keyval')) {
      yield { kind: 'keyval', store: row.store, host: row.host, user: row.username, value: row.value };
    }
    for (const row of conn.all<{ store: string; host: string; username: string; key: string; value: string }>('SELECT store, host, username, key, value FROM map')) {
      yield { kind: 'map', store: row.store, host: row.host, user: row.username, key: row.key, value: row.value };
    }
    for (let after = 0; ;) {
      const rows = conn.all<ArchiveRow & { seq: number; store: string; host: string; username: string; search_text: string | null }>(
        'SELECT seq, store, host, username, id, when_ms, with_jid, value, search_text FROM archive WHERE seq > ? ORDER BY seq LIMIT 500', after);
      if (!rows.length) break;
      for (const row of rows) {
        yield { kind: 'archive', store: row.store, host: row.host, user: row.username, item: toItem(row), text: row.search_text ?? undefined };
      }
      after = rows[rows.length - 1].seq;
    }
  }

  async countAll(): Promise<ExportCounts> {
    const n = (table: string) => this.#conn.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)!.n;
    return { account: n('accounts'), keyval: n('keyval'), map: n('map'), archive: n('archive') };
  }
}

function accountStore(conn: Connection): AccountStore {
  return {
    async get(host, user) {
      const row = conn.get<{ record: string }>('SELECT record FROM accounts WHERE host = ? AND username = ?', host, user);
      return row ? (JSON.parse(row.record) as AccountRecord) : null;
    },
    async create(host, user, record) {
      return conn.write(() => conn.run(
        'INSERT INTO accounts (host, username, record, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        host, user, JSON.stringify(record), record.createdAt) === 1);
    },
    async update(host, user, record) {
      return conn.write(() => conn.run(
        'UPDATE accounts SET record = ?, created_at = ? WHERE host = ? AND username = ?',
        JSON.stringify(record), record.createdAt, host, user) === 1);
    },
    async delete(host, user) {
      return conn.write(() => {
        // Data is purged only for an existing account, so deleting '' (no account) keeps host-wide data.
        if (conn.run('DELETE FROM accounts WHERE host = ? AND username = ?', host, user) === 0) return false;
        // These scan the tables (their keys lead with store); account deletion is rare enough for that.
        for (const table of ['keyval', 'map', 'archive']) {
          conn.run(`DELETE FROM ${table} WHERE host = ? AND username = ?`, host, user);
        }
        return true;
      });
    },
    async list(host) {
      return conn.all<{ username: string }>('SELECT username FROM accounts WHERE host = ? ORDER BY username', host)
        .map((row) => row.username);
    },
  };
}

interface ArchiveRow {
  id: string;
  when_ms: number;
  with_jid: string;
  value: string;
}

interface ArchiveFilter {
  with?: string;
  withPrefix?: string;
  start?: number;
  end?: number;
  ids?: string[];
  afterSeq?: number;
  beforeSeq?: number;
  text?: string;
}

/**
 * The FTS5 token that stands for one archive in archive_search.owner: hex, so unicode61 keeps it whole. A hash,
 * as store, host and user may hold any character; should two archives ever share one, the WHERE clause around
 * the search still tells their rows apart.
 */
function ownerToken(store: string, host: string, user: string): string {
  return createHash('sha256').update(JSON.stringify([store, host, user])).digest('hex').slice(0, 32);
}

/**
 * An FTS5 query for the words of a search within one archive. Each word is an FTS5 string ("…", with '"' doubled,
 * though normalized words hold only letters, digits and marks), so nothing in it is FTS5 syntax; a prefix word
 * gets FTS5's '*'. Strings side by side must all match (FTS5's implicit AND).
 */
function ftsQuery(owner: string, words: readonly SearchWord[]): string {
  const strings = words.map(({ word, prefix }) => `"${word.replaceAll('"', '""')}"${prefix ? '*' : ''}`);
  return `owner : "${owner}" AND words : (${strings.join(' ')})`;
}

/**
 * WHERE clause for one user's archive plus the optional filters, pushing parameters in order.
 * Each optional part is either present or not, so there are few distinct SQL strings to cache;
 * ids travel as one JSON parameter for the same reason (a variable `IN (?, ?, …)` would not).
 */
function archiveFilter(store: string, host: string, user: string, f: ArchiveFilter, params: Param[]): string {
  let sql = 'store = ? AND host = ? AND username = ?';
  params.push(store, host, user);
  if (f.with !== undefined) { sql += ' AND with_jid = ?'; params.push(f.with); }
  if (f.withPrefix !== undefined) {
    // A range on archive_by_with (with-prefix.ts), not LIKE: the prefix's characters are all literal.
    sql += ' AND with_jid >= ?';
    params.push(f.withPrefix);
    const bound = prefixUpperBound(f.withPrefix);
    if (bound !== undefined) { sql += ' AND with_jid < ?'; params.push(bound); }
  }
  if (f.start !== undefined) { sql += ' AND when_ms >= ?'; params.push(f.start); }
  if (f.end !== undefined) { sql += ' AND when_ms <= ?'; params.push(f.end); }
  if (f.afterSeq !== undefined) { sql += ' AND seq > ?'; params.push(f.afterSeq); }
  if (f.beforeSeq !== undefined) { sql += ' AND seq < ?'; params.push(f.beforeSeq); }
  if (f.ids !== undefined) { sql += ' AND id IN (SELECT value FROM json_each(?))'; params.push(JSON.stringify(f.ids)); }
  if (f.text !== undefined) {
    const words = searchWords(f.text);
    // A search without words matches nothing (text-search.ts).
    if (words.length === 0) sql += ' AND FALSE';
    else { sql += ' AND seq IN (SELECT rowid FROM archive_search WHERE archive_search MATCH ?)'; params.push(ftsQuery(ownerToken(store, host, user), words)); }
  }
  return sql;
}

function archiveStore(conn: Connection, store: string): ArchiveStore {
  const seqOf = (host: string, user: string, id: string): number => {
    const row = conn.get<{ seq: number }>(
      'SELECT seq FROM archive WHERE store = ? AND host = ? AND username = ? AND id = ?', store, host, user, id);
    if (!row) throw cursorNotFound(id);
    return row.seq;
  };

  return {
    textSearch: true,

    async append(host, user, item) {
      const id = item.id ?? randomBytes(9).toString('base64url');
      // Before the write: the group commit's transaction should hold statements only.
      const words = item.text === undefined ? [] : indexWords(item.text);
      const owner = words.length > 0 ? ownerToken(store, host, user) : '';
      await conn.write(() => {
        // Replacing deletes and re-inserts, so the item takes a new seq: it moves to the end. The trigger
        // archive_search_delete takes the old words along.
        conn.run('DELETE FROM archive WHERE store = ? AND host = ? AND username = ? AND id = ?', store, host, user, id);
        const seq = conn.insert(
          'INSERT INTO archive (store, host, username, id, when_ms, with_jid, value, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          store, host, user, id, item.when ?? Date.now(), item.with ?? '', item.value, item.text ?? null);
        if (words.length > 0) conn.run('INSERT INTO archive_search (rowid, owner, words) VALUES (?, ?, ?)', seq, owner, words.join(' '));
      });
      return id;
    },

    async setText(host, user, id, text) {
      const words = text === undefined ? [] : indexWords(text);
      const owner = words.length > 0 ? ownerToken(store, host, user) : '';
      return conn.write(() => {
        const row = conn.get<{ seq: number; search_text: string | null }>(
          'SELECT seq, search_text FROM archive WHERE store = ? AND host = ? AND username = ? AND id = ?', store, host, user, id);
        if (!row) return false;
        // The words index is contentless: the old words go by rowid, as the delete trigger takes them.
        if (row.search_text !== null) conn.run('DELETE FROM archive_search WHERE rowid = ?', row.seq);
        conn.run('UPDATE archive SET search_text = ? WHERE seq = ?', text ?? null, row.seq);
        if (words.length > 0) conn.run('INSERT INTO archive_search (rowid, owner, words) VALUES (?, ?, ?)', row.seq, owner, words.join(' '));
        return true;
      });
    },

    async query(host, user, q: ArchiveQuery = {}): Promise<ArchiveResult> {
      const limit = q.limit === undefined || !Number.isFinite(q.limit) ? undefined : Math.max(0, Math.floor(q.limit));
      // One read transaction: the cursors resolve against the same snapshot the page is read from.
      const rows = conn.transaction(() => {
        const params: Param[] = [];
        const where = archiveFilter(store, host, user, {
          with: q.with, withPrefix: q.withPrefix, start: q.start, end: q.end, ids: q.ids, text: q.text,
          afterSeq: q.after === undefined ? undefined : seqOf(host, user, q.after),
          beforeSeq: q.before === undefined ? undefined : seqOf(host, user, q.before),
        }, params);
        let sql = `SELECT id, when_ms, with_jid, value FROM archive WHERE ${where} ORDER BY seq ${q.reverse ? 'DESC' : 'ASC'}`;
        // One row more than the page tells whether the page is the last one in this direction.
        if (limit !== undefined) { sql += ' LIMIT ?'; params.push(limit + 1); }
        return conn.all<ArchiveRow>(sql, ...params);
      });
      const complete = limit === undefined || rows.length <= limit;
      const page = complete ? rows : rows.slice(0, limit);
      return { items: page.map(toItem), complete };
    },

    async count(host, user, q = {}) {
      const params: Param[] = [];
      const where = archiveFilter(store, host, user, { with: q.with, withPrefix: q.withPrefix, start: q.start, end: q.end, text: q.text }, params);
      return conn.get<{ n: number }>(`SELECT COUNT(*) AS n FROM archive WHERE ${where}`, ...params)!.n;
    },

    async delete(host, user, filter = {}) {
      const params: Param[] = [];
      const where = archiveFilter(store, host, user, {
        ids: filter.ids, with: filter.with, withPrefix: filter.withPrefix, end: filter.end, text: filter.text,
      }, params);
      return conn.write(() => conn.run(`DELETE FROM archive WHERE ${where}`, ...params));
    },

    async usage(host, user, filter = {}) {
      const params: Param[] = [];
      const where = archiveFilter(store, host, user, { with: filter.with, withPrefix: filter.withPrefix }, params);
      // octet_length: the size in bytes of the stored text, which is UTF-8 (SQLite's default encoding, kept here).
      return conn.get<ArchiveUsage>(
        `SELECT COUNT(*) AS items, COALESCE(SUM(octet_length(value)), 0) AS bytes FROM archive WHERE ${where}`, ...params)!;
    },
  };
}

function toItem(row: ArchiveRow): ArchiveItem {
  return { id: row.id, when: row.when_ms, with: row.with_jid, value: row.value };
}
