// RFC 6121 conformance, checked from the outside with real clients (@xmpp/client): every row of Appendix A
// (subscription states), pre-approval (§3.4), requests kept for the next login (§3.1.3) and across a restart,
// roster removal (§2.5), roster versioning (§2.6) and roster set errors (§2.3.3).
//
// How the rows are checked. Each row gets a fresh pair of accounts: the "user" (a) whose state the table row names
// and the "contact" (b). Both log in, ask for the roster (interested resources, §2.2) and send initial presence
// (available resources, §4.2). The pair is driven into the start state with ordinary subscription stanzas, then the
// stanza of the row is sent. A small model of Appendix A below says what must follow; the test compares it with what
// happened: (a) both rosters (roster get, exact item attributes), (b) what left the sender's server for the other
// account (a tap on the server's presence events) and what each client received, (c) the roster pushes each
// client saw.
//
// Absence is asserted after `settle()`: ping round trips per client until a round starts no storage work and none is
// in flight (TestServer.settle). The server answers a ping after what the client sent before it, and what those
// stanzas cause waits only for storage; so then everything they caused has been written to every socket ahead of the
// last answer. No sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { client } from '@xmpp/client';
import type { Element as Stanza } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { xml as serverXml } from '../src/core/xml/element.js';
import type { StanzaEvent } from '../src/core/host.js';

const NS_ROSTER = 'jabber:iq:roster';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_STREAMS = 'http://etherx.jabber.org/streams';
const SUBSCRIPTION_TYPES = ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'] as const;
type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number];

// ---------------------------------------------------------------------------------------------------------------
// The model: RFC 6121 Appendix A, transcribed table by table.
// ---------------------------------------------------------------------------------------------------------------

const STATES = ['None', 'None + Pending Out', 'None + Pending In', 'None + Pending Out + In', 'To', 'To + Pending In', 'From', 'From + Pending Out', 'Both'] as const;
type State = (typeof STATES)[number];

/** What a client sees of a state in the roster (RFC 6121 §2.1.2.5, §2.1.2.2): Pending In is not shown. */
const SHOWN: Record<State, { subscription: 'none' | 'to' | 'from' | 'both'; ask: boolean }> = {
  None: { subscription: 'none', ask: false },
  'None + Pending Out': { subscription: 'none', ask: true },
  'None + Pending In': { subscription: 'none', ask: false },
  'None + Pending Out + In': { subscription: 'none', ask: true },
  To: { subscription: 'to', ask: false },
  'To + Pending In': { subscription: 'to', ask: false },
  From: { subscription: 'from', ask: false },
  'From + Pending Out': { subscription: 'from', ask: true },
  Both: { subscription: 'both', ask: false },
};

/** One table row: [route (A.2) or deliver (A.3), new state or null for "no state change"]. */
type Row = [boolean, State | null];
type Table = Record<State, Row>;

/** A.2: the user's server processing stanzas the user sends. "Route?" */
const OUTBOUND: Record<SubscriptionType, Table> = {
  // A.2.1 subscribe: always routed.
  subscribe: {
    None: [true, 'None + Pending Out'],
    'None + Pending Out': [true, null],
    'None + Pending In': [true, 'None + Pending Out + In'],
    'None + Pending Out + In': [true, null],
    To: [true, null],
    'To + Pending In': [true, null],
    From: [true, 'From + Pending Out'],
    'From + Pending Out': [true, null],
    Both: [true, null],
  },
  // A.2.2 subscribed. The rows marked * in the RFC (None, None + Pending Out, To) are pre-approvals (§3.4).
  subscribed: {
    None: [false, null],
    'None + Pending Out': [false, null],
    'None + Pending In': [true, 'From'],
    'None + Pending Out + In': [true, 'From + Pending Out'],
    To: [false, null],
    'To + Pending In': [true, 'Both'],
    From: [false, null],
    'From + Pending Out': [false, null],
    Both: [false, null],
  },
  // A.2.3 unsubscribe: always routed.
  unsubscribe: {
    None: [true, null],
    'None + Pending Out': [true, 'None'],
    'None + Pending In': [true, null],
    'None + Pending Out + In': [true, 'None + Pending In'],
    To: [true, 'None'],
    'To + Pending In': [true, 'None + Pending In'],
    From: [true, null],
    'From + Pending Out': [true, 'From'],
    Both: [true, 'From'],
  },
  // A.2.4 unsubscribed.
  unsubscribed: {
    None: [false, null],
    'None + Pending Out': [false, null],
    'None + Pending In': [true, 'None'],
    'None + Pending Out + In': [true, 'None + Pending Out'],
    To: [false, null],
    'To + Pending In': [true, 'To'],
    From: [true, 'None'],
    'From + Pending Out': [true, 'None + Pending Out'],
    Both: [true, 'To'],
  },
};

/** A.3: the user's server processing stanzas for the user. "Deliver?" */
const INBOUND: Record<SubscriptionType, Table> = {
  // A.3.1 subscribe. The rows marked * (From, From + Pending Out, Both) are answered with "subscribed" by the server.
  subscribe: {
    None: [true, 'None + Pending In'],
    'None + Pending Out': [true, 'None + Pending Out + In'],
    'None + Pending In': [false, null],
    'None + Pending Out + In': [false, null],
    To: [true, 'To + Pending In'],
    'To + Pending In': [false, null],
    From: [false, null],
    'From + Pending Out': [false, null],
    Both: [false, null],
  },
  // A.3.2 subscribed.
  subscribed: {
    None: [false, null],
    'None + Pending Out': [true, 'To'],
    'None + Pending In': [false, null],
    'None + Pending Out + In': [true, 'To + Pending In'],
    To: [false, null],
    'To + Pending In': [false, null],
    From: [false, null],
    'From + Pending Out': [true, 'Both'],
    Both: [false, null],
  },
  // A.3.3 unsubscribe.
  unsubscribe: {
    None: [false, null],
    'None + Pending Out': [false, null],
    'None + Pending In': [true, 'None'],
    'None + Pending Out + In': [true, 'None + Pending Out'],
    To: [false, null],
    'To + Pending In': [true, 'To'],
    From: [true, 'None'],
    'From + Pending Out': [true, 'None + Pending Out'],
    Both: [true, 'To'],
  },
  // A.3.4 unsubscribed.
  unsubscribed: {
    None: [false, null],
    'None + Pending Out': [true, 'None'],
    'None + Pending In': [false, null],
    'None + Pending Out + In': [true, 'None + Pending In'],
    To: [true, 'None'],
    'To + Pending In': [true, 'None + Pending In'],
    From: [false, null],
    'From + Pending Out': [true, 'From'],
    Both: [true, 'From'],
  },
};

const PRE_APPROVABLE: readonly State[] = ['None', 'None + Pending Out', 'To'];
const hasFrom = (state: State) => state === 'From' || state === 'From + Pending Out' || state === 'Both';

