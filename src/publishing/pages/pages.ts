// The blog's pages: index (paged), article (with comments and series navigation), tag, author, series index, and
// an error page. Server-rendered from typed posts; every value escaped, post bodies sanitized (sanitize.ts).
import type { Blog } from '../blog.js';
import type { Post } from '../post.js';
import { contentToHtml, postHtml, textConstructToText } from '../sanitize.js';
import { seriesNavigation, type SeriesSummary } from '../series.js';
import { excerpt, htmlToText } from '../text.js';
import { parseXmppUri } from '../xmpp-uri.js';
import { html, safeUrl, trusted, type SafeHtml } from './html.js';
import { layout } from './layout.js';

export interface Paging {
  /** 1-based. */
  page: number;
  pageCount: number;
}

/** A comment: an entry of the post's comments node, with the item's publisher (XEP-0060 publisher attribute). */
export interface Comment {
  post: Post;
  publisher?: string;
}

export interface IndexView {
  blog: Blog;
  posts: readonly Post[];
  paging: Paging;
}

export interface ArticleView {
  blog: Blog;
  post: Post;
  comments: readonly Comment[];
  /** The series the post belongs to, with its chapters in reading order (series.ts collectSeries). */
  series?: SeriesSummary;
}

export interface TagView extends IndexView {
  tag: string;
}

export interface AuthorView extends IndexView {
  /** What the author says about themselves, as plain text (from the blog's metadata or vCard). */
  about?: string;
}

export interface SeriesView {
  blog: Blog;
  series: SeriesSummary;
}

/** Bodies this long or shorter are shown whole on list pages; longer ones as an excerpt. */
const FULL_BODY_LIMIT = 1500;

function titleOf(post: Post): string {
  return textConstructToText(post.title).trim() || excerpt(htmlToText(postHtml(post)), 80) || 'Untitled';
}

