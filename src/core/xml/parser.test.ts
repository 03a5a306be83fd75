import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element, serialize } from './element.js';
import { StreamParser, type ParserLimits, type StreamErrorCondition } from './parser.js';

// A plain, cycle-free picture of an element for deepEqual.
interface Tree {
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: (Tree | string)[];
}

function tree(element: Element): Tree {
  return {
    name: element.name,
    ns: element.ns,
    attrs: { ...element.attrs },
    children: element.children.map((c) => (typeof c === 'string' ? c : tree(c))),
  };
}

type Event =
  | { type: 'start'; name: string; attrs: Record<string, string>; ns: string }
  | { type: 'stanza'; tree: Tree; element: Element }
  | { type: 'end' }
  | { type: 'error'; condition: StreamErrorCondition; text: string };

function setup(limits?: Partial<ParserLimits>, onStanza?: (element: Element, parser: StreamParser) => void) {
  const events: Event[] = [];
  const parser: StreamParser = new StreamParser(
    {
      streamStart: (name, attrs, ns) => void events.push({ type: 'start', name, attrs: { ...attrs }, ns }),
      stanza: (element) => {
        events.push({ type: 'stanza', tree: tree(element), element });
        onStanza?.(element, parser);
      },
      streamEnd: () => void events.push({ type: 'end' }),
      error: (condition, text) => void events.push({ type: 'error', condition, text }),
    },
    limits,
  );
  const stanzas = () => events.flatMap((e) => (e.type === 'stanza' ? [e.element] : []));
  const errors = () => events.flatMap((e) => (e.type === 'error' ? [e] : []));
  return { parser, events, stanzas, errors };
}

/** Events without the live Element objects, for comparing two runs. */
function plain(events: Event[]): unknown[] {
  return events.map((e) => (e.type === 'stanza' ? { type: 'stanza', tree: e.tree } : e));
}

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

function parseAll(input: string, limits?: Partial<ParserLimits>) {
  const s = setup(limits);
  s.parser.write(Buffer.from(input));
  return s;
}

/** Parses HEADER + body and returns the single error it must produce. */
function errorOf(body: string, limits?: Partial<ParserLimits>): { condition: StreamErrorCondition; text: string } {
  const { errors } = parseAll(HEADER + body, limits);
  assert.equal(errors().length, 1, `expected one error for ${body}`);
  return errors()[0];
}

const SAMPLE =
  "<?xml version='1.0' encoding='UTF-8'?>" +
  "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' to='example.com' version='1.0' xml:lang='en'>\n" +
  "  <message to='juliet@example.com/balcony' from='roméo@example.net/orchard' type='chat' id='é😀中'>" +
  '<body>Wherefore art thou, Roméo? 😀 中文 &lt;3 &amp; &#x1F600; &#233; a&gt;b &quot;q&quot; &apos;a&apos;</body>' +
  "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>Hi <b>there</b>, <![CDATA[<raw> & é]]> end</p></body></html>" +
  "<foo:bar xmlns:foo='urn:x' foo:attr='1'><foo:baz/></foo:bar>" +
  '</message>\n \t ' +
  "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>" +
  "<db:result from='a.example' to='b.example'>key😀</db:result>" +
  "<presence><status>中\r\nline2</status></presence>" +
  '</stream:stream>';

test('chunking at every byte offset (and byte by byte) gives identical events', () => {
  const bytes = Buffer.from(SAMPLE);
  const whole = parseAll(SAMPLE);
  assert.deepEqual(whole.errors(), []);
  assert.equal(whole.stanzas().length, 4);
  assert.equal(whole.events.at(-1)?.type, 'end');
  const expected = plain(whole.events);

  for (let i = 0; i <= bytes.length; i++) {
    const { parser, events } = setup();
    parser.write(bytes.subarray(0, i));
    parser.write(bytes.subarray(i));
    assert.deepEqual(plain(events), expected, `split at byte ${i}`);
  }
  const one = setup();
  for (let i = 0; i < bytes.length; i++) one.parser.write(bytes.subarray(i, i + 1));
  assert.deepEqual(plain(one.events), expected, 'byte by byte');

  // Strings split anywhere (even between the halves of a surrogate pair) work too.
  const str = setup();
  for (let i = 0; i < SAMPLE.length; i += 3) str.parser.write(SAMPLE.slice(i, i + 3));
  assert.deepEqual(plain(str.events), expected, 'string chunks');
});

