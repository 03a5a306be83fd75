// The conformance suite every storage backend passes (memory, SQLite, and later PostgreSQL).
// A backend's test file calls storageSuite() with a factory; each test gets a fresh backend,
// so no test sees another's data.
//
// Archive paging semantics pinned down here:
// - Items are ordered by insertion (append order; replacing an id moves it to the end).
// - `after`/`before` are exclusive bounds given as item ids; an unknown id rejects with
//   StorageError code 'item-not-found' (XEP-0059 §2.6).
// - `reverse` walks from the newest end: the page is the newest `limit` matching items, newest first.
//   Without it the page is the oldest `limit` matching items, oldest first. So XEP-0059 "page before X"
//   is { before: X, reverse: true } (flip the items for chronological order), and the last page is
//   { reverse: true }.
// - `complete` is true when no matching item lies beyond the page in that direction.
// - `text` searches the text given to append(), never the value (text-search.ts has the rules); `withPrefix`
//   compares code points, with no wildcards (with-prefix.ts). Both combine with every other filter and paging.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from './errors.js';
import type { AccountRecord, ArchiveQuery, ArchiveResult, ArchiveStore, StorageBackend } from './types.js';

export interface SuiteTarget {
  /** A fresh backend with no data, not yet opened. */
  backend: StorageBackend;
  /** For persistent backends: a new, unopened backend over the same data (called after backend.close()). */
  reopen?: () => Promise<StorageBackend>;
  /** Removes whatever the factory created (temporary files, a database schema). */
  cleanup?: () => Promise<void>;
}

const HOST = 'example.org';
const OTHER_HOST = 'example.net';
const T0 = Date.UTC(2024, 0, 1);
const MiB = 1024 * 1024;

function account(createdAt = T0): AccountRecord {
  return {
    createdAt,
    credentials: {
      'SHA-256': { salt: 'c2FsdA==', iterations: 4096, storedKey: 'c3RvcmVk', serverKey: 'c2VydmVy' },
    },
  };
}

function ids(result: ArchiveResult): string[] {
  return result.items.map((item) => item.id);
}

function isStorageError(code: string) {
  return (err: unknown) => err instanceof StorageError && err.code === code;
}

/** m0..m9, one second apart, alternating with alice and bob. */
async function fillArchive(archive: ArchiveStore, user = 'juliet'): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await archive.append(HOST, user, {
      id: `m${i}`, when: T0 + i * 1000, with: i % 2 === 0 ? 'alice@example.com' : 'bob@example.com', value: `<body>${i}</body>`,
    });
  }
}

const M = (...n: number[]) => n.map((i) => `m${i}`);

/**
 * s0..s7, one second apart: the text each was appended with (s5 has none, though its value says "sun"), and a
 * value whose tags and attributes hold words no search may find (message, chat, jabber, moonlight).
 */
const SEARCHABLE: readonly { with: string; text?: string; body?: string }[] = [
  { with: 'romeo@example.com', text: 'But soft, what light through yonder window breaks?' },
  { with: 'romeo@example.com', text: 'It is the east, and Juliet is the sun.' },
  { with: 'nurse@example.com', text: 'Arise, fair sun, and kill the envious moon' },
  { with: 'romeo@example.com', text: 'O Romeo, Romeo, wherefore art thou Romeo?' },
  { with: 'nurse@example.com', text: 'Crème brûlée at the CAFÉ in Vérone: naïve Ñandú, ΟΔΟΣ' },
  { with: 'romeo@example.com', body: 'sun' },
  { with: 'tybalt@example.com', text: 'Tybalt\'s rapier: 3.14 romeo@montague.lit foo-bar (AND) OR "NEAR" -x' },
  { with: 'romeo@example.com', text: 'The sun sets; Sunday comes, sunny or not.' },
];

async function fillSearchable(archive: ArchiveStore, user = 'juliet'): Promise<void> {
  for (const [i, item] of SEARCHABLE.entries()) {
    const body = item.body ?? item.text ?? '';
    const value = `<message xmlns="jabber:client" type="chat" id="moonlight"><body>${body.replace(/[<&]/g, '')}</body></message>`;
    await archive.append(HOST, user, { id: `s${i}`, when: T0 + i * 1000, with: item.with, value, text: item.text });
  }
}

const S = (...n: number[]) => n.map((i) => `s${i}`);

