// The whole server on PostgreSQL: login (SCRAM credentials from the database), chat, roster and offline
// messages, with the data checked in the database itself. Its own schema; skipped without PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startTcpRelay, type TcpRelay } from './helpers/tcp-relay.js';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const URL_BASE = process.env.QUIRE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SKIP_MESSAGE =
  'PostgreSQL is not reachable: start PostgreSQL on 127.0.0.1:5432 (see ../shared/design/SERVICES.md) or set QUIRE_TEST_POSTGRES_URL';
const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  ping:\n  offline:\n  private:';

const admin = () => postgres(URL_BASE, { max: 1, connect_timeout: 2, onnotice: () => {} });

async function reachable(): Promise<boolean> {
  const sql = admin();
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

if (!(await reachable())) {
  test('the server on PostgreSQL', { skip: SKIP_MESSAGE }, () => {});
} else {
  describe('the server on PostgreSQL', () => {
    const schema = `quire_e2e_${randomBytes(6).toString('hex')}`;
    const sql = admin();
    let server: TestServer;
    let relay: TcpRelay;
    const clients: XmppClient[] = [];

    const connect = async (user: string, resource: string) => {
      const xmpp = await connectClient(server, user, undefined, resource);
      clients.push(xmpp);
      return xmpp;
    };

    before(async () => {
      await sql`CREATE SCHEMA ${sql(schema)}`;
      // Unknown URL parameters are session settings for the client, so search_path puts Quire's tables in the schema.
      const url = new URL(URL_BASE);
      url.searchParams.set('search_path', schema);
      // Through a relay, so a test can cut the server off from the database.
      relay = await startTcpRelay(url.hostname, Number(url.port || 5432));
      url.hostname = '127.0.0.1';
      url.port = String(relay.port);
      server = await startTestServer({ modules: MODULES, extra: `storage: { backend: postgres, url: ${JSON.stringify(url.toString())} }` });
      assert.equal(server.running.server.storage.kind, 'postgres');
      await server.createUser('romeo');
      await server.createUser('juliet');
      await server.createUser('nurse');
    });

    after(async () => {
      await Promise.allSettled(clients.map((c) => c.stop()));
      await server?.stop();
      await relay?.close();
      await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      await sql.end({ timeout: 1 });
    });

    test('accounts live in the database', async () => {
      const rows = await sql`SELECT username FROM ${sql(schema)}.accounts WHERE host = 'localhost' ORDER BY username`;
      assert.deepEqual(rows.map((row) => row.username), ['juliet', 'nurse', 'romeo']);
    });

    test('Romeo and Juliet log in and chat', async () => {
      const romeo = await connect('romeo', 'orchard');
      const juliet = await connect('juliet', 'balcony');
      const echoed = nextStanza(juliet, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony');
      await juliet.send(xml('presence'));
      await echoed;
      const received = nextStanza(juliet, (s) => s.is('message'));
      await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'But soft! é😀')));
      const message = await received;
      assert.equal(message.attrs.from, 'romeo@localhost/orchard');
      assert.equal(message.getChildText('body'), 'But soft! é😀');
    });

    test('a roster item set by Romeo is stored and read back', async () => {
      const romeo = clients[0];
      await romeo.iqCaller.request(xml('iq', { type: 'set' },
        xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'juliet@localhost', name: 'Juliet' }, xml('group', {}, 'Capulets')))));
      const result = await romeo.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
      const items = result.getChild('query')!.getChildren('item');
      assert.deepEqual(items.map((item) => [item.attrs.jid, item.attrs.name, item.getChildText('group')]), [['juliet@localhost', 'Juliet', 'Capulets']]);
      const rows = await sql`SELECT key FROM ${sql(schema)}.map WHERE host = 'localhost' AND username = 'romeo'`;
      assert.ok(rows.some((row) => row.key === 'juliet@localhost'), JSON.stringify(rows));
    });

    test('a message to a user who is offline is stored and delivered at her next login', async () => {
      const romeo = clients[0];
      const events = server.running.server.hosts.get('localhost')!.events;
      const stored = new Promise<void>((resolve) => {
        const off = events.on('offline/stored', (event: { user: string }) => {
          if (event.user === 'nurse') { off(); resolve(); }
          return undefined;
        });
      });
      // The nurse has never logged in, so the message goes to the offline store.
      await romeo.send(xml('message', { to: 'nurse@localhost', type: 'chat', id: 'off1' }, xml('body', {}, 'Good morrow')));
      await stored;
      const rows = await sql`SELECT COUNT(*)::int AS n FROM ${sql(schema)}.archive WHERE store = 'offline' AND username = 'nurse'`;
      assert.equal(rows[0].n, 1);
      const nurse = await connect('nurse', 'kitchen');
      const received = nextStanza(nurse, (s) => s.is('message') && s.attrs.id === 'off1');
      await nurse.send(xml('presence'));
      const message = await received;
      assert.equal(message.getChildText('body'), 'Good morrow');
      assert.ok(message.getChild('delay', 'urn:xmpp:delay'), 'offline delivery carries a delay stamp');
    });

    test('while the database is unreachable requests fail with a wait-type internal-server-error, then work again', async () => {
      const romeo = clients[0];
      const get = () => xml('iq', { type: 'get', id: `priv-${randomBytes(3).toString('hex')}` },
        xml('query', { xmlns: 'jabber:iq:private' }, xml('prefs', { xmlns: 'urn:example:prefs' })));
      await relay.close();
      try {
        const error = await romeo.iqCaller.request(get()).then(() => null, (err: { condition?: string; type?: string }) => err);
        assert.ok(error, 'expected an error reply');
        // RFC 6120 §8.3.2: 'wait' — retry after waiting; the failure is temporary.
        assert.equal(error.condition, 'internal-server-error');
        assert.equal(error.type, 'wait');
      } finally {
        await relay.reopen();
      }
      const result = await romeo.iqCaller.request(get());
      assert.ok(result.getChild('query', 'jabber:iq:private')?.getChild('prefs', 'urn:example:prefs'));
    });
  });
}
