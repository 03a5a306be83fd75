// Series: long works published chapter by chapter, each chapter an ordinary post.
//
// Membership is an Atom category (RFC 4287 §4.2.2) with a scheme of Quire's own:
//   <category scheme='urn:quire:series:0' term='the-tempest' label='The Tempest'
//             xmlns:quire='urn:quire:series:0' quire:position='3'/>
// Why a category: every XEP-0277 client that edits a post keeps its categories (they are its tags), so a chapter
// stays in its series when a client that knows nothing of series edits it; such a client shows the series as one
// more tag ("The Tempest"), which is true enough. The term is the series' identifier (its URL segment), the label
// its title. The position, a foreign attribute (RFC 4287 §6.4 allows them on any Atom element), is optional: a
// client that drops it only loses an explicit order. Chapters with a position come first, by position; the
// others follow by publication date, which is the order most works are written in.
// `urn:quire:series:0` is an opaque identifier chosen by Quire, not a registered URN namespace.
import { Element } from '../core/xml/element.js';
import { timeOf } from './dates.js';
import { NS_ATOM, type Post, type SeriesMembership } from './post.js';

export const SERIES_SCHEME = 'urn:quire:series:0';
/** The namespace of the position attribute (the same string as the scheme). */
export const NS_SERIES = SERIES_SCHEME;

/** A series identifier is one URL path segment: letters, digits, '-', '_' and '.', not starting with '.'. */
export function isSeriesId(id: string): boolean {
  return /^[\p{L}\p{N}_-][\p{L}\p{N}._-]{0,127}$/u.test(id);
}

/** The series position of a category, from a quire:position attribute under any prefix bound to NS_SERIES. */
export function positionAttribute(category: Element): string | undefined {
  for (const key in category.attrs) {
    const colon = key.indexOf(':');
    if (colon <= 0 || key.slice(0, colon) === 'xmlns' || key.slice(colon + 1) !== 'position') continue;
    const prefix = key.slice(0, colon);
    for (let el: Element | null = category; el; el = el.parent) {
      const declared = el.attrs['xmlns:' + prefix];
      if (declared !== undefined) {
        if (declared === NS_SERIES) return category.attrs[key];
        break;
      }
    }
  }
  return undefined;
}

/** The category element that puts a post in a series. */
export function seriesCategory(series: SeriesMembership): Element {
  const attrs: Record<string, string> = { scheme: SERIES_SCHEME, term: series.id };
  if (series.title) attrs.label = series.title;
  if (series.position !== undefined) {
    attrs['xmlns:quire'] = NS_SERIES;
    attrs['quire:position'] = String(series.position);
  }
  return new Element('category', attrs, [], NS_ATOM);
}

/** Chapters of one series in reading order: those with a position by position, then the rest by publication
 *  date (updated when there is none), then by ItemID so the order is stable. */
export function orderSeries(chapters: readonly Post[]): Post[] {
  return [...chapters].sort((a, b) => {
    const pa = a.series?.position;
    const pb = b.series?.position;
    if (pa !== undefined && pb === undefined) return -1;
    if (pa === undefined && pb !== undefined) return 1;
    if (pa !== undefined && pb !== undefined && pa !== pb) return pa - pb;
    const ta = timeOf(a.published ?? a.updated);
    const tb = timeOf(b.published ?? b.updated);
    if (ta !== tb) return ta - tb;
    return (a.itemId ?? a.id) < (b.itemId ?? b.id) ? -1 : 1;
  });
}

export interface SeriesSummary {
  id: string;
  /** The label of the newest chapter that has one (an author may retitle a work as it grows), else the id. */
  title: string;
  /** In reading order. */
  chapters: Post[];
}

/** Every series among a blog's posts, by identifier. */
export function collectSeries(posts: readonly Post[]): Map<string, SeriesSummary> {
  const groups = new Map<string, Post[]>();
  for (const post of posts) {
    if (!post.series) continue;
    const list = groups.get(post.series.id) ?? [];
    list.push(post);
    groups.set(post.series.id, list);
  }
  const out = new Map<string, SeriesSummary>();
  for (const [id, chapters] of groups) {
    const titled = chapters.filter((p) => p.series?.title).sort((a, b) => timeOf(b.updated) - timeOf(a.updated));
    out.set(id, { id, title: titled[0]?.series?.title ?? id, chapters: orderSeries(chapters) });
  }
  return out;
}

export interface SeriesNavigation {
  /** 0-based position of the chapter in reading order. */
  index: number;
  total: number;
  previous?: Post;
  next?: Post;
}

function samePost(a: Post, b: Post): boolean {
  return a.itemId !== undefined && b.itemId !== undefined ? a.itemId === b.itemId : a.id === b.id;
}

/** Where a chapter stands in its series (chapters in reading order, from orderSeries); undefined when it is not
 *  among them. */
export function seriesNavigation(ordered: readonly Post[], chapter: Post): SeriesNavigation | undefined {
  const index = ordered.findIndex((p) => samePost(p, chapter));
  if (index < 0) return undefined;
  return { index, total: ordered.length, previous: ordered[index - 1], next: ordered[index + 1] };
}
