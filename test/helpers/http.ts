// Helpers for the Storage API tests: requests with Node's fetch against a test server's web listener, credentials,
// and a small Server-Sent Events reader (what EventSource does: it parses the stream and remembers the last id).
import type { TestServer } from './server.js';

export const PASSWORD = 'secret-password';

/** The modules of a server with both faces of Storage: PEP on accounts, pubsub.<host>, and the HTTP API. */
export const STORAGE_MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  pubsub:\n  storage:';

/** `http://127.0.0.1:<port>/storage/<segments…>`, each segment percent-encoded. */
export function storageUrl(server: TestServer, ...segments: string[]): string {
  return `http://127.0.0.1:${server.httpPort}/storage/${segments.map(encodeURIComponent).join('/')}`;
}

export function basic(user: string, password = PASSWORD): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * An event stream being read. Events are kept in arrival order; next() waits for one that matches. lastEventId is
 * what an EventSource would send when it reconnects.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  lastEventId: string | undefined;
  retry: number | undefined;
  comments = 0;
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly done: Promise<void>;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.done = this.read();
  }

  /** Opens a stream; rejects with the response when the server does not answer 200. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    if (response.status !== 200) throw response;
    return new SseReader(response, abort);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let event: { id?: string; event?: string; data: string[] } = { data: [] };
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            // Dispatch (HTML §9.2.6): the id is remembered even for an event without data.
            if (event.id !== undefined) this.lastEventId = event.id;
            if (event.data.length) this.events.push({ id: event.id ?? this.lastEventId, event: event.event ?? 'message', data: event.data.join('\n') });
            event = { data: [] };
            this.wake();
            continue;
          }
          if (line.startsWith(':')) {
            this.comments++;
            this.wake();
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') event.data.push(value);
          else if (field === 'event') event.event = value;
          else if (field === 'id') event.id = value;
          else if (field === 'retry') this.retry = Number(value);
        }
      }
    } catch {
      // aborted or cut off
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when something arrived or the stream ended. */
  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next event (after `from`, an index into events) that matches; rejects if the stream ends first. */
  async next(match: (e: SseEvent) => boolean = () => true, from = 0): Promise<SseEvent> {
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      if (this.ended) throw new Error(`the stream ended; events: ${JSON.stringify(this.events)}`);
      await this.changed();
    }
  }

  /** Waits until `count` events have arrived. */
  async count(count: number): Promise<SseEvent[]> {
    while (this.events.length < count) {
      if (this.ended) throw new Error(`the stream ended after ${this.events.length} of ${count} events: ${JSON.stringify(this.events)}`);
      await this.changed();
    }
    return this.events;
  }

  /** The last event id, once there is one (a stream sends one first, without an event). */
  async lastId(): Promise<string> {
    while (this.lastEventId === undefined) {
      if (this.ended) throw new Error('the stream ended without an id');
      await this.changed();
    }
    return this.lastEventId;
  }

  /** Waits for a heartbeat comment after the ones seen so far. */
  async heartbeat(): Promise<void> {
    const seen = this.comments;
    while (this.comments === seen) {
      if (this.ended) throw new Error('the stream ended');
      await this.changed();
    }
  }

  /** Waits until the server ends the stream. */
  async ending(): Promise<void> {
    await this.done;
  }

  close(): void {
    this.abort.abort();
  }
}
