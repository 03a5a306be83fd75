// Where a blog's pages are. One set of routes serves every host: the blog of an account's PEP microblog node
// (XEP-0277) is /blog/{jid}/, and an open XEP-0472 social-feed node of a pubsub service is /blog/{service}/{node}/.
// Below that prefix:
//   ?page=N              the index            {item}              an article (post/{item} for any ItemID)
//   tag/{term}?page=N    a tag                author?page=N       the author page
//   series/{id}          a series' contents   series/{id}.epub    the series as a book
//   feed.atom|rss|json   the blog's feeds     tag/{term}/feed.*   a tag's feeds
//   blog.epub            the whole blog       atompub, atompub/entries[/{item}], micropub: writing (see routes)
// /blog/style.css is the stylesheet of every blog.
import type { Blog, BlogUrls, FeedFormat } from '../../publishing/blog.js';
import type { Post } from '../../publishing/post.js';

/** A blog: an account's microblog node, or a social-feed node of a pubsub service. */
export type BlogRef = { kind: 'pep'; jid: string; node: string } | { kind: 'pubsub'; service: string; node: string };

/** Path segments that are pages of the blog, not ItemIDs; posts with these ids are at post/{id}. */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set(['tag', 'author', 'series', 'post', 'feed.atom', 'feed.rss', 'feed.json', 'blog.epub', 'atompub', 'micropub', 'style.css']);

export const STYLESHEET_PATH = '/blog/style.css';

/** Path segments keep '@' and ':' as they are (RFC 3986 pchar), so JIDs and namespaced names stay readable. */
export function segment(text: string): string {
  return encodeURIComponent(text).replace(/%40/g, '@').replace(/%3A/gi, ':');
}

/** The service address a blog's items live on. */
export function serviceOf(ref: BlogRef): string {
  return ref.kind === 'pep' ? ref.jid : ref.service;
}

/** The blog's path, with a trailing slash: /blog/alice@example.org/ or /blog/pubsub.example.org/news/. */
export function blogPath(ref: BlogRef): string {
  return ref.kind === 'pep' ? `/blog/${segment(ref.jid)}/` : `/blog/${segment(ref.service)}/${segment(ref.node)}/`;
}

/** The path of an item's page. */
export function postPath(ref: BlogRef, itemId: string): string {
  return blogPath(ref) + (RESERVED_SEGMENTS.has(itemId) ? `post/${segment(itemId)}` : segment(itemId));
}

const FEED_EXTENSIONS: Record<FeedFormat, string> = { atom: 'feed.atom', rss: 'feed.rss', json: 'feed.json' };

/** Every URL of a blog, absolute, under `base` (the site's origin). */
export function blogUrls(base: string, ref: BlogRef): BlogUrls & { atompubService: string; atompubCollection: string; micropub: string } {
  const root = base + blogPath(ref);
  const paged = (url: string, page?: number) => (page && page > 1 ? `${url}?page=${page}` : url);
  const tag = (term: string) => `${root}tag/${segment(term)}`;
  return {
    home: root,
    index: (page) => paged(root, page),
    post: (post: Post) => base + postPath(ref, post.itemId ?? ''),
    tag: (term, page) => paged(tag(term), page),
    author: (page) => paged(`${root}author`, page),
    series: (id) => `${root}series/${segment(id)}`,
    feed: (format, term) => `${term === undefined ? root : tag(term) + '/'}${FEED_EXTENSIONS[format]}`,
    stylesheet: base + STYLESHEET_PATH,
    epub: (seriesId) => (seriesId === undefined ? `${root}blog.epub` : `${root}series/${segment(seriesId)}.epub`),
    atompubService: `${root}atompub`,
    atompubCollection: `${root}atompub/entries`,
    micropub: `${root}micropub`,
  };
}

export type { Blog };
