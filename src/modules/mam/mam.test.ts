// The pure parts of the MAM module: which messages are kept, preferences, dates and the query form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid } from '../../core/jid/index.js';
import { parseStoredXml } from '../../core/roster.js';
import { StanzaError } from '../../core/stanza.js';
import { FULLTEXT_FIELD, parseDateTime, parseFilterForm, parseQuery, parseRsm, queryForm } from './query.js';
import { listVerdict, parsePrefs, PrefsError, searchableText, worthArchiving } from './rules.js';

const message = (inner: string, attrs = "type='chat'") => parseStoredXml(`<message xmlns='jabber:client' to='juliet@capulet.lit' ${attrs}>${inner}</message>`);

test('XEP-0313 §6.1.1: chat and normal messages with a body are kept; groupchat, headline and error are not', () => {
  assert.equal(worthArchiving(message('<body>hi</body>')), true);
  assert.equal(worthArchiving(message('<body>hi</body>', '')), true);
  assert.equal(worthArchiving(message('<body>hi</body>', "type='groupchat'")), false);
  assert.equal(worthArchiving(message('<body>hi</body>', "type='headline'")), false);
  assert.equal(worthArchiving(message('<body>hi</body>', "type='error'")), false);
  assert.equal(worthArchiving(message("<thread>t1</thread><active xmlns='http://jabber.org/protocol/chatstates'/>")), false);
  assert.equal(worthArchiving(message('')), false);
});

test('payloads clients sync through the archive are kept without a body', () => {
  assert.equal(worthArchiving(message("<received xmlns='urn:xmpp:receipts' id='x'/>")), true);
  assert.equal(worthArchiving(message("<displayed xmlns='urn:xmpp:chat-markers:0' id='x'/>")), true);
  assert.equal(worthArchiving(message("<encrypted xmlns='urn:xmpp:omemo:2'/>")), true);
  assert.equal(worthArchiving(message("<x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x>")), true);
  assert.equal(worthArchiving(message("<x xmlns='http://jabber.org/protocol/muc#user'/>")), false);
});

test('XEP-0334: no-store and no-permanent-store keep a message out; store lets one in, but never an error or groupchat', () => {
  assert.equal(worthArchiving(message("<body>x</body><no-store xmlns='urn:xmpp:hints'/>")), false);
  assert.equal(worthArchiving(message("<body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/>")), false);
  assert.equal(worthArchiving(message("<store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/>")), false);
  assert.equal(worthArchiving(message("<custom xmlns='urn:example'/><store xmlns='urn:xmpp:hints'/>")), true);
  assert.equal(worthArchiving(message("<body>x</body><store xmlns='urn:xmpp:hints'/>", "type='headline'")), true);
  assert.equal(worthArchiving(message("<body>x</body><store xmlns='urn:xmpp:hints'/>", "type='error'")), false);
  assert.equal(worthArchiving(message("<body>x</body><store xmlns='urn:xmpp:hints'/>", "type='groupchat'")), false);
});

test('XEP-0441: preferences are read with prepared JIDs; never wins over always; a bare entry matches every resource', () => {
  const prefs = parsePrefs(
    parseStoredXml(
      "<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>Romeo@Montague.lit</jid><jid>nurse@capulet.lit/kitchen</jid><jid>tybalt@capulet.lit</jid></always>" +
        '<never><jid>tybalt@capulet.lit</jid></never></prefs>',
    ),
  );
  assert.deepEqual(prefs, { default: 'roster', always: ['romeo@montague.lit', 'nurse@capulet.lit/kitchen'], never: ['tybalt@capulet.lit'] });
  assert.equal(listVerdict(prefs, parseJid('romeo@montague.lit/orchard')), true);
  assert.equal(listVerdict(prefs, parseJid('nurse@capulet.lit/kitchen')), true);
  assert.equal(listVerdict(prefs, parseJid('nurse@capulet.lit/garden')), undefined);
  assert.equal(listVerdict(prefs, parseJid('nurse@capulet.lit')), undefined);
  assert.equal(listVerdict(prefs, parseJid('tybalt@capulet.lit/street')), false);
  assert.throws(() => parsePrefs(parseStoredXml("<prefs xmlns='urn:xmpp:mam:2'/>")), PrefsError);
  assert.throws(() => parsePrefs(parseStoredXml("<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid>@@</jid></never></prefs>")), PrefsError);
});

test('XEP-0082 DateTime: Z and offsets, fractions rounded into the range, nonsense refused', () => {
  assert.equal(parseDateTime('2010-06-07T00:00:00Z'), Date.UTC(2010, 5, 7));
  assert.equal(parseDateTime('2010-06-07T02:00:00+02:00'), Date.UTC(2010, 5, 7));
  assert.equal(parseDateTime('2010-06-06T19:30:00-04:30'), Date.UTC(2010, 5, 7));
  assert.equal(parseDateTime('2010-06-07T00:00:00.123Z'), Date.UTC(2010, 5, 7) + 123);
  assert.equal(parseDateTime('2010-06-07T00:00:00.1234Z', 'up'), Date.UTC(2010, 5, 7) + 124);
  assert.equal(parseDateTime('2010-06-07T00:00:00.1234Z', 'down'), Date.UTC(2010, 5, 7) + 123);
  for (const bad of ['2010-06-07', '2010-06-07T00:00:00', '2010-13-07T00:00:00Z', 'yesterday', '2010-06-07 00:00:00Z']) {
    assert.equal(parseDateTime(bad), undefined, bad);
  }
});

