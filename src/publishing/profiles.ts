// What XEP-0277 and XEP-0472 ask of the nodes that hold posts and comments, as data for the server to apply:
// the node configurations, the disco features, and the rule of the gallery profile.
import type { NodeConfig } from '../pubsub/config.js';
import { NODE_MICROBLOG, NS_SOCIAL_FEED, NS_SOCIAL_FEED_GALLERY, type Post } from './post.js';

/** Articles and chapters are long: a node's default pubsub#max_payload_size for posts (configurable). */
export const DEFAULT_MAX_ARTICLE_BYTES = 1024 * 1024;

/** XEP-0472 §discovery: the base feature, and one per profile implemented (XEP-0277's node type for the
 *  microblog profile, §profile_microblog; the gallery profile, §profile_gallery). */
export const SOCIAL_FEED_FEATURES: readonly string[] = [NS_SOCIAL_FEED, NODE_MICROBLOG, NS_SOCIAL_FEED_GALLERY];

/** XEP-0472 §profile_base_node_config, which every profile starts from: notify_retract true (MUST), max_items max
 *  (MUST), persist_items true (MUST), send_last_published_item never (SHOULD), deliver_payloads false (SHOULD). */
export function socialFeedNodeConfig(type: string = NS_SOCIAL_FEED, maxPayloadSize = DEFAULT_MAX_ARTICLE_BYTES): Partial<NodeConfig> {
  return { type, notify_retract: true, max_items: 'max', persist_items: true, send_last_published_item: 'never', deliver_payloads: false, max_payload_size: maxPayloadSize, itemreply: 'publisher' };
}

/** The PEP urn:xmpp:microblog:0 node (XEP-0277 §node_config, XEP-0472 §profile_microblog). Payloads are delivered,
 *  against XEP-0472's SHOULD: XEP-0277 clients (§receive) expect the entry in the notification. */
export function microblogNodeConfig(maxPayloadSize = DEFAULT_MAX_ARTICLE_BYTES): Partial<NodeConfig> {
  return { ...socialFeedNodeConfig(NODE_MICROBLOG, maxPayloadSize), deliver_payloads: true };
}

/** A post's comments node (XEP-0277 §node_config, comments): notify_retract true (MUST), many items, open access
 *  (SHOULD) and, so that anyone who may read may comment, an open publish model; publishers are named on items so
 *  readers can check comment authors (XEP-0277 §security). */
export function commentsNodeConfig(maxPayloadSize = 64 * 1024): Partial<NodeConfig> {
  return { type: NODE_MICROBLOG, notify_retract: true, max_items: 'max', persist_items: true, access_model: 'open', publish_model: 'open', send_last_published_item: 'never', deliver_payloads: true, max_payload_size: maxPayloadSize, itemreply: 'publisher' };
}

/** Rules a node's profile (its pubsub#type) adds to an entry's validity; problems as parseEntry words them. */
export function profileProblems(post: Post, nodeType: string): string[] {
  // XEP-0472 §profile_gallery: "All the items published in a gallery node MUST only have at least one attached
  // picture. This picture MUST be of type enclosure."
  if (nodeType === NS_SOCIAL_FEED_GALLERY && !post.links.some((l) => l.rel === 'enclosure' && /^image\//i.test(l.type ?? ''))) {
    return [`a gallery post needs a picture: <link rel='enclosure' type='image/…' href='…'/> (XEP-0472 §profile_gallery)`];
  }
  return [];
}
