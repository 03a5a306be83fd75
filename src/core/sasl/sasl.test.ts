import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import {
  AuthThrottle,
  HASHES,
  InvalidPasswordError,
  ScramClient,
  availableMechanisms,
  createMechanism,
  decodeSaslPayload,
  deriveAllCredentials,
  deriveScramCredential,
  encodeSaslPayload,
  serverEndPointBinding,
  tlsChannelBinding,
  tlsChannelBindingTypes,
  verifyPassword,
  type ChannelBindingType,
  type HashName,
  type SaslContext,
  type SaslMechanism,
  type SaslStep,
  type ScramCredential,
} from './index.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const CB_EXPORTER = Buffer.alloc(32, 7);
const CB_END_POINT = Buffer.alloc(32, 9);

interface CtxOptions {
  secure?: boolean;
  cbTypes?: ChannelBindingType[];
  /** Counts getCredential calls by user, so tests can see what was looked up. */
  lookups?: string[];
}

/** A connection's view of an account store holding these users' credentials. */
function makeCtx(users: Record<string, Partial<Record<HashName, ScramCredential>>>, opts: CtxOptions = {}): SaslContext {
  const cbTypes = opts.cbTypes ?? [];
  return {
    async getCredential(username, hash) {
      opts.lookups?.push(username);
      return users[username]?.[hash] ?? null;
    },
    normalizeUsername(authcid) {
      // Stand-in for the PRECIS UsernameCaseMapped profile: lowercase, no '@' or spaces.
      if (/[@\s]/.test(authcid)) return null;
      if (authcid === 'explode') throw new Error('bad username');
      return authcid.toLowerCase();
    },
    secure: opts.secure ?? true,
    channelBinding(type) {
      if (!cbTypes.includes(type)) return null;
      return type === 'tls-exporter' ? CB_EXPORTER : CB_END_POINT;
    },
    channelBindingTypes: cbTypes,
  };
}

function mech(name: string, ctx: SaslContext, nonce?: () => string): SaslMechanism {
  const m = createMechanism(name, ctx, nonce === undefined ? {} : { nonce });
  assert.ok(m, `${name} should be offered`);
  return m;
}

function challenge(step: SaslStep): Buffer {
  assert.equal(step.kind, 'challenge', JSON.stringify(step));
  return (step as { data: Buffer }).data;
}

function failure(step: SaslStep): { condition: string; text?: string } {
  assert.equal(step.kind, 'failure', JSON.stringify(step));
  return step as { condition: string; text?: string };
}

/** Runs a whole SCRAM exchange with ScramClient against the server mechanism. */
async function scramLogin(m: SaslMechanism, client: ScramClient): Promise<{ last: SaslStep; client: ScramClient }> {
  const first = await m.step(client.first());
  if (first.kind !== 'challenge') return { last: first, client };
  const last = await m.step(await client.final(first.data));
  return { last, client };
}

const juliet = await deriveAllCredentials('r0m30myr0m30');
const users = { juliet };

