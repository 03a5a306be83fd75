// XEP-0157 Contact Addresses for XMPP Services: who to write to about abuse, security, support and so on,
// published in the server's disco#info as an XEP-0128 extended-info form.
import { z } from 'zod';
import { defineModule } from '../../core/module-api.js';
import { xml } from '../../core/xml/element.js';

export const NS_DATA_FORMS = 'jabber:x:data';
export const SERVERINFO_FORM_TYPE = 'http://jabber.org/network/serverinfo';

/** Config key -> form field, in the order of the XEP's registry (§6.1). */
const ROLES = {
  abuse: 'abuse-addresses',
  admin: 'admin-addresses',
  feedback: 'feedback-addresses',
  sales: 'sales-addresses',
  security: 'security-addresses',
  status: 'status-addresses',
  support: 'support-addresses',
} as const;
type Role = keyof typeof ROLES;

// RFC 3986 §3.1: a URI starts with a scheme and a colon.
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function isUri(value: string): boolean {
  const scheme = SCHEME.exec(value);
  if (!scheme || scheme[0].length === value.length || /\s/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** How to fix a value that is not a URI, guessed from what it looks like. */
function uriFix(value: string): string {
  const trimmed = value.trim();
  if (trimmed !== value && isUri(trimmed)) return `remove the spaces: ${trimmed}`;
  const scheme = SCHEME.exec(trimmed);
  if (scheme && scheme[0].length === trimmed.length) return `write the address after ${scheme[0]}`;
  if (scheme) return 'write one URI with no spaces in it, as in https://example.org/contact';
  if (/^[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+$/.test(trimmed)) return `write mailto:${trimmed} for email, or xmpp:${trimmed} for XMPP`;
  if (/^[^\s@]+\.[^\s@]+$/.test(trimmed)) return `write https://${trimmed}`;
  return 'start it with a scheme, as in mailto:abuse@example.org, xmpp:abuse@example.org or https://example.org/contact';
}

// §3: status-addresses MUST be URIs and the others SHOULD; Quire takes only URIs, so clients can open them all.
const uri = z.string().superRefine((value, ctx) => {
  if (!isUri(value)) ctx.addIssue({ code: 'custom', input: value, message: `expected a URI, got ${JSON.stringify(value)}. Fix: ${uriFix(value)}.` });
});
/** One address or a list of them. */
const addresses = z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(uri)).optional();

const optionsSchema = z
  .object({
    abuse: addresses,
    admin: addresses,
    feedback: addresses,
    sales: addresses,
    security: addresses,
    status: addresses,
    support: addresses,
  })
  .strict()
  .default({});

export default defineModule({
  name: 'contact_addresses',
  spec: 'XEP-0157',
  description: "Publishes the service's contact addresses (abuse, admin, security, support…) in disco#info",
  options: optionsSchema,
  setup(m) {
    const roles = (Object.keys(ROLES) as Role[]).filter((role) => (m.options[role]?.length ?? 0) > 0);
    if (roles.length === 0) {
      m.log.warn('contact_addresses is enabled but lists no addresses; nothing is published');
      return;
    }
    // The form never changes while the server runs: build it once, hand out copies (disco appends it to a reply).
    const form = xml(
      'x',
      { xmlns: NS_DATA_FORMS, type: 'result' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, SERVERINFO_FORM_TYPE)),
      roles.map((role) => xml('field', { var: ROLES[role], type: 'list-multi' }, m.options[role]!.map((address) => xml('value', {}, address)))),
    );
    m.discoExtension(() => form.clone());
  },
});
