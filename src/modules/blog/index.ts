// Blogs on the web (src/publishing rendered by the server): for every account whose XEP-0277 microblog node is open
// to anyone, and every open XEP-0472 social-feed node of a pubsub service, the pages (index with paging, articles
// with their comments and series navigation, tags, the author), the feeds (Atom, RSS 2.0, JSON Feed, per blog and
// per tag), EPUB books of a series or the whole blog, and writing over HTTP (AtomPub, Micropub) authenticated like
// the Storage API. Routes: urls.ts; docs/publishing.md.
import { z } from 'zod';
import { defineModule } from '../../core/module-api.js';
import type { Server } from '../../core/server.js';
import { httpOf } from '../../http/service.js';
import { attachServiceHooks } from '../../pubsub/index.js';
import { BlogReader } from './reader.js';
import { blogRoutes } from './routes/index.js';
import { enableBlogLinks } from './site.js';

const options = z
  .object({
    /** Posts per index, tag and author page. */
    page_size: z.number().int().min(1).max(100).default(10),
    /** Posts in a feed (the newest). */
    feed_size: z.number().int().min(1).max(1000).default(20),
    /** AtomPub and Micropub. */
    writing: z.boolean().default(true),
    /** The access model of a blog that AtomPub or Micropub create: open (a public blog) or presence (contacts). */
    new_blog_access: z.enum(['open', 'presence']).default('open'),
  })
  .strict()
  .prefault({});

const served = new WeakSet<Server>();

export default defineModule({
  name: 'blog',
  spec: 'Quire Publishing',
  description: 'Blogs on the web: pages, feeds (Atom, RSS, JSON Feed) and EPUB of open XEP-0277 and XEP-0472 nodes; AtomPub and Micropub',
  options,
  setup(m) {
    const server = m.server;
    // Routes belong to the server: the first host's setup registers them (module options are the same on every host).
    if (served.has(server)) return;
    served.add(server);
    const http = httpOf(server);
    const reader = new BlogReader(server);
    m.onUnload(attachServiceHooks(server, { changed: (service, change) => reader.changed(service, change) }));
    m.onUnload(enableBlogLinks(server));
    m.onUnload(() => served.delete(server));
    http.register('blog', (app) => blogRoutes(app, { server, http, reader, options: m.options, started: new Date() }));
  },
});