test('hibernate() between stanzas frees saxes; the next write goes on with the same namespaces, limits and events', () => {
  const bytes = Buffer.from(SAMPLE);
  const expected = plain(parseAll(SAMPLE).events);
  // Split anywhere and try to hibernate after the first part: it works only at a boundary between stanzas, and
  // the events never change.
  let hibernated = 0;
  for (let i = 0; i <= bytes.length; i++) {
    const { parser, events } = setup();
    parser.write(bytes.subarray(0, i));
    if (parser.hibernate()) hibernated++;
    parser.write(bytes.subarray(i));
    assert.deepEqual(plain(events), expected, `hibernated at byte ${i}`);
  }
  assert.ok(hibernated >= 5, `hibernated at ${hibernated} offsets`);

  // Mid-stanza, or before the stream header, it refuses.
  const partial = setup();
  assert.equal(partial.parser.hibernate(), false);
  partial.parser.write(HEADER + "<message><body>hel");
  assert.equal(partial.parser.hibernate(), false);
  partial.parser.write("lo</body></message>");
  assert.equal(partial.parser.hibernate(), true);

  // Root-declared prefixes still resolve, and the size limit still counts from the last boundary.
  const root = "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>";
  const prefixed = setup({ maxStanzaBytes: 60 });
  prefixed.parser.write(root + ' ');
  assert.equal(prefixed.parser.hibernate(), true);
  prefixed.parser.write("<db:verify id='1'>k</db:verify>");
  assert.equal(prefixed.parser.hibernate(), true);
  prefixed.parser.write("<message><body>" + 'x'.repeat(60) + '</body></message>');
  const [verify] = prefixed.stanzas();
  assert.equal(verify.ns, 'jabber:server:dialback');
  assert.deepEqual(verify.attrs, { id: '1', 'xmlns:db': 'jabber:server:dialback' });
  assert.equal(prefixed.errors()[0]?.condition, 'policy-violation');

  // A stream end and malformed input after hibernation are reported as ever.
  const ended = setup();
  ended.parser.write(HEADER);
  assert.equal(ended.parser.hibernate(), true);
  ended.parser.write('</stream:stream>');
  assert.equal(ended.events.at(-1)?.type, 'end');
  const broken = setup();
  broken.parser.write(HEADER);
  assert.equal(broken.parser.hibernate(), true);
  broken.parser.write('<message></iq>');
  assert.equal(broken.errors()[0]?.condition, 'not-well-formed');
});

test('the sample stream parses into the expected trees', () => {
  const { events, stanzas } = parseAll(SAMPLE);
  const start = events[0];
  assert.equal(start.type, 'start');
  if (start.type === 'start') {
    assert.equal(start.name, 'stream:stream');
    assert.equal(start.ns, 'http://etherx.jabber.org/streams');
    assert.equal(start.attrs.xmlns, 'jabber:client');
    assert.equal(start.attrs['xmlns:stream'], 'http://etherx.jabber.org/streams');
    assert.equal(start.attrs['xml:lang'], 'en');
  }
  const [message, iq, result, presence] = stanzas();
  assert.equal(message.ns, 'jabber:client');
  assert.equal(message.attrs.xmlns, undefined, 'no xmlns added to stanzas in the stream default namespace');
  assert.equal(message.attrs.from, 'roméo@example.net/orchard');
  assert.equal(message.attrs.id, 'é😀中');
  assert.equal(message.getChildText('body'), "Wherefore art thou, Roméo? 😀 中文 <3 & 😀 é a>b \"q\" 'a'");
  assert.equal(message.getChild('body')?.ns, 'jabber:client');
  const html = message.getChild('html', 'http://jabber.org/protocol/xhtml-im')!;
  assert.equal(html.attrs.xmlns, 'http://jabber.org/protocol/xhtml-im');
  const p = html.getChild('body', 'http://www.w3.org/1999/xhtml')!.getChild('p')!;
  assert.equal(p.ns, 'http://www.w3.org/1999/xhtml');
  assert.deepEqual(p.children.map((c) => (typeof c === 'string' ? c : c.name)), ['Hi ', 'b', ', <raw> & é end']);
  assert.equal(p.getChild('b')!.parent, p);
  const bar = message.getChild('bar', 'urn:x')!;
  assert.equal(bar.name, 'foo:bar');
  assert.deepEqual(bar.attrs, { 'xmlns:foo': 'urn:x', 'foo:attr': '1' });
  assert.equal(bar.getChild('baz')!.ns, 'urn:x');
  assert.equal(iq.getChild('ping')!.ns, 'urn:xmpp:ping');
  // A prefix declared only on the stream root is copied onto the stanza so it stands alone.
  assert.equal(result.name, 'db:result');
  assert.equal(result.ns, 'jabber:server:dialback');
  assert.equal(result.attrs['xmlns:db'], 'jabber:server:dialback');
  assert.equal(result.text(), 'key😀');
  // XML end-of-line handling: CR LF becomes LF.
  assert.equal(presence.getChildText('status'), '中\nline2');
  assert.equal(message.parent, null);
});

