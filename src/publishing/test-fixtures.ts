// A small blog for the Publishing tests (feeds, pages, EPUB): not used by the server.
import type { Blog, FeedFormat } from './blog.js';
import type { Post } from './post.js';

export function testBlog(): Blog {
  const base = 'https://montague.lit/blog/romeo';
  return {
    id: 'xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0',
    title: 'Romeo\'s <Journal> & "Notes"',
    subtitle: 'Verses, mostly',
    language: 'en',
    author: { name: 'Romeo Montague', uri: 'xmpp:romeo@montague.lit', jid: 'romeo@montague.lit' },
    origin: 'https://montague.lit',
    urls: {
      home: `${base}/`,
      index: (page) => (page === 1 ? `${base}/` : `${base}/page/${page}`),
      post: (post) => `${base}/${encodeURIComponent(post.itemId ?? '')}`,
      tag: (term, page = 1) => `${base}/tag/${encodeURIComponent(term)}${page > 1 ? `/page/${page}` : ''}`,
      author: (page = 1) => `${base}/about${page > 1 ? `/page/${page}` : ''}`,
      series: (id) => `${base}/series/${encodeURIComponent(id)}`,
      feed: (format: FeedFormat, tag?: string) => `${base}${tag === undefined ? '' : `/tag/${encodeURIComponent(tag)}`}/feed.${format === 'json' ? 'json' : format === 'rss' ? 'rss' : 'atom'}`,
      stylesheet: 'https://montague.lit/blog/style.css',
      epub: (series) => `${base}/${series === undefined ? 'blog' : `series/${encodeURIComponent(series)}/book`}.epub`,
    },
  };
}

export function testPost(itemId: string, fields: Partial<Post> = {}): Post {
  return {
    itemId,
    id: `tag:romeo@montague.lit,2026-12-01:posts/${itemId}`,
    title: { type: 'text', value: `Post ${itemId}` },
    contents: [{ type: 'text', value: `Body of ${itemId}` }],
    published: '2026-12-01T10:00:00Z',
    updated: '2026-12-01T10:00:00Z',
    authors: [{ name: 'Romeo Montague', uri: 'xmpp:romeo@montague.lit' }],
    contributors: [],
    categories: [],
    links: [],
    inReplyTo: [],
    ...fields,
  };
}

/** A post whose every field tries something: markup in the title, script in the content, odd URLs. */
export function hostilePost(): Post {
  return testPost('hostile', {
    title: { type: 'text', value: '<script>alert("title")</script> & \'quotes\' "double"' },
    contents: [
      { type: 'text', value: 'text' },
      { type: 'xhtml', value: '<p onclick="alert(1)">Hi <img src=x onerror=alert(2)><a href="javascript:alert(3)">click</a><a href="/rel">relative</a></p><script>alert(4)</script><iframe src="https://evil.example/"></iframe>' },
    ],
    summary: { type: 'html', value: '<b>sum</b><script>alert(5)</script>' },
    categories: [{ term: '"><script>alert(6)</script>', label: '<b>label</b>' }],
    authors: [{ name: '<img src=x onerror=alert(7)>', uri: 'javascript:alert(8)' }],
    links: [{ rel: 'enclosure', href: 'javascript:alert(9)', type: 'audio/mpeg' }, { rel: 'via', href: 'https://elsewhere.example/original', ref: 'tag:x,2020:1' }],
  });
}
