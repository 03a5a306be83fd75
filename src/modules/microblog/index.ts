// XEP-0277 Microblogging over PEP, what it asks of the server:
// - the urn:xmpp:microblog:0 node of every account starts from the configuration XEP-0277 §node_config and XEP-0472's
//   microblog profile ask for (notify_retract, max_items max, persist_items, send_last_published_item never) with
//   articles of up to max_payload_size (1 MiB); its access model stays PEP's (presence) unless the client asks for
//   another, as Movim and Libervia do with publish-options: a blog is public when its author makes it open;
// - every entry published there, over XMPP or HTTP, is checked (<bad-request/> + <invalid-payload/> with the
//   problems in <text/>) and normalized: alternate links (xmpp: URI, web page when open), id, dates, author, the
//   replies link to its comments node (src/publishing/normalize.ts);
// - each post gets its comments node on the host's pubsub service (§comments), "urn:xmpp:microblog:0:comments/ITEM",
//   owned by the author, with the configuration §comments_node_config recommends (open access and publishing), and
//   loses it when retracted. Without the pubsub module, posts get no comments link;
// - entries published to comments nodes are checked and normalized the same way (their author is the commenter);
// - the account advertises urn:xmpp:pubsub-social-feed:1 and urn:xmpp:microblog:0 (XEP-0472 §discovery: the
//   microblog profile is the PEP node).
import { z } from 'zod';
import { makeJid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import type { Server } from '../../core/server.js';
import { attachServiceHooks, type NodeConfig, type PubSubService } from '../../pubsub/index.js';
import { NODE_MICROBLOG, NS_SOCIAL_FEED } from '../../publishing/post.js';
import { commentsNodeName } from '../../publishing/normalize.js';
import { commentsNodeConfig, microblogNodeConfig } from '../../publishing/profiles.js';
import { freeCommentsNode, postsHooks, postsOptions, pubsubOfHost, type PostsProfile } from './posts.js';

const COMMENTS_PREFIX = `${NODE_MICROBLOG}:comments/`;

const options = postsOptions;

export type MicroblogOptions = z.infer<typeof options>;

const attached = new WeakSet<Server>();

export function microblogProfile(server: Server, o: MicroblogOptions): PostsProfile {
  return {
    kindOf(service, node) {
      if (service.env.pep) return node === NODE_MICROBLOG ? 'posts' : null;
      return node.startsWith(COMMENTS_PREFIX) ? 'comments' : null;
    },
    blogOf: (service) => ({ kind: 'pep', jid: service.address, node: NODE_MICROBLOG }),
    hostOf: (service) => service.env.host,
    async commentsFor(service, node, itemId) {
      if (!o.comments || !service.env.pep) return undefined;
      const pubsub = await pubsubOfHost(server, service.env.host);
      if (!pubsub) return undefined;
      const owner = makeJid(service.env.user, service.env.host);
      return { service: pubsub, node: freeCommentsNode(pubsub, commentsNodeName(node, itemId), owner) };
    },
    // XEP-0277 §microblog_node_config: notify_retract MUST be true; persist_items follows from keeping posts.
    required: () => ({ notify_retract: true, persist_items: true }),
  };
}

export default defineModule({
  name: 'microblog',
  spec: 'XEP-0277',
  description: 'Microblogging over PEP: the urn:xmpp:microblog:0 node configured and its entries checked and normalized, a comments node per post',
  dependencies: ['pep'],
  options,
  setup(m) {
    m.accountFeature(NS_SOCIAL_FEED);
    m.accountFeature(NODE_MICROBLOG);
    const server = m.server;
    // The hooks act on every service of the server: attached once, with the first host's options (module options
    // are the same on every host).
    if (attached.has(server)) return;
    attached.add(server);
    const o = m.options;
    const defaults = (service: PubSubService, node: string): Partial<NodeConfig> | undefined => {
      if (service.env.pep) return node === NODE_MICROBLOG ? microblogNodeConfig(o.max_payload_size) : undefined;
      return node.startsWith(COMMENTS_PREFIX) ? commentsNodeConfig(o.max_comment_size) : undefined;
    };
    m.onUnload(attachServiceHooks(server, postsHooks(server, microblogProfile(server, o), defaults)));
    m.onUnload(() => attached.delete(server));
  },
});
