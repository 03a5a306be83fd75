// A blog: what feeds, pages and EPUB need to know about the node they render, and how to link to its pages.
// The server builds one per request from the account (or node) and http.public_url; every URL is absolute.
import type { Person, Post } from './post.js';

export type FeedFormat = 'atom' | 'rss' | 'json';

export interface BlogUrls {
  /** The blog's first index page. */
  home: string;
  /** Index page n (1 is home). */
  index(page: number): string;
  /** A post's web page. */
  post(post: Post): string;
  /** A tag's page n (default 1). */
  tag(term: string, page?: number): string;
  /** The author page n (default 1). */
  author(page?: number): string;
  /** A series' index page. */
  series(id: string): string;
  /** A feed of the blog, or of one tag. */
  feed(format: FeedFormat, tag?: string): string;
  /** The stylesheet (stylesheet.ts), served as a file so the CSP can forbid inline styles. */
  stylesheet: string;
  /** The EPUB of a series, or of the whole blog; undefined where it is not offered. */
  epub?(seriesId?: string): string;
  /** Where clients write (autodiscovery in every page's head): the Micropub endpoint (rel="micropub"), and the
   *  AtomPub service document (RFC 5023 has no rel of its own; rel="service" with its media type, as
   *  WordPress-style clients look for it). Undefined where writing is not offered. */
  micropub?: string;
  atompubService?: string;
}

export interface Blog {
  /** The feed's atom:id (RFC 4287 §4.2.6): stable, e.g. the node's xmpp: URI (xmpp-uri.ts). */
  id: string;
  title: string;
  subtitle?: string;
  /** BCP 47 language of the blog (html lang, xml:lang, dc:language). */
  language: string;
  /** The account that publishes it (RFC 4287 §4.1.1 feed author). */
  author: Person & { jid?: string };
  urls: BlogUrls;
  /** The origin of the web pages: links elsewhere get rel="nofollow noopener". */
  origin: string;
}
