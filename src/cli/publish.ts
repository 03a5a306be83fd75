// `quire publish import USER FEED.xml|URL`: an existing blog's Atom or RSS feed into an account's blog node, with
// each post's id and dates kept, under an ItemID made from its title and Atom id (importItemId), so a second run
// finds the posts it imported and changes only those whose <updated> changed (no duplicates). Each post goes
// through the PubSub engine, so the microblog module checks and normalizes it as it would a client's post. Two ways:
// - with the server stopped (the default): the command starts Quire's engine on the configured storage, without
//   listeners, publishes, and stops. A running server would not see these writes until its restart (it keeps
//   nodes in memory), and its subscribers would hear nothing, hence:
// - to a running server: --server https://example.org --token TOKEN (an app token with write scope on the node)
//   PUTs each post to the blog's AtomPub collection (docs/publishing.md), so subscribers are notified at once.
// The original page of a post, its alternate text/html link, is kept as a rel="via" link (RFC 4287 §4.2.7.2: the
// source of the information), since the blog's own page becomes the post's alternate.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/index.js';
import { makeJid } from '../core/jid/index.js';
import { serialize, type Element } from '../core/xml/element.js';
import { NS_NODE_CONFIG, PubSubError, type PubSubService } from '../pubsub/index.js';
import { buildEntry } from '../publishing/atom-build.js';
import { timeOf } from '../publishing/dates.js';
import { readEntry } from '../publishing/atom-read.js';
import { ImportError, importItemId, parseFeedForImport } from '../publishing/import.js';
import { NODE_MICROBLOG, type Post } from '../publishing/post.js';
import { pepService } from '../modules/pep/index.js';
import { pubsubService } from '../modules/pubsub/index.js';
import { parseXmlPayload } from '../modules/storage/payloads.js';
import type { ServerLimits } from '../core/server.js';
import { startServer } from '../start.js';
import { Writable } from 'node:stream';
import type { CliHelpers } from './storage.js';

interface ImportOptions {
  config?: string;
  node?: string;
  dryRun?: boolean;
  server?: string;
  token?: string;
}

/** What happened to each post. */
type Outcome = 'created' | 'updated' | 'unchanged';

/** Draws a progress bar on a terminal (stderr, rewritten in place), or one plain line per post elsewhere. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  constructor(private readonly total: number) {}

  step(done: number, title: string, outcome: string): void {
    if (!this.tty) {
      process.stderr.write(`${done}/${this.total} ${outcome}: ${title}\n`);
      return;
    }
    const width = 30;
    const filled = this.total ? Math.round((done / this.total) * width) : width;
    const label = title.length > 40 ? title.slice(0, 39) + '…' : title;
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${label}`.padEnd(100) + (done === this.total ? '\n' : ''));
  }
}

async function readSource(source: string, fail: CliHelpers['fail']): Promise<{ text: string; feedUrl?: string }> {
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      res = await fetch(source, { headers: { accept: 'application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5' } });
    } catch (err) {
      throw fail(`cannot fetch ${source}: ${(err as Error).message}`);
    }
    if (!res.ok) throw fail(`${source} answered ${res.status} ${res.statusText}`);
    return { text: await res.text(), feedUrl: res.url || source };
  }
  try {
    return { text: await readFile(source, 'utf8') };
  } catch (err) {
    throw fail(`cannot read ${source}: ${(err as Error).message}`);
  }
}

/** The post as an entry to publish: its original page becomes a via link. */
function importEntry(post: Post): Element {
  const links = post.links.map((l) => (l.rel === 'alternate' && (l.type === undefined || l.type === 'text/html') && /^https?:/i.test(l.href) ? { ...l, rel: 'via' } : l));
  return buildEntry({ ...post, links });
}

/** Whether a stored entry is this version of the post: same Atom id, dates, title and contents (RSS items often
 *  have no date of change, so the text is compared too; the server's additions, such as a text twin, are ignored). */
function sameVersion(stored: Element | null | undefined, post: Post): boolean {
  if (!stored) return false;
  const current = readEntry(stored).post;
  const same = (a: { type: string; value: string } | undefined, b: { type: string; value: string } | undefined) => a?.type === b?.type && a?.value === b?.value;
  return (
    current.id === post.id &&
    current.updated === post.updated &&
    current.published === post.published &&
    same(current.title, post.title) &&
    post.contents.every((c) => current.contents.some((s) => same(s, c)))
  );
}

/** Publishes through the engine of a Quire started here, without listeners (the server must be stopped). */
async function importOffline(loaded: LoadedConfig, account: { host: string; user: string }, node: { service?: string; name: string }, posts: Post[], progress: Progress, fail: CliHelpers['fail']): Promise<Outcome[]> {
  const listeners = Object.fromEntries(Object.entries(loaded.config.listeners).map(([name, l]) => [name, { ...l, enabled: false }])) as LoadedConfig['config']['listeners'];
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const running = await startServer({ ...loaded, config: { ...loaded.config, listeners, log: { ...loaded.config.log, level: 'error' } } }, { logDestination: quiet });
  try {
    const { server } = running;
    if (!(await server.accounts.exists(account.host, account.user))) throw fail(`${account.user}@${account.host} does not exist`);
    const service: PubSubService | undefined = node.service ? await pubsubService(server, node.service) : await pepService(server, account.host, account.user);
    if (!service) throw fail(node.service ? `${node.service} is not a pubsub service of this server` : 'the pep module is not enabled: blogs live in PEP');
    const requester = makeJid(account.user, account.host);
    const createWith = { type: 'submit' as const, formType: NS_NODE_CONFIG, fields: [{ var: 'pubsub#access_model', values: ['open'] }] };
    const outcomes: Outcome[] = [];
    for (const [i, post] of posts.entries()) {
      const id = importItemId(post);
      const [existing] = service.nodes.has(node.name) ? await service.items(requester, node.name, { ids: [id] }) : [];
      const stored = existing?.items[0];
      let outcome: Outcome = stored ? 'updated' : 'created';
      if (sameVersion(stored?.payload, post)) outcome = 'unchanged';
      else {
        try {
          await service.publish(requester, node.name, { item: { id, payload: importEntry(post), payloadCount: 1 }, items: 1, publishOptions: null, createWith }, !node.service);
        } catch (err) {
          if (err instanceof PubSubError || (err as { condition?: string }).condition) throw fail(`"${post.title.value}" (${id}) was refused: ${(err as PubSubError).text ?? (err as Error).message}`);
          throw err;
        }
      }
      outcomes.push(outcome);
      progress.step(i + 1, post.title.value, outcome);
    }
    return outcomes;
  } finally {
    await running.stop();
  }
}