test('the XML declaration is accepted, with or without an encoding, and a BOM before it', () => {
  for (const decl of ["<?xml version='1.0'?>", '<?xml version="1.0" encoding="utf-8"?>', "\uFEFF<?xml version='1.0'?>", '']) {
    const { events, errors } = parseAll(decl + HEADER + '<presence/>');
    assert.deepEqual(errors(), [], decl);
    assert.deepEqual(events.map((e) => e.type), ['start', 'stanza'], decl);
  }
});

test('an encoding other than UTF-8 is unsupported-encoding; invalid UTF-8 is not-well-formed', () => {
  const { errors } = parseAll("<?xml version='1.0' encoding='ISO-8859-1'?>" + HEADER);
  assert.equal(errors()[0].condition, 'unsupported-encoding');
  const s = setup();
  s.parser.write(Buffer.from(HEADER + '<message><body>'));
  s.parser.write(Buffer.from([0x61, 0xc3, 0x28, 0x62]));
  assert.equal(s.errors().length, 1);
  assert.equal(s.errors()[0].condition, 'not-well-formed');
});

test('DOCTYPE, processing instructions, comments and undeclared entities are restricted-xml', () => {
  const cases = [
    '<!DOCTYPE stream>' + HEADER,
    "<!DOCTYPE stream [<!ENTITY x 'y'>]>" + HEADER + '<message><body>&x;</body></message>',
    HEADER + '<!DOCTYPE foo>',
    '<?xml-stylesheet href="a"?>' + HEADER,
    HEADER + '<?foo bar?>',
    HEADER + '<message><?foo bar?></message>',
    '<!-- hi -->' + HEADER,
    HEADER + '<!-- between stanzas -->',
    HEADER + '<message><body>a<!-- inside -->b</body></message>',
    HEADER + '<message><body>&nbsp;</body></message>',
    HEADER + "<message to='&ent;'/>",
    HEADER + '&foo;',
  ];
  for (const input of cases) {
    const { errors, stanzas } = parseAll(input);
    assert.equal(errors().length, 1, input);
    assert.equal(errors()[0].condition, 'restricted-xml', `${input}: ${errors()[0].text}`);
    assert.equal(stanzas().length, 0, input);
  }
});

test('predefined entities, character references and CDATA are fine', () => {
  const { errors, stanzas } = parseAll(HEADER + "<message id='&lt;&gt;&amp;&quot;&apos;&#65;&#x42;'><body><![CDATA[<not a tag>]]>&#10;</body></message>");
  assert.deepEqual(errors(), []);
  assert.equal(stanzas()[0].attrs.id, '<>&"\'AB');
  assert.equal(stanzas()[0].getChildText('body'), '<not a tag>\n');
});