type Who = 'a' | 'b';
const otherOf = (who: Who): Who => (who === 'a' ? 'b' : 'a');

/** One side of the relation: its state, the pre-approval flag (§3.4) and whether the item is in the roster at all. */
interface Side {
  state: State;
  approved: boolean;
  inRoster: boolean;
}

/** A roster item as a client sees it (attributes other than jid). */
interface ItemView {
  subscription: string;
  ask?: string;
  approved?: string;
}

function viewOf(side: Side): ItemView | null {
  if (!side.inRoster) return null;
  const shown = SHOWN[side.state];
  const view: ItemView = { subscription: shown.subscription };
  if (shown.ask) view.ask = 'subscribe';
  if (side.approved) view.approved = 'true';
  return view;
}

interface Outcome {
  sides: Record<Who, Side>;
  /** Subscription stanzas that reached the other account's server, as "a>b subscribe". */
  routed: string[];
  /** Presence from the other account each client receives: subscription types, 'available', 'unavailable' (sorted). */
  received: Record<Who, string[]>;
  /** Roster pushes (of the item for the other account) each client must receive, in order. */
  pushes: Record<Who, ItemView[]>;
}

/**
 * What follows when `sender` sends a subscription stanza of `type` to the other account. With `injected`, the
 * stanza reaches the receiver's server without passing through the sender's (as from a server that lost sync).
 */
function simulate(start: Record<Who, Side>, sender: Who, type: SubscriptionType, injected = false): Outcome {
  const o: Outcome = { sides: { a: { ...start.a }, b: { ...start.b } }, routed: [], received: { a: [], b: [] }, pushes: { a: [], b: [] } };

  const change = (who: Who, update: (side: Side) => void) => {
    const side = o.sides[who];
    const before = { ...side };
    update(side);
    if (before.state === side.state && before.approved === side.approved && before.inRoster === side.inRoster) return;
    // §3.1.2, §3.1.5, §3.2.2 and so on: a change the client can see is pushed to the interested resources. (A change
    // of Pending In alone shows nothing; a push of the same item then is allowed, not required: see `collapse`.)
    if (side.inRoster && JSON.stringify(viewOf(before)) !== JSON.stringify(viewOf(side))) o.pushes[who].push(viewOf(side)!);
    // §3.1.5 / §3.4: a new subscriber gets the user's current presence; §3.2.2 / §3.3.3: one that loses the
    // subscription gets "unavailable" from each of the user's available resources.
    if (!hasFrom(before.state) && hasFrom(side.state)) o.received[otherOf(who)].push('available');
    if (hasFrom(before.state) && !hasFrom(side.state)) o.received[otherOf(who)].push('unavailable');
  };

  const inbound = (who: Who, from: Who, t: SubscriptionType) => {
    o.routed.push(`${from}>${who} ${t}`);
    const side = o.sides[who];
    if (t === 'subscribe' && side.approved && !hasFrom(side.state)) {
      // §3.4: pre-approved; the server approves on the user's behalf and does not deliver the request.
      change(who, (s) => {
        s.state = s.state === 'To' ? 'Both' : s.state === 'None + Pending Out' ? 'From + Pending Out' : 'From';
        s.approved = false;
      });
      inbound(from, who, 'subscribed');
      return;
    }
    const [deliver, next] = INBOUND[t][side.state];
    change(who, (s) => {
      if (next) s.state = next;
    });
    if (deliver) o.received[who].push(t);
    // A.3.1 *: the user already approved; the server answers "subscribed" for the user.
    if (t === 'subscribe' && hasFrom(side.state)) inbound(from, who, 'subscribed');
  };

  if (injected) {
    inbound(otherOf(sender), sender, type);
  } else {
    const [route, next] = OUTBOUND[type][o.sides[sender].state];
    const preApproval = type === 'subscribed' && !route && PRE_APPROVABLE.includes(o.sides[sender].state);
    change(sender, (s) => {
      if (next) s.state = next;
      // §3.1.2: subscribing adds the contact to the roster; §3.1.5: so does approving.
      if (type === 'subscribe' || (type === 'subscribed' && next)) s.inRoster = true;
      if (type === 'subscribed' && next) s.approved = false;
      // §3.4: "subscribed" with no request pending is a pre-approval; "unsubscribed" withdraws one.
      if (preApproval) {
        s.approved = true;
        s.inRoster = true;
      }
      if (type === 'unsubscribed') s.approved = false;
    });
    if (route) inbound(otherOf(sender), sender, type);
  }
  o.received.a.sort();
  o.received.b.sort();
  o.routed.sort();
  return o;
}

/** How each start state is reached from nothing: [who sends, what] (the user is a, the contact b). */
const SETUP: Record<State, [Who, SubscriptionType][]> = {
  None: [],
  'None + Pending Out': [['a', 'subscribe']],
  'None + Pending In': [['b', 'subscribe']],
  'None + Pending Out + In': [['a', 'subscribe'], ['b', 'subscribe']],
  To: [['a', 'subscribe'], ['b', 'subscribed']],
  'To + Pending In': [['a', 'subscribe'], ['b', 'subscribed'], ['b', 'subscribe']],
  From: [['b', 'subscribe'], ['a', 'subscribed']],
  'From + Pending Out': [['b', 'subscribe'], ['a', 'subscribed'], ['a', 'subscribe']],
  Both: [['a', 'subscribe'], ['b', 'subscribed'], ['b', 'subscribe'], ['a', 'subscribed']],
};

const EMPTY: Side = { state: 'None', approved: false, inRoster: false };

// ---------------------------------------------------------------------------------------------------------------
// Clients.
// ---------------------------------------------------------------------------------------------------------------

/** A logged-in account with everything its client received, in order. */
class Party {
  readonly log: Stanza[] = [];
  private serial = 0;

  constructor(
    readonly user: string,
    readonly client: XmppClient,
    /** The server the client is connected to. */
    readonly on: TestServer = server,
  ) {
    client.on('stanza', (stanza) => this.log.push(stanza));
  }

  get bare(): string {
    return `${this.user}@localhost`;
  }

  get full(): string {
    return this.client.jid!.toString();
  }

  send(stanza: Stanza): Promise<void> {
    return this.client.send(stanza);
  }

