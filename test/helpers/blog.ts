// Helpers of the Publishing tests: the modules of a publishing server, Atom entries as XMPP clients publish them
// (XEP-0277 §publish), and the blog's URLs on a test server.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import parse from '@xmpp/xml/lib/parse.js';
import { xml, type X } from './pubsub.js';
import type { TestServer } from './server.js';

export const ATOM = 'http://www.w3.org/2005/Atom';
export const MICROBLOG = 'urn:xmpp:microblog:0';
export const SOCIAL_FEED = 'urn:xmpp:pubsub-social-feed:1';

/** A server with accounts, PEP, pubsub and the publishing modules (and storage and app tokens for HTTP). */
export const PUBLISHING_MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  pubsub:\n  storage:\n  adhoc:\n  app_tokens:\n  microblog:\n  social_feed:\n  blog:';

export interface EntryParts {
  title: string;
  text?: string;
  xhtml?: string;
  categories?: string[];
  published?: string;
  series?: { id: string; title: string; position?: number };
}

/** An Atom entry as a XEP-0277 client publishes it: title, text content and, optionally, an XHTML twin. */
export function atomEntry(parts: EntryParts): X {
  const children: X[] = [xml('title', { type: 'text' }, parts.title)];
  if (parts.text !== undefined) children.push(xml('content', { type: 'text' }, parts.text));
  if (parts.xhtml !== undefined) {
    // Given as markup, parsed into elements so that the client sends it as XML (as clients do).
    children.push(xml('content', { type: 'xhtml' }, parse(`<div xmlns='http://www.w3.org/1999/xhtml'>${parts.xhtml}</div>`)));
  }
  for (const term of parts.categories ?? []) children.push(xml('category', { term }));
  if (parts.published) children.push(xml('published', {}, parts.published));
  if (parts.series) {
    children.push(xml('category', { scheme: 'urn:quire:series:0', term: parts.series.id, label: parts.series.title, 'xmlns:quire': 'urn:quire:series:0', ...(parts.series.position ? { 'quire:position': String(parts.series.position) } : {}) }));
  }
  return xml('entry', { xmlns: ATOM }, ...children);
}

export function blogUrl(server: TestServer, path = ''): string {
  return `http://127.0.0.1:${server.httpPort}/blog/${path}`;
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, command))) return join(dir, command);
  return undefined;
}

/** Debian's epubcheck (a link to its jar, run with java), or undefined when it is not installed. */
function epubcheckCommand(): string[] | undefined {
  const path = findOnPath('epubcheck');
  if (!path) return undefined;
  const real = realpathSync(path);
  if (!real.endsWith('.jar')) return [real];
  const java = findOnPath('java');
  return java ? [java, '-jar', real] : undefined;
}

export const epubcheck = epubcheckCommand();
if (!epubcheck) console.log('# epubcheck (and java) not found: the books are not validated; apt-get install -y epubcheck to run it');

/** Runs epubcheck on a book; exit code 0 and "No errors or warnings detected" mean valid. */
export async function runEpubcheck(book: Buffer): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'quire-epub-'));
  try {
    const path = join(dir, 'book.epub');
    await writeFile(path, book);
    return await new Promise((resolve) => {
      execFile(epubcheck![0], [...epubcheck!.slice(1), path], { timeout: 180_000 }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
