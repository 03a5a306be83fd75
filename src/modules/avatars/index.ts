// XEP-0084 User Avatar lives in PEP (urn:xmpp:avatar:data and urn:xmpp:avatar:metadata) with nothing special on
// the server; this module does the server side of XEP-0398 (User Avatar to vCard-Based Avatars Conversion): a
// PEP avatar becomes the vcard-temp PHOTO, a vCard PHOTO becomes the PEP avatar, and the account's available
// presence carries the XEP-0153 <x xmlns='vcard-temp:x:update'><photo/></x> hash.
import { createHash } from 'node:crypto';
import type { Host, StanzaEvent } from '../../core/host.js';
import { makeJid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import type { Session } from '../../core/session.js';
import { xml, type Element } from '../../core/xml/element.js';
import type { PubSubService } from '../../pubsub/index.js';
import { PEP_ITEMS_CHANGED_EVENT, pepService, type PepItemsChangedEvent } from '../pep/index.js';
import { NS_VCARD, VCARD_STORED_EVENT, VCARD_STORE, type VcardStoredEvent } from '../vcard/index.js';

export const NS_AVATAR_DATA = 'urn:xmpp:avatar:data';
export const NS_AVATAR_METADATA = 'urn:xmpp:avatar:metadata';
export const NS_VCARD_UPDATE = 'vcard-temp:x:update';
/** XEP-0398 §3: the account converts between the two avatar protocols. */
export const FEATURE_CONVERSION = 'urn:xmpp:pep-vcard-conversion:0';
/** Fired on the host when no conversion of an account's avatar is pending any more (tests wait for it). */
export const AVATARS_SYNCED_EVENT = 'avatars/synced';

const sha1 = (bytes: Buffer) => createHash('sha1').update(bytes).digest('hex');

/** The PHOTO of a vCard, decoded; null when it has none with inline data. */
function photoOf(vcard: Element | null): { type: string; bytes: Buffer; hash: string } | null {
  const photo = vcard?.getChild('PHOTO', NS_VCARD);
  const binval = photo?.getChildText('BINVAL', NS_VCARD)?.replace(/\s+/g, '');
  if (!photo || !binval) return null;
  const bytes = Buffer.from(binval, 'base64');
  if (bytes.length === 0) return null;
  return { type: photo.getChildText('TYPE', NS_VCARD)?.trim() || 'image/png', bytes, hash: sha1(bytes) };
}

export default defineModule({
  name: 'avatars',
  spec: 'XEP-0398',
  description: 'User avatars: PEP avatars (XEP-0084) and vCard photos (XEP-0054/XEP-0153) converted both ways',
  dependencies: ['pep', 'vcard'],
  setup(m) {
    const host: Host = m.host;
    const vcards = m.keyval(VCARD_STORE);
    m.accountFeature(FEATURE_CONVERSION);

    /** user -> the avatar hash presence carries: '' for "no avatar", absent when not known yet. */
    const hashes = new Map<string, string>();

    const queues = new Map<string, Promise<void>>();
    function enqueue(user: string, job: () => Promise<void>): void {
      const run = (queues.get(user) ?? Promise.resolve())
        .then(job)
        .catch((err: unknown) => m.log.error({ err, user }, 'avatar conversion failed'))
        .then(() => {
          if (queues.get(user) !== run) return;
          queues.delete(user);
          host.events.fire(AVATARS_SYNCED_EVENT, { host, user });
        });
      queues.set(user, run);
    }

    async function storedVcard(user: string): Promise<Element | null> {
      const stored = await vcards.get(host.name, user);
      return stored ? parseStoredXml(stored) : null;
    }

    /** XEP-0398 §4: the PEP avatar (or its removal) written into the vCard. */
    async function pepToVcard(user: string, metadata: Element): Promise<void> {
      const svc = await pepService(m.server, host.name, user);
      if (!svc) return;
      // XEP-0084 §4.2: the info without a url is the one whose bytes are in the data node.
      const info = metadata.getChildren('info', NS_AVATAR_METADATA).find((i) => i.attrs.url === undefined && i.attrs.id);
      const vcard = (await storedVcard(user)) ?? xml('vCard', { xmlns: NS_VCARD });
      const current = photoOf(vcard);
      if (!info) {
        // XEP-0084 §4.5: an empty <metadata/> disables the avatar.
        hashes.set(user, '');
        if (!vcard.getChild('PHOTO', NS_VCARD)) return;
        for (const photo of vcard.getChildren('PHOTO', NS_VCARD)) vcard.remove(photo);
        await vcards.set(host.name, user, vcard.toString());
        return;
      }
      const id = info.attrs.id;
      if (current?.hash === id) {
        hashes.set(user, id);
        return;
      }
      const data = await avatarData(svc, user, id);
      if (!data) return;
      const bytes = Buffer.from(data.replace(/\s+/g, ''), 'base64');
      if (sha1(bytes) !== id) m.log.warn({ user, id }, 'avatar data does not match its id');
      for (const photo of vcard.getChildren('PHOTO', NS_VCARD)) vcard.remove(photo);
      vcard.append(xml('PHOTO', {}, xml('TYPE', {}, info.attrs.type ?? 'image/png'), xml('BINVAL', {}, bytes.toString('base64'))));
      await vcards.set(host.name, user, vcard.toString());
      hashes.set(user, sha1(bytes));
    }

    async function avatarData(svc: PubSubService, user: string, id: string): Promise<string | null> {
      if (!svc.nodes.has(NS_AVATAR_DATA)) return null;
      const { items } = await svc.env.store.items(host.name, user, NS_AVATAR_DATA, { ids: [id] });
      const payload = items[0]?.payload;
      return payload?.localName === 'data' && payload.ns === NS_AVATAR_DATA ? payload.text() : null;
    }

    /** XEP-0398 §5: a vCard photo published as the PEP avatar, data first (XEP-0084 §4.1), then metadata. */
    async function vcardToPep(user: string, vcard: Element): Promise<void> {
      const photo = photoOf(vcard);
      // A vCard without a photo leaves the PEP avatar alone: clients that never knew of avatars do not remove it.
      if (!photo) return;
      hashes.set(user, photo.hash);
      const svc = await pepService(m.server, host.name, user);
      if (!svc) return;
      const metadataNode = svc.nodes.get(NS_AVATAR_METADATA);
      const last = metadataNode ? await svc.lastItem(metadataNode) : null;
      if (last?.id === photo.hash) return;
      const owner = makeJid(user, host.name);
      const publish = (node: string, payload: Element) => svc.publish(owner, node, { item: { id: photo.hash, payload, payloadCount: 1 }, items: 1, publishOptions: null }, true);
      await publish(NS_AVATAR_DATA, xml('data', { xmlns: NS_AVATAR_DATA }, photo.bytes.toString('base64')));
      await publish(NS_AVATAR_METADATA, xml('metadata', { xmlns: NS_AVATAR_METADATA }, xml('info', { id: photo.hash, bytes: String(photo.bytes.length), type: photo.type })));
    }

    m.hook(PEP_ITEMS_CHANGED_EVENT, ({ host: h, user, change }: PepItemsChangedEvent) => {
      if (h !== host || change.kind !== 'published' || change.node !== NS_AVATAR_METADATA) return undefined;
      const metadata = change.item.payload;
      if (metadata?.localName !== 'metadata' || metadata.ns !== NS_AVATAR_METADATA) return undefined;
      enqueue(user, () => pepToVcard(user, metadata));
      return undefined;
    });

    m.hook(VCARD_STORED_EVENT, ({ user, vcard }: VcardStoredEvent) => {
      enqueue(user, () => vcardToPep(user, vcard));
      return undefined;
    });

    // The hash is known before the session's first presence: loaded while the client fetches its roster.
    m.hook('session-started', ({ session }: { session: Session }) => {
      const user = session.jid.local;
      if (!hashes.has(user)) {
        storedVcard(user).then(
          (vcard) => {
            if (!hashes.has(user)) hashes.set(user, photoOf(vcard)?.hash ?? '');
          },
          (err: unknown) => m.log.error({ err, user }, 'reading the vCard photo failed'),
        );
      }
      return undefined;
    });

    // XEP-0398 §6 / XEP-0153 §4.1: the server puts the current hash into the available presence it broadcasts,
    // replacing what the client said (above the presence module, which broadcasts at priority 0).
    m.hook(
      'presence/self',
      (event: StanzaEvent) => {
        const stanza = event.stanza;
        if (stanza.attrs.type !== undefined) return undefined;
        const hash = hashes.get(event.from.local);
        // Not known yet (the vCard is still being read): the presence goes out as the client sent it.
        if (hash === undefined) return undefined;
        for (const x of stanza.getChildren('x', NS_VCARD_UPDATE)) stanza.remove(x);
        stanza.append(xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo', {}, hash || null)));
        return undefined;
      },
      20,
    );
  },
});
