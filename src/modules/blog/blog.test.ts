// The blog's URLs and Micropub's h-entry to Atom, without a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NS_ATOM } from '../../publishing/post.js';
import { entryFromProperties } from './routes/micropub.js';
import { blogPath, blogUrls, postPath } from './urls.js';

test('blog URLs: accounts and pubsub nodes, reserved names under post/, tags and feeds', () => {
  const pep = { kind: 'pep' as const, jid: 'alice@example.org', node: 'urn:xmpp:microblog:0' };
  const feed = { kind: 'pubsub' as const, service: 'pubsub.example.org', node: 'news/local' };
  assert.equal(blogPath(pep), '/blog/alice@example.org/');
  assert.equal(blogPath(feed), '/blog/pubsub.example.org/news%2Flocal/');
  assert.equal(postPath(pep, 'hello world'), '/blog/alice@example.org/hello%20world');
  assert.equal(postPath(pep, 'tag'), '/blog/alice@example.org/post/tag');
  const urls = blogUrls('https://example.org', pep);
  assert.equal(urls.index(1), 'https://example.org/blog/alice@example.org/');
  assert.equal(urls.index(3), 'https://example.org/blog/alice@example.org/?page=3');
  assert.equal(urls.tag('c++', 2), 'https://example.org/blog/alice@example.org/tag/c%2B%2B?page=2');
  assert.equal(urls.feed('rss', 'xmpp'), 'https://example.org/blog/alice@example.org/tag/xmpp/feed.rss');
  assert.equal(urls.epub!('the-tempest'), 'https://example.org/blog/alice@example.org/series/the-tempest.epub');
  assert.equal(urls.micropub, 'https://example.org/blog/alice@example.org/micropub');
});

test('Micropub: a note is a title; an article has a name and HTML content; bad dates are refused', () => {
  const note = entryFromProperties({ content: ['Hello from the train'], category: ['travel'] });
  assert.equal(note.getChildText('title', NS_ATOM), 'Hello from the train');
  assert.equal(note.getChildren('content', NS_ATOM).length, 0);
  assert.equal(note.getChild('category', NS_ATOM)?.attrs.term, 'travel');
  const article = entryFromProperties({ name: ['An article'], content: [{ html: '<p>Hi</p>' }], published: ['2026-01-01T00:00:00Z'] });
  assert.equal(article.getChildText('title', NS_ATOM), 'An article');
  assert.equal(article.getChild('content', NS_ATOM)?.attrs.type, 'html');
  assert.equal(article.getChildText('published', NS_ATOM), '2026-01-01T00:00:00Z');
  assert.throws(() => entryFromProperties({ content: ['x'], published: ['yesterday'] }), /RFC 3339/);
  assert.throws(() => entryFromProperties({}), /needs content or a name/);
});
