// XEP-0472 Pubsub Social Feed on the pubsub service (pubsub.<host>): a node whose pubsub#type is a social-feed
// profile (urn:xmpp:pubsub-social-feed:1, urn:xmpp:microblog:0, urn:xmpp:pubsub-social-feed:gallery:1) is a feed
// of posts.
// - Created with such a type, it gets the base profile's configuration (§profile_base_node_config: notify_retract
//   true, max_items max, persist_items true, send_last_published_item never), and posts of up to max_payload_size;
//   an owner who later reconfigures it away from the MUSTs is refused with not-acceptable and the rule in <text/>.
//   deliver_payloads stays as configured (default true), against the profile's SHOULD, for XEP-0277 clients.
// - Entries published to it are checked (Atom, and the gallery profile's picture rule) and normalized like XEP-0277
//   posts, with a comments node "<node>:comments/<item>" on the same service, owned by the post's publisher.
// - The service advertises urn:xmpp:pubsub-social-feed:1 and the profiles' features (§discovery).
// Open nodes are also blogs on the web (/blog/pubsub.<host>/<node>/, the blog module).
import { defineModule } from '../../core/module-api.js';
import type { Server } from '../../core/server.js';
import { attachServiceHooks, type NodeConfig, type PubSubService } from '../../pubsub/index.js';
import { NODE_MICROBLOG } from '../../publishing/post.js';
import { commentsNodeName } from '../../publishing/normalize.js';
import { SOCIAL_FEED_TYPES, isCommentsNode } from '../../publishing/prepare.js';
import { SOCIAL_FEED_FEATURES, commentsNodeConfig } from '../../publishing/profiles.js';
import { freeCommentsNode, postsHooks, postsOptions, type PostsProfile } from '../microblog/posts.js';
import { pubsubService } from '../pubsub/index.js';

const options = postsOptions;

const attached = new WeakSet<Server>();
const MICROBLOG_COMMENTS = `${NODE_MICROBLOG}:comments/`;

export default defineModule({
  name: 'social_feed',
  spec: 'XEP-0472',
  description: 'Pubsub Social Feed: nodes of pubsub.<host> typed as social feeds get the base profile and checked, normalized posts with comments',
  dependencies: ['pubsub'],
  options,
  setup(m) {
    const server = m.server;
    // §discovery, on the host's pubsub service (the pubsub module set it up before this module).
    for (const component of server.components.values()) {
      if (component.parent !== m.host || !pubsubService(server, component.name)) continue;
      for (const f of SOCIAL_FEED_FEATURES) {
        component.features.add(f);
        m.onUnload(() => component.features.delete(f));
      }
    }
    if (attached.has(server)) return;
    attached.add(server);
    const o = m.options;
    // Comments nodes of PEP microblogs belong to the microblog module when it runs.
    const microblogs = () => [...server.hosts.values()].some((h) => h.modules.has('microblog'));
    const profile: PostsProfile = {
      kindOf(service, node, config) {
        if (service.env.pep) return null;
        if (isCommentsNode(node)) return node.startsWith(MICROBLOG_COMMENTS) && microblogs() ? null : config.type === NODE_MICROBLOG ? 'comments' : null;
        return SOCIAL_FEED_TYPES.has(config.type) ? 'posts' : null;
      },
      blogOf: (service, node) => ({ kind: 'pubsub', service: service.address, node }),
      hostOf: (service) => server.components.get(service.address)?.parent?.name ?? service.address,
      async commentsFor(service, node, itemId, publisher) {
        if (!o.comments) return undefined;
        return { service, node: freeCommentsNode(service, commentsNodeName(node, itemId), publisher) };
      },
      required: () => ({ notify_retract: true, max_items: 'max', persist_items: true }),
    };
    const defaults = (service: PubSubService, node: string): Partial<NodeConfig> | undefined => {
      if (service.env.pep || !isCommentsNode(node)) return undefined;
      const parent = service.nodes.get(node.slice(0, node.lastIndexOf(':comments/')));
      return parent && SOCIAL_FEED_TYPES.has(parent.config.type) ? commentsNodeConfig(o.max_comment_size) : undefined;
    };
    const hooks = postsHooks(server, profile, defaults);
    const checkConfig = hooks.checkConfig!;
    // A new social-feed node also gets the profile's SHOULDs and the article size, unless its creator said otherwise.
    hooks.checkConfig = (service, node, config) => {
      const isNew = !service.nodes.has(node);
      const checked = checkConfig(service, node, config);
      if (!isNew || profile.kindOf(service, node, checked) !== 'posts') return checked;
      const base = service.env.defaults('leaf');
      return {
        ...checked,
        send_last_published_item: checked.send_last_published_item === base.send_last_published_item ? 'never' : checked.send_last_published_item,
        max_payload_size: checked.max_payload_size === base.max_payload_size ? o.max_payload_size : checked.max_payload_size,
      };
    };
    m.onUnload(attachServiceHooks(server, hooks));
    m.onUnload(() => attached.delete(server));
  },
});