test('malformed XML is not-well-formed', () => {
  const cases = [
    '<message><body></message>',
    '<message></iq>',
    '<message><body>\u0001</body></message>',
    "<message id='a' id='b'/>",
    "<message xmlns:a='urn:a' xmlns:b='urn:a' a:x='1' b:x='2'/>",
    '<foo:bar/>',
    "<message><x:y xmlns:z='urn:z'/></message>",
    "<message q:attr='1'/>",
    '<message><body>]]></body></message>',
    '<message <body/>',
    '<message id=unquoted/>',
    '<message>&#1;</message>',
    '</x>',
  ];
  for (const body of cases) {
    const error = errorOf(body);
    assert.equal(error.condition, 'not-well-formed', `${body}: ${error.text}`);
    assert.ok(error.text.length > 0);
  }
  assert.equal(parseAll('text before the root' + HEADER).errors()[0].condition, 'not-well-formed');
});

test('no callbacks after the first error', () => {
  const s = setup();
  s.parser.write(Buffer.from(HEADER + '<presence/><message><body>\u0001</body></message><presence/><iq/></stream:stream>'));
  s.parser.write(Buffer.from('<presence/>'));
  assert.deepEqual(s.events.map((e) => e.type), ['start', 'stanza', 'error']);

  // A close tag that does not match never delivers the element it seemed to close ...
  const bogus = parseAll(HEADER + '<message></iq><presence/>');
  assert.deepEqual(bogus.events.map((e) => e.type), ['start', 'error']);
  const bogusEnd = parseAll(HEADER + '</stream:foo>');
  assert.deepEqual(bogusEnd.events.map((e) => e.type), ['start', 'error']);
  // ... but a complete stanza before a bad close tag is delivered.
  const selfClosed = parseAll(HEADER + '<message/></x>');
  assert.deepEqual(selfClosed.events.map((e) => e.type), ['start', 'stanza', 'error']);
});

test('streamEnd fires at </stream:stream> and nothing after it is read', () => {
  const s = setup();
  s.parser.write(HEADER + '<presence/> </stream:stream><message/>garbage');
  s.parser.write('<message/>');
  assert.deepEqual(s.events.map((e) => e.type), ['start', 'stanza', 'end']);
  const split = setup();
  split.parser.write(HEADER + '<presence/></stream:str');
  assert.deepEqual(split.events.map((e) => e.type), ['start', 'stanza']);
  split.parser.write('eam>');
  assert.deepEqual(split.events.map((e) => e.type), ['start', 'stanza', 'end']);
});

test('a stanza over maxStanzaBytes is a policy-violation; the limit is exact, in bytes', () => {
  const stanza = "<message id='é😀'><body>中文 é 😀 &amp;</body></message>";
  const size = Buffer.byteLength(stanza);
  for (const limit of [size, size - 1]) {
    for (const mode of ['whole', 'bytes']) {
      const s = setup({ maxStanzaBytes: limit });
      const input = Buffer.from("<stream xmlns='jabber:client'> " + stanza + ' ');
      if (mode === 'whole') s.parser.write(input);
      else for (let i = 0; i < input.length; i++) s.parser.write(input.subarray(i, i + 1));
      if (limit === size) {
        assert.deepEqual(s.errors(), [], `${mode}, limit ${limit}`);
        assert.equal(s.stanzas().length, 1);
      } else {
        assert.deepEqual(s.errors(), [{ type: 'error', condition: 'policy-violation', text: `stanza too large (limit ${limit} bytes)` }], `${mode}, limit ${limit}`);
        assert.equal(s.stanzas().length, 0);
      }
    }
  }
});

