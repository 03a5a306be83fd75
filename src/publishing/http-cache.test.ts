import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etagOf, isNotModified, lastModifiedOf } from './http-cache.js';
import { testPost } from './test-fixtures.js';

test('ETags are strong, stable and change with the bytes', () => {
  const tag = etagOf('<p>a</p>');
  assert.match(tag, /^"[A-Za-z0-9_-]{27}"$/);
  assert.equal(etagOf(Buffer.from('<p>a</p>')), tag);
  assert.notEqual(etagOf('<p>b</p>'), tag);
});

test('Last-Modified is the newest update', () => {
  assert.equal(lastModifiedOf([testPost('a', { updated: '2026-12-01T10:00:00Z' }), testPost('b', { updated: '2026-12-03T10:00:00+02:00' })]), 'Thu, 03 Dec 2026 08:00:00 GMT');
  assert.equal(lastModifiedOf([]), undefined);
});

test('conditional requests follow RFC 9110 §13.2.2: If-None-Match first, then If-Modified-Since', () => {
  const etag = etagOf('x');
  const lastModified = 'Thu, 03 Dec 2026 08:00:00 GMT';
  assert.equal(isNotModified({ 'if-none-match': etag }, etag, lastModified), true);
  assert.equal(isNotModified({ 'if-none-match': `"other", W/${etag}` }, etag, lastModified), true);
  assert.equal(isNotModified({ 'if-none-match': '*' }, etag), true);
  assert.equal(isNotModified({ 'if-none-match': '"other"', 'if-modified-since': lastModified }, etag, lastModified), false);
  assert.equal(isNotModified({ 'if-modified-since': lastModified }, etag, lastModified), true);
  assert.equal(isNotModified({ 'if-modified-since': 'Wed, 02 Dec 2026 08:00:00 GMT' }, etag, lastModified), false);
  assert.equal(isNotModified({ 'if-modified-since': 'garbage' }, etag, lastModified), false);
  assert.equal(isNotModified({}, etag, lastModified), false);
});
