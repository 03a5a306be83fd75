// What the microblog (XEP-0277, PEP) and social_feed (XEP-0472, pubsub.<host>) modules do alike with a node that
// holds posts or comments: check and normalize each entry before it is stored (the engine's beforePublish hook),
// create a post's comments node once the post is stored, and delete it with the post. The two modules differ only
// in which nodes are theirs and where a post's comments go, which they say through a PostsProfile.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Jid } from '../../core/jid/index.js';
import type { Server } from '../../core/server.js';
import type { Element } from '../../core/xml/element.js';
import { pubsubError, type NodeConfig, type PublishContext, type PubSubNode, type PubSubService, type ServiceHooks } from '../../pubsub/index.js';
import { readEntry } from '../../publishing/atom-read.js';
import { commentsNodeName } from '../../publishing/normalize.js';
import { prepareEntry } from '../../publishing/prepare.js';
import { DEFAULT_MAX_ARTICLE_BYTES } from '../../publishing/profiles.js';
import { parseXmppUri } from '../../publishing/xmpp-uri.js';
import { blogPostUrl } from '../blog/site.js';
import type { BlogRef } from '../blog/urls.js';
import { pubsubService } from '../pubsub/index.js';

/** Which nodes a module handles, and how. */
export interface PostsProfile {
  /** 'posts' for a node of posts, 'comments' for a post's comments node, null for a node that is not the module's. */
  kindOf(service: PubSubService, node: string, config: NodeConfig): 'posts' | 'comments' | null;
  /** The blog the posts of a node make (for their web pages). */
  blogOf(service: PubSubService, node: string): BlogRef;
  /** The served host of a service (its site URL, its pubsub service for comments). */
  hostOf(service: PubSubService): string;
  /** Where a post's comments go: the service and the node's name; undefined when comments are off or impossible. */
  commentsFor(service: PubSubService, node: string, itemId: string, publisher: Jid): Promise<{ service: PubSubService; node: string } | undefined>;
  /** The node configuration rules of the profile's posts nodes; the values they must keep. */
  required(config: NodeConfig): Partial<NodeConfig>;
}

/** The pubsub service of a served host (where comments nodes go, XEP-0277 §comment_add: "SHOULD be located at a
 *  generic publish-subscribe node"), or undefined without the pubsub module. */
export function pubsubOfHost(server: Server, host: string): Promise<PubSubService> | undefined {
  for (const [domain, component] of server.components) {
    if (component.parent?.name !== host) continue;
    const service = pubsubService(server, domain);
    if (service) return service;
  }
  return undefined;
}

/** The options of the modules that keep posts (microblog on PEP, social_feed on pubsub.<host>). */
export const postsOptions = z
  .object({
    /** The largest post (bytes of the Atom entry): the posts node's pubsub#max_payload_size. */
    max_payload_size: z.number().int().min(1024).default(DEFAULT_MAX_ARTICLE_BYTES),
    /** The largest comment, the comments nodes' pubsub#max_payload_size. */
    max_comment_size: z.number().int().min(1024).default(64 * 1024),
    /** Create a comments node for every post (on pubsub.<host>: needs the pubsub module). */
    comments: z.boolean().default(true),
  })
  .strict()
  .prefault({});

/** A comments node name nobody else owns: the XEP-0277 one, or, when another account has that name already (item
 *  ids are chosen by clients), the same with a hash of the account's JID after the ItemID. */
export function freeCommentsNode(service: PubSubService, preferred: string, owner: Jid): string {
  const taken = service.nodes.get(preferred);
  if (!taken || taken.affiliationOf(owner.bare) === 'owner') return preferred;
  return ownersCommentsNode(preferred, owner.bare);
}

/** The comments node made for an owner when the preferred name was someone else's. */
function ownersCommentsNode(preferred: string, owner: string): string {
  return `${preferred}-${createHash('sha256').update(owner).digest('hex').slice(0, 8)}`;
}

/**
 * The comments nodes freeCommentsNode() may have made for a post on a service, with the owner each was made for: the
 * preferred name, or the preferred name with the hash of an owner of that node.
 */
function commentsNodesOf(service: PubSubService, preferred: string): { node: string; owner: string }[] {
  const out: { node: string; owner: string }[] = [];
  for (const node of service.nodes.values()) {
    if (node.name !== preferred && !node.name.startsWith(`${preferred}-`)) continue;
    for (const [jid, affiliation] of node.affiliations) {
      if (affiliation === 'owner' && (node.name === preferred || node.name === ownersCommentsNode(preferred, jid))) {
        out.push({ node: node.name, owner: jid });
        break;
      }
    }
  }
  return out;
}

