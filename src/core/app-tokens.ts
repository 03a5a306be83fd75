// App tokens: scoped, expiring, revocable credentials an account creates for an application, which the Storage
// HTTP API and Publishing accept as `Authorization: Bearer <token>`. A token is shown once; storage keeps only its
// SHA-256. Records are XML documents in the account's own store (so deleting the account purges them); a
// server-wide index maps a token's id to its account, so a token is verified without knowing the host first.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Accounts } from './accounts.js';
import { tryParseJid } from './jid/index.js';
import { parseStoredXml } from './roster.js';
import { SerialQueues } from './serial-queues.js';
import type { MapStore, StorageBackend } from './storage-api.js';
import { xml } from './xml/element.js';

/** 'write' implies read. */
export type AppTokenScope = 'read' | 'write';

export interface AppTokenRecord {
  id: string;
  label: string;
  scope: AppTokenScope;
  /**
   * PubSub nodes the token may use: a node of the account's own PEP service by name, or `service/node` for a node
   * of another service (`pubsub.example.org/news`). Empty: every node the account itself may use.
   */
  nodes: string[];
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** null: the token does not expire. */
  expiresAt: number | null;
  /** The last successful verify, to the minute; null before the first. */
  lastUsed: number | null;
}

/** What a verified token allows, for the HTTP layers. */
export interface AppTokenGrant {
  id: string;
  host: string;
  user: string;
  scope: AppTokenScope;
  nodes: string[];
  expiresAt: number | null;
  label: string;
}

export interface NewAppToken {
  label: string;
  scope: AppTokenScope;
  nodes: string[];
  /** Milliseconds since the epoch, in the future; absent: the token does not expire. */
  expiresAt?: number;
}

export interface CreatedAppToken {
  id: string;
  /** The token itself: shown to the user once, never stored. */
  token: string;
  record: AppTokenRecord;
}

export class AppTokenError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid' | 'limit',
    message: string,
  ) {
    super(message);
  }
}

/** Every token starts with this, so that people and secret scanners recognize one. */
export const APP_TOKEN_PREFIX = 'qt_';
/** qt_, a 64-bit id in hex (the index key), _, and 256 random bits in base64url (43 characters). */
const TOKEN_FORMAT = /^qt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const MAX_TOKENS_PER_ACCOUNT = 100;
export const MAX_LABEL_LENGTH = 100;
export const MAX_TOKEN_NODES = 100;
const MAX_NODE_LENGTH = 1024;
/** lastUsed is written at most this often per token (verify is on every HTTP request). */
const USAGE_WRITE_INTERVAL_MS = 60_000;

const RECORDS_STORE = 'app-tokens';
const USAGE_STORE = 'app-token-usage';
/** Server-wide, under host '' and user '': token id -> its account. */
const INDEX_STORE = 'app-token-index';

