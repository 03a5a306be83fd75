import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jid, JidError, makeJid, parseJid, prepDomain, prepLocalpart, prepResource, tryParseJid } from './index.js';

function parts(text: string): [string, string, string] {
  const j = parseJid(text);
  return [j.local, j.domain, j.resource];
}

function assertInvalid(text: string, why?: RegExp): void {
  assert.throws(
    () => parseJid(text),
    (err: unknown) => {
      assert.ok(err instanceof JidError, `expected JidError for ${JSON.stringify(text)}`);
      assert.equal(err.condition, 'jid-malformed');
      if (why) assert.match(err.message, why);
      return true;
    },
    `expected ${JSON.stringify(text)} to be rejected`,
  );
  assert.equal(tryParseJid(text), null);
}

test('RFC 7622 §3.5.1: valid JIDs', () => {
  assert.deepEqual(parts('juliet@example.com'), ['juliet', 'example.com', '']);
  assert.deepEqual(parts('juliet@example.com/foo'), ['juliet', 'example.com', 'foo']);
  assert.deepEqual(parts('juliet@example.com/foo bar'), ['juliet', 'example.com', 'foo bar']);
  assert.deepEqual(parts('juliet@example.com/foo@bar'), ['juliet', 'example.com', 'foo@bar']);
  assert.deepEqual(parts('foo\\20bar@example.com'), ['foo\\20bar', 'example.com', '']);
  assert.deepEqual(parts('fussball@example.com'), ['fussball', 'example.com', '']);
  assert.deepEqual(parts('fu\u00dfball@example.com'), ['fu\u00dfball', 'example.com', '']); // ß is kept
  assert.deepEqual(parts('\u03c0@example.com'), ['\u03c0', 'example.com', '']);
  assert.deepEqual(parts('\u03a3@example.com/foo'), ['\u03c3', 'example.com', 'foo']); // Σ -> σ
  assert.deepEqual(parts('\u03c3@example.com/foo'), ['\u03c3', 'example.com', 'foo']);
  assert.deepEqual(parts('\u03c2@example.com/foo'), ['\u03c2', 'example.com', 'foo']); // ς is not folded to σ
  assert.deepEqual(parts('king@example.com/\u265a'), ['king', 'example.com', '\u265a']);
  assert.deepEqual(parts('example.com'), ['', 'example.com', '']);
  assert.deepEqual(parts('example.com/foobar'), ['', 'example.com', 'foobar']);
  assert.deepEqual(parts('a.example.com/b@example.net'), ['', 'a.example.com', 'b@example.net']);
});

test('RFC 7622 §3.5.2: invalid JIDs', () => {
  assertInvalid('"juliet"@example.com', /localpart/);
  assertInvalid('foo bar@example.com', /localpart/);
  assertInvalid('@example.com/', /empty/);
  assertInvalid('henry\u2163@example.com', /U\+2173/); // ROMAN NUMERAL FOUR, lowercased to U+2173: both have compatibility decompositions
  assertInvalid('\u265a@example.com', /U\+265A/); // a symbol, not in IdentifierClass
  assertInvalid('juliet@', /domainpart is empty/);
  assertInvalid('/foobar', /domainpart is empty/);
});

test('RFC 7622 errata 4560: a resourcepart may start with a space', () => {
  assert.equal(parseJid('juliet@example.com/ foo').resource, ' foo');
});

test('parsing order: first slash, then the first @ before it (RFC 7622 §3.1)', () => {
  assert.deepEqual(parts('a@b/c@d/e'), ['a', 'b', 'c@d/e']);
  assert.deepEqual(parts('b/c/d'), ['', 'b', 'c/d']);
  assertInvalid('a@b@c', /domainpart/);
  assertInvalid('juliet@example.com/', /resourcepart is empty/);
  assertInvalid('@example.com', /localpart is empty/);
  assertInvalid('', /domainpart is empty/);
  assertInvalid('/', /empty/);
});

test('localpart and domain are case-folded, the resource keeps its case', () => {
  const j = parseJid('Juliet@Example.COM/Balcony');
  assert.equal(j.full, 'juliet@example.com/Balcony');
  assert.equal(parseJid('ÉLODIE@example.com').local, 'élodie');
  assert.equal(parseJid('ΑΣ@example.com').local, 'ας'); // Unicode toLowerCase applies Final_Sigma
});

