import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamParser } from './parser.js';
import { xml, type Element } from './element.js';

function parseStanza(text: string): Element {
  let stanza: Element | undefined;
  const parser = new StreamParser({ streamStart() {}, stanza: (el) => (stanza = el), streamEnd() {}, error: (c, t) => assert.fail(`${c}: ${t}`) });
  parser.write(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${text}`);
  return stanza!;
}

test('a cloned payload keeps the prefixes its ancestors declared', () => {
  const iq = parseStanza("<iq xmlns:v='urn:x' type='set'><v:query><v:a b='1'/></v:query></iq>");
  const copy = iq.firstElement()!.clone();
  assert.equal(copy.toString(), '<v:query xmlns:v="urn:x"><v:a b="1"/></v:query>');
  assert.equal(copy.parent, null);
});

test('a cloned payload in its own namespace keeps it; stanza children of jabber:client stay unqualified', () => {
  const message = parseStanza("<message><body>hi</body><x xmlns='urn:y'><z/></x></message>");
  assert.equal(message.getChild('x')!.clone().toString(), '<x xmlns="urn:y"><z/></x>');
  assert.equal(message.getChild('body')!.clone().toString(), '<body>hi</body>');
});

test('the serializer escapes text and attribute values', () => {
  assert.equal(xml('a', { q: `"'<&>\n` }, `<&>"'\r`).toString(), '<a q="&quot;&apos;&lt;&amp;&gt;&#10;">&lt;&amp;&gt;"\'&#13;</a>');
});