// Characters that XML 1.0 cannot carry, and other control characters that have no place in a label or node name.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export class AppTokens {
  private readonly records: MapStore;
  private readonly usage: MapStore;
  private readonly index: MapStore;
  /** Changes of one account's tokens happen one at a time (the per-account limit, revoke against lastUsed). */
  private readonly queues = new SerialQueues();
  /** When lastUsed was last written, by token id. */
  private readonly usageWritten = new Map<string, number>();
  readonly maxPerAccount: number;

  /** Deleting an account through `accounts` deletes its tokens and their index entries first. */
  constructor(
    storage: Pick<StorageBackend, 'map'>,
    private readonly accounts: Accounts,
    options: { maxPerAccount?: number } = {},
  ) {
    this.records = storage.map(RECORDS_STORE);
    this.usage = storage.map(USAGE_STORE);
    this.index = storage.map(INDEX_STORE);
    this.maxPerAccount = options.maxPerAccount ?? MAX_TOKENS_PER_ACCOUNT;
    accounts.beforeDelete(async (host, user) => void (await this.removeAll(host, user)));
  }

  /** Creates a token for an existing account; the returned `token` is the only copy of the secret. */
  async create(host: string, user: string, spec: NewAppToken, now = Date.now()): Promise<CreatedAppToken> {
    const label = checkLabel(spec.label);
    if (spec.scope !== 'read' && spec.scope !== 'write') throw new AppTokenError('invalid', `the scope is read or write, not "${String(spec.scope)}"`);
    const nodes = normalizeNodes(spec.nodes, `${user}@${host}`);
    if (spec.expiresAt !== undefined && !(Number.isSafeInteger(spec.expiresAt) && spec.expiresAt > now)) throw new AppTokenError('invalid', 'the expiry must be a time in the future');
    return this.queues.run(`${user}@${host}`, async () => {
      // In the account's queue, so that a deletion's removeAll() cannot come between this check and the writes.
      if (!(await this.accounts.exists(host, user))) throw new AppTokenError('not-found', `${user}@${host} does not exist`);
      await this.makeRoom(host, user, now);
      const id = await this.unusedId();
      const token = `${APP_TOKEN_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
      const record: AppTokenRecord = { id, label, scope: spec.scope, nodes, createdAt: now, expiresAt: spec.expiresAt ?? null, lastUsed: null };
      // The record first, then the index entry that makes it findable: an index entry always has its record.
      await this.records.set(host, user, id, recordToXml(record, hashOf(token)));
      await this.index.set('', '', id, xml('token', { host, user }).toString());
      return { id, token, record };
    });
  }

  /** The account's tokens, oldest first, expired ones included; after the account's changes queued before. */
  list(host: string, user: string): Promise<AppTokenRecord[]> {
    return this.queues.run(`${user}@${host}`, async () => {
      const [stored, usage] = await Promise.all([this.records.getAll(host, user), this.usage.getAll(host, user)]);
      const out: AppTokenRecord[] = [];
      for (const value of stored.values()) {
        const { record } = recordFromXml(value);
        const used = usage.get(record.id);
        if (used !== undefined) record.lastUsed = Number(parseStoredXml(used).attrs.at);
        out.push(record);
      }
      return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    });
  }

  /** Revokes one of the account's tokens; false when it has none with that id. */
  revoke(host: string, user: string, id: string): Promise<boolean> {
    return this.queues.run(`${user}@${host}`, async () => {
      if ((await this.records.get(host, user, id)) === null) return false;
      await this.forget(host, user, [id]);
      return true;
    });
  }

  /**
   * The grant of a token, or null when it is malformed, unknown, revoked, expired at `now`, or its secret is wrong.
   * The secret's hash is compared in constant time.
   */
  async verify(token: string, now = Date.now()): Promise<AppTokenGrant | null> {
    const match = TOKEN_FORMAT.exec(token);
    if (!match) return null;
    const id = match[1];
    const owner = await this.index.get('', '', id);
    if (owner === null) return null;
    const { host, user } = parseStoredXml(owner).attrs;
    const stored = await this.records.get(host, user, id);
    if (stored === null) {
      // Records are written before their index entry and deleted after it: an entry without a record is left over
      // (an account deleted while a token was being created) and goes.
      await this.index.set('', '', id, null);
      return null;
    }
    const { record, hash } = recordFromXml(stored);
    if (!sameHash(hash, hashOf(token))) return null;
    if (record.expiresAt !== null && now >= record.expiresAt) return null;
    await this.noteUse(host, user, id, now);
    return { id, host, user, scope: record.scope, nodes: record.nodes, expiresAt: record.expiresAt, label: record.label };
  }

  /** Deletes every token of an account (done before the account is deleted); resolves how many there were. */
  removeAll(host: string, user: string): Promise<number> {
    return this.queues.run(`${user}@${host}`, async () => {
      const ids = [...(await this.records.getAll(host, user)).keys()];
      await this.forget(host, user, ids);
      await this.usage.deleteAll(host, user);
      return ids.length;
    });
  }

  /** At the limit, expired tokens make way for a new one; without any, the limit stands. */
  private async makeRoom(host: string, user: string, now: number): Promise<void> {
    const stored = await this.records.getAll(host, user);
    if (stored.size < this.maxPerAccount) return;
    const expired = [...stored.values()].map((v) => recordFromXml(v).record).filter((r) => r.expiresAt !== null && r.expiresAt <= now);
    if (stored.size - expired.length >= this.maxPerAccount) {
      throw new AppTokenError('limit', `${user}@${host} has ${stored.size} app tokens, the most an account may have: revoke one first`);
    }
    await this.forget(host, user, expired.map((r) => r.id));
  }

  private async unusedId(): Promise<string> {
    for (;;) {
      const id = randomBytes(8).toString('hex');
      if ((await this.index.get('', '', id)) === null) return id;
    }
  }

  /** The index entries go first, so that the tokens stop verifying before their records go. */
  private async forget(host: string, user: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const deletions = new Map<string, string | null>(ids.map((id) => [id, null]));
    await this.index.setMany('', '', deletions);
    await this.records.setMany(host, user, deletions);
    await this.usage.setMany(host, user, deletions);
    for (const id of ids) this.usageWritten.delete(id);
  }

  /**
   * Records lastUsed, at most once a minute per token (other calls cost nothing), never for a token revoked
   * meanwhile. A failed write does not fail the verify: it is tried again at the next one.
   */
  private async noteUse(host: string, user: string, id: string, now: number): Promise<void> {
    const written = this.usageWritten.get(id);
    if (written !== undefined && now - written < USAGE_WRITE_INTERVAL_MS) return;
    this.usageWritten.set(id, now);
    if (this.usageWritten.size > 10_000) {
      for (const [key, at] of this.usageWritten) if (now - at >= USAGE_WRITE_INTERVAL_MS) this.usageWritten.delete(key);
    }
    try {
      await this.queues.run(`${user}@${host}`, async () => {
        if ((await this.records.get(host, user, id)) !== null) await this.usage.set(host, user, id, xml('used', { at: String(now) }).toString());
      });
    } catch {
      this.usageWritten.delete(id);
    }
  }
}

/**
 * A token's node entry as a service and a node: `service/node` when the part before the first slash is a JID with
 * a dot or an @ in it (pubsub.example.org/news, bob@example.org/urn:xmpp:microblog:0), otherwise a node of the
 * account's own PEP service (`owner`, its bare JID). Namespaces such as http://jabber.org/protocol/tune are nodes.
 */
export function parseTokenNode(entry: string, owner: string): { service: string; node: string } {
  const slash = entry.indexOf('/');
  if (slash > 0) {
    const prefix = entry.slice(0, slash);
    const service = prefix.includes('.') || prefix.includes('@') ? tryParseJid(prefix) : null;
    if (service && service.resource === '') return { service: service.bare, node: entry.slice(slash + 1) };
  }
  return { service: owner, node: entry };
}

/** Whether a grant covers an action on a node ('write' needs a write token; a token without nodes covers all). */
export function grantAllows(grant: AppTokenGrant, target: { service: string; node: string }, need: AppTokenScope): boolean {
  if (need === 'write' && grant.scope !== 'write') return false;
  if (grant.nodes.length === 0) return true;
  const owner = `${grant.user}@${grant.host}`;
  return grant.nodes.some((entry) => {
    const allowed = parseTokenNode(entry, owner);
    return allowed.service === target.service && allowed.node === target.node;
  });
}

function checkLabel(text: string): string {
  const label = text.trim();
  if (label === '') throw new AppTokenError('invalid', 'the label is empty: name the application the token is for');
  if (label.length > MAX_LABEL_LENGTH) throw new AppTokenError('invalid', `the label is longer than ${MAX_LABEL_LENGTH} characters`);
  if (CONTROL.test(label)) throw new AppTokenError('invalid', 'the label contains control characters');
  return label;
}

/** Trimmed, blank lines dropped, services prepared (the owner's own PEP written as a bare node name), no repeats. */
function normalizeNodes(entries: string[], owner: string): string[] {
  const out = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.length > MAX_NODE_LENGTH) throw new AppTokenError('invalid', `the node "${entry.slice(0, 40)}…" is longer than ${MAX_NODE_LENGTH} characters`);
    if (CONTROL.test(entry)) throw new AppTokenError('invalid', `the node "${entry}" contains control characters`);
    const { service, node } = parseTokenNode(entry, owner);
    if (node === '') throw new AppTokenError('invalid', `"${entry}" names a service but no node: write ${service}/NODE`);
    out.add(service === owner ? node : `${service}/${node}`);
  }
  if (out.size > MAX_TOKEN_NODES) throw new AppTokenError('invalid', `a token may name at most ${MAX_TOKEN_NODES} nodes`);
  return [...out];
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function sameHash(stored: Buffer, presented: Buffer): boolean {
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}

function recordToXml(record: AppTokenRecord, hash: Buffer): string {
  return xml(
    'token',
    { id: record.id, scope: record.scope, created: String(record.createdAt), expires: record.expiresAt === null ? undefined : String(record.expiresAt) },
    xml('label', {}, record.label),
    xml('hash', { algorithm: 'sha-256' }, hash.toString('base64url')),
    record.nodes.map((node) => xml('node', {}, node)),
  ).toString();
}

function recordFromXml(text: string): { record: AppTokenRecord; hash: Buffer } {
  const el = parseStoredXml(text);
  const expires = el.attrs.expires;
  const record: AppTokenRecord = {
    id: el.attrs.id,
    label: el.getChildText('label') ?? '',
    scope: el.attrs.scope === 'write' ? 'write' : 'read',
    nodes: el.getChildren('node').map((n) => n.text()),
    createdAt: Number(el.attrs.created),
    expiresAt: expires === undefined ? null : Number(expires),
    lastUsed: null,
  };
  return { record, hash: Buffer.from(el.getChildText('hash') ?? '', 'base64url') };
}
