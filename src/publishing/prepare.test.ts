// prepareEntry: what the publishing modules' beforePublish hook does with a payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '../core/xml/element.js';
import { PubSubError } from '../pubsub/errors.js';
import { NODE_MICROBLOG, NS_ATOM, NS_SOCIAL_FEED_GALLERY } from './post.js';
import { isCommentsNode, prepareEntry } from './prepare.js';

const ctx = { service: 'romeo@montague.lit', node: NODE_MICROBLOG, nodeType: NODE_MICROBLOG, itemId: 'p1', publisher: { jid: 'romeo@montague.lit' }, now: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), previous: null };

test('a valid entry is normalized; the metadata item is kept as it is', () => {
  const prepared = prepareEntry(xml('entry', { xmlns: NS_ATOM }, xml('title', {}, 'Hi')), { ...ctx, webUrl: () => 'https://montague.lit/blog/romeo@montague.lit/p1', comments: { service: 'pubsub.montague.lit', node: 'urn:xmpp:microblog:0:comments/p1' } });
  assert.equal(prepared.post?.id, 'tag:romeo@montague.lit,2026-01-02:posts/p1');
  assert.deepEqual(prepared.post?.links.map((l) => l.rel), ['alternate', 'alternate', 'replies']);
  const feed = xml('feed', { xmlns: NS_ATOM }, xml('title', {}, 'Romeo’s Microblog'));
  assert.equal(prepareEntry(feed, { ...ctx, itemId: '0' }).entry, feed);
});

test('an invalid entry is a bad-request with invalid-payload, and the problems as its text', () => {
  assert.throws(() => prepareEntry(xml('entry', { xmlns: NS_ATOM }), ctx), (err: unknown) => err instanceof PubSubError && err.condition === 'bad-request' && err.pubsubCondition === 'invalid-payload' && /needs a <title\/>/.test(err.text ?? ''));
  assert.throws(() => prepareEntry(xml('entry', { xmlns: NS_ATOM }, xml('title', {}, 'No picture')), { ...ctx, nodeType: NS_SOCIAL_FEED_GALLERY }), /gallery post needs a picture/);
});

test('the previous version keeps its id and published date', () => {
  const previous = xml('entry', { xmlns: NS_ATOM }, xml('title', {}, 'Old'), xml('id', {}, 'urn:uuid:1'), xml('published', {}, '2020-01-01T00:00:00Z'), xml('updated', {}, '2020-01-01T00:00:00Z'));
  const prepared = prepareEntry(xml('entry', { xmlns: NS_ATOM }, xml('title', {}, 'New')), { ...ctx, previous });
  assert.equal(prepared.post?.id, 'urn:uuid:1');
  assert.equal(prepared.post?.published, '2020-01-01T00:00:00Z');
});

test('comments nodes are named <node>:comments/<item>', () => {
  assert.ok(isCommentsNode('urn:xmpp:microblog:0:comments/p1'));
  assert.ok(isCommentsNode('news:comments/x-1a2b3c4d'));
  assert.ok(!isCommentsNode('urn:xmpp:microblog:0'));
});
