// XEP-0115 §5.1: the verification string of a disco#info result, and the §5.4 checks that make a result
// ill-formed. Shared by the server's own caps and the checking of clients' caps.
import { createHash } from 'node:crypto';
import type { Element } from '../../core/xml/element.js';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DATA_FORMS = 'jabber:x:data';

/** XEP-0115 §5.4 / §8.1: hash names from the IANA registry that Quire checks, and Node's names for them. */
export const CAPS_HASHES: ReadonlyMap<string, string> = new Map([
  ['sha-1', 'sha1'],
  ['sha-224', 'sha224'],
  ['sha-256', 'sha256'],
  ['sha-384', 'sha384'],
  ['sha-512', 'sha512'],
]);

/** "i;octet" collation (RFC 4790 §9.3): compare the UTF-8 bytes, not UTF-16 code units. */
export function octetCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The string S of §5.1 for a disco#info <query/>, or null when §5.4 makes the response ill-formed
 * (duplicate identities, features or form types, a FORM_TYPE with differing values).
 */
export function verificationInput(query: Element): string | null {
  const identities: { category: string; type: string; lang: string; name: string }[] = [];
  const features: string[] = [];
  const forms: { formType: string; fields: { name: string; values: string[] }[] }[] = [];
  for (const child of query.elements()) {
    if (child.ns === NS_DISCO_INFO && child.localName === 'identity') {
      const a = child.attrs;
      identities.push({ category: a.category ?? '', type: a.type ?? '', lang: a['xml:lang'] ?? '', name: a.name ?? '' });
    } else if (child.ns === NS_DISCO_INFO && child.localName === 'feature') {
      features.push(child.attrs.var ?? '');
    } else if (child.ns === NS_DATA_FORMS && child.localName === 'x') {
      // By local name: a form built in code with nested xml() calls leaves <value/> without a resolved namespace.
      const fields = child.getChildren('field');
      const formTypeField = fields.find((f) => f.attrs.var === 'FORM_TYPE');
      // §5.4 3.6: a form without a hidden FORM_TYPE is left out, and processing goes on.
      if (!formTypeField || formTypeField.attrs.type !== 'hidden') continue;
      const typeValues = new Set(formTypeField.getChildren('value').map((v) => v.text()));
      if (typeValues.size === 0) continue;
      // §5.4 3.5: a FORM_TYPE with differing values.
      if (typeValues.size > 1) return null;
      forms.push({
        formType: [...typeValues][0],
        fields: fields
          .filter((f) => f !== formTypeField)
          .map((f) => ({ name: f.attrs.var ?? '', values: f.getChildren('value').map((v) => v.text()) })),
      });
    }
  }
  // §5.4 3.3-3.5: duplicates make the whole response ill-formed.
  const formatted = identities.map((i) => `${i.category}/${i.type}/${i.lang}/${i.name}`);
  if (new Set(formatted).size !== formatted.length) return null;
  if (new Set(features).size !== features.length) return null;
  if (new Set(forms.map((f) => f.formType)).size !== forms.length) return null;

  // §5.1 steps 2-7. Identities sort by category, type and lang, which are unique together; the name only
  // makes the order total.
  let s = '';
  const order = identities.map((identity, i) => ({ identity, text: formatted[i] }));
  order.sort((x, y) => octetCompare(x.identity.category, y.identity.category) || octetCompare(x.identity.type, y.identity.type) || octetCompare(x.identity.lang, y.identity.lang) || octetCompare(x.identity.name, y.identity.name));
  for (const { text } of order) s += text + '<';
  for (const feature of features.sort(octetCompare)) s += feature + '<';
  for (const form of forms.sort((x, y) => octetCompare(x.formType, y.formType))) {
    s += form.formType + '<';
    for (const field of form.fields.sort((x, y) => octetCompare(x.name, y.name))) {
      s += field.name + '<';
      for (const value of field.values.sort(octetCompare)) s += value + '<';
    }
  }
  return s;
}

/** §5.1 steps 8-9: the base64 of the hash of S's UTF-8 bytes; null for an unsupported hash or an ill-formed result. */
export function verificationString(query: Element, hash: string): string | null {
  const algorithm = CAPS_HASHES.get(hash);
  if (!algorithm) return null;
  const input = verificationInput(query);
  if (input === null) return null;
  return createHash(algorithm).update(input, 'utf8').digest('base64');
}
