import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredXml } from '../core/roster.js';
import { parseEntry } from './atom-read.js';
import type { Post } from './post.js';
import { collectSeries, isSeriesId, orderSeries, SERIES_SCHEME, seriesCategory, seriesNavigation } from './series.js';

function chapter(itemId: string, published: string, series?: Post['series']): Post {
  return { itemId, id: `tag:x,2026:${itemId}`, title: { type: 'text', value: itemId }, contents: [], published, updated: published, authors: [], contributors: [], categories: [], links: [], inReplyTo: [], series };
}

test('the series category is a plain Atom category with an optional namespaced position', () => {
  assert.equal(seriesCategory({ id: 'the-tempest', title: 'The Tempest', position: 3 }).toString(),
    `<category scheme="${SERIES_SCHEME}" term="the-tempest" label="The Tempest" xmlns:quire="${SERIES_SCHEME}" quire:position="3"/>`);
  assert.equal(seriesCategory({ id: 'w' }).toString(), `<category scheme="${SERIES_SCHEME}" term="w"/>`);
  // A client that knows nothing of series keeps it as a category; dropping the position keeps the membership.
  const entry = parseStoredXml(`<entry xmlns='http://www.w3.org/2005/Atom'><title>c</title><category scheme='${SERIES_SCHEME}' term='the-tempest' label='The Tempest'/></entry>`);
  assert.deepEqual(parseEntry(entry).series, { id: 'the-tempest', title: 'The Tempest' });
});

test('series identifiers are one URL path segment', () => {
  for (const ok of ['the-tempest', 'Tempête_2', 'v1.2', '書']) assert.ok(isSeriesId(ok), ok);
  for (const bad of ['', '.hidden', 'a/b', 'a b', '..', 'a?b', 'x'.repeat(129)]) assert.ok(!isSeriesId(bad), bad);
});

test('chapters with a position come first by position, the rest by publication date', () => {
  const s = (position?: number): Post['series'] => ({ id: 'w', position });
  const posts = [
    chapter('late', '2026-03-01T00:00:00Z', s()),
    chapter('second', '2026-01-01T00:00:00Z', s(2)),
    chapter('early', '2026-02-01T00:00:00Z', s()),
    chapter('prologue', '2026-04-01T00:00:00Z', s(1)),
    chapter('b-same-day', '2026-02-01T00:00:00Z', s()),
  ];
  assert.deepEqual(orderSeries(posts).map((p) => p.itemId), ['prologue', 'second', 'b-same-day', 'early', 'late']);
});

test('a blog\'s series are collected with their newest title, and a chapter knows its neighbours', () => {
  const posts = [
    chapter('1', '2026-01-01T00:00:00Z', { id: 'w', title: 'Working title' }),
    chapter('x', '2026-01-02T00:00:00Z'),
    chapter('2', '2026-01-03T00:00:00Z', { id: 'w', title: 'The Tempest' }),
    chapter('3', '2026-01-04T00:00:00Z', { id: 'w' }),
    chapter('o', '2026-01-05T00:00:00Z', { id: 'other' }),
  ];
  const series = collectSeries(posts);
  assert.deepEqual([...series.keys()], ['w', 'other']);
  assert.equal(series.get('w')?.title, 'The Tempest');
  assert.equal(series.get('other')?.title, 'other');
  const chapters = series.get('w')!.chapters;
  assert.deepEqual(chapters.map((p) => p.itemId), ['1', '2', '3']);
  const nav = seriesNavigation(chapters, posts[2])!;
  assert.deepEqual({ index: nav.index, total: nav.total, previous: nav.previous?.itemId, next: nav.next?.itemId }, { index: 1, total: 3, previous: '1', next: '3' });
  assert.equal(seriesNavigation(chapters, posts[0])?.previous, undefined);
  assert.equal(seriesNavigation(chapters, posts[3])?.next, undefined);
  assert.equal(seriesNavigation(chapters, posts[1]), undefined);
});