export function storageSuite(name: string, makeBackend: () => Promise<SuiteTarget>): void {
  /** Runs a test body against a freshly opened backend and always tears it down. */
  const withBackend = (body: (backend: StorageBackend, target: SuiteTarget) => Promise<void>) => async () => {
    const target = await makeBackend();
    await target.backend.open();
    try {
      await body(target.backend, target);
    } finally {
      await target.backend.close();
      await target.cleanup?.();
    }
  };

  describe(`storage suite: ${name}`, () => {
    test('stores reject use before open()', async () => {
      const target = await makeBackend();
      try {
        await assert.rejects(target.backend.keyval('vcard').get(HOST, 'juliet'), isStorageError('not-open'));
        await assert.rejects(target.backend.accounts.list(HOST), isStorageError('not-open'));
      } finally {
        await target.cleanup?.();
      }
    });

    test('open() on an open backend is harmless', withBackend(async (backend) => {
      await backend.open();
      assert.equal(await backend.accounts.create(HOST, 'juliet', account()), true);
    }));

    describe('accounts', () => {
      test('create, then get returns the record; a second create resolves false and keeps the first', withBackend(async (b) => {
        assert.equal(await b.accounts.get(HOST, 'juliet'), null);
        assert.equal(await b.accounts.create(HOST, 'juliet', account(T0)), true);
        assert.deepEqual(await b.accounts.get(HOST, 'juliet'), account(T0));
        assert.equal(await b.accounts.create(HOST, 'juliet', account(T0 + 1)), false);
        assert.deepEqual(await b.accounts.get(HOST, 'juliet'), account(T0));
      }));

      test('a record read back is a copy, not the stored object', withBackend(async (b) => {
        const record = account();
        await b.accounts.create(HOST, 'juliet', record);
        record.createdAt = 0;
        const read = (await b.accounts.get(HOST, 'juliet'))!;
        assert.equal(read.createdAt, T0);
        read.credentials = {};
        assert.deepEqual(await b.accounts.get(HOST, 'juliet'), account());
      }));

      test('update replaces an existing record and resolves false for an unknown account', withBackend(async (b) => {
        assert.equal(await b.accounts.update(HOST, 'juliet', account()), false);
        assert.equal(await b.accounts.get(HOST, 'juliet'), null);
        await b.accounts.create(HOST, 'juliet', account());
        const changed: AccountRecord = {
          createdAt: T0,
          credentials: { 'SHA-1': { salt: 'bmV3', iterations: 10000, storedKey: 'YQ==', serverKey: 'Yg==' } },
        };
        assert.equal(await b.accounts.update(HOST, 'juliet', changed), true);
        assert.deepEqual(await b.accounts.get(HOST, 'juliet'), changed);
      }));

      test('list names the accounts of one host only', withBackend(async (b) => {
        assert.deepEqual(await b.accounts.list(HOST), []);
        for (const user of ['romeo', 'juliet', 'nurse']) await b.accounts.create(HOST, user, account());
        await b.accounts.create(OTHER_HOST, 'benvolio', account());
        assert.deepEqual((await b.accounts.list(HOST)).sort(), ['juliet', 'nurse', 'romeo']);
        assert.deepEqual(await b.accounts.list(OTHER_HOST), ['benvolio']);
      }));

      test('delete removes the account, and a second delete resolves false', withBackend(async (b) => {
        await b.accounts.create(HOST, 'juliet', account());
        await b.accounts.create(HOST, 'romeo', account());
        assert.equal(await b.accounts.delete(HOST, 'juliet'), true);
        assert.equal(await b.accounts.get(HOST, 'juliet'), null);
        assert.equal(await b.accounts.delete(HOST, 'juliet'), false);
        assert.deepEqual(await b.accounts.list(HOST), ['romeo']);
        // The name is free again.
        assert.equal(await b.accounts.create(HOST, 'juliet', account()), true);
      }));

      test("delete removes the user's data in every store, and nobody else's", withBackend(async (b) => {
        await b.accounts.create(HOST, 'juliet', account());
        await b.accounts.create(HOST, 'romeo', account());
        await b.accounts.create(OTHER_HOST, 'juliet', account());
        const owners: [string, string][] = [[HOST, 'juliet'], [HOST, 'romeo'], [OTHER_HOST, 'juliet'], [HOST, '']];
        for (const [host, user] of owners) {
          for (const store of ['vcard', 'private']) await b.keyval(store).set(host, user, `<${store}/>`);
          for (const store of ['roster', 'blocklist']) await b.map(store).set(host, user, 'k', `<${store}/>`);
          for (const store of ['offline', 'mam']) await b.archive(store).append(host, user, { value: `<${store}/>` });
        }

        assert.equal(await b.accounts.delete(HOST, 'juliet'), true);

        for (const [host, user] of owners) {
          const gone = host === HOST && user === 'juliet';
          for (const store of ['vcard', 'private']) {
            assert.equal(await b.keyval(store).get(host, user), gone ? null : `<${store}/>`, `${store} ${user}@${host}`);
          }
          for (const store of ['roster', 'blocklist']) {
            assert.equal((await b.map(store).getAll(host, user)).size, gone ? 0 : 1, `${store} ${user}@${host}`);
          }
          for (const store of ['offline', 'mam']) {
            assert.equal(await b.archive(store).count(host, user), gone ? 0 : 1, `${store} ${user}@${host}`);
          }
        }
      }));

      test("deleting a user that has no account resolves false and keeps the host's data", withBackend(async (b) => {
        await b.keyval('config').set(HOST, '', '<host-wide/>');
        await b.archive('pubsub').append(HOST, '', { value: '<item/>' });
        assert.equal(await b.accounts.delete(HOST, ''), false);
        assert.equal(await b.keyval('config').get(HOST, ''), '<host-wide/>');
        assert.equal(await b.archive('pubsub').count(HOST, ''), 1);
      }));
    });

    describe('keyval', () => {
      test('set, get, overwrite, and null deletes', withBackend(async (b) => {
        const vcard = b.keyval('vcard');
        assert.equal(await vcard.get(HOST, 'juliet'), null);
        await vcard.set(HOST, 'juliet', '<vCard><FN>Juliet</FN></vCard>');
        assert.equal(await vcard.get(HOST, 'juliet'), '<vCard><FN>Juliet</FN></vCard>');
        await vcard.set(HOST, 'juliet', '<vCard><FN>Juliet Capulet</FN></vCard>');
        assert.equal(await vcard.get(HOST, 'juliet'), '<vCard><FN>Juliet Capulet</FN></vCard>');
        await vcard.set(HOST, 'juliet', null);
        assert.equal(await vcard.get(HOST, 'juliet'), null);
        await vcard.set(HOST, 'juliet', null); // deleting nothing is fine
        await vcard.set(HOST, 'juliet', '');
        assert.equal(await vcard.get(HOST, 'juliet'), '', 'the empty string is a value, not absence');
      }));

      test('stores, hosts and users are separate', withBackend(async (b) => {
        await b.keyval('vcard').set(HOST, 'juliet', 'a');
        await b.keyval('private').set(HOST, 'juliet', 'b');
        await b.keyval('vcard').set(HOST, 'romeo', 'c');
        await b.keyval('vcard').set(OTHER_HOST, 'juliet', 'd');
        await b.keyval('vcard').set(HOST, '', 'e');
        assert.equal(await b.keyval('vcard').get(HOST, 'juliet'), 'a');
        assert.equal(await b.keyval('private').get(HOST, 'juliet'), 'b');
        assert.equal(await b.keyval('vcard').get(HOST, 'romeo'), 'c');
        assert.equal(await b.keyval('vcard').get(OTHER_HOST, 'juliet'), 'd');
        assert.equal(await b.keyval('vcard').get(HOST, ''), 'e');
        await b.keyval('vcard').set(HOST, 'juliet', null);
        assert.equal(await b.keyval('private').get(HOST, 'juliet'), 'b');
        assert.equal(await b.keyval('vcard').get(HOST, ''), 'e');
      }));
    });

    describe('map', () => {
      test('set, get, overwrite, and null deletes a key', withBackend(async (b) => {
        const roster = b.map('roster');
        assert.equal(await roster.get(HOST, 'juliet', 'romeo@example.org'), null);
        await roster.set(HOST, 'juliet', 'romeo@example.org', '<item subscription="none"/>');
        assert.equal(await roster.get(HOST, 'juliet', 'romeo@example.org'), '<item subscription="none"/>');
        await roster.set(HOST, 'juliet', 'romeo@example.org', '<item subscription="both"/>');
        assert.equal(await roster.get(HOST, 'juliet', 'romeo@example.org'), '<item subscription="both"/>');
        await roster.set(HOST, 'juliet', 'romeo@example.org', null);
        assert.equal(await roster.get(HOST, 'juliet', 'romeo@example.org'), null);
        await roster.set(HOST, 'juliet', 'romeo@example.org', null);
      }));

      test('getAll returns every key; an empty map when there are none', withBackend(async (b) => {
        const roster = b.map('roster');
        assert.deepEqual(await roster.getAll(HOST, 'juliet'), new Map());
        await roster.set(HOST, 'juliet', 'a', '1');
        await roster.set(HOST, 'juliet', 'b', '2');
        await roster.set(HOST, 'juliet', '', 'empty key');
        assert.deepEqual(await roster.getAll(HOST, 'juliet'), new Map([['a', '1'], ['b', '2'], ['', 'empty key']]));
      }));

      test('setMany sets and deletes in one go', withBackend(async (b) => {
        const roster = b.map('roster');
        await roster.setMany(HOST, 'juliet', new Map([['a', '1'], ['b', '2'], ['c', '3']]));
        await roster.setMany(HOST, 'juliet', new Map<string, string | null>([['a', null], ['b', '20'], ['d', '4'], ['zz', null]]));
        assert.deepEqual(await roster.getAll(HOST, 'juliet'), new Map([['b', '20'], ['c', '3'], ['d', '4']]));
        await roster.setMany(HOST, 'juliet', new Map());
        assert.equal((await roster.getAll(HOST, 'juliet')).size, 3);
      }));

      test('deleteAll empties one user of one store only', withBackend(async (b) => {
        await b.map('roster').setMany(HOST, 'juliet', new Map([['a', '1'], ['b', '2']]));
        await b.map('roster').set(HOST, 'romeo', 'a', '1');
        await b.map('blocklist').set(HOST, 'juliet', 'a', '1');
        await b.map('roster').deleteAll(HOST, 'juliet');
        assert.deepEqual(await b.map('roster').getAll(HOST, 'juliet'), new Map());
        assert.equal(await b.map('roster').get(HOST, 'romeo', 'a'), '1');
        assert.equal(await b.map('blocklist').get(HOST, 'juliet', 'a'), '1');
        await b.map('roster').deleteAll(HOST, 'nobody');
      }));

      test('stores, hosts and users are separate', withBackend(async (b) => {
        await b.map('roster').set(HOST, 'juliet', 'k', 'a');
        await b.map('blocklist').set(HOST, 'juliet', 'k', 'b');
        await b.map('roster').set(HOST, 'romeo', 'k', 'c');
        await b.map('roster').set(OTHER_HOST, 'juliet', 'k', 'd');
        await b.map('roster').set(HOST, '', 'k', 'e');
        assert.deepEqual(await b.map('roster').getAll(HOST, 'juliet'), new Map([['k', 'a']]));
        assert.deepEqual(await b.map('blocklist').getAll(HOST, 'juliet'), new Map([['k', 'b']]));
        assert.deepEqual(await b.map('roster').getAll(HOST, 'romeo'), new Map([['k', 'c']]));
        assert.deepEqual(await b.map('roster').getAll(OTHER_HOST, 'juliet'), new Map([['k', 'd']]));
        assert.deepEqual(await b.map('roster').getAll(HOST, ''), new Map([['k', 'e']]));
      }));
    });

    describe('archive', () => {
      test('append generates unique URL-safe ids and defaults when and with', withBackend(async (b) => {
        const mam = b.archive('mam');
        const before = Date.now();
        const first = await mam.append(HOST, 'juliet', { value: '<message/>' });
        const second = await mam.append(HOST, 'juliet', { value: '<message/>' });
        const after = Date.now();
        assert.match(first, /^[A-Za-z0-9_-]{8,}$/);
        assert.notEqual(first, second);
        const { items, complete } = await mam.query(HOST, 'juliet');
        assert.equal(complete, true);
        assert.deepEqual(ids({ items, complete }), [first, second]);
        assert.equal(items[0].with, '');
        assert.equal(items[0].value, '<message/>');
        assert.ok(items[0].when >= before && items[0].when <= after, 'when defaults to now');
      }));

      test('append keeps a given id and replacing it moves the item to the end', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        assert.equal(await mam.append(HOST, 'juliet', { id: 'm3', when: T0 + 60_000, with: 'nurse@example.com', value: 'new' }), 'm3');
        assert.equal(await mam.count(HOST, 'juliet'), 10);
        const { items } = await mam.query(HOST, 'juliet');
        assert.deepEqual(items.map((i) => i.id), M(0, 1, 2, 4, 5, 6, 7, 8, 9, 3));
        assert.deepEqual(items[9], { id: 'm3', when: T0 + 60_000, with: 'nurse@example.com', value: 'new' });
      }));

      test('the same id may exist for different users and stores', withBackend(async (b) => {
        await b.archive('mam').append(HOST, 'juliet', { id: 'x', value: '1' });
        await b.archive('mam').append(HOST, 'romeo', { id: 'x', value: '2' });
        await b.archive('offline').append(HOST, 'juliet', { id: 'x', value: '3' });
        await b.archive('mam').append(OTHER_HOST, 'juliet', { id: 'x', value: '4' });
        assert.equal((await b.archive('mam').query(HOST, 'juliet')).items[0].value, '1');
        assert.equal((await b.archive('mam').query(HOST, 'romeo')).items[0].value, '2');
        assert.equal((await b.archive('offline').query(HOST, 'juliet')).items[0].value, '3');
        assert.equal((await b.archive('mam').query(OTHER_HOST, 'juliet')).items[0].value, '4');
      }));

      test('query returns everything in order by default, and nothing for an empty archive', withBackend(async (b) => {
        const mam = b.archive('mam');
        assert.deepEqual(await mam.query(HOST, 'juliet'), { items: [], complete: true });
        await fillArchive(mam);
        const all = await mam.query(HOST, 'juliet', {});
        assert.deepEqual(ids(all), M(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assert.equal(all.complete, true);
        assert.deepEqual(all.items[1], { id: 'm1', when: T0 + 1000, with: 'bob@example.com', value: '<body>1</body>' });
      }));

      test('query filters by with, start, end (inclusive) and ids', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { with: 'alice@example.com' })), M(0, 2, 4, 6, 8));
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { with: 'nobody@example.com' })), []);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { start: T0 + 7000 })), M(7, 8, 9));
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { end: T0 + 2000 })), M(0, 1, 2));
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { start: T0 + 3000, end: T0 + 5000 })), M(3, 4, 5));
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { ids: ['m7', 'm2', 'unknown'] })), M(2, 7), 'archive order');
        assert.deepEqual(ids(await mam.query(HOST, 'juliet', { ids: [] })), []);
        assert.deepEqual(
          ids(await mam.query(HOST, 'juliet', { with: 'bob@example.com', start: T0 + 2000, end: T0 + 8000 })), M(3, 5, 7));
        assert.deepEqual(
          ids(await mam.query(HOST, 'juliet', { with: 'bob@example.com', ids: ['m1', 'm2', 'm3'] })), M(1, 3));
      }));

      test('paging forward with limit and after; complete is exact at the edges', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        let page = await mam.query(HOST, 'juliet', { limit: 4 });
        assert.deepEqual([ids(page), page.complete], [M(0, 1, 2, 3), false]);
        page = await mam.query(HOST, 'juliet', { limit: 4, after: 'm3' });
        assert.deepEqual([ids(page), page.complete], [M(4, 5, 6, 7), false]);
        page = await mam.query(HOST, 'juliet', { limit: 4, after: 'm7' });
        assert.deepEqual([ids(page), page.complete], [M(8, 9), true]);
        // A page that ends exactly on the last item is complete.
        page = await mam.query(HOST, 'juliet', { limit: 3, after: 'm6' });
        assert.deepEqual([ids(page), page.complete], [M(7, 8, 9), true]);
        page = await mam.query(HOST, 'juliet', { limit: 10 });
        assert.deepEqual([ids(page).length, page.complete], [10, true]);
        page = await mam.query(HOST, 'juliet', { limit: 9 });
        assert.deepEqual([ids(page).length, page.complete], [9, false]);
        page = await mam.query(HOST, 'juliet', { after: 'm9' });
        assert.deepEqual([ids(page), page.complete], [[], true]);
      }));

      test('paging backward with reverse and before; complete is exact at the edges', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        let page = await mam.query(HOST, 'juliet', { limit: 4, reverse: true });
        assert.deepEqual([ids(page), page.complete], [M(9, 8, 7, 6), false]);
        page = await mam.query(HOST, 'juliet', { limit: 4, reverse: true, before: 'm6' });
        assert.deepEqual([ids(page), page.complete], [M(5, 4, 3, 2), false]);
        page = await mam.query(HOST, 'juliet', { limit: 4, reverse: true, before: 'm2' });
        assert.deepEqual([ids(page), page.complete], [M(1, 0), true]);
        page = await mam.query(HOST, 'juliet', { limit: 3, reverse: true, before: 'm3' });
        assert.deepEqual([ids(page), page.complete], [M(2, 1, 0), true]);
        page = await mam.query(HOST, 'juliet', { reverse: true });
        assert.deepEqual([ids(page), page.complete], [M(9, 8, 7, 6, 5, 4, 3, 2, 1, 0), true]);
        page = await mam.query(HOST, 'juliet', { reverse: true, before: 'm0' });
        assert.deepEqual([ids(page), page.complete], [[], true]);
      }));

      test('after and before are exclusive bounds in either direction', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        let page = await mam.query(HOST, 'juliet', { before: 'm5', limit: 2 });
        assert.deepEqual([ids(page), page.complete], [M(0, 1), false]);
        page = await mam.query(HOST, 'juliet', { after: 'm2', before: 'm6' });
        assert.deepEqual([ids(page), page.complete], [M(3, 4, 5), true]);
        page = await mam.query(HOST, 'juliet', { after: 'm2', before: 'm6', limit: 2, reverse: true });
        assert.deepEqual([ids(page), page.complete], [M(5, 4), false]);
        page = await mam.query(HOST, 'juliet', { after: 'm2', reverse: true, limit: 7 });
        assert.deepEqual([ids(page), page.complete], [M(9, 8, 7, 6, 5, 4, 3), true]);
        page = await mam.query(HOST, 'juliet', { after: 'm5', before: 'm5' });
        assert.deepEqual([ids(page), page.complete], [[], true]);
      }));

      test('paging combines with filters; a cursor need not match the filter', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        let page = await mam.query(HOST, 'juliet', { with: 'alice@example.com', limit: 2 });
        assert.deepEqual([ids(page), page.complete], [M(0, 2), false]);
        page = await mam.query(HOST, 'juliet', { with: 'alice@example.com', limit: 2, after: 'm2' });
        assert.deepEqual([ids(page), page.complete], [M(4, 6), false]);
        page = await mam.query(HOST, 'juliet', { with: 'alice@example.com', limit: 2, after: 'm5' });
        assert.deepEqual([ids(page), page.complete], [M(6, 8), true]);
        page = await mam.query(HOST, 'juliet', { with: 'bob@example.com', limit: 2, reverse: true, before: 'm4' });
        assert.deepEqual([ids(page), page.complete], [M(3, 1), true]);
        page = await mam.query(HOST, 'juliet', { start: T0 + 2000, end: T0 + 6000, limit: 3, after: 'm3' });
        assert.deepEqual([ids(page), page.complete], [M(4, 5, 6), true]);
      }));

      test('limit 0 returns no items and says whether any match', withBackend(async (b) => {
        const mam = b.archive('mam');
        assert.deepEqual(await mam.query(HOST, 'juliet', { limit: 0 }), { items: [], complete: true });
        await fillArchive(mam);
        assert.deepEqual(await mam.query(HOST, 'juliet', { limit: 0 }), { items: [], complete: false });
        assert.deepEqual(await mam.query(HOST, 'juliet', { limit: 0, after: 'm9' }), { items: [], complete: true });
      }));

      test("an unknown cursor rejects with 'item-not-found'", withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        await assert.rejects(mam.query(HOST, 'juliet', { after: 'nope' }), isStorageError('item-not-found'));
        await assert.rejects(mam.query(HOST, 'juliet', { before: 'nope', reverse: true }), isStorageError('item-not-found'));
        // An id from another user's archive is unknown in this one.
        await assert.rejects(mam.query(HOST, 'romeo', { after: 'm1' }), isStorageError('item-not-found'));
        await mam.delete(HOST, 'juliet', { ids: ['m4'] });
        await assert.rejects(mam.query(HOST, 'juliet', { after: 'm4' }), isStorageError('item-not-found'));
      }));

      test('count applies with, start and end', withBackend(async (b) => {
        const mam = b.archive('mam');
        assert.equal(await mam.count(HOST, 'juliet'), 0);
        await fillArchive(mam);
        assert.equal(await mam.count(HOST, 'juliet'), 10);
        assert.equal(await mam.count(HOST, 'juliet', {}), 10);
        assert.equal(await mam.count(HOST, 'juliet', { with: 'alice@example.com' }), 5);
        assert.equal(await mam.count(HOST, 'juliet', { start: T0 + 8000 }), 2);
        assert.equal(await mam.count(HOST, 'juliet', { end: T0 + 8000 }), 9);
        assert.equal(await mam.count(HOST, 'juliet', { with: 'bob@example.com', start: T0 + 2000, end: T0 + 7000 }), 3);
        assert.equal(await mam.count(HOST, 'romeo'), 0);
      }));

      test('delete by ids, with, end, a combination, or everything', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillArchive(mam);
        assert.equal(await mam.delete(HOST, 'juliet', { ids: ['m0', 'm9', 'unknown'] }), 2);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), M(1, 2, 3, 4, 5, 6, 7, 8));
        assert.equal(await mam.delete(HOST, 'juliet', { ids: [] }), 0);
        assert.equal(await mam.delete(HOST, 'juliet', { end: T0 + 2000 }), 2, 'end is inclusive');
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), M(3, 4, 5, 6, 7, 8));
        assert.equal(await mam.delete(HOST, 'juliet', { with: 'alice@example.com', end: T0 + 6000 }), 2);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), M(3, 5, 7, 8));
        assert.equal(await mam.delete(HOST, 'juliet', { with: 'bob@example.com', ids: ['m3', 'm8'] }), 1);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), M(5, 7, 8));
        assert.equal(await mam.delete(HOST, 'juliet', { with: 'bob@example.com' }), 2);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), M(8));
        assert.equal(await mam.delete(HOST, 'juliet'), 1);
        assert.equal(await mam.count(HOST, 'juliet'), 0);
        assert.equal(await mam.delete(HOST, 'juliet'), 0);
      }));

      test('stores, hosts and users are separate', withBackend(async (b) => {
        await fillArchive(b.archive('mam'), 'juliet');
        await fillArchive(b.archive('mam'), 'romeo');
        await fillArchive(b.archive('offline'), 'juliet');
        await b.archive('mam').append(OTHER_HOST, 'juliet', { value: 'x' });
        assert.equal(await b.archive('mam').delete(HOST, 'juliet'), 10);
        assert.equal(await b.archive('mam').count(HOST, 'juliet'), 0);
        assert.equal(await b.archive('mam').count(HOST, 'romeo'), 10);
        assert.equal(await b.archive('offline').count(HOST, 'juliet'), 10);
        assert.equal(await b.archive('mam').count(OTHER_HOST, 'juliet'), 1);
        assert.deepEqual(ids(await b.archive('offline').query(HOST, 'juliet', { limit: 2 })), M(0, 1));
      }));

      test('items appended concurrently are all kept', withBackend(async (b) => {
        const mam = b.archive('mam');
        // Concurrent calls promise no order among themselves (a pooled backend may commit them in any order).
        const appended = await Promise.all(
          Array.from({ length: 50 }, (_, i) => mam.append(HOST, 'juliet', { when: T0 + i, value: `${i}` })));
        assert.equal(new Set(appended).size, 50);
        const { items } = await mam.query(HOST, 'juliet');
        assert.deepEqual(items.map((i) => i.id).sort(), [...appended].sort());
      }));
    });

    describe('archive search (text)', () => {
      /** The ids of the items a search finds in juliet's archive, in order. */
      const search = async (archive: ArchiveStore, text: string, q: ArchiveQuery = {}) => ids(await archive.query(HOST, 'juliet', { ...q, text }));

      test('every backend supports it', withBackend(async (b) => {
        assert.equal(b.archive('mam').textSearch, true);
      }));

      test('an item matches when its text holds every word, in any order, case and accents; * makes a prefix', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        const expected: [string, string[]][] = [
          ['sun', S(1, 2, 7)],
          ['SUN Juliet', S(1)],
          ['juliet sun', S(1)],
          ['thou wherefore', S(3)],
          ['sun*', S(1, 2, 7)],
          ['sund*', S(7)],
          ['sunny', S(7)],
          ['su', []],
          ['rom*', S(3, 6)],
          ['romeo', S(3, 6)],
          ['romeo tybalt', S(6)],
          // Punctuation separates words: an address, an apostrophe, a hyphen, a decimal point.
          ['montague', S(6)],
          ['lit', S(6)],
          ['tybalt', S(6)],
          ['s', S(6)],
          ['foo', S(6)],
          ['bar', S(6)],
          ['14', S(6)],
          // Accents and case are ignored, in the text and in the search.
          ['creme brulee', S(4)],
          ['CRÈME', S(4)],
          ['cafe', S(4)],
          ['café', S(4)],
          ['Verone', S(4)],
          ['vér*', S(4)],
          ['nandu naive', S(4)],
          ['οδοσ', S(4)],
          ['Οδός', S(4)],
        ];
        for (const [text, want] of expected) assert.deepEqual(await search(mam, text), want, text);
      }));

      test('the value is not searched: tags, attributes and items appended without text never match', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        for (const text of ['message', 'chat', 'jabber', 'client', 'moonlight', 'body', 'type', 'xmlns']) {
          assert.deepEqual(await search(mam, text), [], text);
        }
        // s5's value says "sun", but it was appended without text.
        assert.ok(!(await search(mam, 'sun')).includes('s5'));
        await mam.append(HOST, 'juliet', { id: 'empty', value: '<message><body>sun</body></message>', text: '' });
        assert.deepEqual(await search(mam, 'sun'), S(1, 2, 7));
      }));

      test('quotes, operators and other punctuation in a search are separators or words, never syntax', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        const expected: [string, string[]][] = [
          ['"', []],
          ["'", []],
          ['"sun', S(1, 2, 7)],
          ['sun"', S(1, 2, 7)],
          ["'sun'", S(1, 2, 7)],
          ['"juliet sun"', S(1)],
          ['""sun""', S(1, 2, 7)],
          // AND, OR, NOT and NEAR are words like any other.
          ['sun AND juliet', S(1)],
          ['sun OR moon', []],
          ['romeo OR', S(6)],
          ['NEAR(sun moon)', []],
          ['near', S(6)],
          ['NOT', S(7)],
          ['(sun', S(1, 2, 7)],
          ['sun)', S(1, 2, 7)],
          ['()', []],
          ['-sun', S(1, 2, 7)],
          ['sun -juliet', S(1)],
          ['words:sun', []],
          ['owner:sun', []],
          ['{words}:sun', []],
          ['sun:', S(1, 2, 7)],
          [':', []],
          ['^sun', S(1, 2, 7)],
          ['+sun', S(1, 2, 7)],
          ['sun*juliet', S(1)],
          ['*sun', S(1, 2, 7)],
          ['sun**', S(1, 2, 7)],
          ['*', []],
          ['**', []],
          ['sun & juliet', S(1)],
          ['sun | moon', S(2)],
          ['!sun', S(1, 2, 7)],
          ['sun <-> juliet', S(1)],
          ['sun:*', S(1, 2, 7)],
          [':*', []],
          ['\\', []],
          ['sun\\', S(1, 2, 7)],
          ["sun\\'", S(1, 2, 7)],
          ['%', []],
          ['_', []],
          ['s_x', S(6)],
          ["'; DROP TABLE archive; --", []],
          ['sun\u0000juliet', S(1)],
          ['🌞 sun', S(1, 2, 7)],
        ];
        for (const [text, want] of expected) assert.deepEqual(await search(mam, text), want, JSON.stringify(text));
        assert.equal(await mam.count(HOST, 'juliet'), SEARCHABLE.length, 'the archive is intact');
      }));

      test('a search without words, or with a word too long to be indexed, matches nothing', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        for (const text of ['', '   ', '?!…', '— – ·', '*', '"()"', '🌞', `sun ${'a'.repeat(101)}`]) {
          assert.deepEqual(await mam.query(HOST, 'juliet', { text }), { items: [], complete: true }, JSON.stringify(text));
          assert.equal(await mam.count(HOST, 'juliet', { text }), 0, JSON.stringify(text));
        }
        // A word of the longest indexed length is a word like any other.
        const longest = 'w'.repeat(100);
        await mam.append(HOST, 'juliet', { id: 'long', value: '<message/>', text: `${longest} ${'q'.repeat(101)}` });
        assert.deepEqual(await search(mam, longest), ['long']);
        assert.deepEqual(await search(mam, `${'w'.repeat(50)}*`), ['long']);
        assert.deepEqual(await search(mam, 'q*'), [], 'a longer word is not indexed');
        // Many words: all must match, but only the first 32 distinct ones count (text-search.ts).
        assert.deepEqual(await search(mam, `sun ${Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ')}`), []);
        assert.deepEqual(await search(mam, 'sun '.repeat(2000)), S(1, 2, 7));
        const words = Array.from({ length: 40 }, (_, i) => `v${i}`);
        await mam.append(HOST, 'juliet', { id: 'many', value: '<message/>', text: words.slice(0, 32).join(' ') });
        assert.deepEqual(await search(mam, words.join(' ')), ['many'], 'words 33 to 40 are not looked for');
        assert.deepEqual(await search(mam, `${words.slice(0, 31).join(' ')} v39`), []);
        // A huge text is indexed up to 100,000 characters of distinct words: the first ones are found, the last are not.
        const huge = Array.from({ length: 20_000 }, (_, i) => `h${String(i).padStart(9, '0')}`);
        await mam.append(HOST, 'juliet', { id: 'huge', value: '<message/>', text: huge.join(' ') });
        assert.deepEqual(await search(mam, `${huge[0]} ${huge[9_999]}`), ['huge']);
        assert.deepEqual(await search(mam, huge[10_000]), []);
        assert.deepEqual(await search(mam, 'h000009*'), ['huge']);
        assert.deepEqual(await search(mam, 'h00001*'), []);
      }));

      test('text combines with with, withPrefix, start, end and ids', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        assert.deepEqual(await search(mam, 'sun', { with: 'romeo@example.com' }), S(1, 7));
        assert.deepEqual(await search(mam, 'sun', { withPrefix: 'nurse@' }), S(2));
        assert.deepEqual(await search(mam, 'sun', { start: T0 + 2000 }), S(2, 7));
        assert.deepEqual(await search(mam, 'sun', { end: T0 + 1000 }), S(1));
        assert.deepEqual(await search(mam, 'sun', { ids: S(2, 3, 5, 7) }), S(2, 7));
        assert.deepEqual(await search(mam, 'sun', { with: 'romeo@example.com', start: T0 + 3000, ids: S(1, 7) }), S(7));
      }));

      test('text pages like any filter: limit, after, before, reverse, and complete exact at the edges', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        const page = async (q: ArchiveQuery) => {
          const result = await mam.query(HOST, 'juliet', { ...q, text: 'sun' });
          return [ids(result), result.complete];
        };
        assert.deepEqual(await page({ limit: 2 }), [S(1, 2), false]);
        assert.deepEqual(await page({ limit: 2, after: 's2' }), [S(7), true]);
        assert.deepEqual(await page({ limit: 1, after: 's1' }), [S(2), false]);
        // A cursor need not match the search.
        assert.deepEqual(await page({ limit: 2, after: 's3' }), [S(7), true]);
        assert.deepEqual(await page({ limit: 2, reverse: true }), [S(7, 2), false]);
        assert.deepEqual(await page({ limit: 2, reverse: true, before: 's7' }), [S(2, 1), true]);
        assert.deepEqual(await page({ reverse: true, before: 's6' }), [S(2, 1), true]);
        assert.deepEqual(await page({ after: 's1', before: 's7' }), [S(2), true]);
        assert.deepEqual(await page({ limit: 0 }), [[], false]);
        assert.deepEqual(await page({ limit: 0, after: 's7' }), [[], true]);
        await assert.rejects(mam.query(HOST, 'juliet', { text: 'sun', after: 'nope' }), isStorageError('item-not-found'));
        // Even a search that cannot match checks its cursor.
        await assert.rejects(mam.query(HOST, 'juliet', { text: '?!', after: 'nope' }), isStorageError('item-not-found'));
      }));

      test('count and delete take text', withBackend(async (b) => {
        const mam = b.archive('mam');
        await fillSearchable(mam);
        await fillSearchable(mam, 'romeo');
        assert.equal(await mam.count(HOST, 'juliet', { text: 'sun' }), 3);
        assert.equal(await mam.count(HOST, 'juliet', { text: 'sun', with: 'romeo@example.com' }), 2);
        assert.equal(await mam.count(HOST, 'juliet', { text: 'sun', withPrefix: 'nurse', start: T0 + 2000, end: T0 + 2000 }), 1);
        assert.equal(await mam.count(HOST, 'juliet', { text: 'moon*' }), 1);
        assert.equal(await mam.delete(HOST, 'juliet', { text: '?!' }), 0);
        assert.equal(await mam.delete(HOST, 'juliet', { text: 'sun', with: 'romeo@example.com' }), 2);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), S(0, 2, 3, 4, 5, 6));
        assert.equal(await mam.delete(HOST, 'juliet', { text: 'romeo', ids: S(0, 3, 4) }), 1);
        assert.equal(await mam.delete(HOST, 'juliet', { text: 'c*', end: T0 + 4000 }), 1, 'creme, s4');
        assert.equal(await mam.delete(HOST, 'juliet', { text: 'rapier', withPrefix: 'tyb' }), 1);
        assert.deepEqual(ids(await mam.query(HOST, 'juliet')), S(0, 2, 5));
        assert.deepEqual(await search(mam, 'sun'), S(2));
        // Romeo's archive, with the same ids and words, is untouched.
        assert.equal(await mam.count(HOST, 'romeo', { text: 'sun' }), 3);
        assert.deepEqual(ids(await mam.query(HOST, 'romeo', { text: 'romeo' })), S(3, 6));
      }));

      test('searches stay within one store, host and user', withBackend(async (b) => {
        await fillSearchable(b.archive('mam'), 'romeo');
        await fillSearchable(b.archive('offline'), 'juliet');
        await b.archive('mam').append(OTHER_HOST, 'juliet', { id: 'x', value: '<x/>', text: 'sun' });
        assert.deepEqual(await search(b.archive('mam'), 'sun'), []);
        assert.deepEqual(ids(await b.archive('mam').query(OTHER_HOST, 'juliet', { text: 'sun' })), ['x']);
        assert.deepEqual(ids(await b.archive('offline').query(HOST, 'juliet', { text: 'sun' })), S(1, 2, 7));
        assert.deepEqual(ids(await b.archive('mam').query(HOST, 'romeo', { text: 'sun' })), S(1, 2, 7));
      }));

      test('the words follow the item: replaced, replaced without text, deleted, and deleted with the account', withBackend(async (b) => {
        const mam = b.archive('mam');
        await b.accounts.create(HOST, 'juliet', account());
        await fillSearchable(mam);
        await mam.append(HOST, 'juliet', { id: 's1', when: T0 + 60_000, with: 'romeo@example.com', value: '<message/>', text: 'Good night, good night!' });
        assert.deepEqual(await search(mam, 'juliet'), []);
        assert.deepEqual(await search(mam, 'night'), S(1));
        assert.deepEqual(await search(mam, 'sun'), S(2, 7));
        await mam.append(HOST, 'juliet', { id: 's1', value: '<message/>' });
        assert.deepEqual(await search(mam, 'night'), []);
        await mam.delete(HOST, 'juliet', { ids: ['s2'] });
        assert.deepEqual(await search(mam, 'moon'), []);
        assert.deepEqual(await search(mam, 'sun'), S(7));

        assert.equal(await b.accounts.delete(HOST, 'juliet'), true);
        assert.deepEqual(await search(mam, 'sun'), []);
        // The same ids in a new account with other words: nothing of the old ones is found.
        await b.accounts.create(HOST, 'juliet', account());
        await mam.append(HOST, 'juliet', { id: 's7', value: '<message/>', text: 'parting is such sweet sorrow' });
        assert.deepEqual(await search(mam, 'sun'), []);
        assert.deepEqual(await search(mam, 'sorrow'), S(7));
      }));
    });

    describe('archive setText', () => {
      test('gives an item new search text where it stands: order, value and time stay; false for no such item', withBackend(async (b) => {
        const store = b.archive('pubsub-items');
        await store.append(HOST, 'juliet', { id: 'a', when: T0, with: 'n', value: '<a/>' });
        await store.append(HOST, 'juliet', { id: 'b', when: T0 + 1, with: 'n', value: '<b/>', text: 'old words' });
        await store.append(HOST, 'juliet', { id: 'c', when: T0 + 2, with: 'n', value: '<c/>' });
        assert.equal(await store.setText(HOST, 'juliet', 'a', 'Wherefore art thou'), true);
        assert.equal(await store.setText(HOST, 'juliet', 'b', 'new words'), true);
        assert.equal(await store.setText(HOST, 'juliet', 'nope', 'x'), false);
        assert.deepEqual(ids(await store.query(HOST, 'juliet', { text: 'wherefore' })), ['a']);
        assert.deepEqual(ids(await store.query(HOST, 'juliet', { text: 'words' })), ['b']);
        assert.deepEqual(ids(await store.query(HOST, 'juliet', { text: 'old' })), []);
        const all = await store.query(HOST, 'juliet');
        assert.deepEqual(all.items.map((i) => [i.id, i.when, i.value]), [['a', T0, '<a/>'], ['b', T0 + 1, '<b/>'], ['c', T0 + 2, '<c/>']]);
        assert.equal(await store.setText(HOST, 'juliet', 'b', undefined), true);
        assert.deepEqual(ids(await store.query(HOST, 'juliet', { text: 'words' })), []);
        // Deleting the item takes its new words along.
        await store.delete(HOST, 'juliet', { ids: ['a'] });
        assert.deepEqual(ids(await store.query(HOST, 'juliet', { text: 'wherefore' })), []);
      }));
    });

    describe('archive withPrefix', () => {
      const WITHS = [
        'node\u001fa', 'node\u001fb', 'node\u001f', 'node', 'node2', 'nod', 'nodf', 'a%b', 'a_b', 'axb',
        'x\uFFFFa', 'x\u{10000}', 'x\uFFFE', 'y\u{10FFFF}a', 'z', '\uD7FFq', '\uE000', 'ab\u00e9', 'abf',
      ];
      const fillWiths = async (archive: ArchiveStore, user = 'juliet') => {
        for (const [i, w] of WITHS.entries()) await archive.append(HOST, user, { id: `w${i}`, when: T0 + i, with: w, value: w });
      };
      const withsOf = async (archive: ArchiveStore, q: ArchiveQuery) => (await archive.query(HOST, 'juliet', q)).items.map((item) => item.with);

      test('matches the items whose with starts with the prefix, character by character, with no wildcards', withBackend(async (b) => {
        const mam = b.archive('pubsub-history');
        await fillWiths(mam);
        const expected: [string, string[]][] = [
          ['node\u001f', ['node\u001fa', 'node\u001fb', 'node\u001f']],
          ['node', ['node\u001fa', 'node\u001fb', 'node\u001f', 'node', 'node2']],
          ['nodf', ['nodf']],
          ['a%', ['a%b']],
          ['a_', ['a_b']],
          ['%', []],
          ['ab', ['ab\u00e9', 'abf']],
          // Code point order, not UTF-16 order: U+10000 comes after U+FFFF.
          ['x\uFFFF', ['x\uFFFFa']],
          ['x', ['x\uFFFFa', 'x\u{10000}', 'x\uFFFE']],
          ['y\u{10FFFF}', ['y\u{10FFFF}a']],
          ['\uD7FF', ['\uD7FFq']],
          ['nobody', []],
        ];
        for (const [prefix, want] of expected) assert.deepEqual(await withsOf(mam, { withPrefix: prefix }), want, JSON.stringify(prefix));
        assert.equal((await withsOf(mam, { withPrefix: '' })).length, WITHS.length, 'the empty prefix matches everything');
      }));

      test('combines with with, paging, count, delete and usage', withBackend(async (b) => {
        const mam = b.archive('pubsub-history');
        await fillWiths(mam);
        await fillWiths(mam, 'romeo');
        assert.deepEqual(await withsOf(mam, { withPrefix: 'no', with: 'node' }), ['node']);
        assert.deepEqual(await withsOf(mam, { withPrefix: 'no', with: 'z' }), []);
        let page = await mam.query(HOST, 'juliet', { withPrefix: 'node', limit: 2 });
        assert.deepEqual([ids(page), page.complete], [['w0', 'w1'], false]);
        page = await mam.query(HOST, 'juliet', { withPrefix: 'node', limit: 2, after: 'w1' });
        assert.deepEqual([ids(page), page.complete], [['w2', 'w3'], false]);
        page = await mam.query(HOST, 'juliet', { withPrefix: 'node', limit: 2, reverse: true, before: 'w9' });
        assert.deepEqual([ids(page), page.complete], [['w4', 'w3'], false]);
        page = await mam.query(HOST, 'juliet', { withPrefix: 'node', start: T0 + 1, end: T0 + 3 });
        assert.deepEqual([ids(page), page.complete], [['w1', 'w2', 'w3'], true]);
        assert.equal(await mam.count(HOST, 'juliet', { withPrefix: 'node\u001f' }), 3);
        assert.equal(await mam.count(HOST, 'juliet', { withPrefix: 'node', start: T0 + 3 }), 2);
        assert.deepEqual(await mam.usage(HOST, 'juliet', { withPrefix: 'node\u001f' }), { items: 3, bytes: 6 + 6 + 5 });
        assert.equal(await mam.delete(HOST, 'juliet', { withPrefix: 'node\u001f', end: T0 + 1 }), 2);
        assert.equal(await mam.delete(HOST, 'juliet', { withPrefix: 'x', ids: ['w10', 'w12', 'w0'] }), 2);
        assert.deepEqual(await withsOf(mam, { withPrefix: 'x' }), ['x\u{10000}']);
        assert.equal(await mam.delete(HOST, 'juliet', { withPrefix: 'node' }), 3);
        assert.deepEqual(await withsOf(mam, { withPrefix: 'no' }), ['nod', 'nodf']);
        assert.equal(await mam.count(HOST, 'romeo', { withPrefix: 'no' }), 7, "romeo's items stay");
      }));
    });

    describe('archive usage', () => {
      test('counts items and the UTF-8 bytes of their values, by with and withPrefix', withBackend(async (b) => {
        const files = b.archive('files');
        assert.deepEqual(await files.usage(HOST, 'juliet'), { items: 0, bytes: 0 });
        const values: [string, string][] = [['abc', 'a'], ['é', 'b\u001f1'], ['😀', 'b\u001f2'], ['€', 'b'], ['', 'a']];
        for (const [i, [value, w]] of values.entries()) await files.append(HOST, 'juliet', { id: `f${i}`, with: w, value, text: 'not counted' });
        await files.append(HOST, 'romeo', { value: 'x'.repeat(1000) });
        await files.append(OTHER_HOST, 'juliet', { value: 'x'.repeat(1000) });
        await b.archive('other').append(HOST, 'juliet', { value: 'x'.repeat(1000) });
        assert.deepEqual(await files.usage(HOST, 'juliet'), { items: 5, bytes: 3 + 2 + 4 + 3 });
        assert.deepEqual(await files.usage(HOST, 'juliet', {}), { items: 5, bytes: 12 });
        assert.deepEqual(await files.usage(HOST, 'juliet', { with: 'a' }), { items: 2, bytes: 3 });
        assert.deepEqual(await files.usage(HOST, 'juliet', { withPrefix: 'b' }), { items: 3, bytes: 9 });
        assert.deepEqual(await files.usage(HOST, 'juliet', { withPrefix: 'b\u001f' }), { items: 2, bytes: 6 });
        assert.deepEqual(await files.usage(HOST, 'juliet', { with: 'b', withPrefix: 'b' }), { items: 1, bytes: 3 });
        assert.deepEqual(await files.usage(HOST, 'juliet', { with: 'nobody' }), { items: 0, bytes: 0 });
        // A replaced item counts once, at its new size.
        await files.append(HOST, 'juliet', { id: 'f0', with: 'a', value: 'abcdef' });
        assert.deepEqual(await files.usage(HOST, 'juliet'), { items: 5, bytes: 15 });
        assert.deepEqual(await files.usage(HOST, 'romeo'), { items: 1, bytes: 1000 });
      }));

      test('a 1 MiB value counts its bytes', withBackend(async (b) => {
        await b.archive('files').append(HOST, 'juliet', { value: `${'x'.repeat(MiB - 1)}€` });
        assert.deepEqual(await b.archive('files').usage(HOST, 'juliet'), { items: 1, bytes: MiB + 2 });
      }));
    });

    describe('values', () => {
      const unicode = [
        '<body xml:lang="ja">こんにちは、世界</body>',
        'emoji 🧑‍🚀🏳️‍🌈 and astral 𝄞',
        'مرحبا بالعالم', // right-to-left
        'e\u0301 vs \u00e9', // combining mark vs precomposed: stored as given, not normalised
        '\uFFFD \uFEFF line\nbreak\ttab "quotes" \'apostrophes\' <&>',
      ];

      test('unicode round-trips through every store', withBackend(async (b) => {
        for (const [i, text] of unicode.entries()) {
          const user = `usér${i}-😀`;
          assert.equal(await b.accounts.create(HOST, user, account()), true);
          await b.keyval('vcard').set(HOST, user, text);
          assert.equal(await b.keyval('vcard').get(HOST, user), text);
          await b.map('roster').set(HOST, user, text, text);
          assert.deepEqual(await b.map('roster').getAll(HOST, user), new Map([[text, text]]));
          const id = await b.archive('mam').append(HOST, user, { id: `id-${text}`, with: text, value: text });
          assert.equal(id, `id-${text}`);
          const { items } = await b.archive('mam').query(HOST, user, { with: text });
          assert.deepEqual(items.map((item) => [item.id, item.with, item.value]), [[id, text, text]]);
        }
        assert.equal((await b.accounts.list(HOST)).length, unicode.length);
        assert.ok((await b.accounts.list(HOST)).includes('usér4-😀'));
      }));

      test('a 1 MiB value round-trips through every store', withBackend(async (b) => {
        const big = `${'x'.repeat(MiB - 1)}€`;
        assert.equal(big.length, MiB);
        await b.keyval('private').set(HOST, 'juliet', big);
        assert.equal(await b.keyval('private').get(HOST, 'juliet'), big);
        await b.map('files').set(HOST, 'juliet', 'big', big);
        assert.equal(await b.map('files').get(HOST, 'juliet', 'big'), big);
        await b.archive('mam').append(HOST, 'juliet', { id: 'big', value: big });
        assert.equal((await b.archive('mam').query(HOST, 'juliet', { ids: ['big'] })).items[0].value, big);
      }));
    });

    test('data survives close() and reopening', async (t) => {
      const target = await makeBackend();
      if (!target.reopen) {
        await target.cleanup?.();
        t.skip('backend is not persistent');
        return;
      }
      let backend = target.backend;
      try {
        await backend.open();
        await backend.accounts.create(HOST, 'juliet', account());
        await backend.keyval('vcard').set(HOST, 'juliet', '<vCard/>');
        await backend.map('roster').setMany(HOST, 'juliet', new Map([['romeo@example.org', '<item/>'], ['nurse@example.org', '<item/>']]));
        await fillArchive(backend.archive('mam'));
        await backend.archive('mam').append(HOST, 'juliet', { id: 'm2', when: T0 + 99_000, value: 'moved', text: 'moved away' });
        await backend.close();

        backend = await target.reopen();
        await backend.open();
        assert.deepEqual(await backend.accounts.get(HOST, 'juliet'), account());
        assert.deepEqual(await backend.accounts.list(HOST), ['juliet']);
        assert.equal(await backend.keyval('vcard').get(HOST, 'juliet'), '<vCard/>');
        assert.equal((await backend.map('roster').getAll(HOST, 'juliet')).size, 2);
        const page = await backend.archive('mam').query(HOST, 'juliet', { reverse: true, limit: 2 });
        assert.deepEqual([ids(page), page.complete], [M(2, 9), false]);
        // New items still sort after the reopened ones.
        await backend.archive('mam').append(HOST, 'juliet', { id: 'm10', value: 'after reopen', text: 'moved in' });
        assert.deepEqual(ids(await backend.archive('mam').query(HOST, 'juliet', { after: 'm2' })), M(10));
        assert.deepEqual(ids(await backend.archive('mam').query(HOST, 'juliet', { text: 'moved' })), M(2, 10));
      } finally {
        await backend.close();
        await target.cleanup?.();
      }
    });
  });
}
