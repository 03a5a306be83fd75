// XEP-0077 In-Band Registration: create an account from the client before logging in,
// change its password or remove it afterwards.
import { z } from 'zod';
import { AccountError } from '../../core/accounts.js';
import { defineModule } from '../../core/module-api.js';
import { StanzaError, errorReply, iqResult } from '../../core/stanza.js';
import type { UnauthenticatedIq } from '../../core/stream/c2s.js';
import { xml, type Element } from '../../core/xml/element.js';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';

export default defineModule({
  name: 'register',
  spec: 'XEP-0077',
  description: 'In-band registration, password change and account removal from the client',
  options: z
    .object({
      /** Let clients create accounts before logging in; password change and removal work either way. */
      allow_registration: z.boolean().default(true),
      min_password_length: z.number().int().min(1).default(6),
      /** Accounts one IP address may create per hour (0: no limit). */
      registrations_per_hour: z.number().int().min(0).default(10),
    })
    .strict()
    .default({ allow_registration: true, min_password_length: 6, registrations_per_hour: 10 }),
  setup(m) {
    const { allow_registration: allowRegistration, min_password_length: minPassword, registrations_per_hour: perHour } = m.options;
    const recent = new Map<string, number[]>();
    m.feature(NS_REGISTER);

    if (allowRegistration) {
      // §8: the stream feature tells clients they may register before authenticating.
      m.fold('stream-features/unauthenticated', (features: Element) => features.append(xml('register', { xmlns: NS_REGISTER_FEATURE })));
    }

    const form = (instructions: string) =>
      xml('query', { xmlns: NS_REGISTER }, xml('instructions', {}, instructions), xml('username'), xml('password'));

    /** §3.1: registration before authentication. */
    const beforeLogin = (event: UnauthenticatedIq) => {
      const { stanza, reply } = event;
      const type = stanza.attrs.type;
      if (!allowRegistration) return reply(errorReply(stanza, 'not-allowed', 'in-band registration is disabled on this server'));
      if (type === 'get') return reply(iqResult(stanza, form(`Choose a username and a password (at least ${minPassword} characters) for ${m.host.name}.`)));
      if (type !== 'set') return reply(errorReply(stanza, 'bad-request'));
      const query = stanza.firstElement()!;
      if (query.getChild('remove')) return reply(errorReply(stanza, 'registration-required', 'log in before removing an account'));
      const username = query.getChildText('username')?.trim() ?? '';
      const password = query.getChildText('password') ?? '';
      if (!username || !password) return reply(errorReply(stanza, 'not-acceptable', 'both a username and a password are required'));
      if (password.length < minPassword) return reply(errorReply(stanza, 'not-acceptable', `the password must have at least ${minPassword} characters`));
      if (perHour > 0 && !allowFrom(event.remoteAddress)) return reply(errorReply(stanza, new StanzaError('resource-constraint', 'too many registrations from your address; try again later')));
      m.accounts.create(m.host.name, username, password).then(
        (user) => {
          m.log.info({ user }, 'account registered in-band');
          reply(iqResult(stanza));
        },
        (err: unknown) => {
          if (err instanceof AccountError && err.code === 'exists') reply(errorReply(stanza, 'conflict', 'that username is taken'));
          else if (err instanceof AccountError) reply(errorReply(stanza, 'not-acceptable', err.message));
          else {
            m.log.error({ err }, 'registration failed');
            reply(errorReply(stanza, 'internal-server-error'));
          }
        },
      );
    };
    m.hook('iq-unauthenticated/' + NS_REGISTER + ':query', (event: UnauthenticatedIq) => {
      beforeLogin(event);
      return true;
    });

    function allowFrom(address: string): boolean {
      const now = Date.now();
      const times = (recent.get(address) ?? []).filter((t) => now - t < 3600_000);
      if (times.length >= perHour) return false;
      times.push(now);
      recent.set(address, times);
      return true;
    }
    m.every(600_000, () => {
      const now = Date.now();
      for (const [address, times] of recent) if (times.every((t) => now - t >= 3600_000)) recent.delete(address);
    });

    // §3.1 for a logged-in account: it is registered already.
    m.iq(
      'get',
      NS_REGISTER,
      'query',
      ({ from }) => xml('query', { xmlns: NS_REGISTER }, xml('registered'), xml('username', {}, from.local), xml('password')),
      'both',
    );

    // §3.2 removal and §3.3 password change, for the sender's own account only.
    m.iq(
      'set',
      NS_REGISTER,
      'query',
      async ({ payload, from, to, origin }) => {
        if (to.local !== '' && to.bare !== from.bare) throw new StanzaError('forbidden');
        if (from.domain !== m.host.name || from.local === '') throw new StanzaError('forbidden');
        if (payload.getChild('remove')) {
          if (payload.elements().length !== 1) throw new StanzaError('bad-request', '<remove/> must be the only child of <query/>');
          await m.accounts.delete(m.host.name, from.local);
          m.log.info({ user: from.local }, 'account removed in-band');
          // §3.2: the result goes out first, then every session of the account ends with <not-authorized/>.
          return undefined;
        }
        const username = payload.getChildText('username')?.trim();
        const password = payload.getChildText('password') ?? '';
        if (!username || !password) throw new StanzaError('bad-request', 'a password change needs <username/> and a non-empty <password/>');
        if (username.toLowerCase() !== from.local) throw new StanzaError('not-authorized', 'you can only change your own password');
        if (origin && !origin.secure) throw new StanzaError('not-authorized', 'change passwords over an encrypted connection');
        if (password.length < minPassword) throw new StanzaError('not-acceptable', `the password must have at least ${minPassword} characters`);
        await m.accounts.setPassword(m.host.name, from.local, password);
        return undefined;
      },
      'both',
    );
  },
});
