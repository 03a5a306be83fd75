// What the server does with an entry published to a node that holds posts or comments (XEP-0277, XEP-0472), for the
// microblog and social_feed modules' beforePublish hooks: check it (parseEntry, plus the node profile's rule) and
// refuse it in the words XEP-0060 §7.1.3.6 gives (<bad-request/> + <invalid-payload/>, the problems in <text/>), or
// normalize it (normalize.ts). Both modules share this so that a post reads the same on every node type.
import type { Element } from '../core/xml/element.js';
import { pubsubError } from '../pubsub/errors.js';
import { EntryError, readEntry } from './atom-read.js';
import { normalizeEntry, type NormalizeContext } from './normalize.js';
import { NODE_MICROBLOG, NS_ATOM, NS_SOCIAL_FEED, NS_SOCIAL_FEED_GALLERY, type Post } from './post.js';
import { profileProblems } from './profiles.js';

/** XEP-0277 §metadata: the item "0" of a microblog holds an Atom <feed/> that describes the blog. */
export const METADATA_ITEM_ID = '0';

/** The pubsub#type values of nodes whose items are posts (XEP-0472 §profiles). */
export const SOCIAL_FEED_TYPES: ReadonlySet<string> = new Set([NS_SOCIAL_FEED, NODE_MICROBLOG, NS_SOCIAL_FEED_GALLERY]);

const COMMENTS_NODE = /:comments\/[^/]+$/;

/** Whether a node holds the comments of a post (XEP-0277 §post_comments names them "<node>:comments/<item>"). */
export function isCommentsNode(name: string): boolean {
  return COMMENTS_NODE.test(name);
}

export interface PrepareContext extends Omit<NormalizeContext, 'previous'> {
  /** The node's pubsub#type (its profile's rules apply). */
  nodeType: string;
  /** The stored payload this publish replaces, if any. */
  previous: Element | null;
}

export interface Prepared {
  entry: Element;
  post: Post | null;
  /** A replies link to ctx.comments was added: the comments node is to be created. */
  commentsLinkAdded: boolean;
}

function invalidPayload(problems: readonly string[]): Error {
  return pubsubError('bad-request', 'invalid-payload', { text: problems.join('; ') });
}

/**
 * Checks and normalizes a published payload; throws a PubSubError for an invalid one. XEP-0277's metadata item
 * ("0", an Atom feed) is stored as it is. A lone XHTML content is accepted and given its text twin (normalize.ts)
 * rather than refused: over HTTP nobody writes both, and text-only readers get the same result either way.
 */
export function prepareEntry(payload: Element, ctx: PrepareContext): Prepared {
  if (ctx.itemId === METADATA_ITEM_ID && payload.localName === 'feed' && payload.ns === NS_ATOM) return { entry: payload, post: null, commentsLinkAdded: false };
  const reading = readEntry(payload, ctx.itemId);
  const problems = [...reading.problems];
  if (!problems.length) problems.push(...profileProblems(reading.post, ctx.nodeType));
  if (problems.length) throw invalidPayload(problems);
  const previous = ctx.previous ? readEntry(ctx.previous, ctx.itemId) : undefined;
  try {
    const normalized = normalizeEntry(payload, { ...ctx, previous: previous && !previous.problems.length ? previous.post : undefined });
    return { entry: normalized.entry, post: normalized.post, commentsLinkAdded: normalized.commentsLinkAdded };
  } catch (err) {
    if (err instanceof EntryError) throw invalidPayload(err.problems);
    throw err;
  }
}
