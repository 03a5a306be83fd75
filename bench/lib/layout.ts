// The accounts every server under test gets, and their rosters. All accounts share one password, so that a
// server's SCRAM data can be derived once and written for thousands of users.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export interface Layout {
  domain: string;
  password: string;
  /** u1..uN: accounts without contacts (idle, login, messages). */
  plainAccounts: number;
  /** r1..rR: accounts with rosterSize contacts among themselves (roster scenario). */
  rosterAccounts: number;
  rosterSize: number;
  /** f1..fK: subscribers of the PubSub node and contacts of the PEP publisher 'pub'. */
  fanout: number;
}

export const PUBLISHER = 'pub';

export function plainUser(i: number): string {
  return `u${i}`;
}
export function rosterUser(i: number): string {
  return `r${i}`;
}
export function fanoutUser(i: number): string {
  return `f${i}`;
}

/** Every account name in the layout. */
export function allUsers(layout: Layout): string[] {
  const users: string[] = [];
  for (let i = 1; i <= layout.plainAccounts; i++) users.push(plainUser(i));
  for (let i = 1; i <= layout.rosterAccounts; i++) users.push(rosterUser(i));
  for (let i = 1; i <= layout.fanout; i++) users.push(fanoutUser(i));
  users.push(PUBLISHER);
  return users;
}

/**
 * Contacts (usernames, same domain) with a mutual 'both' subscription, per user. Roster accounts form a ring
 * in which each has rosterSize/2 neighbours on either side; the publisher has every fan-out account.
 */
export function rosters(layout: Layout): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const n = layout.rosterAccounts;
  const half = Math.min(Math.floor(layout.rosterSize / 2), Math.floor((n - 1) / 2));
  for (let i = 1; i <= n; i++) {
    const contacts: string[] = [];
    for (let k = 1; k <= half; k++) {
      contacts.push(rosterUser(((i - 1 + k) % n) + 1));
      contacts.push(rosterUser(((i - 1 - k + n) % n) + 1));
    }
    out.set(rosterUser(i), contacts);
  }
  const pubContacts: string[] = [];
  for (let i = 1; i <= layout.fanout; i++) {
    pubContacts.push(fanoutUser(i));
    out.set(fanoutUser(i), [PUBLISHER]);
  }
  out.set(PUBLISHER, pubContacts);
  return out;
}

/** One SCRAM-SHA-1 credential (RFC 5802 §3) for the shared password, with the salt as the server stores it. */
export interface Sha1Credential {
  /** The salt bytes. */
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function sha1Credential(password: string, salt: Buffer = randomBytes(16), iterations = 4096): Sha1Credential {
  const salted = pbkdf2Sync(password, salt, iterations, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return {
    salt,
    iterations,
    storedKey: createHash('sha1').update(clientKey).digest(),
    serverKey: createHmac('sha1', salted).update('Server Key').digest(),
  };
}
