// PLAIN (RFC 4616), offered only over an encrypted transport (RFC 6120 §6.4.1, §13.8.3). The password is checked
// against the SCRAM credentials, since nothing else is stored.
import { prepPassword } from './crypto.js';
import { DEFAULT_ITERATIONS, HASHES, verifyPreppedPassword } from './credentials.js';
import { decodeUtf8 } from './scram-syntax.js';
import type { HashName, SaslContext, SaslMechanism, SaslStep, ScramCredential } from './types.js';

/** Stands in for a missing account so that an unknown user costs the same PBKDF2 work as a known one. */
const DUMMY_CREDENTIAL: ScramCredential = {
  salt: Buffer.alloc(16).toString('base64'),
  iterations: DEFAULT_ITERATIONS,
  storedKey: Buffer.alloc(32).toString('base64'),
  serverKey: Buffer.alloc(32).toString('base64'),
};

/** Message size bound: authzid, authcid and passwd are each at most 255 octets in RFC 4616 §2. */
const MAX_MESSAGE = 3 * 255 + 2;

export class PlainServer implements SaslMechanism {
  readonly name = 'PLAIN';
  readonly #ctx: SaslContext;
  #phase: 'start' | 'awaiting-response' | 'done' = 'start';

  constructor(ctx: SaslContext) {
    this.#ctx = ctx;
  }

  async step(data: Buffer | null): Promise<SaslStep> {
    if (this.#phase === 'done') return { kind: 'failure', condition: 'malformed-request', text: 'authentication exchange already finished' };
    if (this.#phase === 'start' && data === null) {
      // RFC 6120 §6.4.2: no initial response; an empty challenge asks for it.
      this.#phase = 'awaiting-response';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    this.#phase = 'done';
    try {
      return await this.#check(data);
    } catch {
      return { kind: 'failure', condition: 'temporary-auth-failure' };
    }
  }

  // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
  async #check(data: Buffer | null): Promise<SaslStep> {
    if (data === null || data.length > MAX_MESSAGE) return { kind: 'failure', condition: 'malformed-request' };
    const text = decodeUtf8(data);
    if (text === null) return { kind: 'failure', condition: 'malformed-request', text: 'not UTF-8' };
    const parts = text.split('\0');
    if (parts.length !== 3 || parts[1] === '' || parts[2] === '') return { kind: 'failure', condition: 'malformed-request' };
    const [authzid, authcid, password] = parts as [string, string, string];

    let username: string | null;
    try {
      username = this.#ctx.normalizeUsername(authcid);
    } catch {
      username = null;
    }
    // RFC 4616 §5: the password is prepared as a query string.
    const prepped = prepPassword(password, 'query');
    if (username === null || username === '' || prepped === null) return { kind: 'failure', condition: 'not-authorized' };

    let found: { cred: ScramCredential; hash: HashName } | null = null;
    for (const hash of HASHES) {
      const cred = await this.#ctx.getCredential(username, hash);
      if (cred !== null) {
        found = { cred, hash };
        break;
      }
    }
    const ok = await verifyPreppedPassword(prepped, found?.cred ?? DUMMY_CREDENTIAL, found?.hash ?? HASHES[0]!);
    if (!ok || found === null) return { kind: 'failure', condition: 'not-authorized' };
    return { kind: 'success', data: null, username, authzid: authzid === '' ? null : authzid };
  }
}
