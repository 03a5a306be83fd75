// What the blog routes share: the HTTP stack, the reader (with its cache of posts), the module's options.
import type { Server } from '../../core/server.js';
import type { HttpService } from '../../http/service.js';
import type { BlogReader } from './reader.js';

export interface BlogOptions {
  /** Posts per index, tag and author page. */
  page_size: number;
  /** Posts in a feed. */
  feed_size: number;
  /** Whether AtomPub and Micropub accept posts. */
  writing: boolean;
  /** The access model of a blog node that AtomPub or Micropub create (the first post of an account over HTTP). */
  new_blog_access: 'open' | 'presence';
}

export interface BlogContext {
  server: Server;
  http: HttpService;
  reader: BlogReader;
  options: BlogOptions;
  /** When the server started: the stylesheet's Last-Modified. */
  started: Date;
}
