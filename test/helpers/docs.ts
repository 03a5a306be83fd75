// Running a document's tour as a test: every ```sh block with the real curl (in one shell, so variables carry over),
// the ```http answer after it checked (status, the headers shown, the body, `…` standing for what differs between
// runs), ```xml blocks sent by a real XMPP client (```xml alice) or expected at one (```xml bob receives). The same
// conventions as docs/storage.md's test (test/storage-docs.test.ts), for docs/publishing.md.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Element as XmppElement } from '@xmpp/xml';
import { parseStoredXml } from '../../src/core/roster.js';
import type { Element } from '../../src/core/xml/element.js';
import { connectClient, xmppXml, type TestServer, type XmppClient } from './server.js';

export interface Block {
  lang: string;
  info: string;
  text: string;
  line: number;
}

export function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    out.push({ lang: open[1], info: open[2].trim(), text: body.join('\n'), line: start + 1 });
  }
  return out;
}

/** `…` in an example stands for anything. */
export function pattern(expected: string): RegExp {
  return new RegExp('^' + expected.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?') + '$');
}

/** One bash for the whole tour, so that variables set by one block are there for the next. */
export class Shell {
  private child = spawn('bash', ['--noprofile', '--norc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  private out = '';
  private err = '';
  private waiting: (() => void) | null = null;

  constructor() {
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      this.waiting?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.err += d));
  }

  async run(script: string): Promise<{ stdout: string; stderr: string; status: number }> {
    const marker = `@@done-${Math.random().toString(36).slice(2)}@@`;
    this.out = '';
    this.err = '';
    this.child.stdin.write(`${script}\necho "${marker} $?"\n`);
    let m: RegExpExecArray | null;
    while (!(m = new RegExp(`${marker} (\\d+)\\n`).exec(this.out))) await new Promise<void>((resolve) => (this.waiting = resolve));
    return { stdout: this.out.slice(0, m.index), stderr: this.err, status: Number(m[1]) };
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** The last HTTP response in curl -i output. */
export function lastResponse(output: string): { status: number; headers: Map<string, string>; body: string } {
  const starts = [...output.matchAll(/HTTP\/[\d.]+ (\d{3}) [^\n]*\n/g)];
  assert.ok(starts.length, `no HTTP response in: ${output}`);
  const last = starts[starts.length - 1];
  const rest = output.slice(last.index! + last[0].length).replace(/\r\n/g, '\n');
  const blank = rest.indexOf('\n\n');
  const head = blank < 0 ? rest : rest.slice(0, blank);
  const headers = new Map<string, string>();
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(last[1]), headers, body: blank < 0 ? '' : rest.slice(blank + 2) };
}

/** Whether a received stanza has everything an example shows (attributes, children in order, text; `…` = anything). */
export function matches(expected: Element, actual: XmppElement, expectedNs = '', actualNs = ''): boolean {
  const ens = expected.attrs.xmlns ?? expectedNs;
  const ans = actual.attrs.xmlns ?? actualNs;
  if (expected.name !== actual.name || ens !== ans) return false;
  for (const [name, value] of Object.entries(expected.attrs)) {
    if (name === 'xmlns') continue;
    if (actual.attrs[name] === undefined || !pattern(value).test(actual.attrs[name])) return false;
  }
  const text = expected.children.filter((c): c is string => typeof c === 'string').join('').trim();
  if (text && !pattern(text).test(actual.text().trim())) return false;
  const wanted = expected.children.filter((c): c is Element => typeof c !== 'string');
  const present = actual.getChildElements();
  let at = 0;
  for (const child of wanted) {
    while (at < present.length && !matches(child, present[at], ens, ans)) at++;
    if (at === present.length) return false;
    at++;
  }
  return true;
}

export interface TourClient {
  client: XmppClient;
  received: XmppElement[];
  seen: number;
  waiters: (() => void)[];
}

/** Collects what a client receives, for ```xml NAME receives blocks. */
export function tourClient(client: XmppClient): TourClient {
  const entry: TourClient = { client, received: [], seen: 0, waiters: [] };
  client.on('stanza', (stanza: XmppElement) => {
    entry.received.push(stanza);
    for (const w of entry.waiters.splice(0)) w();
  });
  return entry;
}

/** Accounts for a tour (password 'secret'), each logged in with an available presence, collecting what it receives. */
export async function tourClients(server: TestServer, names: string[]): Promise<Map<string, TourClient>> {
  const clients = new Map<string, TourClient>();
  for (const name of names) {
    await server.createUser(name, 'secret');
    const client = await connectClient(server, name, 'secret', 'docs');
    clients.set(name, tourClient(client));
    await client.send(xmppXml('presence'));
  }
  return clients;
}

/** Runs the blocks of a tour in order; `local` turns the URLs of its commands into the test server's (whose
 *  http.public_url is the document's, so the answers and stanzas are compared as written). Returns how many
 *  examples ran. */
export async function runTour(tour: Block[], doc: string, shell: Shell, clients: Map<string, TourClient>, local: (text: string) => string): Promise<number> {
  let ran = 0;
  for (let i = 0; i < tour.length; i++) {
    const block = tour[i];
    const where = `${doc}:${block.line}`;
    if (block.lang === 'sh') {
      // --max-time bounds an event stream; here it need not wait long, the replay comes at once (curl exits 28).
      const bounded = /--max-time/.test(block.text);
      const script = local(block.text).replace(/--max-time \d+/g, '--max-time 2').replace(/\bcurl -i\b/g, 'curl -sS -i');
      const { stdout, stderr, status } = await shell.run(script);
      assert.ok(status === 0 || (status === 28 && bounded), `${where}: exit ${status}: ${stderr}`);
      const answer = tour[i + 1]?.lang === 'http' ? tour[++i] : null;
      if (!answer) {
        ran++;
        continue;
      }
      const [statusLine, ...rest] = answer.text.split('\n');
      const blank = rest.indexOf('');
      const headerLines = blank < 0 ? rest : rest.slice(0, blank);
      const body = blank < 0 ? '' : rest.slice(blank + 1).join('\n');
      const response = lastResponse(stdout);
      assert.equal(response.status, Number(statusLine.split(' ')[1]), `${where}: ${stdout}`);
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        assert.match(response.headers.get(name) ?? '(none)', pattern(value), `${where}: header ${name}`);
      }
      if (body.trim()) assert.match(response.body.trim(), pattern(body.trim()), `${where}: body`);
      ran++;
    } else if (block.lang === 'xml') {
      const [who, receives] = block.info.split(/\s+/);
      const entry = clients.get(who);
      assert.ok(entry, `${where}: which client? (${block.info})`);
      if (receives === 'receives') {
        const expected = parseStoredXml(block.text.replace(/>\s+</g, '><'));
        for (;;) {
          const index = entry.received.findIndex((s, k) => k >= entry.seen && matches(expected, s, 'jabber:client', 'jabber:client'));
          if (index >= 0) {
            entry.seen = index + 1;
            break;
          }
          await new Promise<void>((resolve) => entry.waiters.push(resolve));
        }
      } else {
        const stanza = parseStoredXml(block.text.replace(/>\s+</g, '><'));
        const id = stanza.attrs.id;
        const answer = new Promise<XmppElement>((resolve) => {
          const check = () => {
            const found = entry.received.find((s) => s.name === 'iq' && s.attrs.id === id);
            if (found) resolve(found);
            else entry.waiters.push(check);
          };
          check();
        });
        await (entry.client as unknown as { write(text: string): Promise<void> }).write(stanza.toString());
        const reply = await answer;
        assert.equal(reply.attrs.type, 'result', `${where}: ${reply.toString()}`);
      }
      ran++;
    }
  }
  return ran;
}
