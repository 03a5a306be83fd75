// Reads /blog/{jid}/… and /blog/{service}/{node}/… into the blog they name and the rest of the path. Segments are
// decoded one by one from the raw URL, so a node name or ItemID may hold an encoded '/'.
import type { FastifyRequest } from 'fastify';
import { tryParseJid } from '../../../core/jid/index.js';
import { HttpError } from '../../../http/errors.js';
import { NODE_MICROBLOG } from '../../../publishing/post.js';
import type { BlogRef } from '../urls.js';

export interface BlogPath {
  ref: BlogRef;
  /** What follows the blog's own path: [] or [''] for the index. */
  rest: string[];
  /** Whether the blog's path was given without its trailing slash. */
  bare: boolean;
}

export function notFound(text = 'there is no blog here'): HttpError {
  return new HttpError(404, 'not-found', text);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw notFound();
  }
}

export function parseBlogPath(request: FastifyRequest): BlogPath {
  const raw = request.url.split('?')[0];
  if (!raw.startsWith('/blog/')) throw notFound();
  const segments = raw.slice('/blog/'.length).split('/').map(decode);
  const jid = tryParseJid(segments[0] ?? '');
  if (!jid || jid.resource !== '') throw notFound();
  if (jid.local !== '') {
    return { ref: { kind: 'pep', jid: jid.bare, node: NODE_MICROBLOG }, rest: segments.slice(1), bare: segments.length === 1 };
  }
  const node = segments[1];
  if (node === undefined || node === '') throw notFound();
  return { ref: { kind: 'pubsub', service: jid.bare, node }, rest: segments.slice(2), bare: segments.length === 2 };
}

/** ?page=N, 1 when absent; anything but a positive integer is no page. */
export function pageOf(request: FastifyRequest): number {
  const value = (request.query as Record<string, unknown>).page;
  if (value === undefined) return 1;
  if (typeof value !== 'string' || !/^[1-9]\d{0,5}$/.test(value)) throw notFound('no such page');
  return Number(value);
}