test('fullwidth and halfwidth forms are mapped in the localpart, not in the resource', () => {
  assert.equal(prepLocalpart('\uff2a\uff55\uff4c\uff49\uff45\uff54'), 'juliet'); // Ｊｕｌｉｅｔ
  assert.equal(prepLocalpart('\uff76\uff9e'), '\u30ac'); // halfwidth ｶﾞ -> ガ after NFC
  assert.throws(() => prepLocalpart('a\uff20b'), /'@'/); // fullwidth ＠ becomes a forbidden '@'
  assert.equal(prepResource('\uff21'), '\uff21'); // OpaqueString keeps width
  assert.equal(prepResource('a\u00a0b\u3000c'), 'a b c'); // non-ASCII spaces become U+0020
});

test('NFC is applied to localpart and resource', () => {
  assert.equal(prepLocalpart('e\u0301'), '\u00e9');
  assert.equal(prepResource('A\u030a'), '\u00c5');
  assert.equal(prepResource('\u212b'), '\u00c5'); // ANGSTROM SIGN, a singleton decomposition
});

test('RFC 7622 §3.3.1: characters excluded from the localpart', () => {
  for (const c of ['"', '&', "'", '/', ':', '<', '>', '@']) {
    assert.throws(() => prepLocalpart(`a${c}b`), JidError, c);
  }
  assert.equal(prepLocalpart('a!#$%*+=?^_`{|}~-b\\c'), 'a!#$%*+=?^_`{|}~-b\\c');
});

test('IdentifierClass rejects spaces, controls, symbols and compatibility characters in the localpart', () => {
  for (const bad of ['a b', 'a\u00a0b', 'a\u0000b', 'a\u0007b', 'a\u007fb', 'a\u0085b', 'a\u2163b', '\ufb01', 'a\u00adb', 'a\u200bb', 'a\ufeffb', '\u20ac', '\u00a9', 'a\u2028b', '\ud800', '\ue000', '\u1100', 'a\u0640b', '\u{1f600}']) {
    assert.throws(() => prepLocalpart(bad), JidError, JSON.stringify(bad));
  }
  assert.throws(() => prepLocalpart('\u0378'), /unassigned/); // unassigned in every Unicode version so far
  assert.equal(prepLocalpart('\u4e2d\u6587'), '\u4e2d\u6587');
  assert.equal(prepLocalpart('\u0928\u092e\u0938\u094d\u0924\u0947'), '\u0928\u092e\u0938\u094d\u0924\u0947'); // Devanagari with virama
});

test('FreeformClass allows symbols, punctuation and spaces in the resource, not controls', () => {
  assert.equal(prepResource('\u265a \u20ac \u00a9 \u2163 \ufb01!'), '\u265a \u20ac \u00a9 \u2163 \ufb01!');
  for (const bad of ['a\u0000', 'a\tb', 'a\nb', 'a\u007f', 'a\u0085', 'a\u00adb', 'a\u200bb', '\u1100', '\ud800', 'a\u0378', 'a\ufffe', 'a\u2028b']) {
    assert.throws(() => prepResource(bad), JidError, JSON.stringify(bad));
  }
  assert.throws(() => parseJid('juliet@example.com/foo\u0001'), /U\+0001/);
});

