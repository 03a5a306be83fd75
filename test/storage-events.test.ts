// The change feed: GET /storage/{jid}/{node}/events as Server-Sent Events. XMPP and HTTP changes both arrive, with
// the ids and ETags the other face shows; a reader that reconnects with Last-Event-ID gets exactly what it missed;
// a log that no longer reaches back says reload; a deleted node ends its streams; access is checked all along.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { PUBSUB, iq, owner, publish, result, roundTrip, xml } from './helpers/pubsub.js';
import { SseReader, basic, storageUrl } from './helpers/http.js';

const MODULES = [
  'modules:',
  '  roster:',
  '  presence:',
  '  disco:',
  '  caps:',
  '  ping:',
  '  pep:',
  '  pubsub:',
  '  storage: { heartbeat_interval: 1, max_streams_per_account: 3, change_log_max_entries: 5 }',
].join('\n');

const data = (e: { data: string }) => JSON.parse(e.data) as Record<string, unknown>;

describe('Storage API: event streams', () => {
  let server: TestServer;
  let alice: XmppClient;
  const url = (...segments: string[]) => storageUrl(server, ...segments);
  const json = () => ({ ...basic('alice'), 'content-type': 'application/json' });
  const readers: SseReader[] = [];
  const open = async (path: string, headers: Record<string, string> = {}) => {
    const reader = await SseReader.open(path, headers);
    readers.push(reader);
    return reader;
  };

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['alice', 'bob']) await server.createUser(user);
    alice = await connectClient(server, 'alice', undefined, 'desk');
    await alice.send(xml('presence'));
    await roundTrip(alice);
    assert.equal((await fetch(url(PUBSUB, 'feed'), { method: 'PUT', headers: json(), body: '{"access_model": "open", "max_items": 100}' })).status, 201);
  });

  after(async () => {
    for (const reader of readers) reader.close();
    await alice?.stop().catch(() => {});
    await server?.stop();
  });

  test('an XMPP publish and an HTTP PUT arrive as events with the ids and ETags both faces show', async () => {
    const stream = await open(url(PUBSUB, 'feed', 'events'));
    assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(stream.response.headers.get('cache-control'), 'no-cache, no-transform');
    assert.equal(stream.retry, undefined);
    await publish(alice, PUBSUB, 'feed', xml('entry', { xmlns: 'http://www.w3.org/2005/Atom' }, xml('title', {}, 'one')), 'one');
    const published = await stream.next((e) => e.event === 'published');
    const etag = (await fetch(url(PUBSUB, 'feed', 'one'))).headers.get('etag');
    assert.deepEqual({ ...data(published), published: undefined }, { node: 'feed', item: 'one', etag, publisher: 'alice@localhost', published: undefined });
    assert.match(published.id ?? '', /^\d+$/);
    const put = await fetch(url(PUBSUB, 'feed', 'two'), { method: 'PUT', headers: json(), body: '{"n": 2}' });
    const second = await stream.next((e) => e.event === 'published' && data(e).item === 'two');
    assert.equal(data(second).etag, put.headers.get('etag'));
    assert.ok(BigInt(second.id!) > BigInt(published.id!));
    assert.equal(stream.retry, 3000);
  });

  test('a reader that reconnects with Last-Event-ID gets what it missed, in order, none twice, then live changes', async () => {
    const first = await open(url(PUBSUB, 'feed', 'events'));
    await fetch(url(PUBSUB, 'feed', 'a'), { method: 'PUT', headers: json(), body: '{"n": "a"}' });
    await first.next((e) => data(e).item === 'a');
    const resumeFrom = first.lastEventId!;
    first.close();
    // While it is away: an HTTP write, an XMPP publish, a retraction and a configuration change.
    await fetch(url(PUBSUB, 'feed', 'b'), { method: 'PUT', headers: json(), body: '{"n": "b"}' });
    await publish(alice, PUBSUB, 'feed', xml('note', { xmlns: 'urn:example' }, 'c'), 'c');
    await fetch(url(PUBSUB, 'feed', 'a'), { method: 'DELETE', headers: basic('alice') });
    await fetch(url(PUBSUB, 'feed'), { method: 'PUT', headers: json(), body: '{"title": "Feed"}' });
    const again = await open(url(PUBSUB, 'feed', 'events'), { 'last-event-id': resumeFrom });
    const missed = await again.count(4);
    assert.deepEqual(
      missed.map((e) => [e.event, data(e).item ?? data(e).items ?? null]),
      [['published', 'b'], ['published', 'c'], ['retracted', ['a']], ['configured', null]],
    );
    const ids = missed.map((e) => BigInt(e.id!));
    assert.deepEqual([...ids].sort((x, y) => (x < y ? -1 : 1)), ids, 'ids grow');
    await fetch(url(PUBSUB, 'feed', 'd'), { method: 'PUT', headers: json(), body: '{"n": "d"}' });
    await again.next((e) => data(e).item === 'd', 4);
    assert.equal(again.events.length, 5, 'nothing twice');
  });

  test('a stream opened without Last-Event-ID still gives a point to resume from; so does a listing', async () => {
    const stream = await open(url(PUBSUB, 'feed', 'events'));
    // The first thing a stream sends is an id without an event.
    const from = await stream.lastId();
    stream.close();
    await fetch(url(PUBSUB, 'feed', 'e'), { method: 'PUT', headers: json(), body: '{"n": "e"}' });
    const resumed = await open(url(PUBSUB, 'feed', 'events'), { 'last-event-id': from });
    assert.equal(data(await resumed.next()).item, 'e');
    resumed.close();
    // A listing says from where a stream continues it (EventSource without headers: ?last_event_id=).
    const listing = await (await fetch(url(PUBSUB, 'feed'))).json();
    await fetch(url(PUBSUB, 'feed', 'f'), { method: 'PUT', headers: json(), body: '{"n": "f"}' });
    const fromListing = await open(url(PUBSUB, 'feed', 'events') + `?last_event_id=${listing.lastEventId}`);
    assert.equal(data(await fromListing.next()).item, 'f');
    fromListing.close();
  });

  test('a log that no longer reaches back to the reader says reload, with an id to continue from', async () => {
    const unknown = await open(url(PUBSUB, 'feed', 'events'), { 'last-event-id': '12345' });
    const reload = await unknown.next();
    assert.equal(reload.event, 'reload');
    assert.match(String(data(reload).reason), /older than the change log keeps/);
    assert.ok(reload.id);
    unknown.close();
    // change_log_max_entries is 5 here: after many changes, the oldest are gone and a reader from before is told so.
    await fetch(url(PUBSUB, 'trimmed'), { method: 'PUT', headers: json(), body: '{"access_model": "open", "max_items": 100}' });
    const early = await open(url(PUBSUB, 'trimmed', 'events'));
    await fetch(url(PUBSUB, 'trimmed', 'first'), { method: 'PUT', headers: json(), body: '{}' });
    const firstId = (await early.next()).id!;
    early.close();
    for (let i = 0; i < 40; i++) await fetch(url(PUBSUB, 'trimmed', `n${i}`), { method: 'PUT', headers: json(), body: `{"i": ${i}}` });
    await server.settle(() => roundTrip(alice));
    const late = await open(url(PUBSUB, 'trimmed', 'events'), { 'last-event-id': firstId });
    const told = await late.next();
    assert.equal(told.event, 'reload');
    assert.match(String(data(told).reason), /no longer in the change log/);
    late.close();
  });

  test('heartbeats keep an idle stream alive', async () => {
    const idle = await open(url(PUBSUB, 'feed', 'events'));
    await idle.heartbeat();
    await idle.heartbeat();
    assert.ok(!idle.isEnded);
    idle.close();
  });

  test('a PEP node: the account publishes over XMPP, its stream shows it; anonymous readers of a closed node get 401', async () => {
    assert.equal((await fetch(url('alice@localhost', 'tasks'), { method: 'PUT', headers: json(), body: '{"access_model": "whitelist"}' })).status, 201);
    await assert.rejects(SseReader.open(url('alice@localhost', 'tasks', 'events')), (response: Response) => response.status === 401);
    await assert.rejects(SseReader.open(url('alice@localhost', 'tasks', 'events'), basic('bob')), (response: Response) => response.status === 403);
    const own = await open(url('alice@localhost', 'tasks', 'events'), basic('alice'));
    await publish(alice, 'alice@localhost', 'tasks', xml('task', { xmlns: 'urn:example:tasks' }, 'write tests'), 't1');
    const event = await own.next((e) => e.event === 'published');
    assert.equal(data(event).item, 't1');
    // The owner sees who published, whatever itemreply says.
    assert.equal(data(event).publisher, 'alice@localhost');
    own.close();
  });

  test('a reader that loses access hears nothing more: its stream ends', async () => {
    await fetch(url(PUBSUB, 'closing'), { method: 'PUT', headers: json(), body: '{"access_model": "open"}' });
    const anonymous = await open(url(PUBSUB, 'closing', 'events'));
    const owners = await open(url(PUBSUB, 'closing', 'events'), basic('alice'));
    result(await iq(alice, 'set', PUBSUB, owner(xml('configure', { node: 'closing' }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'pubsub#access_model' }, xml('value', {}, 'whitelist')))))));
    await anonymous.ending();
    assert.equal(anonymous.events.length, 0);
    assert.equal((await owners.next()).event, 'configured');
    assert.ok(!owners.isEnded);
    owners.close();
  });

  test('deleting a node ends its streams after the deletion event', async () => {
    await fetch(url(PUBSUB, 'doomed'), { method: 'PUT', headers: json(), body: '{"access_model": "open"}' });
    const stream = await open(url(PUBSUB, 'doomed', 'events'));
    result(await iq(alice, 'set', PUBSUB, owner(xml('delete', { node: 'doomed' }))));
    const deleted = await stream.next();
    assert.equal(deleted.event, 'deleted');
    await stream.ending();
    await assert.rejects(SseReader.open(url(PUBSUB, 'doomed', 'events')), (response: Response) => response.status === 401);
  });

  test('streams per account are limited (429)', async () => {
    const held: SseReader[] = [];
    for (let i = 0; i < 3; i++) held.push(await open(url(PUBSUB, 'feed', 'events'), basic('bob')));
    await assert.rejects(SseReader.open(url(PUBSUB, 'feed', 'events'), basic('bob')), (response: Response) => response.status === 429);
    held[0].close();
    await held[0].done;
    // Closing one frees its place (the server notices the closed connection).
    for (;;) {
      try {
        held.push(await open(url(PUBSUB, 'feed', 'events'), basic('bob')));
        break;
      } catch (response) {
        assert.equal((response as Response).status, 429);
        await server.settle(() => roundTrip(alice));
      }
    }
    for (const reader of held) reader.close();
  });
});
