// Storage: PubSub as a data store for applications, over XMPP and HTTP (docs/storage.md). A node is a collection, an
// item a document, an access model a permission, notifications a change feed. This module adds the HTTP face (the
// Storage API under /storage on the server's web listeners), a durable change log per node behind its event
// streams, and per-account quotas; the documents themselves are the PEP and pubsub services' items, changed through
// the same engine operations as over XMPP, so both faces see the same ids, revisions, access rules and notifications.
//
// It needs neither the pep nor the pubsub module but serves whichever is enabled: account JIDs need pep, service
// domains need pubsub.
import { defineModule } from '../../core/module-api.js';
import type { Server } from '../../core/server.js';
import { httpOf } from '../../http/service.js';
import { attachServiceHooks, type NodeChange, type PubSubService } from '../../pubsub/index.js';
import { StorageApi } from './api.js';
import { CHANGES_STORE, ChangeLog, type LoggedChange } from './change-log.js';
import { ChangeFeed } from './feed.js';
import { storageOptions } from './options.js';
import { QUOTA_STORE, Quotas } from './quota.js';
import { storageRoutes } from './routes/index.js';

const apis = new WeakMap<Server, StorageApi>();

/** The Storage API of a server, for the modules that extend it (full-text search sets `search`). */
export function storageApi(server: Server): StorageApi | undefined {
  return apis.get(server);
}

function logged(change: NodeChange): Omit<LoggedChange, 'id' | 'at'> {
  switch (change.kind) {
    case 'published':
      return { kind: 'published', node: change.node, item: change.item.id, rev: change.item.rev, publisher: change.item.publisher };
    case 'retracted':
      return { kind: 'retracted', node: change.node, items: change.ids };
    default:
      return { kind: change.kind, node: change.node };
  }
}

export default defineModule({
  name: 'storage',
  spec: 'Quire Storage API',
  description: 'PubSub as a data store: the HTTP Storage API, change feeds (Server-Sent Events), item history and quotas',
  options: storageOptions,
  setup(m) {
    const server = m.server;
    // Module options are the same on every host: the first host's setup makes the server's API.
    if (apis.has(server)) return;
    const o = m.options;
    const log = m.log;
    const changeLog = new ChangeLog(m.archive(CHANGES_STORE), o.change_log_max_entries, o.change_log_max_days * 86_400_000, log);
    const feed = new ChangeFeed(changeLog, o, log);
    const quotas = new Quotas(m.keyval(QUOTA_STORE), o);
    const http = httpOf(server);
    const api = new StorageApi(server, http, o, changeLog, feed, quotas, log);
    apis.set(server, api);

    m.onUnload(
      attachServiceHooks(server, {
        // Quotas bound what accounts keep in their PEP services; pubsub.<host> has the pubsub module's own limits.
        limits: (service: PubSubService) => (service.env.pep ? quotas.limits(service.env.host, service.env.user) : null),
        async changed(service, change) {
          const entry = await changeLog.append(service.env.host, service.env.user, logged(change));
          feed.dispatch(service, change.node, entry);
          if (change.kind === 'deleted') await changeLog.drop(service.env.host, service.env.user, change.node);
        },
      }),
    );
    m.onUnload(() => {
      feed.closeAll();
      apis.delete(server);
    });
    http.register('storage', (app) => storageRoutes(app, api));
  },
});