test('contextual rules (RFC 5892 Appendix A)', () => {
  assert.equal(prepLocalpart('l\u00b7l'), 'l\u00b7l'); // Catalan middle dot between two l
  assert.throws(() => prepLocalpart('a\u00b7b'), /context/);
  assert.throws(() => prepResource('a\u00b7b'), /context/); // exceptions apply to FreeformClass too
  assert.equal(prepLocalpart('\u0375\u03b1'), '\u0375\u03b1'); // keraia before Greek
  assert.throws(() => prepLocalpart('\u0375a'), /context/);
  assert.equal(prepLocalpart('\u05d0\u05f3'), '\u05d0\u05f3'); // geresh after Hebrew
  assert.throws(() => prepLocalpart('a\u05f4'), /context/);
  assert.equal(prepLocalpart('\u30a2\u30fb\u30a4'), '\u30a2\u30fb\u30a4'); // katakana middle dot with katakana
  assert.throws(() => prepLocalpart('a\u30fbb'), /context/);
  assert.equal(prepLocalpart('\u0627\u0661\u0662'), '\u0627\u0661\u0662');
  assert.throws(() => prepLocalpart('\u0627\u0661\u06f2'), /context/); // Arabic-Indic mixed with extended digits
  assert.equal(prepLocalpart('\u0915\u094d\u200d\u0937'), '\u0915\u094d\u200d\u0937'); // ZWJ after virama
  assert.throws(() => prepLocalpart('a\u200db'), /context/);
  assert.equal(prepLocalpart('\u0628\u200c\u0628'), '\u0628\u200c\u0628'); // ZWNJ between dual-joining letters
  assert.equal(prepLocalpart('\u0628\u064e\u200c\u0628'), '\u0628\u064e\u200c\u0628'); // transparent mark skipped
  assert.throws(() => prepLocalpart('a\u200cb'), /context/);
  assert.throws(() => prepLocalpart('\u0627\u200c\u0628'), /context/); // ALEF is right-joining only
});

test('the Bidi Rule applies to right-to-left localparts (RFC 5893 §2)', () => {
  assert.equal(prepLocalpart('\u05d0\u05d1'), '\u05d0\u05d1');
  assert.equal(prepLocalpart('\u05d0\u05d11'), '\u05d0\u05d11'); // may end with a European digit
  assert.equal(prepLocalpart('\u0627\u0644\u0639\u0631\u0628\u064a\u0629'), '\u0627\u0644\u0639\u0631\u0628\u064a\u0629');
  assert.equal(prepLocalpart('\u05d0\u05b8'), '\u05d0\u05b8'); // trailing NSM
  assert.throws(() => prepLocalpart('a\u05d0'), /Bidi/); // LTR start
  assert.throws(() => prepLocalpart('1\u05d0'), /Bidi/); // starts with a digit
  assert.throws(() => prepLocalpart('\u05d0a'), /Bidi/); // L inside RTL
  assert.throws(() => prepLocalpart('\u05d0-'), /Bidi/); // ends with a neutral
  assert.throws(() => prepLocalpart('\u0627\u06f1\u0661'), JidError); // EN and AN together
  assert.equal(prepResource('a\u05d0'), 'a\u05d0'); // OpaqueString has no directionality rule
  assertInvalid('a\u05d0@example.com', /Bidi/);
});

test('each part is 1..1023 octets of UTF-8 after preparation', () => {
  const l1023 = 'a'.repeat(1023);
  assert.equal(prepLocalpart(l1023), l1023);
  assert.throws(() => prepLocalpart('a'.repeat(1024)), /1023 octets/);
  assert.equal(prepResource('R'.repeat(1023)), 'R'.repeat(1023));
  assert.throws(() => prepResource('R'.repeat(1024)), /1023 octets/);
  assert.equal(prepLocalpart('\u00e9'.repeat(511) + 'a'), '\u00e9'.repeat(511) + 'a'); // 1023 octets
  assert.throws(() => prepLocalpart('\u00e9'.repeat(512)), /1023 octets/); // 1024 octets in 512 characters
  assert.throws(() => prepResource('\u20ac'.repeat(342)), /1023 octets/); // 1026 octets
  assert.throws(() => prepLocalpart('E\u0301'.repeat(512)), /1023 octets/); // length counted after NFC: 512 × é
  const label = 'a'.repeat(63);
  const domain1023 = Array(16).fill(label).join('.'); // 16 × 63 + 15 = 1023
  assert.equal(domain1023.length, 1023);
  assert.equal(prepDomain(domain1023), domain1023);
  assert.throws(() => prepDomain(domain1023 + 'a'), /63 octets|1023 octets/);
  assert.throws(() => prepDomain(Array(16).fill(label).join('.') + '.a'), /1023 octets/);
  assert.equal(parseJid(`${l1023}@${domain1023}/${'r'.repeat(1023)}`).full.length, 3071);
});

