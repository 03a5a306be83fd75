// PostgreSQL storage backend, on the `postgres` client (porsager, v3): the same tables and semantics as
// the SQLite backend, for servers that share one database or want a real database server.
// - Pooled connections (`max`); the client prepares each distinct SQL text once per connection, and the
//   optional filter fragments below keep the number of distinct texts small.
// - Migrations run in open(), in one transaction holding an advisory lock, so several nodes may open
//   the same database at once: the first applies the steps, the others wait and find them applied.
// - A call that meets a closed connection is tried once more on a fresh one; when the database stays
//   unreachable it rejects with StorageError 'unavailable' (temporary: the server answers `wait`), and the
//   pool reconnects by itself once the database is back.
// The user column is `username` because `user` is reserved in PostgreSQL.

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { StorageError, cursorNotFound } from '../errors.js';
import type { ExportCounts, ExportRow, Exportable } from '../export.js';
import { indexWords, searchWords, type SearchWord } from '../text-search.js';
import { prefixUpperBound } from '../with-prefix.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type {
  AccountRecord, AccountStore, ArchiveItem, ArchiveQuery, ArchiveResult, ArchiveStore,
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
        created_at BIGINT NOT NULL,    -- ms since the epoch, for admin queries
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
        seq BIGSERIAL PRIMARY KEY,     -- insertion order; a sequence never hands out a value twice
        store TEXT NOT NULL,
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        id TEXT NOT NULL,
        when_ms BIGINT NOT NULL,
        with_jid TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (store, host, username, id)
      );
      CREATE INDEX archive_by_when ON archive (store, host, username, when_ms);
      CREATE INDEX archive_by_with ON archive (store, host, username, with_jid, seq);
      CREATE INDEX keyval_by_user ON keyval (host, username);
      CREATE INDEX map_by_user ON map (host, username);
      CREATE INDEX archive_by_user ON archive (host, username);
    `,
  },
  {
    // withPrefix, and full-text search of archives (the text given to ArchiveStore.append).
    version: 2,
    sql: `
      -- Code point order for with_jid, as SQLite compares it, so that withPrefix is a range archive_by_with serves
      -- whatever the database's locale (with-prefix.ts). The values stay as they are; only that index is rebuilt.
      ALTER TABLE archive ALTER COLUMN with_jid TYPE TEXT COLLATE "C";
      -- The caller's text as given (NULL: appended without text), for quire migrate and any future re-indexing,
      -- and its words (NULL: none). The words are those text-search.ts makes, stored by array_to_tsvector as they
      -- are, not parsed by to_tsvector: the text search parser, even with the 'simple' configuration, keeps
      -- e-mail addresses, URLs, host names and hyphenated words whole (romeo@montague.lit is one lexeme) where
      -- SQLite's unicode61 splits them, and leaves accents in. So the unaccent extension is not needed either; it
      -- would also have to be created in the database (CREATE privilege there) and, not being IMMUTABLE, wrapped
      -- in a function of our own before an index could use it.
      ALTER TABLE archive ADD COLUMN search_text TEXT, ADD COLUMN search_words tsvector;
      CREATE INDEX archive_by_words ON archive USING GIN (search_words) WHERE search_words IS NOT NULL;
    `,
  },
];

/** Arbitrary constant naming Quire's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 0x5155495245; // "QUIRE"

type Sql = postgres.Sql;
/** The pool or a transaction: both run tagged-template queries. */
type Runner = postgres.Sql | postgres.TransactionSql;
type Fragment = postgres.PendingQuery<postgres.Row[]>;

export interface PostgresOptions {
  /** postgres://user:password@host:port/database (the client also reads PG* environment variables). */
  url: string;
  /** Keep Quire's tables in this schema (created if missing) instead of the connection's default search_path. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Seconds to wait for a connection before a call fails as 'unavailable' (default 10). */
  connectTimeout?: number;
  log?: Logger;
}

/** Codes of errors that mean "the database is not reachable now", not "this query is wrong". */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return code.startsWith('CONNECTION_') || code === 'CONNECT_TIMEOUT' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code) ||
    // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
    code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code);
}

/** The pool plus the bookkeeping every store shares: open state and outage logging. */
class Connection {
  #sql: Sql | undefined;
  #down = false;

  constructor(readonly log: Logger) {}

  get sql(): Sql {
    if (!this.#sql) throw new StorageError('not-open', 'postgres backend is not open');
    return this.#sql;
  }

  set sql(sql: Sql | undefined) {
    this.#sql = sql;
  }

  get isOpen(): boolean {
    return this.#sql !== undefined;
  }

  /**
   * Runs one store call; connection failures become StorageError 'unavailable' and are logged once per outage.
   * A call that fails on a connection the server closed (restart, pg_terminate_backend) is tried once more:
   * the pool notices the closed connection only when it is next used, and the retry gets a fresh one.
   * Every call is safe to repeat: writes are upserts, deletes, or an append with its id chosen up front.
   */
  async run<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const sql = this.sql;
    let result: T;
    try {
      try {
        result = await fn(sql);
      } catch (err) {
        if (err instanceof StorageError || !isConnectionFailure(err)) throw err;
        this.#lost(err);
        result = await fn(sql);
      }
    } catch (err) {
      if (err instanceof StorageError || !isConnectionFailure(err)) throw err;
      this.#lost(err);
      throw new StorageError('unavailable', `postgres unavailable: ${(err as Error).message}`, { cause: err });
    }
    if (this.#down) {
      this.#down = false;
      this.log.info('postgres connection recovered');
    }
    return result;
  }

  #lost(err: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.log.warn({ err }, 'postgres connection lost; calls fail until it is back');
  }
}

async function migrate(sql: Sql, schema: string | undefined): Promise<void> {
  await sql.begin(async (tx) => {
    // Held until commit: a second node opening at the same time waits here, then sees the steps applied.
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    if (schema !== undefined) await tx`CREATE SCHEMA IF NOT EXISTS ${tx(schema)}`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`;
    const [{ current }] = await tx<{ current: number | null }[]>`SELECT MAX(version) AS current FROM schema_migrations`;
    const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
    if ((current ?? 0) > latest) {
      throw new Error(`database schema version ${current} is newer than this Quire supports (${latest}); upgrade Quire`);
    }
    for (const step of MIGRATIONS) {
      if (step.version <= (current ?? 0)) continue;
      await tx.unsafe(step.sql);
      await tx`INSERT INTO schema_migrations (version, applied_at) VALUES (${step.version}, ${Date.now()})`;
    }
  });
}

