// GET (and HEAD) of a blog's pages, feeds and books. Everything here is public: it is rendered for an anonymous
// reader from a node whose access model is open, and anything else is a 404 whatever the reason.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Blog } from '../../../publishing/blog.js';
import { buildEpub, blogBook, seriesBook, EPUB_MEDIA_TYPE } from '../../../publishing/epub.js';
import { atomFeed, jsonFeed, rssFeed, FEED_MEDIA_TYPES } from '../../../publishing/feeds.js';
import { lastModifiedOf } from '../../../publishing/http-cache.js';
import { renderArticle, renderAuthor, renderError, renderIndex, renderSeries, renderTag } from '../../../publishing/pages/pages.js';
import { STYLESHEET } from '../../../publishing/pages/stylesheet.js';
import type { Post } from '../../../publishing/post.js';
import { collectSeries } from '../../../publishing/series.js';
import { toHttpDate } from '../../../publishing/dates.js';
import type { BlogContext } from '../context.js';
import { blogOf, type BlogSource, type Snapshot } from '../reader.js';
import { sendRepresentation, withSecurityHeaders } from '../respond.js';
import { blogPath, type BlogRef } from '../urls.js';
import { notFound, pageOf, parseBlogPath } from './path.js';

const HTML = 'text/html; charset=utf-8';
const FEED_FILES = { 'feed.atom': 'atom', 'feed.rss': 'rss', 'feed.json': 'json' } as const;

interface View {
  source: BlogSource;
  snapshot: Snapshot;
  blog: Blog;
}

function paged(posts: readonly Post[], page: number, size: number): { shown: Post[]; pageCount: number } {
  const pageCount = Math.max(1, Math.ceil(posts.length / size));
  if (page > pageCount) throw notFound('no such page');
  return { shown: posts.slice((page - 1) * size, page * size), pageCount };
}

function feedType(format: 'atom' | 'rss' | 'json'): string {
  return `${FEED_MEDIA_TYPES[format]}; charset=utf-8`;
}

/** The newest post's date as the book's modification date, so the same posts make the same bytes (one ETag). */
function bookDate(posts: readonly Post[]): Date {
  const modified = lastModifiedOf(posts);
  return modified ? new Date(modified) : new Date(0);
}

function feed(ctx: BlogContext, view: View, format: 'atom' | 'rss' | 'json', posts: readonly Post[], tag?: string) {
  const shown = posts.slice(0, ctx.options.feed_size);
  const options = { ...(tag === undefined ? {} : { tag }), now: bookDate(shown) };
  const body = format === 'atom' ? atomFeed(view.blog, shown, options) : format === 'rss' ? rssFeed(view.blog, shown, options) : jsonFeed(view.blog, shown, options);
  return { body, type: feedType(format), lastModified: lastModifiedOf(shown) };
}

async function epub(posts: readonly Post[], make: (now: Date) => ReturnType<typeof blogBook>, filename: string) {
  const body = await buildEpub(make(bookDate(posts)));
  return { body, type: EPUB_MEDIA_TYPE, lastModified: lastModifiedOf(posts), headers: { 'Content-Disposition': `attachment; filename="${filename}.epub"` } };
}

function fileName(text: string): string {
  return text.normalize('NFKD').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'blog';
}