test('domain labels are at most 63 octets (on the A-label)', () => {
  assert.equal(prepDomain('a'.repeat(63) + '.com'), 'a'.repeat(63) + '.com');
  assert.throws(() => prepDomain('a'.repeat(64) + '.com'), /63 octets/);
  assert.throws(() => prepDomain('\u00fc'.repeat(60) + '.com'), /63 octets/); // A-label is longer than 63
});

test('domainpart: trailing dot, case, IDNA', () => {
  assert.equal(prepDomain('example.com.'), 'example.com');
  assert.equal(parseJid('juliet@example.com./r').domain, 'example.com');
  assert.equal(prepDomain('EXAMPLE.com'), 'example.com');
  assert.equal(prepDomain('\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com'), 'example.com'); // fullwidth
  assert.equal(prepDomain('example\u3002com'), 'example.com'); // ideographic full stop
  assert.equal(prepDomain('B\u00dcCHER.example'), 'b\u00fccher.example');
  assert.equal(prepDomain('xn--bcher-kva.example'), 'b\u00fccher.example'); // A-label -> U-label
  assert.equal(prepDomain('XN--BCHER-KVA.example'), 'b\u00fccher.example');
  assert.equal(prepDomain('fa\u00df.de'), 'fa\u00df.de'); // IDNA2008: ß is kept (no transitional mapping)
  assert.equal(prepDomain('\u05d0\u05d1.example'), '\u05d0\u05d1.example');
  assert.equal(prepDomain('\u00fc.1'), '\u00fc.1'); // not mistaken for an IPv4 address
  assert.equal(prepDomain('1.2.3'), '1.2.3');
  assert.equal(prepDomain('conference_x.example.com'), 'conference_x.example.com');
  assert.equal(parseJid('juliet@\u00dc.example').bare, 'juliet@\u00fc.example');
});

test('domainpart: rejected forms', () => {
  for (const bad of ['example.com..', '.example.com', 'a..b', '-a.com', 'a-.com', 'a b.com', 'a%20b', 'a:b', 'a<b', 'a*b', 'a\\b', 'a\u0000b', 'xn--zz.com', '\u265a.com', '\u2163.com', 'exa\u00admple.com', 'a\u200db.com', '\u05d0a.com', '\u0301a.com', 'ab\u0640.com', 'a\u20d0.com', '[::1', '[zz::1]', '[fe80::1%eth0]', 'a\uff0fb', '.', '..']) {
    assert.throws(() => prepDomain(bad), JidError, JSON.stringify(bad));
  }
  assertInvalid('juliet@exa mple.com', /domainpart/);
  assertInvalid('juliet@\u265a.example', /U\+265A/);
});

test('domainpart: the Bidi Rule covers every label of a domain with right-to-left text (RFC 5893 §2)', () => {
  assert.equal(prepDomain('\u05d0\u05d1.example'), '\u05d0\u05d1.example');
  assert.equal(prepDomain('\u05d01.example'), '\u05d01.example');
  assert.equal(prepDomain('\u0645\u062b\u0627\u0644.\u0625\u062e\u062a\u0628\u0627\u0631'), '\u0645\u062b\u0627\u0644.\u0625\u062e\u062a\u0628\u0627\u0631');
  assert.throws(() => prepDomain('1\u05d0.example'), /Bidi/);
  assert.throws(() => prepDomain('a\u05d0.example'), /Bidi|IDNA/);
  assert.throws(() => prepDomain('\u05d0.1example'), /Bidi/); // an LTR label must not start with a digit here
  assert.equal(prepDomain('1example.com'), '1example.com'); // but may without right-to-left labels
});

test('IP literals are domainparts', () => {
  assert.deepEqual(parts('juliet@127.0.0.1/r'), ['juliet', '127.0.0.1', 'r']);
  assert.deepEqual(parts('juliet@[::1]/r'), ['juliet', '[::1]', 'r']);
  assert.deepEqual(parts('[2001:DB8:0:0::1]'), ['', '[2001:db8::1]', '']); // RFC 5952 form
  assert.ok(parseJid('[::1]').equals(parseJid('[0:0::1]')));
});

