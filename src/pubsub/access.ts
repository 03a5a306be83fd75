// Access models (XEP-0060 §4.5) and affiliations (§4.1), evaluated for one node. The rosters an access model
// needs (presence, roster) are loaded once per check set, so that a fan-out to many subscribers checks each
// of them in memory.
import type { Roster } from '../core/roster.js';
import type { StanzaError } from '../core/stanza.js';
import { pubsubError } from './errors.js';
import type { NodeConfig } from './config.js';

export const AFFILIATIONS = ['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'] as const;
export type Affiliation = (typeof AFFILIATIONS)[number];

/** What an entity wants to do: retrieve items (§6.5.1), subscribe (§6.1.3), or receive a notification. */
export type AccessPurpose = 'retrieve' | 'subscribe' | 'notify';

/**
 * Who asks: a bare JID, or ANONYMOUS for a reader who gave no credentials (the HTTP Storage API). XMPP has no such
 * entity, so no affiliation or roster admits it: of the access models of §4.5 only 'open' does.
 */
export const ANONYMOUS = null;
export type Asker = string | typeof ANONYMOUS;

/** The parts of a node an access decision reads. */
export interface AccessSubject {
  config: NodeConfig;
  affiliationOf(bare: string): Affiliation;
  /** Whether the bare JID (or one of its full JIDs) has an approved subscription (authorize model). */
  hasApprovedSubscription(bare: string): boolean;
}

/**
 * An access decision maker for one node, with the rosters of the node's owners loaded (the "owner's presence"
 * of the presence and roster models is that of the PEP account, or of the node owners at a pubsub service).
 */
export class AccessCheck {
  constructor(
    private readonly subject: AccessSubject,
    /** Rosters of the owners whose presence counts (local accounts only). */
    private readonly rosters: Roster[],
  ) {}

  /** Whether some owner's roster has the contact with a subscription 'from' or 'both' (and, for roster, a group). */
  private rosterAllows(bare: string, groups: string[] | null): 'ok' | 'no-presence' | 'no-group' {
    let subscribed = false;
    for (const roster of this.rosters) {
      const item = roster.items.get(bare);
      if (!item || (item.subscription !== 'from' && item.subscription !== 'both')) continue;
      subscribed = true;
      if (groups === null || item.groups.some((g) => groups.includes(g))) return 'ok';
    }
    return subscribed ? 'no-group' : 'no-presence';
  }

  /** null when allowed; otherwise the error XEP-0060 gives for the purpose (§6.1.3, §6.5.9). */
  check(bare: Asker, purpose: AccessPurpose): StanzaError | null {
    if (bare === ANONYMOUS) {
      return this.subject.config.access_model === 'open' ? null : pubsubError('not-authorized', undefined, { text: 'this node is not readable without signing in' });
    }
    const affiliation = this.subject.affiliationOf(bare);
    // §4.1 table: owners and publishers may always subscribe and retrieve; outcasts never, publish-only neither.
    if (affiliation === 'owner' || affiliation === 'publisher') return null;
    if (affiliation === 'outcast' || affiliation === 'publish-only') return pubsubError('forbidden');
    // Members are on the whitelist (§4.5) and are admitted by the owner whatever the model.
    if (affiliation === 'member') return null;
    switch (this.subject.config.access_model) {
      case 'open':
        return null;
      case 'presence':
        return this.rosterAllows(bare, null) === 'ok' ? null : pubsubError('not-authorized', 'presence-subscription-required');
      case 'roster': {
        const verdict = this.rosterAllows(bare, this.subject.config.roster_groups_allowed);
        return verdict === 'ok' ? null : pubsubError('not-authorized', verdict === 'no-presence' ? 'presence-subscription-required' : 'not-in-roster-group');
      }
      case 'authorize':
        // Anyone may ask; only approved subscribers read (§6.5.9.3) and are notified.
        if (purpose === 'subscribe') return null;
        return this.subject.hasApprovedSubscription(bare) ? null : pubsubError('not-authorized', 'not-subscribed');
      case 'whitelist':
        return pubsubError('not-allowed', 'closed-node');
    }
  }

  allows(bare: Asker, purpose: AccessPurpose): boolean {
    return this.check(bare, purpose) === null;
  }
}