/** PUTs each post to a running server's AtomPub collection, as the account's app token. */
async function importOverHttp(base: string, token: string, account: string, node: { service?: string; name: string }, posts: Post[], progress: Progress, fail: CliHelpers['fail']): Promise<Outcome[]> {
  const seg = (s: string) => encodeURIComponent(s).replace(/%40/g, '@').replace(/%3A/gi, ':');
  const collection = `${base.replace(/\/+$/, '')}/blog/${node.service ? `${seg(node.service)}/${seg(node.name)}` : seg(account)}/atompub/entries`;
  const headers = { authorization: `Bearer ${token}` };
  const outcomes: Outcome[] = [];
  for (const [i, post] of posts.entries()) {
    const url = `${collection}/${seg(importItemId(post))}`;
    const current = await fetch(url, { headers });
    let outcome: Outcome;
    if (current.status === 200 && sameVersion(entryOf(await current.text()), post)) outcome = 'unchanged';
    else {
      if (current.status !== 200 && current.status !== 404) throw fail(`${url} answered ${current.status}: ${await current.text()}`);
      const put = await fetch(url, { method: 'PUT', headers: { ...headers, 'content-type': 'application/atom+xml;type=entry' }, body: serialize(importEntry(post)) });
      if (put.status !== 200 && put.status !== 201) throw fail(`"${post.title.value}" was refused (${put.status}): ${await put.text()}`);
      outcome = put.status === 201 ? 'created' : 'updated';
    }
    outcomes.push(outcome);
    progress.step(i + 1, post.title.value, outcome);
  }
  return outcomes;
}

/** The member entry a server answered (its own limits were applied when it was stored). */
function entryOf(text: string): Element | null {
  try {
    return parseXmlPayload(text, { maxDepth: 64, maxAttributes: 256 } as ServerLimits);
  } catch {
    return null;
  }
}

export function publishCommands(program: Command, helpers: CliHelpers): void {
  const publish = program.command('publish').description('blogs: import an existing one (docs/publishing.md)');
  publish
    .command('import <user> <source>')
    .description("bring an Atom or RSS feed (a file or an http(s) URL) into an account's blog, keeping ids and dates; safe to run again")
    .option('-c, --config <path>', helpers.configHelp)
    .option('--node <node>', `the node: one of the account's PEP nodes, or service/node on a pubsub service (default ${NODE_MICROBLOG})`)
    .option('--dry-run', 'read the feed and list what would be imported, changing nothing')
    .option('--server <url>', 'import into a running server through its AtomPub (with --token); otherwise the server must be stopped')
    .option('--token <token>', 'an app token of the account with write scope on the node (for --server)')
    .action(async (userText: string, source: string, opts: ImportOptions) => {
      const loaded = helpers.loadConfig(opts.config);
      const account = helpers.parseAccount(loaded, userText);
      const slash = opts.node?.indexOf('/') ?? -1;
      const node = opts.node && slash > 0 ? { service: opts.node.slice(0, slash), name: opts.node.slice(slash + 1) } : { name: opts.node ?? NODE_MICROBLOG };
      const { text, feedUrl } = await readSource(source, helpers.fail);
      let feed;
      try {
        feed = parseFeedForImport(text, feedUrl ? { feedUrl } : {});
      } catch (err) {
        if (err instanceof ImportError) throw helpers.fail(`${source}: ${err.message}`);
        throw err;
      }
      for (const warning of feed.warnings) process.stderr.write(`warning: ${warning}\n`);
      // Oldest first, by date (feeds list newest or oldest first), so posts are stored in the order they were written.
      const posts = [...feed.posts].sort((a, b) => timeOf(a.published ?? a.updated) - timeOf(b.published ?? b.updated));
      const target = `${node.service ? `${node.service}/${node.name}` : `${account.user}@${account.host}/${node.name}`}`;
      if (opts.dryRun) {
        for (const post of posts) console.log(`${importItemId(post)}\t${post.published ?? post.updated}\t${post.title.value}`);
        console.log(`dry run: ${posts.length} posts from "${feed.title}" (${feed.format}) would go to ${target}`);
        return;
      }
      if (opts.server && !opts.token) throw helpers.fail('--server needs --token: create one with quire token create USER --scope write --node NODE');
      const progress = new Progress(posts.length);
      const outcomes = opts.server
        ? await importOverHttp(opts.server, opts.token!, `${account.user}@${account.host}`, node, posts, progress, helpers.fail)
        : await importOffline(loaded, account, node, posts, progress, helpers.fail);
      const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
      console.log(`imported ${posts.length} posts from "${feed.title}" into ${target}: ${count('created')} new, ${count('updated')} updated, ${count('unchanged')} unchanged`);
    });
}
