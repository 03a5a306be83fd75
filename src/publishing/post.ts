// A post: what an Atom entry (RFC 4287 §4.1.2) published on a XEP-0277 or XEP-0472 node says, typed.
// Read from the Element tree with readEntry()/parseEntry() (atom-read.ts), written back with buildEntry()
// (atom-build.ts); feeds, pages and EPUB render posts, never raw entries.
import type { Element } from '../core/xml/element.js';

export const NS_ATOM = 'http://www.w3.org/2005/Atom';
/** RFC 4685 (Atom Threading Extensions). */
export const NS_THREAD = 'http://purl.org/syndication/thread/1.0';
export const NS_XHTML = 'http://www.w3.org/1999/xhtml';
/** XEP-0080, which XEP-0277 §geotagging uses inside entries. */
export const NS_GEOLOC = 'http://jabber.org/protocol/geoloc';
/** XEP-0277's PEP node, and the XEP-0472 profile type of the same name. */
export const NODE_MICROBLOG = 'urn:xmpp:microblog:0';
/** XEP-0472 §discovery: the feature every social-feed service advertises, and the base profile's pubsub#type. */
export const NS_SOCIAL_FEED = 'urn:xmpp:pubsub-social-feed:1';
/** XEP-0472 §profile_gallery. */
export const NS_SOCIAL_FEED_GALLERY = 'urn:xmpp:pubsub-social-feed:gallery:1';

/** RFC 4287 §3.1.1: the three kinds of Text construct. */
export type TextType = 'text' | 'html' | 'xhtml';

/** A Text construct (title, summary, rights): `value` is plain text for 'text', HTML markup for 'html' and
 *  'xhtml' (the XHTML div's children, serialized as HTML: not sanitized yet). */
export interface TextConstruct {
  type: TextType;
  value: string;
}

/** RFC 4287 §4.1.3: text, html, xhtml, another media type, or out-of-line with `src`. XEP-0277 publishes a text and
 *  an XHTML content side by side, so a post holds a list. */
export interface Content {
  type: string;
  /** Text, or HTML markup for html/xhtml (not sanitized yet); '' for out-of-line content. */
  value: string;
  src?: string;
}

/** RFC 4287 §3.2 Person construct. */
export interface Person {
  name: string;
  uri?: string;
  email?: string;
}

/** RFC 4287 §4.2.2: a tag (XEP-0277 §categories). */
export interface Category {
  term: string;
  scheme?: string;
  label?: string;
}

/** RFC 4287 §4.2.7. `rel` defaults to 'alternate' (§4.2.7.2). XEP-0277 adds `ref` on via links (the Atom id of the
 *  repeated post); RFC 4685 §4 adds thr:count and thr:updated on replies links. */
export interface Link {
  rel: string;
  href: string;
  type?: string;
  hreflang?: string;
  title?: string;
  length?: number;
  ref?: string;
  count?: number;
  updated?: string;
}

/** RFC 4685 §3: the entry this one answers. */
export interface InReplyTo {
  ref: string;
  href?: string;
  type?: string;
  source?: string;
}

/** A chapter's place in a series (series.ts): the series' identifier (the category term), its title (the label),
 *  and an explicit position when the author gave one. */
export interface SeriesMembership {
  id: string;
  title?: string;
  position?: number;
}

export interface Post {
  /** The PubSub ItemID, when the post came from an item (URLs are built from it). */
  itemId?: string;
  /** atom:id, an IRI (RFC 4287 §4.2.6). */
  id: string;
  title: TextConstruct;
  contents: Content[];
  summary?: TextConstruct;
  /** RFC 3339 date-times, as written in the entry. */
  published?: string;
  updated: string;
  authors: Person[];
  contributors: Person[];
  /** Tags; the series category is not among them (see `series`). */
  categories: Category[];
  links: Link[];
  inReplyTo: InReplyTo[];
  rights?: TextConstruct;
  /** xml:lang of the entry, when given. */
  lang?: string;
  /** XEP-0277 §geotagging: the XEP-0080 <geoloc/> element as published (a copy). */
  geoloc?: Element;
  series?: SeriesMembership;
}