/** The comments node a stored post links to on `comments`, when the post names one there. */
function linkedCommentsNode(payload: Element | null, comments: PubSubService): string | undefined {
  if (!payload) return undefined;
  const post = readEntry(payload).post;
  for (const link of post.links) {
    if (link.rel !== 'replies' || link.title !== 'comments') continue;
    const uri = parseXmppUri(link.href);
    if (uri?.jid === comments.address && uri.params.node) return uri.params.node;
  }
  return undefined;
}

function mustKeep(config: NodeConfig, required: Partial<NodeConfig>, node: string): void {
  for (const [key, value] of Object.entries(required) as [keyof NodeConfig, NodeConfig[keyof NodeConfig]][]) {
    if (config[key] !== value) {
      throw pubsubError('not-acceptable', undefined, { text: `pubsub#${key} must stay ${JSON.stringify(value)} on "${node}", a node of posts (XEP-0472 §profile_base_node_config, XEP-0277 §node_config)` });
    }
  }
}

/** The engine hooks (hooks.ts) of a posts profile. `defaults` gives the configuration new nodes of a kind start from. */
export function postsHooks(server: Server, profile: PostsProfile, defaults: (service: PubSubService, node: string) => Partial<NodeConfig> | undefined): ServiceHooks {
  return {
    nodeDefaults(service, node, config) {
      const extra = defaults(service, node);
      return extra ? { ...config, ...extra } : config;
    },
    checkConfig(service, node, config) {
      if (profile.kindOf(service, node, config) !== 'posts') return config;
      const required = profile.required(config);
      // A new node gets what its profile requires; an owner who later changes it is told why not.
      if (!service.nodes.has(node)) return { ...config, ...required };
      mustKeep(config, required, node);
      return config;
    },
    async beforePublish(service: PubSubService, node: PubSubNode, payload: Element, context: PublishContext): Promise<Element> {
      const kind = profile.kindOf(service, node.name, node.config);
      if (!kind) return payload;
      const previous = context.idGiven ? await context.previous() : null;
      const host = profile.hostOf(service);
      const open = node.config.access_model === 'open';
      const webUrl = kind === 'posts' && open ? blogPostUrl(server, host, profile.blogOf(service, node.name), context.itemId) : undefined;
      let comments = kind === 'posts' ? await profile.commentsFor(service, node.name, context.itemId, context.requester) : undefined;
      // No link to a node that cannot be made: the owner may not create nodes there (the pubsub module's create_nodes).
      const owner = service.env.pep ? service.env.address : context.requester;
      if (comments && !comments.service.nodes.has(comments.node) && !comments.service.env.mayCreate(owner)) comments = undefined;
      const prepared = prepareEntry(payload, {
        service: service.address,
        node: node.name,
        nodeType: node.config.type,
        itemId: context.itemId,
        publisher: { jid: context.requester.bare },
        now: new Date(),
        webUrl: () => webUrl,
        comments: comments ? { service: comments.service.address, node: comments.node } : undefined,
        previous: previous?.payload ?? null,
      });
      return prepared.entry;
    },
    async changed(service, change) {
      if (change.kind !== 'published' && change.kind !== 'retracted') return;
      const node = service.nodes.get(change.node);
      if (!node || profile.kindOf(service, node.name, node.config) !== 'posts') return;
      if (change.kind === 'published') {
        const owner = service.env.pep ? service.env.address : change.requester;
        const target = await profile.commentsFor(service, node.name, change.item.id, owner);
        if (!target || target.service.nodes.has(target.node)) return;
        // Only the node this post links to (a repeat keeps the original's link, XEP-0277 §repeat).
        if (linkedCommentsNode(change.item.payload, target.service) !== target.node) return;
        // A social feed's comments live on the post's own service, whose queue is running this hook.
        if (target.service === service) await service.createNodeFromHook(owner, target.node);
        else await target.service.createNode(owner, target.node, null);
        return;
      }
      // A post retracted by someone (not pushed out by max_items or expired) takes its comments with it, when its
      // comments node is one the server made for it.
      if (change.requester === null) return;
      for (const id of change.ids) {
        if (service.env.pep) {
          const owner = service.env.address;
          const target = await profile.commentsFor(service, node.name, id, owner);
          if (target && target.service.nodes.get(target.node)?.affiliationOf(owner.bare) === 'owner') await target.service.deleteNode(owner, target.node);
          continue;
        }
        // XEP-0472: the comments node is on the post's own service (whose queue runs this hook), made for the post's
        // author. The one made for whoever retracts the post goes: an author retracting their post, as on PEP. The
        // owner of a feed retracting someone else's post leaves that author's comments node to them.
        if (!(await profile.commentsFor(service, node.name, id, change.requester))) continue;
        const made = commentsNodesOf(service, commentsNodeName(node.name, id)).find((c) => c.owner === change.requester!.bare);
        if (made) await service.deleteNodeFromHook(change.requester, made.node);
      }
    },
  };
}
