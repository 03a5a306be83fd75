// Listing query parameters, mirroring XEP-0059: `limit` (at most the service's page size), `after` and `before` (item
// ids: items published after or before that one), `order` (newest first, the default, or oldest first), `id` (those
// items only, repeatable) and `q` (full-text search: the items whose text holds every word of it, by the rules of
// src/storage/text-search.ts). A page says whether it is the last one in its
// direction (`complete`) and links the next one.
import { HttpError } from '../../http/errors.js';
import type { PageRequest } from '../../pubsub/index.js';

export type Order = 'newest' | 'oldest';

export interface ListingQuery {
  order: Order;
  limit: number;
  after?: string;
  before?: string;
  ids?: string[];
  q?: string;
}

type Raw = Record<string, string | string[] | undefined>;

function single(raw: Raw, name: string): string | undefined {
  const value = raw[name];
  if (Array.isArray(value)) throw new HttpError(400, 'bad-request', `give "${name}" once`);
  return value;
}

export function listingQuery(raw: Raw, pageSize: number): ListingQuery {
  const order = single(raw, 'order') ?? 'newest';
  if (order !== 'newest' && order !== 'oldest') throw new HttpError(400, 'bad-request', '"order" is newest or oldest');
  const limitText = single(raw, 'limit');
  let limit = pageSize;
  if (limitText !== undefined) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new HttpError(400, 'bad-request', '"limit" is a positive integer');
    limit = Math.min(Number(limitText), pageSize);
  }
  const query: ListingQuery = { order, limit, after: single(raw, 'after'), before: single(raw, 'before'), q: single(raw, 'q') };
  if (query.after !== undefined && query.before !== undefined) throw new HttpError(400, 'bad-request', 'give "after" or "before", not both');
  const ids = raw.id;
  if (ids !== undefined) query.ids = Array.isArray(ids) ? ids : [ids];
  return query;
}

/**
 * The engine's page request for a listing, and whether its items come back in publication order and must be
 * reversed for display (newest first).
 */
export function pageFor(query: ListingQuery): { page: PageRequest; reverse: boolean } {
  const { limit: max, after, before } = query;
  if (query.order === 'newest') {
    // XEP-0059 §2.5: an empty <before/> is the newest page.
    if (after !== undefined) return { page: { max, after }, reverse: true };
    return { page: { max, before: before ?? '' }, reverse: true };
  }
  if (before !== undefined) return { page: { max, before }, reverse: false };
  return { page: { max, after }, reverse: false };
}

/** The query of the next page in the same direction, or null on the last one. `shown` are the ids as displayed. */
export function nextQuery(query: ListingQuery, shown: string[], complete: boolean): string | null {
  if (complete || shown.length === 0) return null;
  const params = new URLSearchParams();
  if (query.order !== 'newest') params.set('order', query.order);
  params.set('limit', String(query.limit));
  if (query.q !== undefined) params.set('q', query.q);
  // On in the direction the page went: newest first goes back from the last shown (or, paging forward with after,
  // on from the first shown); oldest first goes on from the last shown (or back from the first, with before).
  if (query.order === 'newest') {
    if (query.after !== undefined) params.set('after', shown[0]);
    else params.set('before', shown[shown.length - 1]);
  } else if (query.before !== undefined) params.set('before', shown[0]);
  else params.set('after', shown[shown.length - 1]);
  return params.toString();
}
