// XEP-0398 User Avatar to vCard-Based Avatars Conversion: Juliet publishes an XEP-0084 avatar in PEP and her
// vCard (XEP-0054) gets the photo, her presence the XEP-0153 hash; she sets a vCard photo and PEP gets the avatar.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Host } from '../src/core/host.js';
import { connectClient, nextStanza, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_DISCO_INFO, NS_PUBSUB, iq, publish, result, xml, type X } from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  vcard:\n  pep:\n  avatars:';
const DATA = 'urn:xmpp:avatar:data';
const METADATA = 'urn:xmpp:avatar:metadata';
const UPDATE = 'vcard-temp:x:update';

// Two tiny "images": what matters is that the bytes, their base64 and their SHA-1 agree.
const RED = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108020000009077', 'hex');
const BLUE = Buffer.from('89504e470d0a1a0a0000000d494844520000000100000001080200000090ff', 'hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe('XEP-0398 User Avatar to vCard-Based Avatars Conversion', () => {
  let server: TestServer;
  let juliet: XmppClient;

  function synced(): Promise<void> {
    const host = server.running.server.hosts.get('localhost') as Host;
    return new Promise((resolve) => {
      const off = host.events.on('avatars/synced', ({ user }: { user: string }) => {
        if (user !== 'juliet') return undefined;
        off();
        resolve();
        return undefined;
      });
    });
  }

  const items = async (node: string): Promise<X[]> => {
    const reply = result(await iq(juliet, 'get', undefined, xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node }))))!;
    return reply.getChild('items')!.getChildren('item');
  };

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('juliet');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const own = nextStanza(juliet, (s) => s.is('presence'));
    await juliet.send(xml('presence'));
    await own;
  });

  after(async () => {
    await juliet?.stop();
    await server?.stop();
  });

  test('§3: the account advertises urn:xmpp:pep-vcard-conversion:0', async () => {
    const query = result(await iq(juliet, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_INFO })))!;
    assert.ok(query.getChildren('feature').some((f) => f.attrs.var === 'urn:xmpp:pep-vcard-conversion:0'));
  });

  test('a PEP avatar becomes the vCard PHOTO, and her presence carries its hash', async () => {
    const id = sha1(RED);
    const done = synced();
    await publish(juliet, undefined, DATA, xml('data', { xmlns: DATA }, RED.toString('base64')), id);
    await publish(juliet, undefined, METADATA, xml('metadata', { xmlns: METADATA }, xml('info', { id, bytes: String(RED.length), type: 'image/png', width: '1', height: '1' })), id);
    await done;

    const vcard = result(await iq(juliet, 'get', undefined, xml('vCard', { xmlns: 'vcard-temp' })))!;
    const photo = vcard.getChild('PHOTO')!;
    assert.equal(photo.getChildText('TYPE'), 'image/png');
    assert.equal(photo.getChildText('BINVAL'), RED.toString('base64'));

    // XEP-0153 §4.1: the hash is in the presence the server broadcasts, whatever the client put there.
    const own = nextStanza(juliet, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony');
    await juliet.send(xml('presence', {}, xml('x', { xmlns: UPDATE }, xml('photo', {}, 'stale'))));
    const presence = await own;
    const updates = presence.getChildren('x', UPDATE);
    assert.equal(updates.length, 1);
    assert.equal(updates[0].getChildText('photo'), id);
  });

  test('a vCard PHOTO becomes the PEP avatar: data and metadata items named by its SHA-1', async () => {
    const id = sha1(BLUE);
    const done = synced();
    result(
      await iq(
        juliet,
        'set',
        undefined,
        xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, 'Juliet Capulet'), xml('PHOTO', {}, xml('TYPE', {}, 'image/png'), xml('BINVAL', {}, BLUE.toString('base64')))),
      ),
    );
    await done;

    const metadata = await items(METADATA);
    const last = metadata[metadata.length - 1];
    assert.equal(last.attrs.id, id);
    const info = last.getChild('metadata', METADATA)!.getChild('info')!;
    assert.deepEqual({ id: info.attrs.id, bytes: info.attrs.bytes, type: info.attrs.type }, { id, bytes: String(BLUE.length), type: 'image/png' });
    const data = (await items(DATA)).find((i) => i.attrs.id === id);
    assert.equal(data?.getChildText('data', DATA), BLUE.toString('base64'));

    // The vCard stays as she set it (the conversion back finds the same photo and leaves it).
    const vcard = result(await iq(juliet, 'get', undefined, xml('vCard', { xmlns: 'vcard-temp' })))!;
    assert.equal(vcard.getChildText('FN'), 'Juliet Capulet');
    assert.equal(vcard.getChild('PHOTO')!.getChildText('BINVAL'), BLUE.toString('base64'));
  });
});
