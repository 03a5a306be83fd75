// Who writes to a blog over HTTP (AtomPub, Micropub) and how a post reaches the node: the Storage API's
// authentication (HTTP Basic with the account's password, or an app token with write scope whose node list covers
// the blog's node), then the engine's publish as that account, so the microblog or social_feed module checks and
// normalizes the entry and subscribers are notified exactly as for a post from an XMPP client.
import type { FastifyRequest } from 'fastify';
import type { Element } from '../../../core/xml/element.js';
import { HttpError } from '../../../http/errors.js';
import { NS_NODE_CONFIG, type ItemCondition, type PublishResult } from '../../../pubsub/index.js';
import { callerOf, checkNode, type Caller } from '../../storage/grants.js';
import { signInRequired, toHttpError } from '../../storage/http-errors.js';
import { resolveTarget, type Target } from '../../storage/targets.js';
import type { BlogContext } from '../context.js';
import type { BlogRef } from '../urls.js';

export interface Writer {
  caller: Caller;
  target: Target;
  ref: BlogRef;
}

/** The authenticated writer of a blog (401/403 otherwise); `need` 'read' for the AtomPub listings. */
export async function writerOf(ctx: BlogContext, request: FastifyRequest, ref: BlogRef, need: 'read' | 'write' = 'write'): Promise<Writer> {
  if (!ctx.options.writing) throw new HttpError(404, 'not-found', 'writing over HTTP is off on this server');
  const caller = await callerOf(ctx.http, request, need);
  if (!caller.jid) throw signInRequired();
  const target = await resolveTarget(ctx.server, ref.kind === 'pep' ? ref.jid : ref.service, caller.jid.bare).catch((err: unknown) => {
    throw toHttpError(err, false);
  });
  checkNode(caller, target, ref.node);
  return { caller, target, ref };
}

/** Runs an engine operation for a writer, its errors as HTTP errors. */
export async function engine<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw toHttpError(err, false);
  }
}

/** Publishes an entry under an ItemID. A first post over HTTP creates an account's blog node, public or not as
 *  the module's new_blog_access says (a client over XMPP says it with publish-options). */
export function publishEntry(ctx: BlogContext, w: Writer, id: string, entry: Element, condition?: ItemCondition): Promise<PublishResult> {
  const createWith = { type: 'submit' as const, formType: NS_NODE_CONFIG, fields: [{ var: 'pubsub#access_model', values: [ctx.options.new_blog_access] }] };
  return engine(() =>
    w.target.service.publish(w.caller.jid!, w.ref.node, { item: { id, payload: entry, payloadCount: 1 }, items: 1, publishOptions: null, condition, createWith }, w.ref.kind === 'pep'),
  );
}

/** An ItemID from a client's hint (AtomPub Slug, Micropub mp-slug) or a title: lower-case words joined by '-'. */
export function slugOf(text: string | undefined): string {
  return (text ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}
