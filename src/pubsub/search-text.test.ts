// What a search over PubSub items looks through: the payload's character data, HTML by its text, no binary data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredXml } from '../core/roster.js';
import { payloadText } from './search-text.js';

test('the character data of the payload, never element names or attributes', () => {
  const text = payloadText(parseStoredXml("<note xmlns='urn:example:notes' lang='en'><title>Balcony</title><body>Meet at <b>ten</b></body></note>"));
  assert.deepEqual(text?.split(/\s+/), ['Balcony', 'Meet', 'at', 'ten']);
});

test('an Atom text construct of type html counts by its text, not its tags', () => {
  const entry = parseStoredXml("<entry xmlns='http://www.w3.org/2005/Atom'><title type='html'>A &lt;em&gt;bold&lt;/em&gt; plan</title><content type='html'>&lt;p class=&quot;x&quot;&gt;With &lt;strong&gt;HTML&lt;/strong&gt;.&lt;/p&gt;</content></entry>");
  const text = payloadText(entry) ?? '';
  assert.match(text, /A bold plan/);
  assert.match(text, /With HTML\./);
  assert.doesNotMatch(text, /strong|class|<p/);
});

test('binary and key material is not indexed; an empty payload has no text', () => {
  assert.equal(payloadText(parseStoredXml("<data xmlns='urn:xmpp:avatar:data'>iVBORw0KGgoAAAANSUhEUgAA</data>")), undefined);
  assert.equal(payloadText(parseStoredXml("<bundle xmlns='urn:xmpp:omemo:2'><spk id='1'>BQaF</spk></bundle>")), undefined);
  assert.equal(payloadText(parseStoredXml("<status xmlns='urn:example:status'/>")), undefined);
  assert.equal(payloadText(null), undefined);
});