test('the byte count stays exact for stanzas longer than one internal slice, fed as bytes or as split strings', () => {
  const stanza = `<message><body>${'é😀中a'.repeat(8000)}</body></message>`;
  const size = Buffer.byteLength(stanza);
  const input = "<stream xmlns='jabber:client'>" + stanza;
  const feeds: [string, (parser: StreamParser) => void][] = [
    ['one buffer', (parser) => parser.write(Buffer.from(input))],
    ['7-byte buffers', (parser) => {
      const bytes = Buffer.from(input);
      for (let i = 0; i < bytes.length; i += 7) parser.write(bytes.subarray(i, i + 7));
    }],
    // 1001 UTF-16 units: some pieces end between the halves of a surrogate pair.
    ['split strings', (parser) => {
      for (let i = 0; i < input.length; i += 1001) parser.write(input.slice(i, i + 1001));
    }],
  ];
  for (const [mode, feed] of feeds) {
    const ok = setup({ maxStanzaBytes: size });
    feed(ok.parser);
    assert.deepEqual(ok.errors(), [], mode);
    assert.equal(ok.stanzas().length, 1, mode);
    const over = setup({ maxStanzaBytes: size - 1 });
    feed(over.parser);
    assert.equal(over.errors()[0]?.condition, 'policy-violation', mode);
    assert.equal(over.stanzas().length, 0, mode);
  }
});

test('a trickled, never-ending stanza is cut off as soon as it crosses the limit', () => {
  const limit = 1000;
  const s = setup({ maxStanzaBytes: limit });
  s.parser.write(HEADER);
  const open = "<message to='a@b'><body>";
  s.parser.write(open);
  let fed = open.length;
  while (s.errors().length === 0 && fed < 10 * limit) {
    s.parser.write('x');
    fed++;
  }
  assert.equal(s.errors()[0]?.condition, 'policy-violation');
  assert.equal(fed, limit + 1, 'error on the first byte over the limit');

  // One huge write of an unterminated stanza is stopped too (saxes gets it in slices).
  const big = setup({ maxStanzaBytes: limit });
  big.parser.write(HEADER + "<message><body>" + 'y'.repeat(5_000_000));
  assert.equal(big.errors()[0]?.condition, 'policy-violation');
  // Same for an endless attribute value or element name.
  for (const body of ["<message id='" + 'z'.repeat(5000), '<' + 'n'.repeat(5000)]) {
    const t = setup({ maxStanzaBytes: limit });
    t.parser.write(HEADER);
    for (let i = 0; i < body.length; i += 100) t.parser.write(body.slice(i, i + 100));
    assert.equal(t.errors()[0]?.condition, 'policy-violation', body.slice(0, 20));
  }
});

test('text between stanzas and the stream header count toward the limit', () => {
  const s = setup({ maxStanzaBytes: 500 });
  s.parser.write(HEADER);
  for (let i = 0; i < 400; i++) s.parser.write(' ');
  s.parser.write('<presence/>');
  for (let i = 0; i < 400; i++) s.parser.write(' ');
  assert.deepEqual(s.errors(), [], 'the budget restarts after each stanza');
  for (let i = 0; i < 200 && s.errors().length === 0; i++) s.parser.write(' ');
  assert.equal(s.errors()[0]?.condition, 'policy-violation');
  assert.match(s.errors()[0].text, /between stanzas/);

  const header = setup({ maxStanzaBytes: 500 });
  const long = HEADER.slice(0, -1) + " a='" + 'x'.repeat(1000) + "'>";
  for (let i = 0; i < long.length; i += 10) header.parser.write(long.slice(i, i + 10));
  assert.equal(header.errors()[0]?.condition, 'policy-violation');
  assert.match(header.errors()[0].text, /header/);
});

test('element depth is limited (root 0, stanza 1)', () => {
  const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  assert.deepEqual(parseAll(HEADER + nest(3), { maxDepth: 3 }).errors(), []);
  const error = errorOf(nest(4), { maxDepth: 3 });
  assert.equal(error.condition, 'policy-violation');
  assert.match(error.text, /limit 3/);
  // The default limit is 32.
  assert.deepEqual(parseAll(HEADER + nest(32)).errors(), []);
  assert.equal(parseAll(HEADER + nest(33)).errors()[0].condition, 'policy-violation');
});

test('attributes per element are limited, namespace declarations included', () => {
  const root = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  assert.deepEqual(parseAll(root + "<message a='1' b='2' xmlns='jabber:client'/>", { maxAttributes: 3 }).errors(), []);
  const { errors } = parseAll(root + "<message a='1' b='2' c='3' xmlns='jabber:client'/>", { maxAttributes: 3 });
  const error = errors()[0];
  assert.equal(error.condition, 'policy-violation');
  assert.match(error.text, /attributes/);
  assert.equal(errorOf('<message><x ' + Array.from({ length: 65 }, (_, i) => `a${i}='v'`).join(' ') + '/></message>').condition, 'policy-violation');
});

