// HTTP validators for pages, feeds and books (RFC 9110 §8.8): a strong ETag from the bytes, Last-Modified from the
// newest post, and the conditional-request check of §13.2.2 (If-None-Match first, If-Modified-Since only without it).
import { createHash } from 'node:crypto';
import { timeOf, toHttpDate } from './dates.js';
import type { Post } from './post.js';

/** A strong entity tag for a representation. */
export function etagOf(body: string | Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Last-Modified for a list of posts: the newest updated, as an IMF-fixdate; undefined without posts. */
export function lastModifiedOf(posts: readonly Post[]): string | undefined {
  let newest = 0;
  for (const post of posts) newest = Math.max(newest, timeOf(post.updated));
  return newest ? toHttpDate(new Date(newest)) : undefined;
}

export interface ConditionalHeaders {
  'if-none-match'?: string;
  'if-modified-since'?: string;
}

/** RFC 9110 §13.1.2 and §13.1.3 for GET and HEAD: true when the client's copy is current (answer 304). */
export function isNotModified(request: ConditionalHeaders, etag: string, lastModified?: string): boolean {
  const noneMatch = request['if-none-match'];
  if (noneMatch !== undefined) {
    if (noneMatch.trim() === '*') return true;
    // Weak comparison (§8.8.3.2): W/ prefixes are ignored.
    const tags = noneMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes(etag.replace(/^W\//, ''));
  }
  const since = request['if-modified-since'];
  if (since === undefined || lastModified === undefined) return false;
  const sinceTime = Date.parse(since);
  const modified = Date.parse(lastModified);
  return !Number.isNaN(sinceTime) && !Number.isNaN(modified) && modified <= sinceTime;
}
