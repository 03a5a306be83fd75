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

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from './errors.js';
import type { AccountRecord, ArchiveResult, ArchiveStore, StorageBackend } from './types.js';

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
        await backend.archive('mam').append(HOST, 'juliet', { id: 'm2', when: T0 + 99_000, value: 'moved' });
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
        await backend.archive('mam').append(HOST, 'juliet', { id: 'm10', value: 'after reopen' });
        assert.deepEqual(ids(await backend.archive('mam').query(HOST, 'juliet', { after: 'm2' })), M(10));
      } finally {
        await backend.close();
        await target.cleanup?.();
      }
    });
  });
}
