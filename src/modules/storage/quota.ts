// Per-account storage limits: the module's defaults (per host), overridden per account from the command line
// (`quire storage quota`). What an account stores is counted by the PubSub engine as it changes (src/pubsub/store.ts);
// this file only says how much it may store.
//
// keyval store 'storage-quota', per account: <quota xmlns='urn:quire:storage:0' bytes='N' items='N'/>, either
// attribute absent meaning the host's default.
import type { KeyValStore } from '../../core/storage-api.js';
import { parseStoredXml } from '../../core/roster.js';
import { xml } from '../../core/xml/element.js';
import type { StorageLimits } from '../../pubsub/index.js';
import type { StorageOptions } from './options.js';

export const QUOTA_STORE = 'storage-quota';
export const NS_STORAGE = 'urn:quire:storage:0';

export interface QuotaOverride {
  bytes?: number;
  items?: number;
}

/** The limits every account of a host has unless it has its own. */
export function hostLimits(options: StorageOptions, host: string): StorageLimits {
  const own = options.host_quotas[host];
  return { bytes: own?.bytes ?? options.quota_bytes, items: own?.items ?? options.quota_items };
}

export function applyOverride(defaults: StorageLimits, override: QuotaOverride): StorageLimits {
  return { bytes: override.bytes ?? defaults.bytes, items: override.items ?? defaults.items };
}

export async function readOverride(store: KeyValStore, host: string, user: string): Promise<QuotaOverride> {
  const stored = await store.get(host, user);
  if (!stored) return {};
  const el = parseStoredXml(stored);
  const number = (name: string) => (el.attrs[name] === undefined ? undefined : Number(el.attrs[name]));
  return { bytes: number('bytes'), items: number('items') };
}

/** Stores an account's own limits; an empty override removes them (back to the host's). */
export async function writeOverride(store: KeyValStore, host: string, user: string, override: QuotaOverride): Promise<void> {
  if (override.bytes === undefined && override.items === undefined) return store.set(host, user, null);
  const doc = xml('quota', { xmlns: NS_STORAGE, bytes: override.bytes?.toString(), items: override.items?.toString() });
  await store.set(host, user, doc.toString());
}

/** How long the server trusts what it read: a limit set from the command line applies within this time. */
const CACHE_MS = 30_000;
const CACHE_SIZE = 10_000;

/** The limits of accounts as the running server applies them, read at most every 30 seconds per account. */
export class Quotas {
  private cache = new Map<string, { limits: StorageLimits; until: number }>();

  constructor(
    private readonly store: KeyValStore,
    private readonly options: StorageOptions,
  ) {}

  async limits(host: string, user: string): Promise<StorageLimits> {
    const key = `${user}@${host}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.limits;
    const limits = applyOverride(hostLimits(this.options, host), await readOverride(this.store, host, user));
    if (this.cache.size >= CACHE_SIZE) this.cache.clear();
    this.cache.set(key, { limits, until: now + CACHE_MS });
    return limits;
  }
}
