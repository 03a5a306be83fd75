// A served domain (virtual host): its events, its modules and what disco says about it.
import type { AdHocCommand } from './adhoc.js';
import { EventBus } from './events.js';
import { parseJid, type Jid } from './jid/index.js';
import type { Logger } from './logger.js';
import type { Identity, ModuleContext } from './module-api.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import type { Element } from './xml/element.js';

/** What every stanza event carries. */
export interface StanzaEvent {
  stanza: Element;
  /** The local client session it came from, or null when the server or a module sent it. */
  origin: Session | null;
  from: Jid;
  to: Jid;
  host: Host;
}

export class Host {
  readonly events = new EventBus();
  /** disco#info features of the domain, filled by the enabled modules. */
  readonly features = new Set<string>();
  /** disco#info features of every account's bare JID. */
  readonly accountFeatures = new Set<string>();
  readonly identities: Identity[] = [];
  /** disco#info identities of every account's bare JID, besides account/registered (pubsub/pep…). */
  readonly accountIdentities: Identity[] = [];
  readonly discoExtensions: (() => Element)[] = [];
  /** disco#items of the domain (services such as pubsub.<host>). */
  readonly discoItems: { jid: string; name?: string; node?: string }[] = [];
  readonly modules = new Map<string, ModuleContext>();
  /** XEP-0050 commands by node, registered by modules (m.command) and served by the adhoc module. */
  readonly commands = new Map<string, AdHocCommand<object>>();
  readonly jid: Jid;
  readonly log: Logger;

  constructor(
    readonly name: string,
    readonly server: Server,
    log: Logger,
    /** For a service domain (pubsub.<host>) run by a module: the host it belongs to. It has no accounts. */
    readonly parent: Host | null = null,
  ) {
    this.jid = parseJid(name);
    this.log = log.child({ host: name });
  }
}
