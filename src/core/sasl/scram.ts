// SCRAM server side (RFC 5802 §5, §6, §7; RFC 7677 for SHA-256; SHA-512 by the same rules), with channel
// binding for the -PLUS variants (RFC 5929 tls-server-end-point, RFC 9266 tls-exporter).
import { createHmac, randomBytes } from 'node:crypto';
import { HASH_INFO, decodeBase64, digest, hmac, safeEqual, xor } from './crypto.js';
import { DEFAULT_ITERATIONS } from './credentials.js';
import { decodeSaslname, decodeUtf8, isAttrVal, isCbName, isPrintable } from './scram-syntax.js';
import type { ChannelBindingType, HashName, SaslCondition, SaslContext, SaslMechanism, SaslStep, ScramCredential } from './types.js';

/** Keys for the fake salts of unknown users: fresh per process, so they are stable within a run only. */
const FAKE_SALT_SECRET = randomBytes(32);

/** Far above any real client-first/client-final; a cheap guard against being fed megabytes to parse. */
const MAX_MESSAGE = 8192;

const CHANNEL_BINDING_TYPES: readonly string[] = ['tls-exporter', 'tls-server-end-point'] satisfies ChannelBindingType[];

function fail(condition: SaslCondition, text?: string): SaslStep {
  return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
}

function defaultNonce(): string {
  // base64 never contains ',', so it is a valid s-nonce (RFC 5802 §7 printable).
  return randomBytes(18).toString('base64');
}

/**
 * RFC 5802 §5.1 "s": for an unknown user the server answers with a salt anyway, so that the server-first
 * message does not reveal whether the account exists. The salt is deterministic per user and hash (an HMAC
 * of a per-process secret), so asking twice does not reveal it either.
 */
function fakeCredential(hash: HashName, username: string): { salt: string; iterations: number } {
  const salt = createHmac('sha256', FAKE_SALT_SECRET).update(`${hash}\0${username}`).digest().subarray(0, 16);
  return { salt: salt.toString('base64'), iterations: DEFAULT_ITERATIONS };
}

interface ExchangeState {
  username: string;
  authzid: string | null;
  /** RFC 5802 §7 cbind-input: the gs2-header followed by the channel binding data when the flag is 'p'. */
  cbindInput: Buffer;
  nonce: string;
  authMessagePrefix: string;
  /** null for an unknown user: the exchange runs to the end and then fails with not-authorized. */
  credential: { storedKey: Buffer; serverKey: Buffer } | null;
}

export interface ScramServerOptions {
  hash: HashName;
  plus: boolean;
  ctx: SaslContext;
  /** Whether this connection advertised a -PLUS mechanism: a 'y' flag then means a downgrade (RFC 5802 §6). */
  plusOffered: boolean;
  nonce?: () => string;
}

export class ScramServer implements SaslMechanism {
  readonly name: string;
  readonly #hash: HashName;
  readonly #plus: boolean;
  readonly #plusOffered: boolean;
  readonly #ctx: SaslContext;
  readonly #nonce: () => string;
  #phase: 'start' | 'awaiting-first' | 'awaiting-final' | 'done' = 'start';
  #exchange: ExchangeState | null = null;

  constructor(opts: ScramServerOptions) {
    this.#hash = opts.hash;
    this.#plus = opts.plus;
    this.#plusOffered = opts.plusOffered;
    this.#ctx = opts.ctx;
    this.#nonce = opts.nonce ?? defaultNonce;
    this.name = `SCRAM-${opts.hash}${opts.plus ? '-PLUS' : ''}`;
  }

  async step(data: Buffer | null): Promise<SaslStep> {
    const phase = this.#phase;
    let result: SaslStep;
    try {
      if (phase === 'start' && data === null) {
        // RFC 6120 §6.4.2: no initial response, so send an empty challenge and wait for client-first.
        this.#phase = 'awaiting-first';
        return { kind: 'challenge', data: Buffer.alloc(0) };
      }
      if (phase === 'done') return fail('malformed-request', 'authentication exchange already finished');
      if (data === null || data.length === 0) result = fail('malformed-request', 'empty response');
      else if (data.length > MAX_MESSAGE) result = fail('malformed-request', 'message too long');
      else if (phase === 'awaiting-final') result = this.#clientFinal(data);
      else result = await this.#clientFirst(data);
    } catch {
      // Only the context's callbacks can throw here (e.g. the account store being down).
      result = fail('temporary-auth-failure');
    }
    this.#phase = result.kind === 'challenge' ? 'awaiting-final' : 'done';
    if (result.kind !== 'challenge') this.#exchange = null;
    return result;
  }

  // RFC 5802 §7: client-first-message = gs2-header client-first-message-bare
  async #clientFirst(data: Buffer): Promise<SaslStep> {
    const text = decodeUtf8(data);
    if (text === null) return fail('malformed-request', 'not UTF-8');
    const parts = text.split(',');
    if (parts.length < 4) return fail('malformed-request', 'client-first-message expected');
    const [flag, authzField] = parts as [string, string];