function formatDate(iso: string, language: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

function time(iso: string | undefined, blog: Blog): SafeHtml | '' {
  return iso ? html`<time datetime="${iso}">${formatDate(iso, blog.language)}</time>` : '';
}

function byline(blog: Blog, post: Post): SafeHtml {
  const authors = post.authors.map((a, i) => html`${i ? ', ' : ''}${a.name}`);
  const updated = post.published && post.updated && post.updated.slice(0, 10) !== post.published.slice(0, 10)
    ? html` · updated ${time(post.updated, blog)}` : '';
  return html`<p class="meta">${authors.length ? html`${authors} · ` : ''}${time(post.published ?? post.updated, blog)}${updated}</p>`;
}

function tagList(blog: Blog, post: Post): SafeHtml | '' {
  if (!post.categories.length) return '';
  return html`<ul class="tags" aria-label="Tags">${post.categories.map((c) => html`<li><a href="${blog.urls.tag(c.term)}" rel="tag">${c.label || c.term}</a></li>`)}</ul>`;
}

function bodyOptions(blog: Blog, post: Post): { baseUrl: string; siteOrigin: string } {
  return { baseUrl: blog.urls.post(post), siteOrigin: blog.origin };
}

/** What a list shows of a post: its summary, its whole body when short, else an excerpt. */
function listBody(blog: Blog, post: Post): SafeHtml {
  const options = bodyOptions(blog, post);
  if (post.summary) return trusted(contentToHtml(post.summary, options));
  const body = postHtml(post, options);
  if (body.length <= FULL_BODY_LIMIT) return trusted(body);
  return html`<p>${excerpt(htmlToText(body), 400)}</p><p><a href="${blog.urls.post(post)}">Continue reading</a></p>`;
}

function postList(blog: Blog, posts: readonly Post[]): SafeHtml {
  if (!posts.length) return html`<p>Nothing published here yet.</p>`;
  return html`<ol class="post-list">
${posts.map((post) => html`<li><article>
<h2><a href="${blog.urls.post(post)}">${titleOf(post)}</a></h2>
${byline(blog, post)}
<div class="content">${listBody(blog, post)}</div>
${tagList(blog, post)}
</article></li>
`)}</ol>`;
}

function pager(paging: Paging, url: (page: number) => string): SafeHtml | '' {
  if (paging.pageCount <= 1) return '';
  const newer = paging.page > 1 ? html`<a href="${url(paging.page - 1)}" rel="prev">Newer posts</a>` : html`<span></span>`;
  const older = paging.page < paging.pageCount ? html`<a href="${url(paging.page + 1)}" rel="next">Older posts</a>` : html`<span></span>`;
  return html`<nav class="pager" aria-label="Pages">${newer}<span>Page ${paging.page} of ${paging.pageCount}</span>${older}</nav>`;
}

function pagerHead(paging: Paging, url: (page: number) => string): { prev?: string; next?: string } {
  return {
    prev: paging.page > 1 ? url(paging.page - 1) : undefined,
    next: paging.page < paging.pageCount ? url(paging.page + 1) : undefined,
  };
}

export function renderIndex(view: IndexView): string {
  const { blog, posts, paging } = view;
  const title = paging.page > 1 ? `${blog.title} (page ${paging.page})` : blog.title;
  return layout(blog, { title, canonical: blog.urls.index(paging.page), description: blog.subtitle, ...pagerHead(paging, blog.urls.index) },
    html`${postList(blog, posts)}\n${pager(paging, blog.urls.index)}`);
}

export function renderTag(view: TagView): string {
  const { blog, posts, paging, tag } = view;
  const url = (page: number): string => blog.urls.tag(tag, page);
  return layout(blog, { title: `${tag} · ${blog.title}`, canonical: url(paging.page), tag, ...pagerHead(paging, url) },
    html`<h1>Tagged “${tag}”</h1>\n${postList(blog, posts)}\n${pager(paging, url)}`);
}

export function renderAuthor(view: AuthorView): string {
  const { blog, posts, paging, about } = view;
  const url = (page: number): string => blog.urls.author(page);
  const jid = blog.author.jid;
  const paragraphs = about ? about.split(/\n\s*\n/).map((p) => html`<p>${p.trim()}</p>`) : '';
  return layout(blog, { title: `${blog.author.name} · ${blog.title}`, canonical: url(paging.page), ...pagerHead(paging, url) },
    html`<section class="author">
<h1>${blog.author.name}</h1>
${paragraphs}
${jid ? html`<p>On XMPP: <a href="${safeUrl(`xmpp:${jid}`)}">${jid}</a></p>` : ''}
</section>
<h2>Posts</h2>
${postList(blog, posts)}
${pager(paging, url)}`);
}

export function renderSeries(view: SeriesView): string {
  const { blog, series } = view;
  const epub = blog.urls.epub?.(series.id);
  return layout(blog, { title: `${series.title} · ${blog.title}`, canonical: blog.urls.series(series.id) },
    html`<h1>${series.title}</h1>
<p class="meta">${series.chapters.length} ${series.chapters.length === 1 ? 'chapter' : 'chapters'}${epub ? html` · <a href="${epub}" type="application/epub+zip">Download as EPUB</a>` : ''}</p>
<nav aria-label="Contents"><ol class="chapters">
${series.chapters.map((c) => html`<li><a href="${blog.urls.post(c)}">${titleOf(c)}</a> ${time(c.published ?? c.updated, blog)}</li>\n`)}</ol></nav>`);
}

function seriesBox(blog: Blog, post: Post, series: SeriesSummary | undefined): { box: SafeHtml | ''; prev?: string; next?: string } {
  if (!series) return { box: '' };
  const nav = seriesNavigation(series.chapters, post);
  if (!nav) return { box: '' };
  const prev = nav.previous ? blog.urls.post(nav.previous) : undefined;
  const next = nav.next ? blog.urls.post(nav.next) : undefined;
  const box = html`<nav class="series" aria-label="Series">
<p>Chapter ${nav.index + 1} of ${nav.total} in <a href="${blog.urls.series(series.id)}" rel="index">${series.title}</a></p>
<p>${nav.previous ? html`<a href="${prev}" rel="prev">← ${titleOf(nav.previous)}</a>` : ''}${nav.previous && nav.next ? ' · ' : ''}${nav.next ? html`<a href="${next}" rel="next">${titleOf(nav.next)} →</a>` : ''}</p>
</nav>`;
  return { box, prev, next };
}

function inReplyTo(post: Post): SafeHtml | '' {
  const target = post.inReplyTo.find((r) => r.href && /^https?:/i.test(r.href)) ?? post.inReplyTo[0];
  if (!target) return '';
  const href = target.href ?? target.ref;
  return html`<p class="meta">In reply to <a href="${safeUrl(href)}">${href}</a></p>`;
}

function attachments(post: Post): SafeHtml | '' {
  const enclosures = post.links.filter((l) => l.rel === 'enclosure' && safeUrl(l.href) !== '#');
  if (!enclosures.length) return '';
  // XEP-0472 §profile_gallery: pictures are enclosures; show HTTPS images, list the rest.
  return html`<section class="attachments" aria-label="Attachments">${enclosures.map((l) => /^image\//.test(l.type ?? '') && /^https:/i.test(l.href)
    ? html`<figure><img src="${l.href}" alt="${l.title ?? ''}">${l.title ? html`<figcaption>${l.title}</figcaption>` : ''}</figure>`
    : html`<p><a href="${safeUrl(l.href)}"${l.type ? html` type="${l.type}"` : ''}>${l.title || l.href}</a>${l.length !== undefined ? ` (${l.length} bytes)` : ''}</p>`)}</section>`;
}

/** XEP-0277 §security: a comment whose author URI is not its publisher's JID is marked. */
function commentAuthor(comment: Comment): SafeHtml {
  const author = comment.post.authors[0];
  const name = author?.name || comment.publisher || 'Someone';
  const claimed = author?.uri ? parseXmppUri(author.uri)?.jid : undefined;
  const verified = comment.publisher !== undefined && (claimed === undefined || claimed === comment.publisher);
  return html`<span class="author">${name}</span>${verified ? '' : html` <span class="unverified" title="${comment.publisher ? `published by ${comment.publisher}` : 'publisher unknown'}">(unverified)</span>`}`;
}

function commentsSection(blog: Blog, view: ArticleView): SafeHtml {
  const { post, comments } = view;
  const node = post.links.find((l) => l.rel === 'replies' && l.title === 'comments' && /^xmpp:/i.test(l.href));
  const options = bodyOptions(blog, post);
  return html`<section class="comments" id="comments" aria-label="Comments">
<h2>${comments.length ? `Comments (${comments.length})` : 'Comments'}</h2>
${comments.length ? html`<ol>
${comments.map((c) => html`<li><article class="comment">
<p class="meta">${commentAuthor(c)} · ${time(c.post.published ?? c.post.updated, blog)}</p>
<div class="content">${trusted(postHtml(c.post, options) || contentToHtml(c.post.title, options))}</div>
</article></li>
`)}</ol>` : html`<p>No comments yet.</p>`}
${node ? html`<p>Comment from your XMPP client: <a href="${safeUrl(node.href)}">join the discussion</a>.</p>` : ''}
</section>`;
}

export function renderArticle(view: ArticleView): string {
  const { blog, post } = view;
  const url = blog.urls.post(post);
  const series = seriesBox(blog, post, view.series);
  const title = titleOf(post);
  const body = postHtml(post, bodyOptions(blog, post));
  return layout(blog, { title: `${title} · ${blog.title}`, canonical: url, prev: series.prev, next: series.next, description: post.summary ? textConstructToText(post.summary) : undefined },
    html`<article class="post"${post.lang && post.lang !== blog.language ? html` lang="${post.lang}"` : ''}>
<header>
<h1>${title}</h1>
${byline(blog, post)}
${inReplyTo(post)}
${series.box}
</header>
<div class="content">${trusted(body)}</div>
${attachments(post)}
<footer>
${tagList(blog, post)}
${series.box}
</footer>
</article>
${commentsSection(blog, view)}`);
}

/** A page for 404 and other errors, in the blog's look when there is a blog. */
export function renderError(blog: Blog, status: number, message: string): string {
  return layout(blog, { title: `${status} · ${blog.title}`, canonical: blog.urls.home }, html`<h1>${message}</h1>\n<p><a href="${blog.urls.home}">Back to the blog</a></p>`);
}
