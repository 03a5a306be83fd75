// The blog module's answer to "where is this post on the web?", for the modules that add a post's alternate
// text/html link when it is published (microblog, social_feed), which work without the blog module too: then
// posts get no web link. A post has a page only when its node can be read anonymously.
import type { Server } from '../../core/server.js';
import { httpOf } from '../../http/service.js';
import { postPath, type BlogRef } from './urls.js';

const enabled = new WeakSet<Server>();

export function enableBlogLinks(server: Server): () => void {
  enabled.add(server);
  return () => enabled.delete(server);
}

/** The absolute URL of an item's page, or undefined when blogs are not served or no web listener is open. */
export function blogPostUrl(server: Server, host: string, ref: BlogRef, itemId: string): string | undefined {
  if (!enabled.has(server)) return undefined;
  const base = httpOf(server).siteUrl(host);
  return base === undefined ? undefined : base + postPath(ref, itemId);
}