  /** Sends an IQ and resolves with the answer (result or error) that carries its id. */
  async iq(type: 'get' | 'set', payload: Stanza, to?: string): Promise<Stanza> {
    const id = `${this.user}-${++this.serial}`;
    const answer = nextStanza(this.client, (s) => s.is('iq') && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
    await this.client.send(xml('iq', { type, id, to }, payload));
    return answer;
  }

  async ping(): Promise<void> {
    const answer = await this.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost');
    assert.equal(answer.attrs.type, 'result');
  }

  /** The roster (RFC 6121 §2.1.3): item attributes by JID. */
  async roster(): Promise<Map<string, Record<string, string>>> {
    const answer = await this.iq('get', xml('query', { xmlns: NS_ROSTER }));
    assert.equal(answer.attrs.type, 'result', answer.toString());
    const items = new Map<string, Record<string, string>>();
    for (const item of answer.getChild('query', NS_ROSTER)!.getChildren('item')) items.set(item.attrs.jid, { ...item.attrs });
    return items;
  }

  /** The roster item for one contact as a client sees it, or null when it is not in the roster. */
  async itemFor(jid: string): Promise<ItemView | null> {
    const attrs = (await this.roster()).get(jid);
    if (!attrs) return null;
    const { jid: _jid, ...view } = attrs;
    return view as unknown as ItemView;
  }

  mark(): number {
    return this.log.length;
  }

  /** What arrived since mark, apart from the answers to this party's own IQs (the pings of settle()). */
  heard(mark: number): string[] {
    const own = `${this.user}-`;
    return this.since(mark)
      .filter((s) => !(s.is('iq') && (s.attrs.type === 'result' || s.attrs.type === 'error') && (s.attrs.id ?? '').startsWith(own)))
      .map((s) => s.toString());
  }

  since(mark: number): Stanza[] {
    return this.log.slice(mark);
  }

  /** Roster pushes received since mark about one contact (RFC 6121 §2.1.6), item attributes without jid. */
  pushesAbout(mark: number, jid: string): ItemView[] {
    const pushes: ItemView[] = [];
    for (const s of this.since(mark)) {
      if (!s.is('iq') || s.attrs.type !== 'set') continue;
      const item = s.getChild('query', NS_ROSTER)?.getChild('item');
      if (!item || item.attrs.jid !== jid) continue;
      const { jid: _jid, ...view } = item.attrs;
      pushes.push(view as unknown as ItemView);
    }
    return pushes;
  }

  /** Presence received since mark from an account (bare or full JID): types, 'available' for none. */
  presenceFrom(mark: number, bare: string): string[] {
    return this.since(mark)
      .filter((s) => s.is('presence') && (s.attrs.from === bare || (s.attrs.from ?? '').startsWith(bare + '/')))
      .map((s) => s.attrs.type ?? 'available');
  }

  async stop(): Promise<void> {
    await this.client.stop().catch(() => {});
  }
}

let server: TestServer;
/** Subscription stanzas as they reached an account on the server ("from>to type"), whatever happened next. */
const tapped: string[] = [];
let serial = 0;
const parties: Party[] = [];

/** Everything the server does because of stanzas sent so far is done, and in the clients' logs. */
async function settle(...who: Party[]): Promise<void> {
  for (const on of new Set(who.map((p) => p.on))) await on.settle(() => Promise.all(who.map((p) => p.ping())));
}

interface LoginOptions {
  resource?: string;
  /** Ask for the roster (an interested resource, §2.2). Default true. */
  interested?: boolean;
  /** Send initial presence (an available resource, §4.2). Default true. */
  available?: boolean;
}

async function login(user: string, options: LoginOptions = {}, on: TestServer = server): Promise<Party> {
  const party = new Party(user, await connectClient(on, user, undefined, options.resource ?? 'res'), on);
  parties.push(party);
  if (options.interested ?? true) assert.equal((await party.iq('get', xml('query', { xmlns: NS_ROSTER }))).attrs.type, 'result');
  if (options.available ?? true) {
    const echoed = nextStanza(party.client, (s) => s.is('presence') && s.attrs.from === party.full && s.attrs.type === undefined);
    await party.send(xml('presence'));
    await echoed;
  }
  return party;
}

async function freshUser(prefix: string): Promise<string> {
  const user = `${prefix}${++serial}`;
  await server.createUser(user);
  return user;
}

async function freshPair(): Promise<[Party, Party]> {
  const [a, b] = await Promise.all([freshUser('user'), freshUser('contact')]);
  return Promise.all([login(a), login(b)]);
}

function presence(to: string, type: string): Stanza {
  return xml('presence', { to, type });
}

/** A stanza for `to` that reaches its server as if from `from`'s server, without `from`'s server seeing it first. */
function inject(from: string, to: string, type: SubscriptionType): void {
  server.running.server.router.route(serverXml('presence', { from, to, type }));
}

function tappedBetween(mark: number, x: string, y: string): string[] {
  const short = (jid: string) => (jid === x ? 'a' : 'b');
  return tapped
    .slice(mark)
    .map((line) => line.split(' '))
    .filter(([from, to, type]) => (SUBSCRIPTION_TYPES as readonly string[]).includes(type) && ((from === x && to === y) || (from === y && to === x)))
    .map(([from, to, type]) => `${short(from)}>${short(to)} ${type}`)
    .sort();
}

/** Drives a fresh pair into `state` (from the side of a) and checks both rosters against the model. */
async function pairIn(state: State): Promise<{ a: Party; b: Party; sides: Record<Who, Side> }> {
  const [a, b] = await freshPair();
  const party = { a, b };
  let sides: Record<Who, Side> = { a: { ...EMPTY }, b: { ...EMPTY } };
  for (const [who, type] of SETUP[state]) {
    await party[who].send(presence(party[otherOf(who)].bare, type));
    await settle(a, b);
    sides = simulate(sides, who, type).sides;
  }
  assert.deepEqual(await a.itemFor(b.bare), viewOf(sides.a), `setup of "${state}": the user's roster`);
  assert.deepEqual(await b.itemFor(a.bare), viewOf(sides.b), `setup of "${state}": the contact's roster`);
  return { a, b, sides };
}

/** Sends the row's stanza and compares everything observable with the model. */
async function checkRow(state: State, sender: Who, type: SubscriptionType): Promise<void> {
  const { a, b, sides } = await pairIn(state);
  const party = { a, b };
  // Inbound rows (A.3) whose stanza the contact's own server would not send (A.2 says "no route") are injected
  // as if from a server that lost sync: exactly the situation those rows are there for.
  const injected = sender === 'b' && !OUTBOUND[type][sides.b.state][0];
  const expected = simulate(sides, sender, type, injected);
  const marks = { a: a.mark(), b: b.mark() };
  const tapMark = tapped.length;

  if (injected) inject(b.bare, a.bare, type);
  else await party[sender].send(presence(party[otherOf(sender)].bare, type));
  await settle(a, b);

  assert.deepEqual(tappedBetween(tapMark, a.bare, b.bare), expected.routed, 'routed between the servers of the two accounts');
  assert.deepEqual(a.presenceFrom(marks.a, b.bare).sort(), expected.received.a, "presence the user's client received from the contact");
  assert.deepEqual(b.presenceFrom(marks.b, a.bare).sort(), expected.received.b, "presence the contact's client received from the user");
  assert.deepEqual(collapse(a.pushesAbout(marks.a, b.bare), viewOf(sides.a)), expected.pushes.a, "roster pushes to the user's client");
  assert.deepEqual(collapse(b.pushesAbout(marks.b, a.bare), viewOf(sides.b)), expected.pushes.b, "roster pushes to the contact's client");
  assert.deepEqual(await a.itemFor(b.bare), viewOf(expected.sides.a), "the user's roster item for the contact");
  assert.deepEqual(await b.itemFor(a.bare), viewOf(expected.sides.b), "the contact's roster item for the user");
  // Every delivered subscription stanza comes from the other account's bare JID (§3.1.3, §3.1.6, §3.2.3, §3.3.3).
  for (const [who, mark] of [['a', marks.a], ['b', marks.b]] as const) {
    for (const s of party[who].since(mark)) {
      if (s.is('presence') && (SUBSCRIPTION_TYPES as readonly string[]).includes(s.attrs.type ?? '')) {
        assert.equal(s.attrs.from, party[otherOf(who)].bare, s.toString());
        assert.equal(s.attrs.to, party[who].full, s.toString());
      }
    }
  }
  await Promise.all([a.stop(), b.stop()]);
}

/** Pushes with the item as the client already knew it (a change of Pending In alone) left out. */
function collapse(pushes: ItemView[], start: ItemView | null): ItemView[] {
  const out: ItemView[] = [];
  let known = JSON.stringify(start);
  for (const push of pushes) {
    if (JSON.stringify(push) === known) continue;
    out.push(push);
    known = JSON.stringify(push);
  }
  return out;
}

function describeRow(section: string, direction: 'outbound' | 'inbound', type: SubscriptionType, state: State): string {
  const [yes, next] = (direction === 'outbound' ? OUTBOUND : INBOUND)[type][state];
  const verb = direction === 'outbound' ? (yes ? 'routed' : 'not routed') : yes ? 'delivered' : 'not delivered';
  return `${section} ${direction} "${type}" in "${state}": ${verb}, ${next ? `becomes "${next}"` : 'no state change'}`;
}

/**
 * SASL PLAIN (over TLS) only: @xmpp/client computes SCRAM's PBKDF2 in JavaScript (half a second per login), and
 * this file logs in a few hundred times; the mechanisms have their own tests.
 */
const FAST_LOGIN = 'auth: { mechanisms: [PLAIN] }';

before(async () => {
  server = await startTestServer({ extra: FAST_LOGIN });
  const host = server.running.server.hosts.get('localhost')!;
  const tap = (event: StanzaEvent) => {
    tapped.push(`${event.stanza.attrs.from} ${event.stanza.attrs.to} ${event.stanza.attrs.type ?? 'available'}`);
    return undefined;
  };
  host.events.on('presence/bare', tap, 10_000);
  host.events.on('presence/full', tap, 10_000);
});

after(async () => {
  await Promise.allSettled(parties.map((p) => p.stop()));
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// Appendix A, row by row.
// ---------------------------------------------------------------------------------------------------------------

const SECTIONS: Record<SubscriptionType, string> = { subscribe: '1', subscribed: '2', unsubscribe: '3', unsubscribed: '4' };

describe('RFC 6121 Appendix A.2: outbound subscription stanzas (the user sends)', () => {
  for (const type of SUBSCRIPTION_TYPES) {
    describe(`A.2.${SECTIONS[type]} ${type}`, () => {
      for (const state of STATES) {
        test(describeRow(`A.2.${SECTIONS[type]}`, 'outbound', type, state), () => checkRow(state, 'a', type));
      }
    });
  }
});

describe('RFC 6121 Appendix A.3: inbound subscription stanzas (the contact sends to the user)', () => {
  for (const type of SUBSCRIPTION_TYPES) {
    describe(`A.3.${SECTIONS[type]} ${type}`, () => {
      for (const state of STATES) {
        test(describeRow(`A.3.${SECTIONS[type]}`, 'inbound', type, state), () => checkRow(state, 'b', type));
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// The stanzas themselves.
// ---------------------------------------------------------------------------------------------------------------

describe('RFC 6121 §3: subscription stanzas on the wire', () => {
  test('§3.1.2: a subscribe sent to a full JID is stamped with bare JIDs on both sides, and extra children survive', async () => {
    const [a, b] = await freshPair();
    const request = nextStanza(b.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await a.send(xml('presence', { to: `${b.bare}/res`, type: 'subscribe', id: 'sub1' }, xml('status', {}, 'I am a friend'), xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, 'Friend')));
    const got = await request;
    assert.equal(got.attrs.from, a.bare);
    assert.equal(got.attrs.to, b.full);
    assert.equal(got.attrs.id, 'sub1');
    assert.equal(got.getChildText('status'), 'I am a friend');
    assert.equal(got.getChildText('nick', 'http://jabber.org/protocol/nick'), 'Friend');
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'none', ask: 'subscribe' });
  });

  test('§3.1.3: a subscription request to an account that does not exist is answered "unsubscribed" and Pending Out ends', async () => {
    const a = await login(await freshUser('lonely'));
    const mark = a.mark();
    const answer = nextStanza(a.client, (s) => s.is('presence') && s.attrs.type === 'unsubscribed');
    await a.send(presence('nobody-here@localhost', 'subscribe'));
    assert.equal((await answer).attrs.from, 'nobody-here@localhost');
    await settle(a);
    assert.deepEqual(a.pushesAbout(mark, 'nobody-here@localhost'), [{ subscription: 'none', ask: 'subscribe' }, { subscription: 'none' }]);
    assert.deepEqual(await a.itemFor('nobody-here@localhost'), { subscription: 'none' });
  });

  test('§3.1.3: the request goes to available resources; a connected resource that sent no presence does not get it', async () => {
    const [user, other] = await Promise.all([freshUser('user'), freshUser('contact')]);
    const a = await login(user, { resource: 'available' });
    const quiet = await login(user, { resource: 'quiet', available: false });
    const b = await login(other);
    const quietMark = quiet.mark();
    const request = nextStanza(a.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await b.send(presence(a.bare, 'subscribe'));
    await request;
    await settle(a, quiet, b);
    assert.deepEqual(quiet.presenceFrom(quietMark, b.bare), []);
    // Once it becomes available, the quiet resource gets the request that is still waiting (§3.1.3).
    const late = nextStanza(quiet.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await quiet.send(xml('presence'));
    assert.equal((await late).attrs.from, b.bare);
  });

  test('§3.1.6, §3.2.3, §3.3.3: approvals, cancellations and unsubscribes reach interested resources that are not available', async () => {
    const [user, other] = await Promise.all([freshUser('user'), freshUser('contact')]);
    const a = await login(user, { resource: 'main' });
    const reader = await login(user, { resource: 'reader', available: false });
    const b = await login(other);
    const mark = reader.mark();
    // a asks b; b approves: the approval is for every interested resource of a (§3.1.6).
    await a.send(presence(b.bare, 'subscribe'));
    await settle(a, reader, b);
    await b.send(presence(a.bare, 'subscribed'));
    await settle(a, reader, b);
    // b asks a; a approves from "main"; then b unsubscribes (§3.3.3) and cancels a's subscription (§3.2.3).
    await b.send(presence(a.bare, 'subscribe'));
    await settle(a, reader, b);
    await a.send(presence(b.bare, 'subscribed'));
    await settle(a, reader, b);
    await b.send(presence(a.bare, 'unsubscribe'));
    await settle(a, reader, b);
    await b.send(presence(a.bare, 'unsubscribed'));
    await settle(a, reader, b);
    const types = reader.presenceFrom(mark, b.bare).filter((t) => (SUBSCRIPTION_TYPES as readonly string[]).includes(t));
    assert.deepEqual(types, ['subscribed', 'unsubscribe', 'unsubscribed'], 'the subscribe request itself is only for available resources (§3.1.3)');
    assert.deepEqual(
      collapse(reader.pushesAbout(mark, b.bare), null).map((p) => p.subscription + (p.ask ? '+ask' : '')),
      ['none+ask', 'to', 'both', 'to', 'none'],
      'and every push in between',
    );
  });

  test('§2.1.6: roster pushes go to interested resources only', async () => {
    const [user, other] = await Promise.all([freshUser('user'), freshUser('contact')]);
    const a = await login(user, { resource: 'reader' });
    const notReading = await login(user, { resource: 'plain', interested: false });
    const b = await login(other);
    const marks = { a: a.mark(), plain: notReading.mark() };
    await a.send(presence(b.bare, 'subscribe'));
    await settle(a, notReading, b);
    assert.deepEqual(a.pushesAbout(marks.a, b.bare), [{ subscription: 'none', ask: 'subscribe' }]);
    assert.deepEqual(notReading.pushesAbout(marks.plain, b.bare), []);
  });

  test('§3.2.2: the contact sees the user go unavailable before the cancellation arrives', async () => {
    const { a, b } = await pairIn('From');
    const mark = b.mark();
    await a.send(presence(b.bare, 'unsubscribed'));
    await settle(a, b);
    assert.deepEqual(b.presenceFrom(mark, a.bare), ['unavailable', 'unsubscribed']);
    const unavailable = b.since(mark).find((s) => s.is('presence') && s.attrs.type === 'unavailable')!;
    assert.equal(unavailable.attrs.from, a.full);
  });

  test('§3.1.6: the approval reaches the subscriber before the roster push that records it ("This MUST occur before")', async () => {
    const { a, b } = await pairIn('None + Pending In');
    const mark = b.mark();
    await a.send(presence(b.bare, 'subscribed'));
    await settle(a, b);
    const heard = b.since(mark);
    const approval = heard.findIndex((s) => s.is('presence') && s.attrs.type === 'subscribed');
    const push = heard.findIndex((s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === 'to');
    assert.ok(approval >= 0 && push >= 0, heard.map(String).join('\n'));
    assert.ok(approval < push, `order: subscribed ${approval}, push ${push}`);
  });

  test('§3.2.3 / §3.3.3: cancellations and unsubscribes, too, come before their roster pushes', async () => {
    const { a, b } = await pairIn('Both');
    const mark = b.mark();
    await a.send(presence(b.bare, 'unsubscribe'));
    await settle(a, b);
    await a.send(presence(b.bare, 'unsubscribed'));
    await settle(a, b);
    const order = b
      .since(mark)
      .filter((s) => (s.is('presence') && (s.attrs.type ?? '').startsWith('unsub')) || (s.is('iq') && s.attrs.type === 'set'))
      .map((s) => (s.is('presence') ? s.attrs.type : `push ${s.getChild('query', NS_ROSTER)!.getChild('item')!.attrs.subscription}`));
    assert.deepEqual(order, ['unsubscribe', 'push to', 'unsubscribed', 'push none']);
  });

  test(
    '§3.1.5 / §3.1.6: the subscriber is told "subscribed" and gets its push before the contact\'s presence arrives',
    async () => {
      const { a, b } = await pairIn('None + Pending In');
      const mark = b.mark();
      await a.send(presence(b.bare, 'subscribed'));
      await settle(a, b);
      const heard = b.since(mark);
      const approval = heard.findIndex((s) => s.is('presence') && s.attrs.type === 'subscribed');
      const push = heard.findIndex((s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === 'to');
      const available = heard.findIndex((s) => s.is('presence') && s.attrs.from === a.full && s.attrs.type === undefined);
      assert.ok(approval >= 0 && push >= 0 && available >= 0, heard.map(String).join('\n'));
      assert.ok(approval < available && push < available, `order: subscribed ${approval}, push ${push}, presence ${available}`);
    },
  );

  test('§3.3.3: when the contact unsubscribes, the user\'s server sends it "unavailable" from each available resource', async () => {
    const { a, b } = await pairIn('From');
    const second = await login(a.user, { resource: 'second' });
    const mark = b.mark();
    await b.send(presence(a.bare, 'unsubscribe'));
    await settle(a, second, b);
    const unavailable = b
      .since(mark)
      .filter((s) => s.is('presence') && s.attrs.type === 'unavailable')
      .map((s) => s.attrs.from)
      .sort();
    assert.deepEqual(unavailable, [a.full, second.full].sort());
  });
});

// ---------------------------------------------------------------------------------------------------------------
// §3.4 pre-approval.
// ---------------------------------------------------------------------------------------------------------------

/** Logs in with a client of our own to see the stream features offered after authentication (RFC 6120 §4.3.2). */
async function featuresAfterLogin(user: string): Promise<Stanza> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${server.port}`, domain: server.domain, username: user, password: 'secret-password', resource: 'features' });
  xmpp.on('error', () => {});
  xmpp.reconnect.stop();
  let features: Stanza | undefined;
  xmpp.on('element', (...args: unknown[]) => {
    const el = args[0] as Stanza;
    if (el.is('features', NS_STREAMS) && el.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')) features = el;
  });
  await xmpp.start();
  await xmpp.stop();
  assert.ok(features, 'no stream features with <bind/> were seen');
  return features;
}

describe('RFC 6121 §3.4: pre-approving a subscription request', () => {
  test("§3.4: the server offers <sub xmlns='urn:xmpp:features:pre-approval'/> after authentication", async () => {
    const features = await featuresAfterLogin(await freshUser('features'));
    assert.ok(features.getChild('sub', 'urn:xmpp:features:pre-approval'), features.toString());
  });

  test('§3.4.2: "subscribed" to a stranger is a pre-approval: item with approved="true", pushed, nothing sent to the contact', async () => {
    const [a, b] = await freshPair();
    const marks = { a: a.mark(), b: b.mark() };
    const tapMark = tapped.length;
    await a.send(presence(b.bare, 'subscribed'));
    await settle(a, b);
    assert.deepEqual(a.pushesAbout(marks.a, b.bare), [{ subscription: 'none', approved: 'true' }]);
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'none', approved: 'true' });
    assert.deepEqual(b.heard(marks.b), [], 'the contact hears nothing');
    assert.deepEqual(tappedBetween(tapMark, a.bare, b.bare), []);
    assert.equal(await b.itemFor(a.bare), null);
  });

  test('§3.1.3 / §3.4.2: the pre-approved contact subscribes: approved at once, the request is not shown to the user', async () => {
    const [a, b] = await freshPair();
    await a.send(presence(b.bare, 'subscribed'));
    await settle(a, b);
    const marks = { a: a.mark(), b: b.mark() };
    const approval = nextStanza(b.client, (s) => s.is('presence') && s.attrs.type === 'subscribed');
    await b.send(presence(a.bare, 'subscribe'));
    assert.equal((await approval).attrs.from, a.bare);
    await settle(a, b);
    assert.deepEqual(a.presenceFrom(marks.a, b.bare), [], 'no request for the user to answer');
    assert.deepEqual(a.pushesAbout(marks.a, b.bare), [{ subscription: 'from' }], 'the approved flag is gone once it was used');
    assert.deepEqual(b.pushesAbout(marks.b, a.bare), [{ subscription: 'none', ask: 'subscribe' }, { subscription: 'to' }]);
    assert.deepEqual(b.presenceFrom(marks.b, a.bare).sort(), ['available', 'subscribed'], "and the contact gets the user's presence (§3.1.5)");
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'from' });
    assert.deepEqual(await b.itemFor(a.bare), { subscription: 'to' });
  });

  test('§3.4: a pre-approval given while subscribed "to" the contact turns a later request into "both"', async () => {
    const { a, b } = await pairIn('To');
    await a.send(presence(b.bare, 'subscribed'));
    await settle(a, b);
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'to', approved: 'true' });
    await b.send(presence(a.bare, 'subscribe'));
    await settle(a, b);
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'both' });
    assert.deepEqual(await b.itemFor(a.bare), { subscription: 'both' });
  });

  test('§3.4 / §3.2.2: "unsubscribed" withdraws a pre-approval without telling the contact; a later request waits for the user', async () => {
    const [a, b] = await freshPair();
    await a.send(presence(b.bare, 'subscribed'));
    await settle(a, b);
    const marks = { a: a.mark(), b: b.mark() };
    const tapMark = tapped.length;
    await a.send(presence(b.bare, 'unsubscribed'));
    await settle(a, b);
    assert.deepEqual(a.pushesAbout(marks.a, b.bare), [{ subscription: 'none' }]);
    assert.deepEqual(b.heard(marks.b), []);
    assert.deepEqual(tappedBetween(tapMark, a.bare, b.bare), []);
    const request = nextStanza(a.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await b.send(presence(a.bare, 'subscribe'));
    assert.equal((await request).attrs.from, b.bare);
    await settle(a, b);
    assert.deepEqual(await b.itemFor(a.bare), { subscription: 'none', ask: 'subscribe' });
  });

  test('§3.4: a client cannot pre-approve with approved="true" in a roster set (§2.1.2.1: the server ignores it)', async () => {
    const [a, b] = await freshPair();
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: b.bare, approved: 'true' })));
    assert.equal(answer.attrs.type, 'result');
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'none' });
    const request = nextStanza(a.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await b.send(presence(a.bare, 'subscribe'));
    await request;
  });
});

// ---------------------------------------------------------------------------------------------------------------
// §3.1.3 requests that wait for an answer.
// ---------------------------------------------------------------------------------------------------------------

describe('RFC 6121 §3.1.3: a subscription request waits until the contact answers', () => {
  test('sent while the user is offline, it is delivered at the next login, and at every login until answered', async () => {
    const [user, other] = await Promise.all([freshUser('offline'), freshUser('asker')]);
    const b = await login(other);
    await b.send(xml('presence', { to: `${user}@localhost`, type: 'subscribe' }, xml('status', {}, 'Let me in')));
    await settle(b);
    assert.deepEqual(await b.itemFor(`${user}@localhost`), { subscription: 'none', ask: 'subscribe' });

    for (const round of [1, 2]) {
      const party = new Party(user, await connectClient(server, user, undefined, `login${round}`));
      parties.push(party);
      const request = nextStanza(party.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
      await party.send(xml('presence'));
      const got = await request;
      assert.equal(got.attrs.from, b.bare, `login ${round}`);
      assert.equal(got.attrs.to, party.full);
      assert.equal(got.getChildText('status'), 'Let me in', 'the stored request is the one that was sent');
      await settle(party);
      assert.equal(party.presenceFrom(0, b.bare).filter((t) => t === 'subscribe').length, 1, 'delivered once per login');
      await party.stop();
    }

    // Answered: no more requests.
    const answering = await login(user, { resource: 'answer' });
    await answering.send(presence(b.bare, 'subscribed'));
    await settle(answering, b);
    await answering.stop();
    const after = await login(user, { resource: 'after' });
    await settle(after, b);
    assert.deepEqual(after.presenceFrom(0, b.bare).filter((t) => t === 'subscribe'), []);
    assert.deepEqual(await after.itemFor(b.bare), { subscription: 'from' });
    assert.deepEqual(await b.itemFor(after.bare), { subscription: 'to' });
  });

  test('a request the contact withdrew (unsubscribe) is not delivered at the next login', async () => {
    const [user, other] = await Promise.all([freshUser('offline'), freshUser('asker')]);
    const b = await login(other);
    await b.send(presence(`${user}@localhost`, 'subscribe'));
    await settle(b);
    await b.send(presence(`${user}@localhost`, 'unsubscribe'));
    await settle(b);
    const a = await login(user);
    await settle(a, b);
    assert.deepEqual(a.presenceFrom(0, b.bare), []);
    assert.equal(await a.itemFor(b.bare), null);
  });
});

describe('RFC 6121 §3.1.3 across a restart: nothing of a handshake in progress is lost', () => {
  let own: TestServer;

  after(async () => {
    await own?.stop();
  });

  test('request sent, server restarted on the same data, the contact logs in, gets the request, approves; states are right', async () => {
    own = await startTestServer({ extra: FAST_LOGIN });
    await own.createUser('romeo');
    await own.createUser('juliet');
    let romeo = await login('romeo', { resource: 'orchard' }, own);
    await romeo.send(xml('presence', { to: 'juliet@localhost', type: 'subscribe' }, xml('status', {}, 'Wherefore art thou?')));
    // The push means the request was handled and stored (Pending Out).
    await nextStanza(romeo.client, (s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.ask === 'subscribe');
    await settle(romeo);
    await romeo.stop();

    await own.stop({ keepData: true });
    own = await startTestServer({ dataDir: own.dataDir, extra: FAST_LOGIN });

    romeo = await login('romeo', { resource: 'orchard' }, own);
    assert.deepEqual(await romeo.itemFor('juliet@localhost'), { subscription: 'none', ask: 'subscribe' });
    const juliet = new Party('juliet', await connectClient(own, 'juliet', undefined, 'balcony'), own);
    parties.push(juliet);
    assert.equal((await juliet.iq('get', xml('query', { xmlns: NS_ROSTER }))).attrs.type, 'result');
    const request = nextStanza(juliet.client, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await juliet.send(xml('presence'));
    const got = await request;
    assert.equal(got.attrs.from, 'romeo@localhost');
    assert.equal(got.getChildText('status'), 'Wherefore art thou?');

    const marks = { romeo: romeo.mark(), juliet: juliet.mark() };
    await juliet.send(presence('romeo@localhost', 'subscribed'));
    await settle(romeo, juliet);
    assert.deepEqual(romeo.presenceFrom(marks.romeo, 'juliet@localhost').sort(), ['available', 'subscribed']);
    assert.deepEqual(romeo.pushesAbout(marks.romeo, 'juliet@localhost'), [{ subscription: 'to' }]);
    assert.deepEqual(juliet.pushesAbout(marks.juliet, 'romeo@localhost'), [{ subscription: 'from' }]);
    assert.deepEqual(await romeo.itemFor('juliet@localhost'), { subscription: 'to' });
    assert.deepEqual(await juliet.itemFor('romeo@localhost'), { subscription: 'from' });
    await Promise.all([romeo.stop(), juliet.stop()]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// §2.5 roster remove.
// ---------------------------------------------------------------------------------------------------------------

function removeItem(jid: string): Stanza {
  return xml('query', { xmlns: NS_ROSTER }, xml('item', { jid, subscription: 'remove' }));
}

describe('RFC 6121 §2.5: deleting a roster item cancels the subscriptions both ways', () => {
  test('§2.5.2: removing a "both" contact: push with subscription="remove"; the contact gets unsubscribe, unsubscribed and unavailable', async () => {
    const { a, b } = await pairIn('Both');
    const marks = { a: a.mark(), b: b.mark() };
    const answer = await a.iq('set', removeItem(b.bare));
    assert.equal(answer.attrs.type, 'result');
    await settle(a, b);
    assert.deepEqual(a.pushesAbout(marks.a, b.bare), [{ subscription: 'remove' }]);
    assert.equal(await a.itemFor(b.bare), null);
    assert.deepEqual(b.presenceFrom(marks.b, a.bare).sort(), ['unavailable', 'unsubscribe', 'unsubscribed']);
    // "unavailable" comes while the contact is still subscribed (§3.2.2), so before "unsubscribed".
    const seen = b.presenceFrom(marks.b, a.bare);
    assert.ok(seen.indexOf('unavailable') < seen.indexOf('unsubscribed'), seen.join(', '));
    assert.deepEqual(b.pushesAbout(marks.b, a.bare), [{ subscription: 'to' }, { subscription: 'none' }]);
    assert.deepEqual(await b.itemFor(a.bare), { subscription: 'none' });
    // §3.3.3: and the contact, no longer subscribed from the user, is seen going unavailable by the user.
    assert.deepEqual(a.presenceFrom(marks.a, b.bare), ['unavailable']);
  });

  test('§2.5.2: removing a contact with a request out (Pending Out) withdraws it; the contact does not get it at the next login', async () => {
    const [user, other] = await Promise.all([freshUser('user'), freshUser('away')]);
    const a = await login(user);
    await a.send(presence(`${other}@localhost`, 'subscribe'));
    await settle(a);
    assert.equal((await a.iq('set', removeItem(`${other}@localhost`))).attrs.type, 'result');
    await settle(a);
    const b = await login(other);
    await settle(a, b);
    assert.deepEqual(b.presenceFrom(0, a.bare), []);
    assert.equal(await a.itemFor(b.bare), null);
  });

  test('§2.5.2: removing a contact whose request is pending (Pending In) denies it with "unsubscribed"', async () => {
    const [a, b] = await freshPair();
    assert.equal((await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: b.bare, name: 'B' })))).attrs.type, 'result');
    await b.send(presence(a.bare, 'subscribe'));
    await settle(a, b);
    const mark = b.mark();
    assert.equal((await a.iq('set', removeItem(b.bare))).attrs.type, 'result');
    await settle(a, b);
    assert.deepEqual(b.presenceFrom(mark, a.bare), ['unsubscribed']);
    assert.deepEqual(b.pushesAbout(mark, a.bare), [{ subscription: 'none' }]);
    assert.deepEqual(await b.itemFor(a.bare), { subscription: 'none' });
    // Nothing left to redeliver.
    const again = await login(a.user, { resource: 'again' });
    await settle(again, b);
    assert.deepEqual(again.presenceFrom(0, b.bare), []);
  });

  test('§2.5.3: removing an item that is not in the roster is item-not-found', async () => {
    const a = await login(await freshUser('remover'));
    const answer = await a.iq('set', removeItem('not-there@localhost'));
    assert.equal(answer.attrs.type, 'error');
    const error = answer.getChild('error')!;
    assert.equal(error.attrs.type, 'cancel');
    assert.ok(error.getChild('item-not-found', NS_STANZAS), answer.toString());
  });
});

// ---------------------------------------------------------------------------------------------------------------
// §2.6 roster versioning.
// ---------------------------------------------------------------------------------------------------------------

function rosterGet(ver?: string): Stanza {
  return xml('query', { xmlns: NS_ROSTER, ver });
}

function setItem(jid: string, name?: string): Stanza {
  return xml('query', { xmlns: NS_ROSTER }, xml('item', { jid, name }));
}

describe('RFC 6121 §2.6: roster versioning', () => {
  test("§2.6.1: the server offers <ver xmlns='urn:xmpp:features:rosterver'/> after authentication", async () => {
    const features = await featuresAfterLogin(await freshUser('features'));
    assert.ok(features.getChild('ver', 'urn:xmpp:features:rosterver'), features.toString());
  });

  test('§2.6.3: ver="" gets the whole roster with a version; the same version again gets an empty result', async () => {
    const a = await login(await freshUser('versioned'));
    await a.iq('set', setItem('one@localhost', 'One'));
    await a.iq('set', setItem('two@localhost', 'Two'));
    const full = await a.iq('get', rosterGet(''));
    const query = full.getChild('query', NS_ROSTER)!;
    assert.ok(query, full.toString());
    assert.ok(query.attrs.ver, 'the result carries ver');
    assert.deepEqual(query.getChildren('item').map((i) => i.attrs.jid).sort(), ['one@localhost', 'two@localhost']);

    const same = await a.iq('get', rosterGet(query.attrs.ver));
    assert.equal(same.attrs.type, 'result');
    assert.deepEqual(same.getChildElements(), [], 'nothing changed: an empty result');
  });

  test('§2.6.3: an unknown version gets the whole roster with the current version', async () => {
    const a = await login(await freshUser('versioned'));
    await a.iq('set', setItem('one@localhost'));
    const current = (await a.iq('get', rosterGet(''))).getChild('query', NS_ROSTER)!.attrs.ver;
    for (const unknown of ['not-a-version', '999999']) {
      const answer = await a.iq('get', rosterGet(unknown));
      const query = answer.getChild('query', NS_ROSTER);
      assert.ok(query, `ver="${unknown}": ${answer.toString()}`);
      assert.equal(query.attrs.ver, current);
      assert.deepEqual(query.getChildren('item').map((i) => i.attrs.jid), ['one@localhost']);
    }
  });

  test('§2.6.3: an older version gets an empty result, then one push per change since, removals included, ending at the current version', async () => {
    const a = await login(await freshUser('versioned'));
    await a.iq('set', setItem('one@localhost', 'One'));
    await a.iq('set', setItem('two@localhost', 'Two'));
    const old = (await a.iq('get', rosterGet(''))).getChild('query', NS_ROSTER)!.attrs.ver;
    await a.iq('set', setItem('three@localhost', 'Three'));
    await a.iq('set', removeItem('two@localhost'));
    await a.iq('set', setItem('one@localhost', 'Uno'));
    const current = (await a.iq('get', rosterGet(''))).getChild('query', NS_ROSTER)!.attrs.ver;
    assert.notEqual(current, old);
    await settle(a);

    const mark = a.mark();
    const lastPush = nextStanza(a.client, (s) => s.is('iq') && s.attrs.type === 'set' && s.getChild('query', NS_ROSTER)?.attrs.ver === current);
    const answer = await a.iq('get', rosterGet(old));
    assert.equal(answer.attrs.type, 'result');
    assert.deepEqual(answer.getChildElements(), [], 'the changes come as pushes, not in the result');
    await lastPush;
    const pushes = a
      .since(mark)
      .filter((s) => s.is('iq') && s.attrs.type === 'set')
      .map((s) => s.getChild('query', NS_ROSTER)!)
      .map((q) => ({ ...q.getChild('item')!.attrs, ver: q.attrs.ver }));
    assert.deepEqual(
      pushes.map(({ ver: _ver, ...item }) => item),
      [
        { jid: 'three@localhost', name: 'Three', subscription: 'none' },
        { jid: 'two@localhost', subscription: 'remove' },
        { jid: 'one@localhost', name: 'Uno', subscription: 'none' },
      ],
    );
    assert.equal(pushes.at(-1)!.ver, current);
    assert.ok(pushes.every((p) => typeof p.ver === 'string' && p.ver !== ''), 'every push carries ver');
    assert.ok(a.since(mark).indexOf(answer) < a.since(mark).findIndex((s) => s.is('iq') && s.attrs.type === 'set'), 'the result comes before the pushes');
  });

  test('§2.1.6 / §2.6: roster pushes carry the new version, and a get with it is then empty', async () => {
    const a = await login(await freshUser('versioned'));
    const push = nextStanza(a.client, (s) => s.is('iq') && s.attrs.type === 'set' && !!s.getChild('query', NS_ROSTER));
    await a.iq('set', setItem('one@localhost'));
    const ver = (await push).getChild('query', NS_ROSTER)!.attrs.ver;
    assert.ok(ver);
    const answer = await a.iq('get', rosterGet(ver));
    assert.deepEqual(answer.getChildElements(), []);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// §2.3.3 roster set errors (and what the server ignores).
// ---------------------------------------------------------------------------------------------------------------

function assertStanzaError(answer: Stanza, condition: string, type: string): void {
  assert.equal(answer.attrs.type, 'error', answer.toString());
  const error = answer.getChild('error');
  assert.ok(error, answer.toString());
  assert.equal(error.attrs.type, type, answer.toString());
  assert.ok(error.getChild(condition, NS_STANZAS), `expected <${condition}/>: ${answer.toString()}`);
}

describe('RFC 6121 §2.3.3: roster set errors', () => {
  let a: Party;
  let b: Party;

  before(async () => {
    a = await login(await freshUser('setter'));
    b = await login(await freshUser('bystander'));
  });

  test('two <item/> elements in one set: bad-request', async () => {
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'x@localhost' }), xml('item', { jid: 'y@localhost' })));
    assertStanzaError(answer, 'bad-request', 'modify');
    assert.equal(await a.itemFor('x@localhost'), null);
  });

  test('the same group twice: bad-request', async () => {
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'x@localhost' }, xml('group', {}, 'Friends'), xml('group', {}, 'Friends'))));
    assertStanzaError(answer, 'bad-request', 'modify');
  });

  test('an empty group: not-acceptable', async () => {
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'x@localhost' }, xml('group', {}, ''))));
    assertStanzaError(answer, 'not-acceptable', 'modify');
  });

  test('a set to someone else\'s bare JID: forbidden, and the other roster is untouched', async () => {
    const answer = await a.iq('set', setItem('x@localhost'), b.bare);
    assertStanzaError(answer, 'forbidden', 'auth');
    assert.equal(await b.itemFor('x@localhost'), null);
  });

  test('a get of someone else\'s roster: forbidden', async () => {
    const answer = await a.iq('get', rosterGet(), b.bare);
    assertStanzaError(answer, 'forbidden', 'auth');
  });

  test('§2.1.5 / §2.1.2.5: subscription="both" in a set is ignored (only "remove" means something); no subscription is made', async () => {
    const mark = a.mark();
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: b.bare, subscription: 'both' })));
    assert.equal(answer.attrs.type, 'result', answer.toString());
    assert.deepEqual(await a.itemFor(b.bare), { subscription: 'none' });
    await settle(a, b);
    assert.deepEqual(a.pushesAbout(mark, b.bare), [{ subscription: 'none' }]);
    assert.deepEqual(b.presenceFrom(0, a.bare), [], 'nothing is sent to the contact');
  });

  test('§2.1.2.2: ask="subscribe" in a set is ignored too', async () => {
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'asked@localhost', ask: 'subscribe' })));
    assert.equal(answer.attrs.type, 'result', answer.toString());
    assert.deepEqual(await a.itemFor('asked@localhost'), { subscription: 'none' });
  });

  test('§2.3.2: a good set is answered with an empty result and pushed to the sender too, with name and groups', async () => {
    const mark = a.mark();
    const answer = await a.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'good@localhost', name: 'Good' }, xml('group', {}, 'B'), xml('group', {}, 'A'))));
    assert.equal(answer.attrs.type, 'result');
    assert.deepEqual(answer.getChildElements(), []);
    await settle(a);
    const push = a.since(mark).find((s) => s.is('iq') && s.attrs.type === 'set')!;
    assert.ok(push.attrs.from === undefined || push.attrs.from === a.bare, `a push comes from the bare JID or has no from (§2.1.6): ${push.toString()}`);
    const item = push.getChild('query', NS_ROSTER)!.getChild('item')!;
    assert.deepEqual(item.attrs, { jid: 'good@localhost', name: 'Good', subscription: 'none' });
    assert.deepEqual(item.getChildren('group').map((g) => g.text()).sort(), ['A', 'B']);
  });
});
