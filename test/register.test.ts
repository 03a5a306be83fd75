// XEP-0077 In-Band Registration end to end: raw clients register before logging in (after STARTTLS);
// @xmpp/client sessions ask whether they are registered, change their password and remove their account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, RawClient, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';


const NS_REGISTER = 'jabber:iq:register';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** A raw connection that has done STARTTLS and received the features of the secured stream (not logged in). */
async function secureUnauthenticated(server: TestServer): Promise<{ raw: RawClient; features: string }> {
  const raw = await RawClient.connect(server.port);
  raw.send(RawClient.header());
  await raw.waitFor('</stream:features>');
  raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await raw.waitFor('<proceed');
  await raw.startTls();
  raw.send(RawClient.header());
  const received = await raw.waitFor('</stream:features>');
  const features = /<stream:features[^]*<\/stream:features>/.exec(received)![0];
  return { raw, features };
}

/** Sends an IQ and resolves with the server's answer to it: the whole <iq/> element as text. */
async function ask(raw: RawClient, id: string, iq: string): Promise<string> {
  raw.send(iq);
  const answer = new RegExp(`<iq\\b[^>]*\\bid=["']${id}["'][^>]*?(?:/>|>[^]*?</iq>)`);
  return answer.exec(await raw.waitFor(answer))![0];
}

const registerSet = (id: string, fields: string) => `<iq type='set' id='${id}'><query xmlns='${NS_REGISTER}'>${fields}</query></iq>`;

