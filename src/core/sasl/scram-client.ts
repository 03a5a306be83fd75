// A small SCRAM client (RFC 5802 §5): SHA-1/256/512, optionally with channel binding. The server's tests use it,
// since @xmpp/client only speaks SCRAM-SHA-1; it is not hardened for use against untrusted servers.
import { randomBytes } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';
import { decodeBase64, hmac, prepPassword, safeEqual, saltedPassword, scramKeys, xor } from './crypto.js';
import { encodeSaslname, isPrintable } from './scram-syntax.js';
import type { ChannelBindingType, HashName } from './types.js';

export interface ScramClientOptions {
  hash: HashName;
  username: string;
  password: string;
  /** With cbData: bind to the channel ('p=' flag); the mechanism must then be the -PLUS variant. */
  cbType?: ChannelBindingType;
  cbData?: Buffer;
  /** Flag to send without cbType: 'n' (cannot bind, the default) or 'y' (could bind, server seemed unable). */
  cbFlag?: 'n' | 'y';
  authzid?: string;
  /** Test hook: the client nonce (printable ASCII without ','). */
  nonce?: string;
}

export class ScramClient {
  readonly #opts: ScramClientOptions;
  readonly #gs2Header: string;
  readonly #clientFirstBare: string;
  readonly #nonce: string;
  #serverSignature: Buffer | null = null;

  constructor(opts: ScramClientOptions) {
    this.#opts = opts;
    if ((opts.cbType === undefined) !== (opts.cbData === undefined)) throw new Error('cbType and cbData go together');
    const flag = opts.cbType !== undefined ? `p=${opts.cbType}` : (opts.cbFlag ?? 'n');
    const authzid = opts.authzid !== undefined ? `a=${encodeSaslname(opts.authzid)}` : '';
    this.#gs2Header = `${flag},${authzid},`;
    this.#nonce = opts.nonce ?? randomBytes(18).toString('base64');
    if (!isPrintable(this.#nonce)) throw new Error('invalid nonce');
    // RFC 5802 §5.1 "n": the client SHOULD SASLprep the username; fall back to it as is if prohibited.
    let username: string;
    try {
      username = saslprep(opts.username, { allowUnassigned: true });
    } catch {
      username = opts.username;
    }
    this.#clientFirstBare = `n=${encodeSaslname(username)},r=${this.#nonce}`;
  }

  /** client-first-message */
  first(): Buffer {
    return Buffer.from(this.#gs2Header + this.#clientFirstBare, 'utf8');
  }

  /** client-final-message for the server-first-message; throws if that is malformed. */
  async final(serverFirst: Buffer): Promise<Buffer> {
    const text = serverFirst.toString('utf8');
    const attrs = new Map<string, string>();
    for (const part of text.split(',')) attrs.set(part.slice(0, 1), part.slice(2));
    if (attrs.has('m')) throw new Error('server sent a mandatory extension');
    const nonce = attrs.get('r');
    const salt = decodeBase64(attrs.get('s') ?? '');
    const iterations = Number(attrs.get('i'));
    if (nonce === undefined || !nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) throw new Error('bad server nonce');
    if (salt === null || salt.length === 0) throw new Error('bad salt');
    if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error('bad iteration count');

    const password = prepPassword(this.#opts.password, 'query') ?? this.#opts.password;
    const { clientKey, storedKey, serverKey } = scramKeys(this.#opts.hash, await saltedPassword(this.#opts.hash, password, salt, iterations));
    const cbindInput = Buffer.concat([Buffer.from(this.#gs2Header, 'utf8'), this.#opts.cbData ?? Buffer.alloc(0)]);
    const withoutProof = `c=${cbindInput.toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${text},${withoutProof}`;
    const proof = xor(clientKey, hmac(this.#opts.hash, storedKey, authMessage));
    this.#serverSignature = hmac(this.#opts.hash, serverKey, authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final-message (RFC 5802 §3: v = ServerSignature); false for 'e=' or a wrong signature. */
  verifyServer(serverFinal: Buffer): boolean {
    if (this.#serverSignature === null) return false;
    const text = serverFinal.toString('utf8');
    if (!text.startsWith('v=')) return false;
    const v = decodeBase64(text.slice(2).split(',')[0]!);
    return v !== null && safeEqual(v, this.#serverSignature);
  }
}