    // gs2-cbind-flag
    let cbName: string | null = null;
    if (flag === 'n') {
      if (this.#plus) return fail('malformed-request', 'channel binding is required by this mechanism');
    } else if (flag === 'y') {
      if (this.#plus) return fail('malformed-request', 'channel binding is required by this mechanism');
      // RFC 5802 §6: the client could bind but believes we cannot; since we offered -PLUS, someone stripped it.
      if (this.#plusOffered) return fail('not-authorized', 'channel binding downgrade detected');
    } else if (flag.startsWith('p=') && isCbName(flag.slice(2))) {
      if (!this.#plus) return fail('malformed-request', 'channel binding requires a -PLUS mechanism');
      cbName = flag.slice(2);
    } else {
      return fail('malformed-request', 'invalid gs2-cbind-flag');
    }

    // gs2-header authzid: the caller decides whether the user may act as it (RFC 6120 §6.3.8).
    let authzid: string | null = null;
    if (authzField !== '') {
      authzid = authzField.startsWith('a=') ? decodeSaslname(authzField.slice(2)) : null;
      if (authzid === null) return fail('malformed-request', 'invalid authzid');
    }

    const bare = parts.slice(2);
    // RFC 5802 §5.1 "m": a mandatory extension we do not know MUST fail the exchange.
    if (bare[0]!.startsWith('m=')) return fail('malformed-request', 'extensions not supported');
    if (!bare[0]!.startsWith('n=')) return fail('malformed-request', 'username expected');
    const authcid = decodeSaslname(bare[0]!.slice(2));
    if (authcid === null) return fail('malformed-request', 'invalid-encoding');
    if (!bare[1]!.startsWith('r=') || !isPrintable(bare[1]!.slice(2))) return fail('malformed-request', 'nonce expected');
    const clientNonce = bare[1]!.slice(2);
    for (let i = 2; i < bare.length; i++) if (!isAttrVal(bare[i]!)) return fail('malformed-request', 'invalid attribute');

    const gs2Header = Buffer.from(`${flag},${authzField},`, 'utf8');
    let cbindInput = gs2Header;
    if (cbName !== null) {
      const cbData = CHANNEL_BINDING_TYPES.includes(cbName) && this.#ctx.channelBindingTypes.includes(cbName as ChannelBindingType)
        ? this.#ctx.channelBinding(cbName as ChannelBindingType)
        : null;
      if (cbData === null) return fail('not-authorized', 'unsupported-channel-binding-type');
      cbindInput = Buffer.concat([gs2Header, cbData]);
    }

    let username: string | null;
    try {
      username = this.#ctx.normalizeUsername(authcid);
    } catch {
      username = null;
    }
    if (username === null || username === '') return fail('not-authorized');

    const stored = await this.#ctx.getCredential(username, this.#hash);
    const credential = stored === null ? null : this.#decodeCredential(stored);
    const shown = stored !== null && credential !== null ? stored : fakeCredential(this.#hash, username);

    const serverNonce = this.#nonce();
    const nonce = clientNonce + serverNonce;
    const serverFirst = `r=${nonce},s=${shown.salt},i=${shown.iterations}`;
    this.#exchange = {
      username,
      authzid,
      cbindInput,
      nonce,
      authMessagePrefix: `${bare.join(',')},${serverFirst},`,
      credential,
    };
    return { kind: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  }

  #decodeCredential(cred: ScramCredential): { storedKey: Buffer; serverKey: Buffer } | null {
    const storedKey = decodeBase64(cred.storedKey);
    const serverKey = decodeBase64(cred.serverKey);
    const size = HASH_INFO[this.#hash].size;
    if (storedKey?.length !== size || serverKey?.length !== size || decodeBase64(cred.salt) === null) return null;
    return { storedKey, serverKey };
  }

  // RFC 5802 §7: client-final-message = client-final-message-without-proof "," proof
  #clientFinal(data: Buffer): SaslStep {
    const ex = this.#exchange!;
    const text = decodeUtf8(data);
    if (text === null) return fail('malformed-request', 'not UTF-8');
    const parts = text.split(',');
    if (parts.length < 3) return fail('malformed-request', 'client-final-message expected');
    const [cbField, nonceField] = parts as [string, string];
    const proofField = parts[parts.length - 1]!;
    if (!cbField.startsWith('c=') || !nonceField.startsWith('r=') || !proofField.startsWith('p=')) {
      return fail('malformed-request', 'client-final-message expected');
    }
    for (let i = 2; i < parts.length - 1; i++) if (!isAttrVal(parts[i]!)) return fail('malformed-request', 'invalid attribute');
    const cbind = decodeBase64(cbField.slice(2));
    const proof = decodeBase64(proofField.slice(2));
    if (cbind === null || proof === null) return fail('malformed-request', 'invalid base64');

    // RFC 5802 §6: the gs2-header must be repeated unchanged, followed by the TLS channel's binding data.
    if (!safeEqual(cbind, ex.cbindInput)) return fail('not-authorized', 'channel-bindings-dont-match');
    if (nonceField.slice(2) !== ex.nonce) return fail('not-authorized', 'nonce mismatch');
    if (ex.credential === null || proof.length !== HASH_INFO[this.#hash].size) return fail('not-authorized');

    // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
    const authMessage = ex.authMessagePrefix + text.slice(0, text.length - proofField.length - 1);
    const clientSignature = hmac(this.#hash, ex.credential.storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    if (!safeEqual(digest(this.#hash, clientKey), ex.credential.storedKey)) return fail('not-authorized');

    const serverSignature = hmac(this.#hash, ex.credential.serverKey, authMessage);
    return {
      kind: 'success',
      data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
      username: ex.username,
      authzid: ex.authzid,
    };
  }
}
