// XEP-0115 Entity Capabilities: the server's caps in the stream features, and the server's cache of the caps its
// clients advertise (queried once per ver, verified, kept across restarts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Element as XmppElement } from '@xmpp/xml';
import { authenticate, bindResource, RawStream } from './helpers/raw-login.js';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { parseJid } from '../src/core/jid/index.js';
import type { Session } from '../src/core/session.js';
import type { Element as QuireElement } from '../src/core/xml/element.js';

const NS_CAPS = 'http://jabber.org/protocol/caps';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
// contact_addresses puts an XEP-0128 form in the server's disco#info, which the server's ver must cover (§5.1 step 6).
const MODULES = [
  'modules:',
  '  roster:',
  '  presence:',
  '  disco:',
  '  caps:',
  '  ping:',
  '  version:',
  '  time:',
  '  contact_addresses:',
  '    abuse: [xmpp:abuse@localhost, mailto:abuse@localhost]',
  '    support: https://localhost/support',
].join('\n');

// --- XEP-0115 §5.1, written here independently of the module, over plain data ---

interface DiscoInfo {
  identities: { category: string; type: string; lang?: string; name?: string }[];
  features: string[];
  forms: { formType: string; fields: { var: string; values: string[] }[] }[];
}

type AnyElement = { attrs: Record<string, string>; name: string; children: unknown[] };
function childElements(el: AnyElement): AnyElement[] {
  return el.children.filter((c): c is AnyElement => typeof c === 'object' && c !== null && 'attrs' in c);
}
const local = (el: AnyElement) => el.name.slice(el.name.indexOf(':') + 1);
const textOf = (el: AnyElement) => el.children.filter((c): c is string => typeof c === 'string').join('');

/** Reads a disco#info <query/> from either XML library into DiscoInfo. */
function discoInfoOf(query: AnyElement): DiscoInfo {
  const info: DiscoInfo = { identities: [], features: [], forms: [] };
  for (const child of childElements(query)) {
    if (local(child) === 'identity') info.identities.push({ category: child.attrs.category, type: child.attrs.type, lang: child.attrs['xml:lang'], name: child.attrs.name });
    if (local(child) === 'feature') info.features.push(child.attrs.var);
    if (local(child) === 'x') {
      const fields = childElements(child).filter((f) => local(f) === 'field');
      const formType = fields.find((f) => f.attrs.var === 'FORM_TYPE');
      if (!formType || formType.attrs.type !== 'hidden') continue;
      info.forms.push({
        formType: textOf(childElements(formType)[0]),
        fields: fields.filter((f) => f !== formType).map((f) => ({ var: f.attrs.var, values: childElements(f).map(textOf) })),
      });
    }
  }
  return info;
}

/** "i;octet" (RFC 4790 §9.3). */
const octets = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function capsVer(info: DiscoInfo, hash: 'sha1' | 'sha256' = 'sha1'): string {
  const parts: string[] = [];
  const identities = [...info.identities].sort((a, b) => octets(a.category, b.category) || octets(a.type, b.type) || octets(a.lang ?? '', b.lang ?? ''));
  for (const i of identities) parts.push(`${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`);
  parts.push(...[...info.features].sort(octets));
  for (const form of [...info.forms].sort((a, b) => octets(a.formType, b.formType))) {
    parts.push(form.formType);
    for (const field of [...form.fields].sort((a, b) => octets(a.var, b.var))) parts.push(field.var, ...[...field.values].sort(octets));
  }
  return createHash(hash).update(parts.map((p) => p + '<').join(''), 'utf8').digest('base64');
}

test('the verification algorithm of this test reproduces the §5.2 example', () => {
  const ver = capsVer({
    identities: [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }],
    features: ['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc', 'http://jabber.org/protocol/caps'],
    forms: [],
  });
  assert.equal(ver, 'QgayPKawpkPSDYmwT/WM94uAlu0=');
});

// --- Clients that answer the server's caps queries ---

/** A client's disco#info answer and how many times the server asked. */
interface CapsClient {
  xmpp: XmppClient;
  jid: string;
  queries: XmppElement[];
}

const balconyInfo: DiscoInfo = {
  identities: [{ category: 'client', type: 'pc', name: 'Balcony 1.0' }],
  features: [NS_CAPS, NS_DISCO_INFO, 'http://jabber.org/protocol/disco#items', 'urn:xmpp:mam:2', 'http://jabber.org/protocol/geoloc+notify'],
  forms: [],
};

function infoElement(info: DiscoInfo, node?: string): XmppElement {
  return xml(
    'query',
    { xmlns: NS_DISCO_INFO, node },
    ...info.identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang })),
    ...info.features.map((v) => xml('feature', { var: v })),
  );
}