test('reset() from a handler restarts the stream and drops the rest of the chunk (STARTTLS)', () => {
  const s = setup(undefined, (element, parser) => {
    if (element.name === 'starttls') parser.reset();
  });
  // Bytes after <starttls/> in the same chunk must not reach the new stream (command injection).
  s.parser.write(Buffer.from(HEADER + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message>injected</message>"));
  assert.deepEqual(s.events.map((e) => e.type), ['start', 'stanza']);
  s.parser.write(Buffer.from("<?xml version='1.0'?>" + HEADER + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
  assert.deepEqual(s.events.map((e) => e.type), ['start', 'stanza', 'start', 'stanza']);
  assert.equal(s.stanzas()[1].name, 'auth');
  // And again from outside a handler (SASL success is sent asynchronously).
  s.parser.reset();
  s.parser.write(Buffer.from("<?xml version='1.0'?>" + HEADER + '<iq/></stream:stream>'));
  assert.deepEqual(s.events.slice(4).map((e) => e.type), ['start', 'stanza', 'end']);
  assert.deepEqual(s.errors(), []);
});

test('reset() revives a parser after an error; close() stops it, also from a handler', () => {
  const s = setup();
  s.parser.write(HEADER + '<!-- no -->');
  assert.equal(s.errors().length, 1);
  s.parser.reset();
  s.parser.write(HEADER + '<presence/>');
  assert.deepEqual(s.events.map((e) => e.type), ['start', 'error', 'start', 'stanza']);
  s.parser.close();
  s.parser.write('<presence/>');
  assert.equal(s.events.length, 4);

  const c = setup(undefined, (_element, parser) => parser.close());
  c.parser.write(HEADER + '<presence/><presence/><presence/>');
  assert.deepEqual(c.events.map((e) => e.type), ['start', 'stanza']);
});

test('namespaces: prefixed stanzas, root-declared prefixes, redeclared defaults', () => {
  const root =
    "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' xmlns:x='urn:x'>";
  const { stanzas, errors } = parseAll(
    root +
      "<foo:bar xmlns:foo='urn:foo'><foo:baz/></foo:bar>" +
      "<db:verify id='1'>k</db:verify>" +
      "<message><x:thing x:flag='1'/></message>" +
      "<iq x:flag='y'/>" +
      "<message xmlns:x='urn:other'><x:thing/></message>" +
      "<message><inner xmlns:db='urn:elsewhere'><db:q/></inner></message>" +
      '<stream:error><host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>' +
      "<message xmlns='jabber:client'><body/></message>" +
      "<features xmlns='http://etherx.jabber.org/streams'/>",
  );
  assert.deepEqual(errors(), []);
  const [foo, verify, withThing, iq, redeclared, innerDb, streamError, client, unprefixed] = stanzas();
  assert.equal(foo.name, 'foo:bar');
  assert.equal(foo.ns, 'urn:foo');
  assert.deepEqual(foo.attrs, { 'xmlns:foo': 'urn:foo' });
  assert.equal(foo.getChild('baz')!.ns, 'urn:foo');

  assert.equal(verify.ns, 'jabber:server:dialback');
  assert.deepEqual(verify.attrs, { id: '1', 'xmlns:db': 'jabber:server:dialback' });
  // A root prefix used deeper inside, on an element or on an attribute, is declared on the stanza.
  assert.deepEqual(withThing.attrs, { 'xmlns:x': 'urn:x' });
  assert.equal(withThing.ns, 'jabber:server');
  assert.equal(withThing.getChild('thing')!.ns, 'urn:x');
  assert.deepEqual(iq.attrs, { 'x:flag': 'y', 'xmlns:x': 'urn:x' });
  // Redeclared inside the stanza: nothing to add.
  assert.deepEqual(redeclared.attrs, { 'xmlns:x': 'urn:other' });
  assert.equal(redeclared.getChild('thing')!.ns, 'urn:other');
  assert.deepEqual(innerDb.attrs, {});
  // The stream prefix is not copied.
  assert.equal(streamError.ns, 'http://etherx.jabber.org/streams');
  assert.deepEqual(streamError.attrs, {});
  assert.equal(streamError.getChild('host-unknown')!.ns, 'urn:ietf:params:xml:ns:xmpp-streams');
  // A top-level child that redeclares the default namespace keeps its xmlns.
  assert.deepEqual(client.attrs, { xmlns: 'jabber:client' });
  assert.equal(client.getChild('body')!.ns, 'jabber:client');
  assert.equal(unprefixed.ns, 'http://etherx.jabber.org/streams');

  // Every stanza serializes to something that parses to the same tree in a stream that declares
  // nothing but the default namespace and the stream prefix.
  for (const stanza of stanzas().slice(0, 8)) {
    const again = parseAll("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>" + serialize(stanza));
    assert.deepEqual(again.errors(), [], serialize(stanza));
    assert.deepEqual(tree(again.stanzas()[0]), tree(stanza));
  }
});

test('round trip through serialize: well-formed, & < > " escaped, same tree', () => {
  const input =
    HEADER +
    "<message to='a&amp;b@example.com' id='&quot;x&apos;&lt;&gt;' type='chat'><body>1 &lt; 2 &amp;&amp; 3 &gt; 2 \"quoted\" 'single' é😀中 ]]&gt; &#13;</body>" +
    "<data xmlns='urn:x' attr='tab&#9;nl&#10;cr&#13;'/></message>";
  const first = parseAll(input);
  assert.deepEqual(first.errors(), []);
  const message = first.stanzas()[0];
  const out = serialize(message);
  assert.ok(out.includes('to="a&amp;b@example.com"'), out);
  assert.ok(out.includes('id="&quot;x&apos;&lt;&gt;"'), out);
  assert.ok(out.includes('1 &lt; 2 &amp;&amp; 3 &gt; 2 "quoted"'), out);
  assert.ok(!/<body>[^<]*[<&][^/]/.test(out.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, '')), out);
  const second = parseAll(HEADER + out);
  assert.deepEqual(second.errors(), []);
  assert.deepEqual(tree(second.stanzas()[0]), tree(message));
  assert.equal(message.getChildText('body'), '1 < 2 && 3 > 2 "quoted" \'single\' é😀中 ]]> \r');
  assert.equal(message.getChild('data')!.attrs.attr, 'tab\tnl\ncr\r');
});

test('attribute names that are Object.prototype keys are kept as attributes', () => {
  const { stanzas, errors } = parseAll(HEADER + "<message __proto__='p' constructor='c' toString='t'/>");
  assert.deepEqual(errors(), []);
  const attrs = stanzas()[0].attrs;
  assert.deepEqual(Object.keys(attrs), ['__proto__', 'constructor', 'toString']);
  assert.equal(attrs['__proto__'], 'p');
  assert.equal(Object.getPrototypeOf(attrs), Object.prototype);
  assert.ok(serialize(stanzas()[0]).includes('__proto__="p"'));
});

test('throughput sanity (printed, not asserted)', () => {
  const stanza =
    "<message to='juliet@example.com/balcony' from='romeo@example.net/orchard' type='chat' id='abc123'>" +
    "<body>Art thou not Romeo, and a Montague? é😀</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";
  const chunk = Buffer.from(stanza.repeat(100));
  let count = 0;
  const parser = new StreamParser({ streamStart() {}, stanza: () => void count++, streamEnd() {}, error: (c, t) => assert.fail(`${c}: ${t}`) });
  parser.write(HEADER);
  const rounds = 300;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) parser.write(chunk);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(count, rounds * 100);
  const mb = (chunk.length * rounds) / 1e6;
  console.log(`# parser: ${count} stanzas, ${mb.toFixed(1)} MB in ${ms.toFixed(0)} ms: ${(count / (ms / 1000)).toFixed(0)} stanzas/s, ${(mb / (ms / 1000)).toFixed(1)} MB/s`);
});