test('RFC 5802 §5: the SCRAM-SHA-1 example exchange, byte for byte', async () => {
  const cred = await deriveScramCredential('pencil', 'SHA-1', { salt: Buffer.from('QSXCR+Q6sek8bf92', 'base64'), iterations: 4096 });
  const ctx = makeCtx({ user: { 'SHA-1': cred } });
  const m = mech('SCRAM-SHA-1', ctx, () => '3rfcNHYJY1ZVvWVs7j');
  const client = new ScramClient({ hash: 'SHA-1', username: 'user', password: 'pencil', nonce: 'fyko+d2lbbFgONRv9qkxdawL' });

  assert.equal(client.first().toString(), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
  const serverFirst = challenge(await m.step(client.first()));
  assert.equal(serverFirst.toString(), 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
  const clientFinal = await client.final(serverFirst);
  assert.equal(clientFinal.toString(), 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
  const done = await m.step(clientFinal);
  assert.deepEqual(done, { kind: 'success', data: b('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='), username: 'user', authzid: null });
  assert.equal(client.verifyServer(b('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')), true);
  assert.equal(client.verifyServer(b('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')), false);
  assert.equal(client.verifyServer(b('e=other-error')), false);
});

test('RFC 7677 §3: the SCRAM-SHA-256 example exchange, byte for byte', async () => {
  const cred = await deriveScramCredential('pencil', 'SHA-256', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64') });
  assert.equal(cred.iterations, 4096);
  const ctx = makeCtx({ user: { 'SHA-256': cred } });
  const m = mech('SCRAM-SHA-256', ctx, () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
  const client = new ScramClient({ hash: 'SHA-256', username: 'user', password: 'pencil', nonce: 'rOprNGfwEbeRWgbNEkqO' });

  const serverFirst = challenge(await m.step(client.first()));
  assert.equal(serverFirst.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const clientFinal = await client.final(serverFirst);
  assert.equal(
    clientFinal.toString(),
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  );
  const done = await m.step(clientFinal);
  assert.equal(done.kind, 'success');
  assert.equal((done as { data: Buffer }).data.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

for (const hash of ['SHA-1', 'SHA-256', 'SHA-512'] as const) {
  test(`SCRAM-${hash}: Juliet logs in and verifies the server`, async () => {
    const m = mech(`SCRAM-${hash}`, makeCtx(users));
    const { last, client } = await scramLogin(m, new ScramClient({ hash, username: 'Juliet', password: 'r0m30myr0m30' }));
    assert.equal(last.kind, 'success');
    assert.equal((last as { username: string }).username, 'juliet');
    assert.equal(client.verifyServer((last as { data: Buffer }).data), true);
  });

  for (const cbType of ['tls-exporter', 'tls-server-end-point'] as const) {
    test(`SCRAM-${hash}-PLUS with ${cbType}: Juliet logs in bound to the channel, with an authzid`, async () => {
      const m = mech(`SCRAM-${hash}-PLUS`, makeCtx(users, { cbTypes: ['tls-exporter', 'tls-server-end-point'] }));
      const cbData = cbType === 'tls-exporter' ? CB_EXPORTER : CB_END_POINT;
      const client = new ScramClient({ hash, username: 'juliet', password: 'r0m30myr0m30', cbType, cbData, authzid: 'nurse,=x' });
      assert.ok(client.first().toString().startsWith(`p=${cbType},a=nurse=2C=3Dx,n=juliet,r=`));
      const { last } = await scramLogin(m, client);
      assert.equal(last.kind, 'success', JSON.stringify(last));
      assert.equal((last as { authzid: string }).authzid, 'nurse,=x');
      assert.equal(client.verifyServer((last as { data: Buffer }).data), true);
    });
  }
}

test('SCRAM: a wrong password fails with not-authorized at the final step', async () => {
  const m = mech('SCRAM-SHA-256', makeCtx(users));
  const { last, client } = await scramLogin(m, new ScramClient({ hash: 'SHA-256', username: 'juliet', password: 'wrong' }));
  assert.equal(failure(last).condition, 'not-authorized');
  assert.equal(client.verifyServer(b('v=')), false);
});

test('SCRAM: an unknown user gets a stable fake salt, then not-authorized', async () => {
  const salts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const m = mech('SCRAM-SHA-256', makeCtx(users));
    const client = new ScramClient({ hash: 'SHA-256', username: 'nobody', password: 'x' });
    const serverFirst = challenge(await m.step(client.first())).toString();
    assert.match(serverFirst, /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    salts.push(serverFirst.split(',')[1]!);
    assert.equal(failure(await m.step(await client.final(b(serverFirst)))).condition, 'not-authorized');
  }
  assert.equal(salts[0], salts[1]);
  // A different user gets a different salt, like real accounts do.
  const m = mech('SCRAM-SHA-256', makeCtx(users));
  const other = challenge(await m.step(new ScramClient({ hash: 'SHA-256', username: 'nobody2', password: 'x' }).first()));
  assert.notEqual(other.toString().split(',')[1], salts[0]);
});

test('SCRAM: a client sending "y" when -PLUS was offered is a downgrade and fails', async () => {
  const ctx = makeCtx(users, { cbTypes: ['tls-server-end-point'] });
  const client = new ScramClient({ hash: 'SHA-256', username: 'juliet', password: 'r0m30myr0m30', cbFlag: 'y' });
  assert.equal(client.first().toString().slice(0, 4), 'y,,n');
  const f = failure(await mech('SCRAM-SHA-256', ctx).step(client.first()));
  assert.equal(f.condition, 'not-authorized');

  // Without channel binding on the connection, "y" is the honest answer and succeeds.
  const plain = await scramLogin(mech('SCRAM-SHA-256', makeCtx(users)), new ScramClient({ hash: 'SHA-256', username: 'juliet', password: 'r0m30myr0m30', cbFlag: 'y' }));
  assert.equal(plain.last.kind, 'success');

  // Likewise when the configuration did not enable any -PLUS mechanism.
  const restricted = createMechanism('SCRAM-SHA-256', ctx, { enabled: ['SCRAM-SHA-256'] })!;
  const r = await scramLogin(restricted, new ScramClient({ hash: 'SHA-256', username: 'juliet', password: 'r0m30myr0m30', cbFlag: 'y' }));
  assert.equal(r.last.kind, 'success');
});

test('SCRAM: "n" is fine on a connection offering -PLUS (the client cannot bind)', async () => {
  const ctx = makeCtx(users, { cbTypes: ['tls-exporter'] });
  const { last } = await scramLogin(mech('SCRAM-SHA-1', ctx), new ScramClient({ hash: 'SHA-1', username: 'juliet', password: 'r0m30myr0m30' }));
  assert.equal(last.kind, 'success');
});

test('SCRAM-PLUS: channel binding data that does not match the connection fails', async () => {
  const ctx = makeCtx(users, { cbTypes: ['tls-exporter'] });
  const client = new ScramClient({ hash: 'SHA-512', username: 'juliet', password: 'r0m30myr0m30', cbType: 'tls-exporter', cbData: Buffer.alloc(32, 1) });
  const f = failure((await scramLogin(mech('SCRAM-SHA-512-PLUS', ctx), client)).last);
  assert.equal(f.condition, 'not-authorized');
  assert.equal(f.text, 'channel-bindings-dont-match');
});

test('SCRAM-PLUS: a c= that changes the gs2-header fails', async () => {
  const m = mech('SCRAM-SHA-256', makeCtx(users));
  const client = new ScramClient({ hash: 'SHA-256', username: 'juliet', password: 'r0m30myr0m30' });
  const serverFirst = challenge(await m.step(client.first()));
  const final = (await client.final(serverFirst)).toString().replace('c=biws', `c=${b('y,,').toString('base64')}`);
  assert.equal(failure(await m.step(b(final))).text, 'channel-bindings-dont-match');
});

test('SCRAM: channel binding flags must agree with the mechanism and the connection', async () => {
  const ctx = makeCtx(users, { cbTypes: ['tls-server-end-point'] });
  const base = { hash: 'SHA-256' as const, username: 'juliet', password: 'r0m30myr0m30' };
  // p= with a non-PLUS mechanism
  const p = new ScramClient({ ...base, cbType: 'tls-server-end-point', cbData: CB_END_POINT });
  assert.equal(failure(await mech('SCRAM-SHA-256', ctx).step(p.first())).condition, 'malformed-request');
  // -PLUS without p=
  assert.equal(failure(await mech('SCRAM-SHA-256-PLUS', ctx).step(new ScramClient(base).first())).condition, 'malformed-request');
  assert.equal(failure(await mech('SCRAM-SHA-256-PLUS', ctx).step(new ScramClient({ ...base, cbFlag: 'y' }).first())).condition, 'malformed-request');
  // a type this connection does not support, and one nobody supports
  const exporter = new ScramClient({ ...base, cbType: 'tls-exporter', cbData: CB_EXPORTER });
  assert.equal(failure(await mech('SCRAM-SHA-256-PLUS', ctx).step(exporter.first())).text, 'unsupported-channel-binding-type');
  const unique = b('p=tls-unique,,n=juliet,r=abcdef');
  assert.equal(failure(await mech('SCRAM-SHA-256-PLUS', ctx).step(unique)).text, 'unsupported-channel-binding-type');
  // -PLUS is not offered at all without channel binding
  assert.equal(createMechanism('SCRAM-SHA-256-PLUS', makeCtx(users)), null);
});

test('SCRAM: malformed client-first messages fail without throwing', async () => {
  const ctx = makeCtx(users);
  const cases: Array<[string | Buffer, string]> = [
    ['n,,n=jul=2Xiet,r=abc', 'malformed-request'], // bad escape
    ['n,,n=jul=iet,r=abc', 'malformed-request'],
    ['n,,n=,r=abc', 'malformed-request'], // empty username
    ['m=ext,n,,n=juliet,r=abc', 'malformed-request'],
    ['n,,m=ext,n=juliet,r=abc', 'malformed-request'], // mandatory extension
    ['n,,n=juliet', 'malformed-request'],
    ['n,,r=abc,n=juliet', 'malformed-request'],
    ['n,,n=juliet,r=', 'malformed-request'],
    ['n,,n=juliet,r=a\u00e9', 'malformed-request'], // nonce must be printable ASCII
    ['x,,n=juliet,r=abc', 'malformed-request'],
    ['n,z=juliet,n=juliet,r=abc', 'malformed-request'],
    ['n,a=,n=juliet,r=abc', 'malformed-request'],
    ['n,,n=juliet,r=abc,1=x', 'malformed-request'],
    ['p=tls exporter,,n=juliet,r=abc', 'malformed-request'],
    [Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61]), 'malformed-request'], // not UTF-8
    [Buffer.alloc(0), 'malformed-request'],
    ['x'.repeat(10000), 'malformed-request'],
    ['n,,n=ju liet,r=abc', 'not-authorized'], // the normalizer refuses it
    ['n,,n=explode,r=abc', 'not-authorized'], // the normalizer throws
  ];
  for (const [input, condition] of cases) {
    const f = failure(await mech('SCRAM-SHA-1', ctx).step(typeof input === 'string' ? b(input) : input));
    assert.equal(f.condition, condition, String(input));
  }
  // Unknown extensions after the nonce are ignored (RFC 5802 §5.1); the escaped username is decoded.
  const escaped = await deriveScramCredential('pw', 'SHA-1');
  const m = mech('SCRAM-SHA-1', makeCtx({ 'a,b=c': { 'SHA-1': escaped } }));
  assert.equal(challenge(await m.step(b('n,,n=a=2Cb=3Dc,r=abc,x=ext'))).toString().slice(0, 5), 'r=abc');
});

test('SCRAM: malformed client-final messages fail without throwing', async () => {
  const client = new ScramClient({ hash: 'SHA-1', username: 'juliet', password: 'r0m30myr0m30' });
  const start = async (): Promise<{ m: SaslMechanism; good: string }> => {
    const m = mech('SCRAM-SHA-1', makeCtx(users));
    const serverFirst = challenge(await m.step(client.first()));
    return { m, good: (await client.final(serverFirst)).toString() };
  };
  const { good } = await start();
  const [c, r, p] = good.split(',') as [string, string, string];
  const cases: Array<[string, string]> = [
    [`${c},${r}`, 'malformed-request'],
    [`${r},${c},${p}`, 'malformed-request'],
    [`${c},${r},${p}!`, 'malformed-request'], // not base64
    [`c=bi ws,${r},${p}`, 'malformed-request'],
    [`${c},${r}x,${p}`, 'not-authorized'], // nonce mismatch
    [`${c},${r},p=AAAA`, 'not-authorized'], // short proof
    [`${c},${r},1x=y,${p}`, 'malformed-request'],
  ];
  for (const [input, condition] of cases) {
    const { m } = await start();
    assert.equal(failure(await m.step(b(input))).condition, condition, input);
  }
  // An extension between nonce and proof takes part in the AuthMessage, so adding one breaks the proof.
  const { m } = await start();
  assert.equal(failure(await m.step(b(`${c},${r},x=y,${p}`))).condition, 'not-authorized');
});

test('SCRAM: <auth/> without initial response gets an empty challenge; nothing after the end', async () => {
  const m = mech('SCRAM-SHA-512', makeCtx(users));
  assert.deepEqual(await m.step(null), { kind: 'challenge', data: Buffer.alloc(0) });
  const { last } = await scramLogin(m, new ScramClient({ hash: 'SHA-512', username: 'juliet', password: 'r0m30myr0m30' }));
  assert.equal(last.kind, 'success');
  assert.equal(failure(await m.step(b('more'))).condition, 'malformed-request');
  assert.equal(failure(await m.step(null)).condition, 'malformed-request');
});

test('SCRAM: a store failure is temporary-auth-failure', async () => {
  const ctx = { ...makeCtx(users), getCredential: () => Promise.reject(new Error('db down')) };
  const f = failure(await mech('SCRAM-SHA-1', ctx).step(new ScramClient({ hash: 'SHA-1', username: 'juliet', password: 'x' }).first()));
  assert.equal(f.condition, 'temporary-auth-failure');
});

test('PLAIN: good password, authzid, wrong password, unknown user, malformed', async () => {
  const ctx = makeCtx(users);
  const ok = await mech('PLAIN', ctx).step(b('\0Juliet\0r0m30myr0m30'));
  assert.deepEqual(ok, { kind: 'success', data: null, username: 'juliet', authzid: null });
  const az = await mech('PLAIN', ctx).step(b('nurse@capulet.lit\0juliet\0r0m30myr0m30'));
  assert.equal((az as { authzid: string }).authzid, 'nurse@capulet.lit');

  assert.equal(failure(await mech('PLAIN', ctx).step(b('\0juliet\0wrong'))).condition, 'not-authorized');
  assert.equal(failure(await mech('PLAIN', ctx).step(b('\0romeo\0r0m30myr0m30'))).condition, 'not-authorized');
  assert.equal(failure(await mech('PLAIN', ctx).step(b('\0bad name\0r0m30myr0m30'))).condition, 'not-authorized');
  for (const bad of ['juliet\0r0m30myr0m30', '\0juliet\0pw\0x', '\0\0pw', '\0juliet\0', '']) {
    assert.equal(failure(await mech('PLAIN', ctx).step(b(bad))).condition, 'malformed-request', JSON.stringify(bad));
  }
  assert.equal(failure(await mech('PLAIN', ctx).step(Buffer.from([0, 0x6a, 0, 0xc3]))).condition, 'malformed-request');

  // No initial response: empty challenge, then the message.
  const m = mech('PLAIN', ctx);
  assert.deepEqual(await m.step(null), { kind: 'challenge', data: Buffer.alloc(0) });
  assert.equal((await m.step(b('\0juliet\0r0m30myr0m30'))).kind, 'success');
  assert.equal(failure(await m.step(b('\0juliet\0r0m30myr0m30'))).condition, 'malformed-request');
});

test('PLAIN: checks whichever credential the account has', async () => {
  const onlySha1 = { 'SHA-1': await deriveScramCredential('secret', 'SHA-1') };
  const ctx = makeCtx({ old: onlySha1 });
  assert.equal((await mech('PLAIN', ctx).step(b('\0old\0secret'))).kind, 'success');
});

test('PLAIN is neither offered nor accepted without TLS', () => {
  const ctx = makeCtx(users, { secure: false });
  assert.equal(createMechanism('PLAIN', ctx), null);
  assert.ok(!availableMechanisms(ctx).includes('PLAIN'));
});

test('availableMechanisms: order, -PLUS only with channel binding, enabled filter', () => {
  assert.deepEqual(availableMechanisms(makeCtx(users, { secure: false })), ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1']);
  assert.deepEqual(availableMechanisms(makeCtx(users, { cbTypes: ['tls-exporter'] })), [
    'SCRAM-SHA-512-PLUS',
    'SCRAM-SHA-256-PLUS',
    'SCRAM-SHA-1-PLUS',
    'SCRAM-SHA-512',
    'SCRAM-SHA-256',
    'SCRAM-SHA-1',
    'PLAIN',
  ]);
  const enabled = ['PLAIN', 'SCRAM-SHA-1', 'DIGEST-MD5'];
  assert.deepEqual(availableMechanisms(makeCtx(users), enabled), ['SCRAM-SHA-1', 'PLAIN']);
  assert.equal(createMechanism('SCRAM-SHA-256', makeCtx(users), { enabled }), null);
  assert.equal(createMechanism('DIGEST-MD5', makeCtx(users)), null);
  assert.equal(createMechanism('scram-sha-1', makeCtx(users)), null);
  assert.deepEqual(HASHES, ['SHA-512', 'SHA-256', 'SHA-1']);
});

test('SASLprep: a no-break space maps to a space, a soft hyphen disappears', async () => {
  // RFC 4013 §2.1 maps U+00A0 to U+0020 and U+00AD to nothing; RFC 4013 §3 example: "I\u00ADX" → "IX".
  const creds = await deriveAllCredentials('my\u00A0I\u00ADX');
  const ctx = makeCtx({ juliet: creds });
  for (const hash of HASHES) assert.equal(await verifyPassword('my IX', creds[hash], hash), true);
  assert.equal(await verifyPassword('my\u00A0I\u00ADX', creds['SHA-1'], 'SHA-1'), true);
  assert.equal(await verifyPassword('myIX', creds['SHA-1'], 'SHA-1'), false);
  assert.equal(await verifyPassword('a\u0007', creds['SHA-1'], 'SHA-1'), false);
  assert.equal((await mech('PLAIN', ctx).step(b('\0juliet\0my IX'))).kind, 'success');
  const { last } = await scramLogin(mech('SCRAM-SHA-256', ctx), new ScramClient({ hash: 'SHA-256', username: 'juliet', password: 'my I\u00ADX' }));
  assert.equal(last.kind, 'success');

  // The same salt gives the same keys for the prepared and unprepared forms.
  const salt = Buffer.alloc(16, 3);
  assert.deepEqual(await deriveScramCredential('I\u00ADX', 'SHA-256', { salt }), await deriveScramCredential('IX', 'SHA-256', { salt }));
  // Prohibited characters (RFC 4013 §2.3) and passwords that prepare to nothing cannot be stored.
  await assert.rejects(deriveScramCredential('bell\u0007', 'SHA-1'), InvalidPasswordError);
  await assert.rejects(deriveScramCredential('\u00AD', 'SHA-1'), InvalidPasswordError);
  await assert.rejects(deriveScramCredential('pw', 'SHA-1', { iterations: 0 }), RangeError);
});

test('deriveScramCredential: random 16-byte salt, 4096 iterations by default, keys sized to the hash', async () => {
  const a = await deriveScramCredential('pw', 'SHA-512');
  const c = await deriveScramCredential('pw', 'SHA-512', { iterations: 5000 });
  assert.equal(Buffer.from(a.salt, 'base64').length, 16);
  assert.notEqual(a.salt, c.salt);
  assert.equal(a.iterations, 4096);
  assert.equal(c.iterations, 5000);
  assert.equal(Buffer.from(a.storedKey, 'base64').length, 64);
  assert.equal(Buffer.from(a.serverKey, 'base64').length, 64);
  assert.equal(await verifyPassword('pw', c, 'SHA-512'), true);
  assert.equal(await verifyPassword('pw', { ...c, storedKey: 'not base64!' }, 'SHA-512'), false);
});

test('AuthThrottle: blocks after maxFailures within the window, until it ends', () => {
  let now = 1000;
  const t = new AuthThrottle({ maxFailures: 3, windowMs: 100, now: () => now });
  assert.equal(t.isBlocked('ip:1'), false);
  t.recordFailure('ip:1');
  t.recordFailure('ip:1');
  assert.equal(t.isBlocked('ip:1'), false);
  t.recordFailure('ip:1');
  assert.equal(t.isBlocked('ip:1'), true);
  assert.equal(t.isBlocked('ip:2'), false);
  now += 99;
  assert.equal(t.isBlocked('ip:1'), true);
  now += 1;
  assert.equal(t.isBlocked('ip:1'), false);
  // A fresh window starts counting from one.
  t.recordFailure('ip:1');
  assert.equal(t.isBlocked('ip:1'), false);
  // Success clears the record.
  t.recordFailure('ip:1');
  t.recordSuccess('ip:1');
  t.recordFailure('ip:1');
  t.recordFailure('ip:1');
  assert.equal(t.isBlocked('ip:1'), false);
});

test('AuthThrottle: memory stays bounded', () => {
  let now = 0;
  const t = new AuthThrottle({ maxFailures: 1, windowMs: 1000, maxEntries: 50, now: () => now });
  for (let i = 0; i < 500; i++) t.recordFailure(`ip:${i}`);
  assert.ok(t.size <= 50, `size ${t.size}`);
  // The newest keys are kept, the oldest evicted.
  assert.equal(t.isBlocked('ip:499'), true);
  assert.equal(t.isBlocked('ip:0'), false);
  // Expired entries go away as new ones arrive.
  now += 1000;
  t.recordFailure('fresh');
  assert.equal(t.size, 1);
  // Defaults: 5 failures per minute.
  const d = new AuthThrottle();
  for (let i = 0; i < 4; i++) d.recordFailure('k');
  assert.equal(d.isBlocked('k'), false);
  d.recordFailure('k');
  assert.equal(d.isBlocked('k'), true);
});

test('SASL payload text: absent, empty (=), base64, invalid (RFC 6120 §6.4.2)', () => {
  assert.equal(decodeSaslPayload(''), null);
  assert.deepEqual(decodeSaslPayload('='), Buffer.alloc(0));
  assert.deepEqual(decodeSaslPayload('AGp1bGlldAByMG0zMG15cjBtMzA='), b('\0juliet\0r0m30myr0m30'));
  assert.equal(decodeSaslPayload('AGp1b Glld'), 'invalid');
  assert.equal(decodeSaslPayload('abc'), 'invalid');
  assert.equal(decodeSaslPayload('ab$d'), 'invalid');
  assert.equal(encodeSaslPayload(null), '');
  assert.equal(encodeSaslPayload(Buffer.alloc(0)), '=');
  assert.equal(encodeSaslPayload(b('v=x')), 'dj14');
});

async function tlsPair(cert: string, key: string, maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<{ server: TLSSocket; client: TLSSocket; close: () => void }> {
  const srv = createServer({ cert, key, maxVersion });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const serverSide = once(srv, 'secureConnection') as Promise<[TLSSocket]>;
  const client = connect({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
  await once(client, 'secureConnect');
  const [server] = await serverSide;
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

test('channel binding: both ends of a real TLS 1.3 connection compute the same data', async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { algorithm: 'sha384', keyType: 'ec' });
  const { server, client, close } = await tlsPair(pems.cert, pems.private, 'TLSv1.3');
  try {
    assert.deepEqual(tlsChannelBindingTypes(server), ['tls-exporter', 'tls-server-end-point']);
    const exporter = tlsChannelBinding(server, 'tls-exporter');
    assert.equal(exporter?.length, 32);
    assert.deepEqual(tlsChannelBinding(client, 'tls-exporter', 'client'), exporter);
    const endPoint = tlsChannelBinding(server, 'tls-server-end-point');
    assert.deepEqual(tlsChannelBinding(client, 'tls-server-end-point', 'client'), endPoint);
    // RFC 5929 §4.1: ecdsa-with-SHA384 means SHA-384 over the DER certificate.
    assert.deepEqual(endPoint, createHash('sha384').update(new X509Certificate(pems.cert).raw).digest());

    // And a SCRAM-SHA-256-PLUS exchange bound to it succeeds end to end.
    const ctx: SaslContext = {
      ...makeCtx(users),
      channelBindingTypes: tlsChannelBindingTypes(server),
      channelBinding: (type) => tlsChannelBinding(server, type),
    };
    const scram = new ScramClient({
      hash: 'SHA-256',
      username: 'juliet',
      password: 'r0m30myr0m30',
      cbType: 'tls-exporter',
      cbData: tlsChannelBinding(client, 'tls-exporter', 'client')!,
    });
    assert.equal((await scramLogin(mech('SCRAM-SHA-256-PLUS', ctx), scram)).last.kind, 'success');
  } finally {
    close();
  }
});

test('channel binding: no tls-exporter on TLS 1.2; SHA-1 certificates hash with SHA-256', async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { algorithm: 'sha1', keyType: 'ec' });
  const { server, close } = await tlsPair(pems.cert, pems.private, 'TLSv1.2');
  try {
    assert.deepEqual(tlsChannelBindingTypes(server), ['tls-server-end-point']);
    assert.equal(tlsChannelBinding(server, 'tls-exporter'), null);
    const raw = new X509Certificate(pems.cert).raw;
    assert.deepEqual(tlsChannelBinding(server, 'tls-server-end-point'), createHash('sha256').update(raw).digest());
  } finally {
    close();
  }
  assert.equal(serverEndPointBinding(Buffer.from([0x30, 0x03, 0x02, 0x01])), null);
});
