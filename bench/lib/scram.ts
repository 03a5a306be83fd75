// SCRAM-SHA-1 client (RFC 5802) for the load generator. SaltedPassword is cached per password, salt and
// iteration count: every account shares one password, so PBKDF2 runs once per distinct salt and the load
// generator spends its CPU on the wire rather than on key stretching.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

interface Keys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const keyCache = new Map<string, Keys>();

function keysFor(password: string, salt: string, iterations: number): Keys {
  const cacheKey = `${iterations}:${salt}:${password}`;
  let keys = keyCache.get(cacheKey);
  if (!keys) {
    // RFC 5802 §3: SaltedPassword := Hi(Normalize(password), salt, i); bench passwords are ASCII, so
    // SASLprep leaves them unchanged.
    const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), iterations, 20, 'sha1');
    const clientKey = createHmac('sha1', salted).update('Client Key').digest();
    keys = {
      clientKey,
      storedKey: createHash('sha1').update(clientKey).digest(),
      serverKey: createHmac('sha1', salted).update('Server Key').digest(),
    };
    if (keyCache.size > 100_000) keyCache.clear();
    keyCache.set(cacheKey, keys);
  }
  return keys;
}

/** SASLname escaping (RFC 5802 §5.1): '=' and ',' in the username. */
function saslName(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

export class ScramSha1Client {
  private clientFirstBare: string;
  private expectedServerSignature = '';

  constructor(
    user: string,
    private password: string,
  ) {
    const nonce = randomBytes(18).toString('base64');
    this.clientFirstBare = `n=${saslName(user)},r=${nonce}`;
    this.nonce = nonce;
  }

  private nonce: string;

  /** The initial response, base64 (gs2 header 'n,,': this client does no channel binding, RFC 5802 §7). */
  first(): string {
    return Buffer.from('n,,' + this.clientFirstBare).toString('base64');
  }

  /** Answers the server-first-message (base64 in, base64 out). Throws on a malformed or foreign challenge. */
  final(challengeBase64: string): string {
    const serverFirst = Buffer.from(challengeBase64, 'base64').toString('utf8');
    let nonce = '';
    let salt = '';
    let iterations = 0;
    for (const part of serverFirst.split(',')) {
      if (part.startsWith('r=')) nonce = part.slice(2);
      else if (part.startsWith('s=')) salt = part.slice(2);
      else if (part.startsWith('i=')) iterations = Number(part.slice(2));
    }
    if (!nonce.startsWith(this.nonce) || !salt || !(iterations > 0)) throw new Error(`bad SCRAM challenge: ${serverFirst}`);
    const keys = keysFor(this.password, salt, iterations);
    const clientFinalWithoutProof = `c=biws,r=${nonce}`; // biws = base64('n,,')
    const authMessage = `${this.clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const signature = createHmac('sha1', keys.storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(20);
    for (let i = 0; i < 20; i++) proof[i] = keys.clientKey[i]! ^ signature[i]!;
    this.expectedServerSignature = createHmac('sha1', keys.serverKey).update(authMessage).digest('base64');
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`).toString('base64');
  }

  /** Checks the server-final-message (RFC 5802 §3: the client MUST verify ServerSignature). */
  verify(successBase64: string): boolean {
    const text = Buffer.from(successBase64, 'base64').toString('utf8');
    return text === `v=${this.expectedServerSignature}`;
  }
}