/** Logs in and answers disco#info queries with `answer` (what the client claims it supports). */
async function capsClient(server: TestServer, user: string, resource: string, answer: DiscoInfo): Promise<CapsClient> {
  const xmpp = await connectClient(server, user, undefined, resource);
  const entry: CapsClient = { xmpp, jid: `${user}@localhost/${resource}`, queries: [] };
  const callee = (xmpp as unknown as { iqCallee: { get(ns: string, name: string, handler: (ctx: { stanza: XmppElement; element: XmppElement }) => XmppElement): void } }).iqCallee;
  callee.get(NS_DISCO_INFO, 'query', ({ stanza, element }) => {
    entry.queries.push(stanza);
    return infoElement(answer, element.attrs.node);
  });
  return entry;
}

function capsPresence(node: string, ver: string, hash = 'sha-1'): XmppElement {
  return xml('presence', {}, xml('c', { xmlns: NS_CAPS, hash, node, ver }));
}

/** A ping to the server and its answer: everything the server sent before is now in. */
async function roundTrip(xmpp: XmppClient): Promise<void> {
  await xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
}

describe('XEP-0115 entity capabilities', () => {
  let server: TestServer;
  const clients: CapsClient[] = [];

  const sessionOf = (jid: string): Session => {
    const session = server.running.server.sessions.get(parseJid(jid));
    assert.ok(session, `no session for ${jid}`);
    return session;
  };
  /** Resolves with the features of the next 'caps/updated' the server fires for this JID. */
  const capsUpdated = (jid: string): Promise<ReadonlySet<string>> =>
    new Promise((resolve) => {
      const events = server.running.server.hosts.get('localhost')!.events;
      const off = events.on('caps/updated', (event: { session: Session; features: ReadonlySet<string> }) => {
        if (event.session.jid.full !== jid) return undefined;
        off();
        resolve(event.features);
        return undefined;
      });
    });

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['romeo', 'juliet', 'nurse', 'mercutio', 'benvolio', 'tybalt']) await server.createUser(user);
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.xmpp.stop()));
    await server?.stop();
  });

  test("the authenticated stream features carry the server's caps, whose ver is its disco#info (§6.3, §5.1)", async () => {
    const stream = await RawStream.connect(server.port);
    try {
      await stream.open();
      await stream.startTls();
      await stream.open();
      await authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
      stream.restart();
      const { header, features } = await stream.open();
      // §6.3: the server's JID is the 'from' of its stream header.
      assert.equal(header.attrs.from, 'localhost');
      const c = features.getChild('c', NS_CAPS);
      assert.ok(c, `no <c/> in ${features.toString()}`);
      assert.equal(c.attrs.hash, 'sha-1');
      assert.equal(c.attrs.node, 'https://quire.im');

      await bindResource(stream, 'caps-check');
      stream.send(`<iq type='get' id='info1' to='localhost'><query xmlns='${NS_DISCO_INFO}'/></iq>`);
      const result = await stream.next('the disco#info result');
      assert.equal(result.attrs.type, 'result', result.toString());
      const query = result.getChild('query', NS_DISCO_INFO)! as QuireElement;
      const info = discoInfoOf(query);
      assert.ok(info.features.includes(NS_CAPS), 'the caps feature is advertised (§7)');
      assert.deepEqual(info.forms.map((f) => f.formType), ['http://jabber.org/network/serverinfo']);
      assert.equal(c.attrs.ver, capsVer(info));

      // §6.2: the caps node "node#ver" is answered, mirroring the node, with the same identities and features.
      const node = `https://quire.im#${c.attrs.ver}`;
      stream.send(`<iq type='get' id='info2' to='localhost'><query xmlns='${NS_DISCO_INFO}' node='${node}'/></iq>`);
      const nodeResult = await stream.next('the disco#info result for the caps node');
      assert.equal(nodeResult.attrs.type, 'result', nodeResult.toString());
      const nodeQuery = nodeResult.getChild('query', NS_DISCO_INFO)!;
      assert.equal(nodeQuery.attrs.node, node);
      assert.equal(capsVer(discoInfoOf(nodeQuery)), c.attrs.ver);

      // A stale ver is not a node here.
      stream.send(`<iq type='get' id='info3' to='localhost'><query xmlns='${NS_DISCO_INFO}' node='https://quire.im#stale'/></iq>`);
      const stale = await stream.next('the error for a stale caps node');
      assert.equal(stale.attrs.type, 'error');
      assert.ok(stale.getChild('error')?.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    } finally {
      stream.close();
    }
  });

  const balconyNode = 'https://example.org/balcony';
  const balconyVer = capsVer(balconyInfo);

  test('a client announcing unknown caps is asked for node#ver at its full JID; the verified features are kept on the session (§5.4, §6.2)', async () => {
    const juliet = await capsClient(server, 'juliet', 'balcony', balconyInfo);
    clients.push(juliet);
    const asked = nextStanza(juliet.xmpp, (s) => s.is('iq') && s.attrs.type === 'get' && !!s.getChild('query', NS_DISCO_INFO));
    const updated = capsUpdated(juliet.jid);
    await juliet.xmpp.send(capsPresence(balconyNode, balconyVer));
    const query = await asked;
    assert.equal(query.attrs.from, 'localhost');
    assert.equal(query.attrs.to, juliet.jid);
    assert.equal(query.getChild('query', NS_DISCO_INFO)!.attrs.node, `${balconyNode}#${balconyVer}`);
    const features = await updated;
    assert.deepEqual([...features].sort(), [...balconyInfo.features].sort());
    const caps = sessionOf(juliet.jid).data.get('caps') as { ver: string; features: ReadonlySet<string> };
    assert.equal(caps.ver, balconyVer);
    assert.ok(caps.features.has('http://jabber.org/protocol/geoloc+notify'));
    assert.equal(juliet.queries.length, 1);
  });

  test('a second client with the same ver is not asked: the server uses its cache', async () => {
    const romeo = await capsClient(server, 'romeo', 'orchard', balconyInfo);
    clients.push(romeo);
    const updated = capsUpdated(romeo.jid);
    await romeo.xmpp.send(capsPresence(balconyNode, balconyVer));
    assert.deepEqual([...(await updated)].sort(), [...balconyInfo.features].sort());
    await roundTrip(romeo.xmpp);
    assert.equal(romeo.queries.length, 0);
  });

  test('the same presence again does not ask again; legacy caps (no hash) are ignored (§8)', async () => {
    const nurse = await capsClient(server, 'nurse', 'kitchen', balconyInfo);
    clients.push(nurse);
    await nurse.xmpp.send(xml('presence', {}, xml('c', { xmlns: NS_CAPS, node: 'https://example.org/old', ver: '1.0', ext: 'voice-v1' })));
    const updated = capsUpdated(nurse.jid);
    await nurse.xmpp.send(capsPresence(balconyNode, balconyVer));
    await updated;
    await nurse.xmpp.send(xml('presence', {}, xml('show', {}, 'away'), xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: balconyNode, ver: balconyVer })));
    await roundTrip(nurse.xmpp);
    assert.equal(nurse.queries.length, 0);
  });

  const poisonInfo: DiscoInfo = {
    identities: [{ category: 'client', type: 'phone', name: 'Street 2.0' }],
    features: [NS_CAPS, NS_DISCO_INFO, 'urn:xmpp:jingle:1'],
    forms: [],
  };
  const poisonVer = capsVer(poisonInfo);

  test('an answer that does not hash to the ver is not cached: the next client with that ver is asked (§5.4 3.9)', async () => {
    // Mercutio claims the ver of poisonInfo but answers with more features than it stands for.
    const lying = { ...poisonInfo, features: [...poisonInfo.features, 'urn:example:evil'] };
    const mercutio = await capsClient(server, 'mercutio', 'street', lying);
    clients.push(mercutio);
    const mercutioAsked = nextStanza(mercutio.xmpp, (s) => s.is('iq') && s.attrs.type === 'get');
    await mercutio.xmpp.send(capsPresence('https://example.org/street', poisonVer));
    await mercutioAsked;

    const benvolio = await capsClient(server, 'benvolio', 'square', poisonInfo);
    clients.push(benvolio);
    const benvolioAsked = nextStanza(benvolio.xmpp, (s) => s.is('iq') && s.attrs.type === 'get');
    const updated = capsUpdated(benvolio.jid);
    await benvolio.xmpp.send(capsPresence('https://example.org/street', poisonVer));
    const query = await benvolioAsked;
    assert.equal(query.getChild('query', NS_DISCO_INFO)!.attrs.node, `https://example.org/street#${poisonVer}`);
    const features = await updated;
    assert.ok(!features.has('urn:example:evil'));
    assert.deepEqual([...features].sort(), [...poisonInfo.features].sort());
    assert.equal(sessionOf(mercutio.jid).data.get('caps'), undefined);
  });

  test('sha-256 verification strings are checked too', async () => {
    const tybalt = await capsClient(server, 'tybalt', 'sword', poisonInfo);
    clients.push(tybalt);
    const updated = capsUpdated(tybalt.jid);
    const ver256 = capsVer(poisonInfo, 'sha256');
    await tybalt.xmpp.send(capsPresence('https://example.org/street', ver256, 'sha-256'));
    assert.deepEqual([...(await updated)].sort(), [...poisonInfo.features].sort());
    assert.equal(tybalt.queries.length, 1);
    assert.equal((sessionOf(tybalt.jid).data.get('caps') as { hash: string }).hash, 'sha-256');
  });

  test('the cache survives a restart: after it, a client with a known ver is not asked', async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.xmpp.stop()));
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir });
    const juliet = await capsClient(server, 'juliet', 'balcony', balconyInfo);
    clients.push(juliet);
    const updated = capsUpdated(juliet.jid);
    await juliet.xmpp.send(capsPresence(balconyNode, balconyVer));
    assert.deepEqual([...(await updated)].sort(), [...balconyInfo.features].sort());
    await roundTrip(juliet.xmpp);
    assert.equal(juliet.queries.length, 0);
  });
});
