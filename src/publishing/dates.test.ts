import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRfc3339, parseFeedDate, parseRfc3339, timeOf, toHttpDate, toRfc3339, toRfc822 } from './dates.js';

test('RFC 4287 §3.3 dates: RFC 3339 date-times with an uppercase T and Z or an offset', () => {
  for (const ok of ['2008-05-08T18:30:02Z', '2008-05-08T18:30:02.25Z', '2008-05-08T20:30:02+02:00', '2016-12-31T23:59:60Z', '2024-02-29T00:00:00-00:00']) assert.ok(isRfc3339(ok), ok);
  for (const bad of ['2008-05-08t18:30:02z', '2008-05-08 18:30:02Z', '2008-05-08T18:30:02', '2008-05-08', '2023-02-29T00:00:00Z', '2008-13-01T00:00:00Z', '2008-05-08T24:00:00Z', '2008-05-08T18:60:00Z', '2008-05-08T18:30:02+0200', '2008-05-08T18:30:02+24:00', 'yesterday', ''])
    assert.ok(!isRfc3339(bad), bad);
  assert.equal(parseRfc3339('2008-05-08T20:30:02+02:00')?.toISOString(), '2008-05-08T18:30:02.000Z');
  assert.equal(parseRfc3339('2016-12-31T23:59:60Z')?.toISOString(), '2017-01-01T00:00:00.000Z');
});

test('dates are written as RFC 3339 to the second, RFC 822 for RSS and IMF-fixdate for HTTP', () => {
  const date = new Date(Date.UTC(2008, 4, 8, 18, 30, 2, 450));
  assert.equal(toRfc3339(date), '2008-05-08T18:30:02Z');
  assert.equal(toRfc822(date), 'Thu, 08 May 2008 18:30:02 GMT');
  assert.equal(toHttpDate(date), 'Thu, 08 May 2008 18:30:02 GMT');
  assert.equal(timeOf('2008-05-08T18:30:02Z'), Date.UTC(2008, 4, 8, 18, 30, 2));
  assert.equal(timeOf('not a date'), 0);
  assert.equal(timeOf(undefined), 0);
});

test('feed dates are read in the forms real feeds use', () => {
  const expect = '2008-05-08T18:30:02.000Z';
  for (const value of ['Thu, 08 May 2008 18:30:02 GMT', 'Thu, 08 May 2008 18:30:02 +0000', '08 May 2008 18:30:02 GMT', 'Thu, 8 May 2008 14:30:02 EDT', 'Thu, 08 May 08 18:30:02 Z', 'Thursday, 08 May 2008 20:30:02 +0200', '2008-05-08T18:30:02Z', '2008-05-08 18:30:02Z', '2008-05-08t18:30:02z', ' 2008-05-08T19:30:02+01:00 '])
    assert.equal(parseFeedDate(value)?.toISOString(), expect, value);
  assert.equal(parseFeedDate('Thu, 08 May 2008 18:30 GMT')?.toISOString(), '2008-05-08T18:30:00.000Z');
  assert.equal(parseFeedDate('2008-05-08')?.toISOString(), '2008-05-08T00:00:00.000Z');
  for (const bad of [undefined, '', 'soon', 'Thu, 32 May 2008 18:30:02 GMT', 'Thu, 08 Foo 2008 18:30:02 GMT']) assert.equal(parseFeedDate(bad), undefined, String(bad));
});
