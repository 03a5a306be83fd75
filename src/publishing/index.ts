// Publishing (XEP-0277, XEP-0472): posts, their checks and normalization, the sanitizer, feeds, pages, EPUB and
// feed import, as library code for the server's modules and web routes.
export * from './post.js';
export { readEntry, parseEntry, EntryError, isAbsoluteIri, type EntryReading, type ParseOptions, type Fillable } from './atom-read.js';
export { buildEntry, textElement, personElement, linkElement } from './atom-build.js';
export { normalizeEntry, commentsNodeName, entryTagUri, type NormalizeContext, type Normalized } from './normalize.js';
export * from './series.js';
export * from './sanitize.js';
export { htmlToText, excerpt } from './text.js';
export { xhtmlToHtml, htmlToXhtml, xhtmlDiv, deepText } from './xhtml.js';
export { repairXhtml } from './xhtml-repair.js';
export * from './dates.js';
export * from './xmpp-uri.js';
export type { Blog, BlogUrls, FeedFormat } from './blog.js';
export { atomFeed, rssFeed, jsonFeed, FEED_MEDIA_TYPES, type FeedOptions } from './feeds.js';
export { renderIndex, renderArticle, renderTag, renderAuthor, renderSeries, renderError, type Paging, type Comment, type IndexView, type ArticleView, type TagView, type AuthorView, type SeriesView } from './pages/pages.js';
export { contentSecurityPolicy, securityHeaders } from './pages/csp.js';
export { STYLESHEET } from './pages/stylesheet.js';
export { etagOf, lastModifiedOf, isNotModified, type ConditionalHeaders } from './http-cache.js';
export { buildEpub, seriesBook, blogBook, EPUB_MEDIA_TYPE, type EpubBook, type EpubChapter } from './epub.js';
export { parseFeedForImport, importItemId, resolveHtmlUrls, nameUuid, ImportError, type ImportedFeed, type ImportOptions } from './import.js';
export * from './profiles.js';