const CAPS = { maxIds: 10, fullText: true };
const form = (fields: string, type = 'submit') =>
  parseStoredXml(`<x xmlns='jabber:x:data' type='${type}'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>${fields}</x>`);
const condition = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
  return 'no error';
};

test('XEP-0313 §4.1: the query form', () => {
  const filter = parseFilterForm(
    form("<field var='with'><value>Juliet@Capulet.lit</value></field><field var='start'><value>2010-06-07T00:00:00Z</value></field><field var='ids'><value>a</value><value>b</value><value>a</value></field>"),
    CAPS,
  );
  assert.equal(filter.with?.full, 'juliet@capulet.lit');
  assert.equal(filter.start, Date.UTC(2010, 5, 7));
  assert.deepEqual(filter.ids, ['a', 'b']);
  assert.equal(condition(() => parseFilterForm(form("<field var='color'><value>red</value></field>"), CAPS)), 'feature-not-implemented');
  assert.equal(condition(() => parseFilterForm(form('', 'form'), CAPS)), 'bad-request');
  assert.equal(condition(() => parseFilterForm(form("<field var='with'><value>a@b</value><value>c@d</value></field>"), CAPS)), 'bad-request');
  assert.equal(condition(() => parseFilterForm(form("<field var='with'><value>@@</value></field>"), CAPS)), 'jid-malformed');
  assert.equal(condition(() => parseFilterForm(form("<field var='end'><value>soon</value></field>"), CAPS)), 'bad-request');
  assert.equal(condition(() => parseFilterForm(form("<field var='ids'><value>a</value><value>b</value></field>"), { maxIds: 1, fullText: true })), 'policy-violation');
  assert.equal(condition(() => parseFilterForm(form("<field var='start'/><field var='start'/>"), CAPS)), 'bad-request');
  assert.equal(condition(() => parseQuery(parseStoredXml("<query xmlns='urn:xmpp:mam:2' node='x'/>"), CAPS)), 'feature-not-implemented');
});

test('XEP-0059: the <set/> of a query', () => {
  const rsm = (inner: string) => parseRsm(parseStoredXml(`<set xmlns='http://jabber.org/protocol/rsm'>${inner}</set>`));
  assert.deepEqual(rsm('<max>10</max><before/>'), { max: 10, before: '' });
  assert.deepEqual(rsm('<max>0</max><after>abc</after>'), { max: 0, after: 'abc' });
  assert.deepEqual(rsm('<index>5</index>'), { index: 5 });
  assert.equal(condition(() => rsm('<max>-1</max>')), 'bad-request');
  assert.equal(condition(() => rsm('<after/>')), 'bad-request');
  assert.equal(condition(() => rsm('<index>1</index><after>x</after>')), 'bad-request');
});

test('XEP-0431: the text searched is the body and subject, never the markup', () => {
  assert.equal(searchableText(message("<subject>Tonight</subject><body>At the balcony</body><thread>t1</thread>")), 'Tonight\nAt the balcony');
  assert.equal(
    searchableText(message("<body xml:lang='en'>Good night</body><body xml:lang='it'>Buona notte</body><x xmlns='urn:example'><body>not this</body></x>")),
    'Good night\nBuona notte');
  assert.equal(searchableText(message("<received xmlns='urn:xmpp:receipts' id='x'/>")), undefined);
  assert.equal(searchableText(message('<body/>')), '');
});

test('XEP-0431 §3.1: the {urn:xmpp:fulltext:0}fulltext field, offered and understood only where the store can search', () => {
  const field = (value: string) => form(`<field var='${FULLTEXT_FIELD}'><value>${value}</value></field>`);
  assert.equal(parseFilterForm(field('Romeo* "balcony"'), CAPS).text, 'Romeo* "balcony"');
  // §2.2: an empty value asks for nothing.
  assert.equal(parseFilterForm(field(''), CAPS).text, undefined);
  assert.equal(parseFilterForm(field('   '), CAPS).text, undefined);
  assert.equal(parseFilterForm(form(`<field var='${FULLTEXT_FIELD}'/>`), CAPS).text, undefined);
  assert.equal(condition(() => parseFilterForm(form(`<field var='${FULLTEXT_FIELD}'><value>a</value><value>b</value></field>`), CAPS)), 'bad-request');
  assert.equal(condition(() => parseFilterForm(field('Romeo'), { maxIds: 10, fullText: false })), 'feature-not-implemented');
  assert.equal(condition(() => parseFilterForm(form("<field var='fulltext'><value>Romeo</value></field>"), CAPS)), 'feature-not-implemented');

  const offered = (fullText: boolean) => queryForm(fullText).getChildren('field').find((f) => f.attrs.var === FULLTEXT_FIELD);
  assert.equal(offered(true)?.attrs.type, 'text-single');
  assert.equal(offered(false), undefined);
});