export class PostgresBackend implements StorageBackend, Exportable {
  readonly kind = 'postgres';
  readonly accounts: AccountStore;
  readonly #opts: PostgresOptions;
  readonly #conn: Connection;

  constructor(opts: PostgresOptions) {
    this.#opts = opts;
    this.#conn = new Connection(opts.log ?? silentLogger);
    this.accounts = accountStore(this.#conn);
  }

  async open(): Promise<void> {
    if (this.#conn.isOpen) return;
    const { schema } = this.#opts;
    const sql = postgres(this.#opts.url, {
      max: this.#opts.max ?? 10,
      connect_timeout: this.#opts.connectTimeout ?? 10,
      // Close idle connections after a while, so a restarted database server is not met with stale ones.
      idle_timeout: 60,
      onnotice: () => {}, // "relation already exists, skipping" and the like are not worth a line
      connection: schema === undefined ? {} : { search_path: schema },
    });
    try {
      await migrate(sql, schema);
    } catch (err) {
      await sql.end({ timeout: 1 });
      if (!isConnectionFailure(err)) throw err;
      // Names the server but not the URL, which may hold a password.
      const { host, port } = sql.options;
      throw new StorageError('unavailable', `cannot reach PostgreSQL at ${host.join(',')}:${port.join(',')}: ${(err as Error).message}`, { cause: err });
    }
    this.#conn.sql = sql;
  }

  async close(): Promise<void> {
    if (!this.#conn.isOpen) return;
    const sql = this.#conn.sql;
    this.#conn.sql = undefined;
    // Lets queries in flight finish for a few seconds, then closes every pooled connection.
    await sql.end({ timeout: 5 });
  }

  keyval(store: string): KeyValStore {
    const conn = this.#conn;
    return {
      get: (host, user) => conn.run(async (sql) => {
        const rows = await sql<{ value: string }[]>`
          SELECT value FROM keyval WHERE store = ${store} AND host = ${host} AND username = ${user}`;
        return rows.length ? rows[0].value : null;
      }),
      set: (host, user, value) => conn.run(async (sql) => {
        if (value === null) {
          await sql`DELETE FROM keyval WHERE store = ${store} AND host = ${host} AND username = ${user}`;
        } else {
          await sql`
            INSERT INTO keyval (store, host, username, value) VALUES (${store}, ${host}, ${user}, ${value})
            ON CONFLICT (store, host, username) DO UPDATE SET value = excluded.value`;
        }
      }),
    };
  }

  map(store: string): MapStore {
    const conn = this.#conn;
    const set = async (sql: Runner, host: string, user: string, key: string, value: string | null) => {
      if (value === null) {
        await sql`DELETE FROM map WHERE store = ${store} AND host = ${host} AND username = ${user} AND key = ${key}`;
      } else {
        await sql`
          INSERT INTO map (store, host, username, key, value) VALUES (${store}, ${host}, ${user}, ${key}, ${value})
          ON CONFLICT (store, host, username, key) DO UPDATE SET value = excluded.value`;
      }
    };
    return {
      get: (host, user, key) => conn.run(async (sql) => {
        const rows = await sql<{ value: string }[]>`
          SELECT value FROM map WHERE store = ${store} AND host = ${host} AND username = ${user} AND key = ${key}`;
        return rows.length ? rows[0].value : null;
      }),
      set: (host, user, key, value) => conn.run((sql) => set(sql, host, user, key, value)),
      setMany: (host, user, entries) => conn.run(async (sql) => {
        if (entries.size === 0) return;
        await sql.begin(async (tx) => {
          for (const [key, value] of entries) await set(tx, host, user, key, value);
        });
      }),
      getAll: (host, user) => conn.run(async (sql) => {
        // COLLATE "C": byte order, like SQLite's default, whatever the database's locale.
        const rows = await sql<{ key: string; value: string }[]>`
          SELECT key, value FROM map WHERE store = ${store} AND host = ${host} AND username = ${user}
          ORDER BY key COLLATE "C"`;
        return new Map(rows.map((row) => [row.key, row.value]));
      }),
      deleteAll: (host, user) => conn.run(async (sql) => {
        await sql`DELETE FROM map WHERE store = ${store} AND host = ${host} AND username = ${user}`;
      }),
    };
  }

  archive(store: string): ArchiveStore {
    return archiveStore(this.#conn, store);
  }

  async *exportAll(): AsyncIterable<ExportRow> {
    const conn = this.#conn;
    const accounts = await conn.run((sql) => sql<{ host: string; username: string; record: string }[]>`SELECT host, username, record FROM accounts`);
    for (const row of accounts) yield { kind: 'account', host: row.host, user: row.username, record: JSON.parse(row.record) as AccountRecord };
    const keyval = await conn.run((sql) => sql<{ store: string; host: string; username: string; value: string }[]>`SELECT store, host, username, value FROM keyval`);
    for (const row of keyval) yield { kind: 'keyval', store: row.store, host: row.host, user: row.username, value: row.value };
    const map = await conn.run((sql) => sql<{ store: string; host: string; username: string; key: string; value: string }[]>`SELECT store, host, username, key, value FROM map`);
    for (const row of map) yield { kind: 'map', store: row.store, host: row.host, user: row.username, key: row.key, value: row.value };
    // Archives can be large: pages by seq, in insertion order.
    for (let after = '0'; ;) {
      const rows = await conn.run((sql) => sql<(ArchiveRow & { seq: string; store: string; host: string; username: string; search_text: string | null })[]>`
        SELECT seq, store, host, username, id, when_ms, with_jid, value, search_text FROM archive WHERE seq > ${after} ORDER BY seq LIMIT 500`);
      if (!rows.length) break;
      for (const row of rows) {
        yield { kind: 'archive', store: row.store, host: row.host, user: row.username, item: toItem(row), text: row.search_text ?? undefined };
      }
      after = rows[rows.length - 1].seq;
    }
  }

  async countAll(): Promise<ExportCounts> {
    const [row] = await this.#conn.run((sql) => sql<ExportCounts[]>`
      SELECT (SELECT COUNT(*)::int FROM accounts) AS account, (SELECT COUNT(*)::int FROM keyval) AS keyval,
             (SELECT COUNT(*)::int FROM map) AS map, (SELECT COUNT(*)::int FROM archive) AS archive`);
    return row;
  }
}

function accountStore(conn: Connection): AccountStore {
  return {
    get: (host, user) => conn.run(async (sql) => {
      const rows = await sql<{ record: string }[]>`SELECT record FROM accounts WHERE host = ${host} AND username = ${user}`;
      return rows.length ? (JSON.parse(rows[0].record) as AccountRecord) : null;
    }),
    create: (host, user, record) => conn.run(async (sql) => {
      const result = await sql`
        INSERT INTO accounts (host, username, record, created_at)
        VALUES (${host}, ${user}, ${JSON.stringify(record)}, ${record.createdAt}) ON CONFLICT DO NOTHING`;
      return result.count === 1;
    }),
    update: (host, user, record) => conn.run(async (sql) => {
      const result = await sql`
        UPDATE accounts SET record = ${JSON.stringify(record)}, created_at = ${record.createdAt}
        WHERE host = ${host} AND username = ${user}`;
      return result.count === 1;
    }),
    delete: (host, user) => conn.run((sql) => sql.begin(async (tx) => {
      // Data is purged only for an existing account, so deleting '' (no account) keeps host-wide data.
      const deleted = await tx`DELETE FROM accounts WHERE host = ${host} AND username = ${user}`;
      if (deleted.count === 0) return false;
      await tx`DELETE FROM keyval WHERE host = ${host} AND username = ${user}`;
      await tx`DELETE FROM map WHERE host = ${host} AND username = ${user}`;
      await tx`DELETE FROM archive WHERE host = ${host} AND username = ${user}`;
      return true;
    })),
    list: (host) => conn.run(async (sql) => {
      const rows = await sql<{ username: string }[]>`
        SELECT username FROM accounts WHERE host = ${host} ORDER BY username COLLATE "C"`;
      return rows.map((row) => row.username);
    }),
  };
}

interface ArchiveRow {
  id: string;
  /** BIGINT arrives as a string (it may exceed 2^53); ms timestamps do not, so Number() is exact. */
  when_ms: string;
  with_jid: string;
  value: string;
}

interface ArchiveFilter {
  with?: string;
  withPrefix?: string;
  start?: number;
  end?: number;
  ids?: string[];
  afterSeq?: string;
  beforeSeq?: string;
  text?: string;
}

const TSQUERY_QUOTED = /['\\]/g;

/**
 * A tsquery for the words of a search, read by the tsquery type's input (no parser, no dictionary: lexemes as
 * they are). Each word is quoted ('…', with ' and \ doubled, though normalized words hold only letters, digits
 * and marks), so nothing in it is tsquery syntax; a prefix word gets ':*'; '&' joins them.
 */
function tsQuery(words: readonly SearchWord[]): string {
  return words.map(({ word, prefix }) => `'${word.replace(TSQUERY_QUOTED, '$&$&')}'${prefix ? ':*' : ''}`).join(' & ');
}

/** The condition a search adds; a search without words matches nothing (text-search.ts). */
function searchFilter(sql: Runner, text: string): Fragment {
  const words = searchWords(text);
  return words.length === 0 ? sql`AND FALSE` : sql`AND search_words @@ ${tsQuery(words)}::tsquery`;
}

/** withPrefix as a range on archive_by_with (with-prefix.ts), not LIKE: the prefix's characters are all literal. */
function prefixFilter(sql: Runner, prefix: string): Fragment {
  const bound = prefixUpperBound(prefix);
  return bound === undefined ? sql`AND with_jid >= ${prefix}` : sql`AND with_jid >= ${prefix} AND with_jid < ${bound}`;
}

/** WHERE clause for one user's archive plus the optional filters, as a query fragment. */
function archiveFilter(sql: Runner, store: string, host: string, user: string, f: ArchiveFilter): Fragment {
  const none = sql``;
  return sql`store = ${store} AND host = ${host} AND username = ${user}
    ${f.with !== undefined ? sql`AND with_jid = ${f.with}` : none}
    ${f.withPrefix !== undefined ? prefixFilter(sql, f.withPrefix) : none}
    ${f.start !== undefined ? sql`AND when_ms >= ${f.start}` : none}
    ${f.end !== undefined ? sql`AND when_ms <= ${f.end}` : none}
    ${f.afterSeq !== undefined ? sql`AND seq > ${f.afterSeq}` : none}
    ${f.beforeSeq !== undefined ? sql`AND seq < ${f.beforeSeq}` : none}
    ${f.ids !== undefined ? sql`AND id = ANY(${sql.array(f.ids, 25)}::text[])` : none}
    ${f.text !== undefined ? searchFilter(sql, f.text) : none}`;
}

function archiveStore(conn: Connection, store: string): ArchiveStore {
  const seqOf = async (sql: Runner, host: string, user: string, id: string): Promise<string> => {
    const rows = await sql<{ seq: string }[]>`
      SELECT seq FROM archive WHERE store = ${store} AND host = ${host} AND username = ${user} AND id = ${id}`;
    if (!rows.length) throw cursorNotFound(id);
    return rows[0].seq;
  };

  return {
    textSearch: true,

    append: (host, user, item) => {
      // Chosen outside conn.run, so a retried call re-inserts the same item instead of a second copy.
      const id = item.id ?? randomBytes(9).toString('base64url');
      const when = item.when ?? Date.now();
      const words = item.text === undefined ? [] : indexWords(item.text);
      return conn.run(async (sql) => {
        await sql.begin(async (tx) => {
          // Replacing deletes and re-inserts, so the item takes a new seq: it moves to the end, and its words
          // are those of the new text (none without).
          await tx`DELETE FROM archive WHERE store = ${store} AND host = ${host} AND username = ${user} AND id = ${id}`;
          await tx`
            INSERT INTO archive (store, host, username, id, when_ms, with_jid, value, search_text, search_words)
            VALUES (${store}, ${host}, ${user}, ${id}, ${when}, ${item.with ?? ''}, ${item.value}, ${item.text ?? null},
              array_to_tsvector(${words.length > 0 ? sql.array(words, 25) : null}::text[]))`;
        });
        return id;
      });
    },

    setText: (host, user, id, text) => {
      const words = text === undefined ? [] : indexWords(text);
      return conn.run(async (sql) => {
        const rows = await sql`
          UPDATE archive SET search_text = ${text ?? null}, search_words = array_to_tsvector(${words.length > 0 ? sql.array(words, 25) : null}::text[])
          WHERE store = ${store} AND host = ${host} AND username = ${user} AND id = ${id}`;
        return rows.count > 0;
      });
    },

    query: (host, user, q: ArchiveQuery = {}) => conn.run(async (sql): Promise<ArchiveResult> => {
      const limit = q.limit === undefined || !Number.isFinite(q.limit) ? undefined : Math.max(0, Math.floor(q.limit));
      // One snapshot: the cursors resolve against the same data the page is read from.
      const rows = await sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
        const where = archiveFilter(tx, store, host, user, {
          with: q.with, withPrefix: q.withPrefix, start: q.start, end: q.end, ids: q.ids, text: q.text,
          afterSeq: q.after === undefined ? undefined : await seqOf(tx, host, user, q.after),
          beforeSeq: q.before === undefined ? undefined : await seqOf(tx, host, user, q.before),
        });
        // One row more than the page tells whether the page is the last one in this direction.
        return tx<ArchiveRow[]>`
          SELECT id, when_ms, with_jid, value FROM archive WHERE ${where}
          ORDER BY seq ${q.reverse ? tx`DESC` : tx`ASC`}
          ${limit !== undefined ? tx`LIMIT ${limit + 1}` : tx``}`;
      });
      const complete = limit === undefined || rows.length <= limit;
      const page = complete ? rows : rows.slice(0, limit);
      return { items: page.map(toItem), complete };
    }),

    count: (host, user, q = {}) => conn.run(async (sql) => {
      const where = archiveFilter(sql, store, host, user, { with: q.with, withPrefix: q.withPrefix, start: q.start, end: q.end, text: q.text });
      const [{ n }] = await sql<{ n: number }[]>`SELECT COUNT(*)::int AS n FROM archive WHERE ${where}`;
      return n;
    }),

    delete: (host, user, filter = {}) => conn.run(async (sql) => {
      const where = archiveFilter(sql, store, host, user, {
        ids: filter.ids, with: filter.with, withPrefix: filter.withPrefix, end: filter.end, text: filter.text,
      });
      const result = await sql`DELETE FROM archive WHERE ${where}`;
      return result.count;
    }),

    usage: (host, user, filter = {}) => conn.run(async (sql) => {
      const where = archiveFilter(sql, store, host, user, { with: filter.with, withPrefix: filter.withPrefix });
      // octet_length: bytes in the database's encoding, UTF-8 (Quire's values hold any character); it reads the
      // size of a large (TOASTed) value without decompressing it. SUM of integers is a BIGINT: a string here.
      const [row] = await sql<{ items: number; bytes: string }[]>`
        SELECT COUNT(*)::int AS items, COALESCE(SUM(octet_length(value)), 0) AS bytes FROM archive WHERE ${where}`;
      return { items: row.items, bytes: Number(row.bytes) };
    }),
  };
}

function toItem(row: ArchiveRow): ArchiveItem {
  return { id: row.id, when: Number(row.when_ms), with: row.with_jid, value: row.value };
}
