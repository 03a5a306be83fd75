// The page shell every blog page shares: semantic HTML5, a viewport for phones, the stylesheet as a file, the
// canonical URL, feed autodiscovery (Atom, RSS, JSON Feed) and a footer with the feeds and the author page.
import type { Blog } from '../blog.js';
import { FEED_MEDIA_TYPES } from '../feeds.js';
import { html, type SafeHtml } from './html.js';

export interface PageHead {
  title: string;
  canonical: string;
  /** Feeds of a tag, listed before the blog's own. */
  tag?: string;
  prev?: string;
  next?: string;
  description?: string;
}

function feedLinks(blog: Blog, tag: string | undefined, label: string): SafeHtml {
  return html`<link rel="alternate" type="${FEED_MEDIA_TYPES.atom}" title="${label} (Atom)" href="${blog.urls.feed('atom', tag)}">
<link rel="alternate" type="${FEED_MEDIA_TYPES.rss}" title="${label} (RSS)" href="${blog.urls.feed('rss', tag)}">
<link rel="alternate" type="${FEED_MEDIA_TYPES.json}" title="${label} (JSON Feed)" href="${blog.urls.feed('json', tag)}">
`;
}

export function layout(blog: Blog, head: PageHead, main: SafeHtml): string {
  const epub = blog.urls.epub?.();
  return html`<!DOCTYPE html>
<html lang="${blog.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${head.title}</title>
${head.description ? html`<meta name="description" content="${head.description}">\n` : ''}<link rel="stylesheet" href="${blog.urls.stylesheet}">
<link rel="canonical" href="${head.canonical}">
${head.prev ? html`<link rel="prev" href="${head.prev}">\n` : ''}${head.next ? html`<link rel="next" href="${head.next}">\n` : ''}${head.tag !== undefined ? feedLinks(blog, head.tag, `${blog.title}: ${head.tag}`) : ''}${feedLinks(blog, undefined, blog.title)}${blog.urls.micropub ? html`<link rel="micropub" href="${blog.urls.micropub}">\n` : ''}${blog.urls.atompubService ? html`<link rel="service" type="application/atomsvc+xml" href="${blog.urls.atompubService}">\n` : ''}<meta name="generator" content="Quire">
</head>
<body>
<header class="site-header">
<p class="site-title"><a href="${blog.urls.home}" rel="home">${blog.title}</a></p>
${blog.subtitle ? html`<p class="site-subtitle">${blog.subtitle}</p>\n` : ''}</header>
<main>
${main}
</main>
<footer class="site-footer">
<nav aria-label="Blog"><a href="${blog.urls.author()}" rel="author">${blog.author.name}</a><a href="${blog.urls.feed('atom')}">Atom</a><a href="${blog.urls.feed('rss')}">RSS</a><a href="${blog.urls.feed('json')}">JSON Feed</a>${epub ? html`<a href="${epub}" type="application/epub+zip">EPUB</a>` : ''}</nav>
<p>Published with Quire over XMPP.</p>
</footer>
</body>
</html>
`.html;
}
