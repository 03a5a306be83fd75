// Local accounts: creation, passwords (as SCRAM credentials only) and removal.
import { prepLocalpart, JidError } from './jid/index.js';
import { deriveAllCredentials, verifyPassword } from './sasl/index.js';
import type { AccountStore, AccountRecord, HashName } from './storage-api.js';

export class AccountError extends Error {
  constructor(
    readonly code: 'invalid-username' | 'exists' | 'not-found' | 'weak-password',
    message: string,
  ) {
    super(message);
  }
}

export const MIN_PASSWORD_LENGTH = 1;

/** Work that must be done before an account's data goes (data kept outside the account's own stores). */
export type AccountCleanup = (host: string, user: string) => Promise<void>;

export class Accounts {
  /** Called after an account is deleted so live sessions can be closed. */
  onDeleted: ((host: string, user: string) => void) | null = null;
  private readonly cleanups: AccountCleanup[] = [];

  constructor(private store: AccountStore) {}

  /** Prepares a username as a JID localpart; throws AccountError when it cannot be one. */
  static prepUsername(username: string): string {
    try {
      return prepLocalpart(username);
    } catch (err) {
      throw new AccountError('invalid-username', `"${username}" is not a valid username: ${(err as JidError).message}`);
    }
  }

  async create(host: string, username: string, password: string): Promise<string> {
    const user = Accounts.prepUsername(username);
    if (password.length < MIN_PASSWORD_LENGTH) throw new AccountError('weak-password', 'the password is empty');
    const record: AccountRecord = { credentials: await deriveAllCredentials(password), createdAt: Date.now() };
    if (!(await this.store.create(host, user, record))) throw new AccountError('exists', `${user}@${host} already exists`);
    return user;
  }

  async setPassword(host: string, username: string, password: string): Promise<void> {
    const user = Accounts.prepUsername(username);
    if (password.length < MIN_PASSWORD_LENGTH) throw new AccountError('weak-password', 'the password is empty');
    const existing = await this.store.get(host, user);
    if (!existing) throw new AccountError('not-found', `${user}@${host} does not exist`);
    const record: AccountRecord = { credentials: await deriveAllCredentials(password), createdAt: existing.createdAt };
    await this.store.update(host, user, record);
  }

  /**
   * Runs `cleanup` before every deletion, while the account's stores still hold its data: for data the storage
   * layer cannot purge by account (server-wide indexes such as the app tokens' one). A failure stops the deletion.
   */
  beforeDelete(cleanup: AccountCleanup): void {
    this.cleanups.push(cleanup);
  }

  async delete(host: string, username: string): Promise<void> {
    const user = Accounts.prepUsername(username);
    if (this.cleanups.length > 0) {
      if (!(await this.store.get(host, user))) throw new AccountError('not-found', `${user}@${host} does not exist`);
      for (const cleanup of this.cleanups) await cleanup(host, user);
    }
    if (!(await this.store.delete(host, user))) throw new AccountError('not-found', `${user}@${host} does not exist`);
    // Deferred so that a reply to the request that deleted the account goes out first (XEP-0077 §3.2).
    setImmediate(() => this.onDeleted?.(host, user));
  }

  async exists(host: string, user: string): Promise<boolean> {
    return (await this.store.get(host, user)) !== null;
  }

  get(host: string, user: string): Promise<AccountRecord | null> {
    return this.store.get(host, user);
  }

  list(host: string): Promise<string[]> {
    return this.store.list(host);
  }

  /** Checks a password against the stored credentials (PLAIN, XEP-0077 password change). */
  async checkPassword(host: string, user: string, password: string): Promise<boolean> {
    const record = await this.store.get(host, user);
    if (!record) return false;
    const hash: HashName | undefined = (['SHA-256', 'SHA-512', 'SHA-1'] as const).find((h) => record.credentials[h]);
    return hash ? verifyPassword(password, record.credentials[hash]!, hash) : false;
  }
}
