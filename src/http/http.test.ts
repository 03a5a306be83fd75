// The HTTP stack on real sockets: routes registered once, http and https feeding the same routes, errors in JSON or
// XML, and authentication by password (Basic) and app token (Bearer).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { silentLogger } from '../core/logger.js';
import { Server, type ServerOptions } from '../core/server.js';
import { MemoryBackend } from '../storage/memory/index.js';
import { selfSignedCertificate } from '../transports/certs.js';
import { isLoopback, isSecure } from './auth.js';
import { HttpError } from './errors.js';
import { HttpService } from './service.js';

const OPTIONS: ServerOptions = {
  hosts: ['example.org'],
  limits: { maxStanzaBytes: 65536, maxDepth: 32, maxAttributes: 64, connectionTimeout: 60, maxSessionsPerAccount: 10, bytesPerSecond: 1 << 20, burstBytes: 1 << 20, maxOutboundBuffer: 1 << 22 },
  tlsRequired: true,
  authThrottle: { maxFailures: 3, windowMs: 60_000 },
  version: 'test',
};

describe('HTTP stack', () => {
  let server: Server;
  let http: HttpService;
  let ports: Record<string, number>;
  let dataDir: string;
  let registrations = 0;
  let token = '';
  let tokenId = '';

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'quire-http-'));
    const storage = new MemoryBackend();
    await storage.open();
    server = new Server(OPTIONS, storage, silentLogger);
    await server.accounts.create('example.org', 'alice', 'alice-password');
    http = new HttpService(server, { trustProxy: false, maxBodySize: 1024 });
    // A module set up on two hosts registers its routes twice: they exist once.
    for (let i = 0; i < 2; i++) {
      http.register('whoami', (app) => {
        registrations++;
        app.get('/whoami', async (request) => {
          const principal = await http.auth.principal(request);
          return { jid: principal?.jid.bare ?? null, token: principal?.token?.id ?? null };
        });
        app.post('/echo', async (request, reply) => reply.type('application/xml').send(String(request.body)));
        app.get('/full', async () => {
          throw new HttpError(507, 'quota-exceeded', 'alice stores 10 MiB already');
        });
      });
    }
    ({ token, id: tokenId } = await server.tokens.create('example.org', 'alice', { label: 'app', scope: 'read', nodes: [] }));
    const cert = await selfSignedCertificate(dataDir, ['example.org']);
    ports = await http.listen([
      { name: 'http', host: '127.0.0.1', port: 0, tls: null },
      { name: 'https', host: '127.0.0.1', port: 0, tls: { cert: cert.cert, key: cert.key } },
    ]);
  });

  after(async () => {
    await http.close();
    await server.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const url = (path: string) => `http://127.0.0.1:${ports.http}${path}`;
  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

  test('routes registered twice under one key exist once', () => {
    assert.equal(registrations, 1);
    assert.ok(http.hasRoutes);
  });

  test('anonymous, Basic with a JID or a bare username, Bearer', async () => {
    assert.deepEqual(await (await fetch(url('/whoami'))).json(), { jid: null, token: null });
    assert.deepEqual(await (await fetch(url('/whoami'), { headers: basic('alice@example.org', 'alice-password') })).json(), { jid: 'alice@example.org', token: null });
    assert.deepEqual(await (await fetch(url('/whoami'), { headers: basic('Alice', 'alice-password') })).json(), { jid: 'alice@example.org', token: null });
    assert.deepEqual(await (await fetch(url('/whoami'), { headers: { authorization: `Bearer ${token}` } })).json(), { jid: 'alice@example.org', token: tokenId });
  });

  test('wrong credentials are a 401 with a challenge, never anonymous; repeated failures are throttled', async () => {
    const wrong = await fetch(url('/whoami'), { headers: basic('alice@example.org', 'nope') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic realm="Quire"/);
    assert.deepEqual(await wrong.json(), { error: 'not-authorized', text: 'wrong account or password' });
    assert.equal((await fetch(url('/whoami'), { headers: { authorization: `Bearer ${token.slice(0, -2)}xx` } })).status, 401);
    // A scheme Quire does not take is no login attempt.
    assert.equal((await fetch(url('/whoami'), { headers: { authorization: 'Digest x' } })).status, 401);
    assert.equal((await fetch(url('/whoami'), { headers: basic('nobody', 'x') })).status, 401);
    // The fourth from this address within the window: throttled, even with the right password.
    const throttled = await fetch(url('/whoami'), { headers: basic('alice@example.org', 'alice-password') });
    assert.equal(throttled.status, 429);
    server.ipThrottle.recordSuccess('127.0.0.1');
    server.ipThrottle.recordSuccess('::ffff:127.0.0.1');
  });

  test('errors come as JSON, or as XML when the client prefers it', async () => {
    const json = await fetch(url('/full'));
    assert.equal(json.status, 507);
    assert.deepEqual(await json.json(), { error: 'quota-exceeded', text: 'alice stores 10 MiB already' });
    const asXml = await fetch(url('/full'), { headers: { accept: 'application/xml, application/json;q=0.5' } });
    assert.equal(asXml.headers.get('content-type'), 'application/xml; charset=utf-8');
    assert.equal(await asXml.text(), '<error xmlns="urn:quire:http:0" condition="quota-exceeded">alice stores 10 MiB already</error>');
    const missing = await fetch(url('/nothing'));
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, 'not-found');
  });

  test('XML bodies reach routes as text; bodies over max_body_size are a 413', async () => {
    const echoed = await fetch(url('/echo'), { method: 'POST', headers: { 'content-type': 'application/atom+xml' }, body: '<entry/>' });
    assert.equal(await echoed.text(), '<entry/>');
    const big = await fetch(url('/echo'), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: `<a>${'x'.repeat(2000)}</a>` });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error, 'payload-too-large');
  });

  test('the https listener serves the same routes', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: ports.https, path: '/whoami', rejectUnauthorized: false, headers: basic('alice@example.org', 'alice-password') }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.deepEqual(JSON.parse(body), { jid: 'alice@example.org', token: null });
  });

  test('credentials count as safe over TLS or from the machine itself only', () => {
    const request = (protocol: string, remoteAddress: string) => ({ protocol, socket: { remoteAddress } }) as unknown as FastifyRequest;
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('::ffff:127.0.0.2'));
    assert.ok(!isLoopback('10.0.0.1') && !isLoopback('::ffff:10.0.0.1') && !isLoopback(undefined));
    assert.ok(isSecure(request('https', '203.0.113.5')));
    assert.ok(isSecure(request('http', '127.0.0.1')));
    assert.ok(!isSecure(request('http', '203.0.113.5')));
  });
});
