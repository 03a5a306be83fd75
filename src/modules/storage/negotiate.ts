// Content negotiation by Accept (RFC 9110 §12.5.1): the representation a client ranks highest among those offered,
// the server's order breaking ties. Every negotiated response says Vary: Accept.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../http/errors.js';

export const JSON_TYPE = 'application/json';
export const XML_TYPE = 'application/xml';

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const out: Range[] = [];
  for (const part of header.split(',')) {
    const [range, ...params] = part.trim().split(';');
    const slash = range.indexOf('/');
    if (slash < 1) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.trim().split('=');
      if (name?.toLowerCase() === 'q') q = Math.min(1, Math.max(0, Number(value) || 0));
    }
    out.push({ type: range.slice(0, slash).trim().toLowerCase(), subtype: range.slice(slash + 1).trim().toLowerCase(), q });
  }
  return out;
}

/** The q a client gives a media type: that of its most specific matching range (RFC 9110 §12.5.1). */
function qualityOf(ranges: Range[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  let best = -1;
  let specificity = -1;
  for (const r of ranges) {
    let s: number;
    if (r.type === type && r.subtype === subtype) s = 3;
    else if (r.type === type && r.subtype === '*') s = 2;
    else if (r.type === '*' && r.subtype === '*') s = 1;
    else continue;
    if (s > specificity) {
      specificity = s;
      best = r.q;
    }
  }
  return best < 0 ? 0 : best;
}

/** Adds a request header to Vary, keeping those named before (CORS adds Origin). */
export function vary(reply: FastifyReply, header: string): void {
  const current = reply.getHeader('Vary');
  const names = typeof current === 'string' && current !== '' ? current.split(/\s*,\s*/) : [];
  if (!names.some((n) => n.toLowerCase() === header.toLowerCase())) names.push(header);
  reply.header('Vary', names.join(', '));
}

/** The best of `offered` (in the server's order of preference) for a request; 406 when it accepts none. */
export function negotiate(request: FastifyRequest, reply: FastifyReply, offered: string[]): string {
  vary(reply, 'Accept');
  const header = request.headers.accept;
  if (!header || header.trim() === '') return offered[0];
  const ranges = parseAccept(header);
  let chosen: string | undefined;
  let bestQ = 0;
  for (const type of offered) {
    const q = qualityOf(ranges, type);
    if (q > bestQ) {
      bestQ = q;
      chosen = type;
    }
  }
  if (!chosen) throw new HttpError(406, 'not-acceptable', `this is available as ${offered.join(' or ')}`);
  return chosen;
}
