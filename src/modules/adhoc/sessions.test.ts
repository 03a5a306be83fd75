// XEP-0050 command sessions with a clock the test moves: bounds in number and time, and which error a sessionid
// that cannot be continued gets (§4.4: session-expired for one that ended, bad-sessionid otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '../../core/jid/index.js';
import { StanzaError } from '../../core/stanza.js';
import { CommandSessions } from './sessions.js';

const romeo = parseJid('romeo@example.org/orchard');
const romeoPhone = parseJid('romeo@example.org/phone');
const juliet = parseJid('juliet@example.org/balcony');

/** The §4.4 condition pair of a thrown error: [RFC 6120 condition, commands-namespace condition]. */
function conditionOf(fn: () => unknown): [string, string | undefined, string] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StanzaError);
    return [err.condition, err.appCondition?.name, err.type];
  }
  assert.fail('expected an error');
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

test('a session is found by its requester for its node only; others get bad-sessionid', () => {
  const sessions = new CommandSessions({ maxSessions: 10, maxPerRequester: 5, idleMs: 60_000 });
  const session = sessions.open('config', romeo);
  assert.match(session.id, /^[A-Za-z0-9_-]{22}$/, '128 random bits');
  assert.equal(sessions.find(session.id, romeo, 'config'), session);
  assert.deepEqual(conditionOf(() => sessions.find(session.id, juliet, 'config')), ['bad-request', 'bad-sessionid', 'modify']);
  assert.deepEqual(conditionOf(() => sessions.find(session.id, romeoPhone, 'config')), ['bad-request', 'bad-sessionid', 'modify'], 'another resource is another requester');
  assert.deepEqual(conditionOf(() => sessions.find(session.id, romeo, 'other')), ['bad-request', 'bad-sessionid', 'modify']);
  assert.deepEqual(conditionOf(() => sessions.find('made-up', romeo, 'config')), ['bad-request', 'bad-sessionid', 'modify']);
});

test('an ended session is session-expired for its requester, and stays bad-sessionid for anyone else', () => {
  const sessions = new CommandSessions({ maxSessions: 10, maxPerRequester: 5, idleMs: 60_000 });
  const session = sessions.open('config', romeo);
  sessions.end(session);
  assert.deepEqual(conditionOf(() => sessions.find(session.id, romeo, 'config')), ['not-allowed', 'session-expired', 'cancel']);
  assert.deepEqual(conditionOf(() => sessions.find(session.id, juliet, 'config')), ['bad-request', 'bad-sessionid', 'modify']);
});

test('an idle session expires after the timeout; activity keeps it', () => {
  const time = clock();
  const sessions = new CommandSessions({ maxSessions: 10, maxPerRequester: 5, idleMs: 60_000 }, time.now);
  const kept = sessions.open('config', romeo);
  const idle = sessions.open('config', romeo);
  time.advance(50_000);
  kept.lastActive = time.now();
  time.advance(20_000);
  assert.equal(sessions.find(kept.id, romeo, 'config'), kept);
  assert.deepEqual(conditionOf(() => sessions.find(idle.id, romeo, 'config')), ['not-allowed', 'session-expired', 'cancel']);
  time.advance(60_001);
  sessions.sweep();
  assert.equal(sessions.size, 0);
  assert.deepEqual(conditionOf(() => sessions.find(kept.id, romeo, 'config')), ['not-allowed', 'session-expired', 'cancel']);
});

test('a requester at its limit loses its oldest session; a full table refuses with resource-constraint', () => {
  const time = clock();
  const sessions = new CommandSessions({ maxSessions: 4, maxPerRequester: 2, idleMs: 60_000 }, time.now);
  const first = sessions.open('a', romeo);
  const second = sessions.open('a', romeo);
  const third = sessions.open('a', romeo);
  assert.deepEqual(conditionOf(() => sessions.find(first.id, romeo, 'a')), ['not-allowed', 'session-expired', 'cancel']);
  assert.equal(sessions.find(second.id, romeo, 'a'), second);
  assert.equal(sessions.find(third.id, romeo, 'a'), third);
  sessions.open('a', juliet);
  sessions.open('a', juliet);
  assert.equal(sessions.size, 4);
  assert.deepEqual(conditionOf(() => sessions.open('a', romeoPhone)), ['resource-constraint', undefined, 'wait']);
  // Idle sessions are swept to make room.
  time.advance(60_001);
  assert.equal(sessions.open('a', romeoPhone).requester, romeoPhone.full);
  assert.equal(sessions.size, 1);
});

test("a requester's sessions end with its stream", () => {
  const sessions = new CommandSessions({ maxSessions: 10, maxPerRequester: 5, idleMs: 60_000 });
  const mine = [sessions.open('a', romeo), sessions.open('b', romeo)];
  const other = sessions.open('a', romeoPhone);
  sessions.endAllOf(romeo.full);
  for (const s of mine) assert.deepEqual(conditionOf(() => sessions.find(s.id, romeo, s.node)), ['not-allowed', 'session-expired', 'cancel']);
  assert.equal(sessions.find(other.id, romeoPhone, 'a'), other);
});
