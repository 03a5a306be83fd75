// HTTP conditional requests (RFC 9110 §13.1) on item revisions. A revision id is the ETag's opaque tag, so the ETag
// of an item is "<rev>", the same as the revision URLs name it.
import type { FastifyRequest } from 'fastify';
import type { ItemCondition } from '../../pubsub/index.js';

export function etagOf(rev: string): string {
  return `"${rev}"`;
}

/** The entity-tags of an If-Match or If-None-Match header: '*' or the opaque tags, weak ones marked. */
function entityTags(header: string): { tag: string; weak: boolean }[] | '*' {
  if (header.trim() === '*') return '*';
  const out: { tag: string; weak: boolean }[] = [];
  for (const m of header.matchAll(/(W\/)?"([^"]*)"/g)) out.push({ tag: m[2], weak: m[1] !== undefined });
  return out;
}

/**
 * The condition of a write: If-Match compares strongly (a weak tag never matches, §13.1.1), If-None-Match weakly
 * (§13.1.2), which for revisions means by the tag alone.
 */
export function writeCondition(request: FastifyRequest): ItemCondition | undefined {
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  const condition: ItemCondition = {};
  if (ifMatch !== undefined) {
    const tags = entityTags(ifMatch);
    // No strong tag at all: nothing can match, so the write must fail (an impossible revision id says that).
    condition.ifMatch = tags === '*' ? ['*'] : tags.filter((t) => !t.weak).map((t) => t.tag);
    if (condition.ifMatch.length === 0) condition.ifMatch = ['\u0000'];
  }
  if (ifNoneMatch !== undefined) {
    const tags = entityTags(ifNoneMatch);
    condition.ifNoneMatch = tags === '*' ? ['*'] : tags.map((t) => t.tag);
  }
  return condition;
}

/** Whether a GET's If-None-Match names the current revision (then 304 Not Modified). */
export function notModified(request: FastifyRequest, rev: string): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined) return false;
  const tags = entityTags(header);
  return tags === '*' || tags.some((t) => t.tag === rev);
}