test('Jid: bare, full, bareJid, withResource, equality', () => {
  const full = parseJid('Romeo@Example.net/Orchard');
  assert.equal(full.bare, 'romeo@example.net');
  assert.equal(full.full, 'romeo@example.net/Orchard');
  assert.equal(full.toString(), full.full);
  assert.equal(`${full}`, 'romeo@example.net/Orchard');
  assert.equal(full.isBare(), false);
  const bare = full.bareJid();
  assert.equal(bare.full, 'romeo@example.net');
  assert.equal(bare.isBare(), true);
  assert.equal(bare.bareJid(), bare);
  assert.equal(full.bareJid(), bare); // cached
  assert.ok(bare.equals(parseJid('romeo@EXAMPLE.net')));
  assert.ok(!bare.equals(full));
  assert.ok(full.equals(makeJid('ROMEO', 'example.net', 'Orchard')));
  assert.ok(!full.equals(makeJid('romeo', 'example.net', 'orchard')));
  const moved = bare.withResource('Balcony\u00a0Scene');
  assert.equal(moved.full, 'romeo@example.net/Balcony Scene');
  assert.throws(() => bare.withResource(''), JidError);
  assert.throws(() => bare.withResource('a\u0000'), JidError);
  const domainOnly = parseJid('example.net');
  assert.equal(domainOnly.bare, 'example.net');
  assert.equal(domainOnly.local, '');
  assert.equal(domainOnly.withResource('x').full, 'example.net/x');
});

test('makeJid prepares each part; empty local or resource means absent', () => {
  const j = makeJid('Juliet', 'Example.COM.', 'Phone');
  assert.deepEqual([j.local, j.domain, j.resource], ['juliet', 'example.com', 'Phone']);
  assert.equal(makeJid('', 'example.com').full, 'example.com');
  assert.equal(makeJid('a', 'example.com', '').full, 'a@example.com');
  assert.throws(() => makeJid('a@b', 'example.com'), JidError);
  assert.throws(() => makeJid('a', 'exa/mple.com'), JidError);
  assert.throws(() => makeJid('a', ''), JidError);
  // A resource from makeJid may hold '/' and '@', and the result parses back to the same JID.
  const odd = makeJid('a', 'b', 'c/d@e');
  assert.ok(parseJid(odd.full).equals(odd));
});

test('tryParseJid returns null for missing or invalid input', () => {
  assert.equal(tryParseJid(undefined), null);
  assert.equal(tryParseJid(null), null);
  assert.equal(tryParseJid('juliet@'), null);
  assert.ok(tryParseJid('juliet@example.com') instanceof Jid);
});

test('error messages say what is wrong and carry the jid-malformed condition', () => {
  try {
    parseJid('henry\u2163@example.com');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof JidError);
    assert.equal(err.name, 'JidError');
    assert.equal(err.condition, 'jid-malformed');
    assert.match(err.message, /^invalid JID "henry\u2163@example.com": localpart contains U\+2173 '\u2173' \(after PRECIS mapping\), which is not allowed/);
  }
});

test('the Jid constructor cannot be used to skip preparation', () => {
  const Ctor = Jid as unknown as new (...args: unknown[]) => Jid;
  assert.throws(() => new Ctor(Symbol('prepared JID parts'), 'A B', 'x', ''), TypeError);
});

test('preparation is idempotent on prepared parts', () => {
  for (const text of ['Juliet@Example.com/Foo', '\u03a3@example.com/foo', 'xn--bcher-kva.example/\u265a', '\uff2a@\uff25.com/\u00a0x']) {
    const j = parseJid(text);
    assert.equal(parseJid(j.full).full, j.full);
    assert.equal(prepLocalpart(j.local || 'x'), j.local || 'x');
    assert.equal(prepDomain(j.domain), j.domain);
  }
});

test('parsed JIDs are cached and shared', () => {
  assert.equal(parseJid('cache@example.com/r'), parseJid('cache@example.com/r'));
  for (let i = 0; i < 3000; i++) parseJid(`user${i}@example.com`); // the cache stays bounded
  assert.equal(parseJid('user2999@example.com').local, 'user2999');
});