/** One GET below a blog's path. */
async function serve(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef, rest: string[]): Promise<FastifyReply> {
  const source = await ctx.reader.source(ref);
  if (!source) throw notFound();
  const snapshot = await ctx.reader.snapshot(source);
  const blog = blogOf(source, snapshot, ctx.http.baseUrl(request));
  const view: View = { source, snapshot, blog };
  const { posts } = snapshot;
  const size = ctx.options.page_size;
  const html = (body: string, shown: readonly Post[]) => sendRepresentation(request, reply, { body, type: HTML, lastModified: lastModifiedOf(shown) });
  const [first = '', second, third, ...more] = rest;
  if (more.length) throw notFound();

  if (first === '' && rest.length <= 1) {
    const page = pageOf(request);
    const { shown, pageCount } = paged(posts, page, size);
    return html(renderIndex({ blog, posts: shown, paging: { page, pageCount } }), shown);
  }
  if (first in FEED_FILES && rest.length === 1) return sendRepresentation(request, reply, feed(ctx, view, FEED_FILES[first as keyof typeof FEED_FILES], posts));
  if (first === 'blog.epub' && rest.length === 1) {
    if (!posts.length) throw notFound('this blog has no posts to make a book of');
    return sendRepresentation(request, reply, await epub(posts, (now) => blogBook(blog, [...posts].reverse(), now), fileName(blog.title)));
  }
  if (first === 'author' && rest.length === 1) {
    const page = pageOf(request);
    const { shown, pageCount } = paged(posts, page, size);
    const about = snapshot.metadata?.getChildText('subtitle', 'http://www.w3.org/2005/Atom')?.trim() || undefined;
    return html(renderAuthor({ blog, posts: shown, paging: { page, pageCount }, ...(about ? { about } : {}) }), shown);
  }
  if (first === 'tag' && second) {
    const tagged = posts.filter((p) => p.categories.some((c) => c.term === second));
    if (!tagged.length) throw notFound(`nothing is tagged “${second}” here`);
    if (third === undefined) {
      const page = pageOf(request);
      const { shown, pageCount } = paged(tagged, page, size);
      return html(renderTag({ blog, posts: shown, paging: { page, pageCount }, tag: second }), shown);
    }
    if (third in FEED_FILES) return sendRepresentation(request, reply, feed(ctx, view, FEED_FILES[third as keyof typeof FEED_FILES], tagged, second));
    throw notFound();
  }
  if (first === 'series' && second && third === undefined) {
    const book = second.endsWith('.epub');
    const series = collectSeries(posts).get(book ? second.slice(0, -'.epub'.length) : second);
    if (!series) throw notFound('there is no such series here');
    if (book) return sendRepresentation(request, reply, await epub(series.chapters, (now) => seriesBook(blog, series, now), fileName(series.title)));
    return html(renderSeries({ blog, series }), series.chapters);
  }
  // An article: /{item}, or /post/{item} for any ItemID (those that are page names above too).
  const itemId = first === 'post' && second !== undefined && third === undefined ? second : rest.length === 1 ? first : undefined;
  const post = itemId === undefined ? undefined : posts.find((p) => p.itemId === itemId);
  if (!post) throw notFound('there is no such post here');
  const comments = await ctx.reader.comments(post);
  const series = post.series ? collectSeries(posts).get(post.series.id) : undefined;
  const newest = [post, ...comments.map((c) => c.post)];
  return html(renderArticle({ blog, post, comments, ...(series ? { series } : {}) }), newest);
}

/** A 404 in the blog's look when the blog exists, else a plain one; HTML either way (people read these). */
async function notFoundPage(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef | null, message: string): Promise<FastifyReply> {
  let body = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Not found</title><link rel="stylesheet" href="/blog/style.css"></head><body><main><h1>Not found</h1></main></body></html>\n`;
  const source = ref ? await ctx.reader.source(ref) : null;
  if (source) body = renderError(blogOf(source, await ctx.reader.snapshot(source), ctx.http.baseUrl(request)), 404, message);
  withSecurityHeaders(reply);
  return reply.code(404).type(HTML).send(body);
}

export async function servePage(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (request.url.split('?')[0] === '/blog/style.css') {
    return sendRepresentation(request, reply, { body: STYLESHEET, type: 'text/css; charset=utf-8', lastModified: toHttpDate(ctx.started) });
  }
  let ref: BlogRef | null = null;
  try {
    const path = parseBlogPath(request);
    ref = path.ref;
    // The index's canonical address ends with a slash (relative links in posts resolve against it).
    if (path.bare) return withSecurityHeaders(reply).redirect(ctx.http.baseUrl(request) + blogPath(path.ref), 301);
    return await serve(ctx, request, reply, path.ref, path.rest);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404) return notFoundPage(ctx, request, reply, ref, (err as Error).message);
    throw err;
  }
}
