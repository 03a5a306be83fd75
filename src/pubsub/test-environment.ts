// What the engine's unit tests run a service with: pubsub.example.org on the store they give, generous limits, no
// rosters, no presence, nothing sent unless they collect it.
import { parseJid } from '../core/jid/index.js';
import { silentLogger } from '../core/logger.js';
import { defaultNodeConfig } from './config.js';
import type { ServiceEnvironment, ServiceLimits } from './service.js';
import type { PubSubStore } from './store.js';

export const TEST_LIMITS: ServiceLimits = { maxItems: 10000, maxPayloadSize: 65536, collections: true, maxSubscriptionsPerJid: 1000, maxLeaseMs: 86_400_000, maxNodes: 1000, maxPageSize: 100, maxRevisions: 100 };

export function testEnvironment(store: PubSubStore, overrides: Partial<ServiceEnvironment> = {}): ServiceEnvironment {
  return {
    store,
    host: 'pubsub.example.org',
    user: '',
    address: parseJid('pubsub.example.org'),
    pep: false,
    limits: TEST_LIMITS,
    defaults: (type) => ({ ...defaultNodeConfig(TEST_LIMITS), node_type: type }),
    send: () => {},
    log: silentLogger,
    rosterOf: async () => null,
    mayCreate: () => true,
    presenceOf: () => undefined,
    ...overrides,
  };
}
