// XEP-0198 §4 counting: 'h' wraps from 2^32-1 to 0, and acknowledgements are counted modulo 2^32 too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientSession } from '../../core/stream/c2s.js';
import { MAX_H, parseH, SmState } from './state.js';

function fakeSession(): { session: ClientSession; written: string[] } {
  const written: string[] = [];
  const session = { hibernating: false, writeRaw: (data: string) => void written.push(data) } as unknown as ClientSession;
  return { session, written };
}

const policy = { every: 1000, delayMs: 60_000, maxUnacked: 10 };

test("parseH accepts an xs:unsignedInt and nothing else", () => {
  assert.equal(parseH('0'), 0);
  assert.equal(parseH('4294967295'), MAX_H);
  for (const bad of [undefined, '', '-1', '4294967296', '1.5', ' 1', '0x10', '99999999999']) assert.equal(parseH(bad), undefined, String(bad));
});

test("the inbound count wraps from 2^32-1 to 0", () => {
  const state = new SmState(fakeSession().session, policy, () => {});
  state.inboundCount = MAX_H - 1;
  state.inbound();
  assert.equal(state.inboundCount, MAX_H);
  state.inbound();
  assert.equal(state.inboundCount, 0);
});

test("outbound stanzas are written, queued, and released by acks counted across the wrap", () => {
  const { session, written } = fakeSession();
  const state = new SmState(session, policy, () => {});
  state.acked = MAX_H - 1;
  for (const data of ['<a1/>', '<a2/>', '<a3/>']) state.outbound(data);
  assert.deepEqual(written, ['<a1/>', '<a2/>', '<a3/>']);
  assert.equal(state.sentCount, 1, '2^32-2 + 3, modulo 2^32');
  assert.equal(state.acknowledges(MAX_H), 1);
  assert.equal(state.acknowledges(0), 2);
  assert.equal(state.acknowledges(1), 3);
  assert.equal(state.acknowledges(2), -1, 'more than was sent');
  state.ack(0);
  assert.deepEqual(state.unacked, ['<a3/>']);
  state.ack(1);
  assert.deepEqual(state.unacked, []);
  state.clearTimers();
});

test("an <r/> follows the stanza that reaches the request threshold, and the queue bound calls for an end", async () => {
  const { session, written } = fakeSession();
  let overflowed = 0;
  const state = new SmState(session, { every: 2, delayMs: 60_000, maxUnacked: 3 }, () => overflowed++);
  state.outbound('<s1/>');
  state.outbound('<s2/>');
  assert.deepEqual(written, ['<s1/>', '<s2/>', '<r xmlns="urn:xmpp:sm:3"/>']);
  state.outbound('<s3/>');
  state.outbound('<s4/>');
  assert.deepEqual(written.slice(3), ['<s3/>'], 'past the bound: queued, not written');
  assert.equal(state.unacked.length, 4);
  await new Promise((resolve) => process.nextTick(resolve));
  assert.equal(overflowed, 1);
  state.clearTimers();
});
