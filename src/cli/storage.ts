// `quire storage`: the search index of items (`reindex`), and what an account stores (its PEP nodes, their items and earlier revisions) and what it may store.
// The counts are the engine's running totals (u␟<node> entries of the pubsub map store); `--recount` counts the items
// again and stores the result (run it with the server stopped: a running server keeps its own totals in memory).
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/index.js';
import { enabledModules, openStorage } from '../start.js';
import { Accounts } from '../core/accounts.js';
import { ITEMS_STORE, NODES_STORE, PubSubStore, REVISIONS_STORE, RevisionStore, type Usage } from '../pubsub/index.js';
import type { StorageOptions } from '../modules/storage/options.js';
import { QUOTA_STORE, applyOverride, hostLimits, readOverride, writeOverride, type QuotaOverride } from '../modules/storage/quota.js';

export interface CliHelpers {
  configHelp: string;
  loadConfig(path: string | undefined): LoadedConfig;
  parseAccount(loaded: LoadedConfig, text: string): { host: string; user: string };
  fail(message: string): Error;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A limit from the command line: a number (with an optional K, M or G, binary), 0 for none, or "default". */
function parseLimit(text: string, what: string, fail: CliHelpers['fail']): number | 'default' {
  if (text === 'default') return 'default';
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw fail(`--${what} takes a number (K, M and G allowed), 0 for no limit, or "default", not "${text}"`);
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

function describeLimit(n: number, unit: string): string {
  return n === 0 ? 'no limit' : `${n} ${unit}`;
}

export function storageCommands(program: Command, helpers: CliHelpers): void {
  const storage = program.command('storage').description("accounts' storage: usage and quotas (docs/storage.md)");

  /** The storage module's options in this config (its defaults when it is not enabled). */
  const moduleOptions = (loaded: LoadedConfig): StorageOptions | null => (enabledModules(loaded).get('storage') as StorageOptions | undefined) ?? null;

  const withAccount = async <T>(configPath: string | undefined, jid: string, fn: (ctx: { loaded: LoadedConfig; host: string; user: string; backend: Awaited<ReturnType<typeof openStorage>> }) => Promise<T>) => {
    const loaded = helpers.loadConfig(configPath);
    const backend = await openStorage(loaded);
    try {
      const { host, user } = helpers.parseAccount(loaded, jid);
      if (!(await new Accounts(backend.accounts).exists(host, user))) throw helpers.fail(`${user}@${host} does not exist`);
      return await fn({ loaded, host, user, backend });
    } finally {
      await backend.close();
    }
  };

  const printLimits = async (loaded: LoadedConfig, host: string, override: QuotaOverride) => {
    const options = moduleOptions(loaded);
    if (!options) {
      console.log('limits: none (the storage module is not enabled)');
      return;
    }
    const limits = applyOverride(hostLimits(options, host), override);
    const source = (own: number | undefined) => (own === undefined ? 'host default' : 'own');
    console.log(`limits: ${describeLimit(limits.bytes, 'bytes')} (${source(override.bytes)}), ${describeLimit(limits.items, 'items')} (${source(override.items)})`);
  };

  storage
    .command('usage <jid>')
    .description('what an account stores in its PEP nodes (items, bytes, earlier revisions) and its limits')
    .option('-c, --config <path>', helpers.configHelp)
    .option('--recount', 'count the items again and store the totals (with the server stopped)')
    .action(async (jid: string, opts: { config?: string; recount?: boolean }) => {
      await withAccount(opts.config, jid, async ({ loaded, host, user, backend }) => {
        const store = new PubSubStore(backend.map(NODES_STORE), backend.archive(ITEMS_STORE), new RevisionStore(backend.archive(REVISIONS_STORE)));
        const stored = await store.load(host, user);
        const total: Usage = { items: 0, bytes: 0, revisions: 0 };
        const rows: [string, Usage][] = [];
        const recounted: [string, string | null][] = [];
        for (const node of stored.nodes.map((n) => n.name).sort()) {
          let usage = opts.recount ? undefined : stored.usage.get(node);
          if (!usage) {
            usage = await store.measure(host, user, node);
            recounted.push(store.usageEntry(node, usage));
          }
          rows.push([node, usage]);
          total.items += usage.items;
          total.bytes += usage.bytes;
          total.revisions += usage.revisions;
        }
        if (opts.recount) await store.write(host, user, recounted);
        console.log(`${user}@${host} stores ${total.items} items, ${total.bytes} bytes (${total.revisions} earlier revisions) in ${rows.length} nodes`);
        await printLimits(loaded, host, await readOverride(backend.keyval(QUOTA_STORE), host, user));
        for (const [node, usage] of rows) console.log(`  ${node}\t${usage.items} items\t${usage.bytes} bytes\t${usage.revisions} revisions`);
      });
    });

  storage
    .command('reindex')
    .description('index the text of every PEP and pubsub item for search (items stored before search existed)')
    .option('-c, --config <path>', helpers.configHelp)
    .action(async (opts: { config?: string }) => {
      const loaded = helpers.loadConfig(opts.config);
      const backend = await openStorage(loaded);
      try {
        const items = backend.archive(ITEMS_STORE);
        if (!items.textSearch) throw helpers.fail(`the ${backend.kind} storage backend cannot search text: there is nothing to index`);
        const store = new PubSubStore(backend.map(NODES_STORE), items);
        const modules = enabledModules(loaded);
        const pubsubDomain = (modules.get('pubsub') as { domain?: string } | undefined)?.domain;
        // Every account's PEP service, and each pubsub service's partition (its domain, no user).
        const partitions = new Map<string, [string, string]>();
        for (const host of loaded.config.hosts) {
          for (const user of await backend.accounts.list(host)) partitions.set(`${user}@${host}`, [host, user]);
          if (modules.has('pubsub')) partitions.set(pubsubDomain ?? `pubsub.${host}`, [pubsubDomain ?? `pubsub.${host}`, '']);
        }
        let total = 0;
        for (const [partition, user] of partitions.values()) {
          for (const node of (await store.load(partition, user)).nodes) total += await store.reindex(partition, user, node.name);
        }
        console.log(`indexed the text of ${total} items`);
      } finally {
        await backend.close();
      }
    });

  storage
    .command('quota <jid>')
    .description("show or set an account's own limits (the server applies a change within 30 seconds)")
    .option('-c, --config <path>', helpers.configHelp)
    .option('--bytes <n>', 'bytes of payloads and revisions: a number (K, M, G allowed), 0 for no limit, "default" for the host\'s')
    .option('--items <n>', 'items: a number, 0 for no limit, "default" for the host\'s')
    .action(async (jid: string, opts: { config?: string; bytes?: string; items?: string }) => {
      await withAccount(opts.config, jid, async ({ loaded, host, user, backend }) => {
        const keyval = backend.keyval(QUOTA_STORE);
        const override = await readOverride(keyval, host, user);
        if (opts.bytes !== undefined || opts.items !== undefined) {
          for (const [name, text] of [['bytes', opts.bytes], ['items', opts.items]] as const) {
            if (text === undefined) continue;
            const value = parseLimit(text, name, helpers.fail);
            override[name] = value === 'default' ? undefined : value;
          }
          await writeOverride(keyval, host, user, override);
          console.log(`set the limits of ${user}@${host}`);
        }
        await printLimits(loaded, host, override);
      });
    });
}