/** The defined condition of an error reply, e.g. "conflict", and its type. */
function stanzaError(reply: string): { type: string | undefined; condition: string | undefined } {
  assert.match(reply, /^<iq\b[^>]*\btype=["']error["']/, reply);
  const error = /<error\b([^>]*)>([^]*?)<\/error>/.exec(reply);
  assert.ok(error, reply);
  const condition = new RegExp(`<([a-z-]+)\\b[^>]*\\bxmlns=["']${STANZAS}["']`).exec(error[2]!)?.[1];
  return { type: /\btype=["']([a-z]+)["']/.exec(error[1]!)?.[1], condition };
}

function isResult(reply: string): boolean {
  return /^<iq\b[^>]*\btype=["']result["']/.test(reply);
}

describe('in-band registration before login (XEP-0077 §3.1)', () => {
  let server: TestServer;
  let raw: RawClient;
  let features: string;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  register: { registrations_per_hour: 0 }' });
    ({ raw, features } = await secureUnauthenticated(server));
  });

  after(async () => {
    raw?.close();
    await server?.stop();
  });

  test('the secured stream advertises <register/> among its features (§8)', () => {
    assert.match(features, /<register xmlns=["']http:\/\/jabber\.org\/features\/iq-register["']\s*\/>/);
    assert.match(features, /<mechanisms xmlns=["']urn:ietf:params:xml:ns:xmpp-sasl["']/);
  });

  test('a get returns the form: instructions, username, password', async () => {
    const reply = await ask(raw, 'form1', `<iq type='get' id='form1'><query xmlns='${NS_REGISTER}'/></iq>`);
    assert.ok(isResult(reply), reply);
    const query = /<query xmlns=["']jabber:iq:register["']>([^]*)<\/query>/.exec(reply)?.[1];
    assert.ok(query, reply);
    assert.match(query, /<instructions>[^<]*at least 6 characters[^<]*<\/instructions>/);
    assert.match(query, /<username\s*\/>/);
    assert.match(query, /<password\s*\/>/);
    assert.doesNotMatch(query, /<registered/);
  });

  test('Juliet registers, and can then log in with that account', async () => {
    const reply = await ask(raw, 'reg1', registerSet('reg1', '<username>juliet</username><password>capulet-pass</password>'));
    assert.ok(isResult(reply), reply);
    const juliet = await connectClient(server, 'juliet', 'capulet-pass');
    assert.equal(juliet.jid?.toString().split('/')[0], 'juliet@localhost');
    await juliet.stop();
  });

  test('the username is prepared like a JID localpart: "Romeo" becomes romeo', async () => {
    const reply = await ask(raw, 'reg-case', registerSet('reg-case', '<username>Romeo</username><password>montague-pass</password>'));
    assert.ok(isResult(reply), reply);
    assert.deepEqual(await server.running.server.accounts.list('localhost').then((l) => l.sort()), ['juliet', 'romeo']);
  });

  test('a taken username gets conflict, and the account keeps its password', async () => {
    const reply = await ask(raw, 'reg2', registerSet('reg2', '<username>juliet</username><password>other-password</password>'));
    assert.deepEqual(stanzaError(reply), { type: 'cancel', condition: 'conflict' });
    const juliet = await connectClient(server, 'juliet', 'capulet-pass');
    await juliet.stop();
  });

  test('a taken username differing only in case gets conflict too', async () => {
    const reply = await ask(raw, 'reg2b', registerSet('reg2b', '<username>JULIET</username><password>other-password</password>'));
    assert.equal(stanzaError(reply).condition, 'conflict');
  });

  test('a missing password gets not-acceptable', async () => {
    const reply = await ask(raw, 'reg3', registerSet('reg3', '<username>tybalt</username>'));
    assert.deepEqual(stanzaError(reply), { type: 'modify', condition: 'not-acceptable' });
  });

  test('an empty password gets not-acceptable', async () => {
    const reply = await ask(raw, 'reg3b', registerSet('reg3b', '<username>tybalt</username><password/>'));
    assert.equal(stanzaError(reply).condition, 'not-acceptable');
  });

  test('a missing username gets not-acceptable', async () => {
    const reply = await ask(raw, 'reg3c', registerSet('reg3c', '<password>long-enough</password>'));
    assert.equal(stanzaError(reply).condition, 'not-acceptable');
  });

  test('a password shorter than min_password_length (6) gets not-acceptable, with a text saying so', async () => {
    const reply = await ask(raw, 'reg4', registerSet('reg4', '<username>tybalt</username><password>12345</password>'));
    assert.deepEqual(stanzaError(reply), { type: 'modify', condition: 'not-acceptable' });
    assert.match(reply, /<text[^>]*>[^<]*at least 6 characters/);
  });

  test('a username that cannot be a JID localpart gets not-acceptable', async () => {
    const reply = await ask(raw, 'reg5', registerSet('reg5', '<username>ty@balt</username><password>long-enough</password>'));
    assert.equal(stanzaError(reply).condition, 'not-acceptable');
  });

  test('none of the refused registrations created an account', async () => {
    assert.deepEqual((await server.running.server.accounts.list('localhost')).sort(), ['juliet', 'romeo']);
  });

  test('<remove/> before login gets registration-required', async () => {
    const reply = await ask(raw, 'rm0', registerSet('rm0', '<remove/>'));
    assert.equal(stanzaError(reply).condition, 'registration-required');
    assert.deepEqual((await server.running.server.accounts.list('localhost')).sort(), ['juliet', 'romeo']);
  });

  test('other IQs before login still close the stream with not-authorized (RFC 6120 §4.9.3.12)', async () => {
    const other = await secureUnauthenticated(server);
    other.raw.send("<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>");
    await other.raw.waitFor(/<stream:error>[^]*<not-authorized/);
    await other.raw.closed;
  });
});

describe('in-band registration disabled (allow_registration: false)', () => {
  let server: TestServer;
  let raw: RawClient;
  let features: string;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  register: { allow_registration: false }' });
    ({ raw, features } = await secureUnauthenticated(server));
  });

  after(async () => {
    raw?.close();
    await server?.stop();
  });

  test('the stream features do not offer <register/>', () => {
    assert.doesNotMatch(features, /iq-register/);
    assert.match(features, /<mechanisms /);
  });

  test('a get for the form gets not-allowed', async () => {
    const reply = await ask(raw, 'off1', `<iq type='get' id='off1'><query xmlns='${NS_REGISTER}'/></iq>`);
    assert.deepEqual(stanzaError(reply), { type: 'cancel', condition: 'not-allowed' });
  });

  test('a registration attempt gets not-allowed and creates nothing', async () => {
    const reply = await ask(raw, 'off2', registerSet('off2', '<username>intruder</username><password>long-enough</password>'));
    assert.equal(stanzaError(reply).condition, 'not-allowed');
    assert.deepEqual(await server.running.server.accounts.list('localhost'), []);
  });
});

describe('registrations per address (registrations_per_hour: 1)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  register: { registrations_per_hour: 1 }' });
  });

  after(async () => {
    await server?.stop();
  });

  test('the second registration from the same address within the hour gets resource-constraint', async () => {
    const first = await secureUnauthenticated(server);
    const ok = await ask(first.raw, 'lim1', registerSet('lim1', '<username>first</username><password>long-enough</password>'));
    assert.ok(isResult(ok), ok);
    first.raw.close();

    // A new connection does not reset the count: it is per address.
    const second = await secureUnauthenticated(server);
    const refused = await ask(second.raw, 'lim2', registerSet('lim2', '<username>second</username><password>long-enough</password>'));
    assert.deepEqual(stanzaError(refused), { type: 'wait', condition: 'resource-constraint' });
    second.raw.close();
    assert.deepEqual(await server.running.server.accounts.list('localhost'), ['first']);
  });
});

describe('registration of a logged-in account (XEP-0077 §3.2, §3.3)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server?.stop();
  });

  test('a get answers <registered/> with the username', async () => {
    await server.createUser('nurse', 'nurse-password');
    const nurse = await connectClient(server, 'nurse', 'nurse-password');
    try {
      const reply = await nurse.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_REGISTER })));
      const query = reply.getChild('query', NS_REGISTER)!;
      assert.ok(query.getChild('registered'), reply.toString());
      assert.equal(query.getChildText('username'), 'nurse');
    } finally {
      await nurse.stop();
    }
  });

  test('Romeo changes his password: the new one logs in, the old one no longer does', async () => {
    await server.createUser('romeo', 'old-password');
    const romeo = await connectClient(server, 'romeo', 'old-password');
    const reply = await romeo.iqCaller.request(xml('iq', { type: 'set', to: 'localhost' }, xml('query', { xmlns: NS_REGISTER }, xml('username', {}, 'romeo'), xml('password', {}, 'new-password'))));
    assert.equal(reply.attrs.type, 'result');
    await romeo.stop();

    const again = await connectClient(server, 'romeo', 'new-password');
    assert.equal(again.jid?.toString().split('/')[0], 'romeo@localhost');
    await again.stop();
    await assert.rejects(connectClient(server, 'romeo', 'old-password'), (err: Error & { condition?: string }) => err.condition === 'not-authorized');
  });

  test('a new password that is too short gets not-acceptable and changes nothing', async () => {
    await server.createUser('benvolio', 'benvolio-password');
    const benvolio = await connectClient(server, 'benvolio', 'benvolio-password');
    try {
      await assert.rejects(
        benvolio.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_REGISTER }, xml('username', {}, 'benvolio'), xml('password', {}, 'abc')))),
        (err: Error & { condition?: string }) => err.condition === 'not-acceptable',
      );
    } finally {
      await benvolio.stop();
    }
    const again = await connectClient(server, 'benvolio', 'benvolio-password');
    await again.stop();
  });

  test('an empty new password is refused with bad-request and the old one is kept (§3.3)', async () => {
    await server.createUser('balthasar', 'balthasar-password');
    const balthasar = await connectClient(server, 'balthasar', 'balthasar-password');
    try {
      await assert.rejects(
        balthasar.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_REGISTER }, xml('username', {}, 'balthasar'), xml('password')))),
        (err: Error & { condition?: string }) => err.condition === 'bad-request',
      );
    } finally {
      await balthasar.stop();
    }
    const again = await connectClient(server, 'balthasar', 'balthasar-password');
    await again.stop();
  });

  test('<remove/> with other children gets bad-request and removes nothing (§3.2)', async () => {
    await server.createUser('friar', 'friar-password');
    const friar = await connectClient(server, 'friar', 'friar-password');
    try {
      await assert.rejects(
        friar.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_REGISTER }, xml('remove'), xml('username', {}, 'friar')))),
        (err: Error & { condition?: string }) => err.condition === 'bad-request',
      );
      assert.equal(await server.running.server.accounts.exists('localhost', 'friar'), true);
    } finally {
      await friar.stop();
    }
  });

  test("changing another account's password is refused", async () => {
    await server.createUser('paris', 'paris-password');
    await server.createUser('capulet', 'capulet-password');
    const paris = await connectClient(server, 'paris', 'paris-password');
    try {
      await assert.rejects(
        paris.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_REGISTER }, xml('username', {}, 'capulet'), xml('password', {}, 'stolen-password')))),
        (err: Error & { condition?: string }) => err.condition === 'not-authorized',
      );
    } finally {
      await paris.stop();
    }
    const capulet = await connectClient(server, 'capulet', 'capulet-password');
    await capulet.stop();
  });

  test('Mercutio removes his account: the result arrives, then his stream closes with <not-authorized/>, and he can no longer log in', async () => {
    await server.createUser('mercutio', 'mercutio-password');
    const mercutio: XmppClient = await connectClient(server, 'mercutio', 'mercutio-password');
    const order: string[] = [];
    // Recorded as the client parses them (both may come in one read): the wire order, not the order promises settle.
    mercutio.on('stanza', (s) => {
      if (s.is('iq') && s.attrs.id === 'remove-1') order.push(`iq ${s.attrs.type}`);
    });
    const result = nextStanza(mercutio, (s) => s.is('iq') && s.attrs.id === 'remove-1');
    const closed = new Promise<string | undefined>((resolve) =>
      mercutio.on('error', (err: Error & { condition?: string }) => {
        order.push(`stream error ${err.condition}`);
        resolve(err.condition);
      }),
    );
    await mercutio.send(xml('iq', { type: 'set', id: 'remove-1' }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))));

    assert.equal((await result).attrs.type, 'result');
    assert.equal(await closed, 'not-authorized');
    assert.deepEqual(order, ['iq result', 'stream error not-authorized']);
    await mercutio.stop().catch(() => {});

    assert.equal(await server.running.server.accounts.exists('localhost', 'mercutio'), false);
    await assert.rejects(connectClient(server, 'mercutio', 'mercutio-password'), (err: Error & { condition?: string }) => err.condition === 'not-authorized');
  });

  test('removing the account ends every session of it, not just the one that asked', async () => {
    await server.createUser('tybalt', 'tybalt-password');
    const phone = await connectClient(server, 'tybalt', 'tybalt-password', 'phone');
    const laptop = await connectClient(server, 'tybalt', 'tybalt-password', 'laptop');
    const laptopClosed = new Promise<string | undefined>((resolve) => laptop.on('error', (err: Error & { condition?: string }) => resolve(err.condition)));
    phone.on('error', () => {});
    const reply = await phone.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))));
    assert.equal(reply.attrs.type, 'result');
    assert.equal(await laptopClosed, 'not-authorized');
    await Promise.allSettled([phone.stop(), laptop.stop()]);
  });
});
