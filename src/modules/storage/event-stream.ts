// One Server-Sent Events response (the WHATWG HTML "server-sent events" format): events with an id, a type and one
// line of JSON data, comments as heartbeats. It never queues more than max_stream_buffer bytes for a slow reader: past
// that it ends, and the reader resumes from its Last-Event-ID (the change log has what it missed).
import type { ServerResponse } from 'node:http';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: unknown;
}

export class EventStream {
  private ended = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly onEnd: (() => void)[] = [];

  constructor(
    private readonly raw: ServerResponse,
    private readonly maxBuffered: number,
  ) {
    raw.on('close', () => this.end());
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Sends the response head; `retryMs` is how long EventSource waits before reconnecting. */
  open(headers: Record<string, string>, retryMs: number, heartbeatMs: number): void {
    this.raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      // Never cached or transformed; nginx and similar proxies pass it through unbuffered.
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      ...headers,
    });
    this.write(`retry: ${retryMs}\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  /** An event; one with only an id dispatches nothing but sets the reader's last event id. */
  send(event: SseEvent): void {
    let text = '';
    if (event.id !== undefined) text += `id: ${event.id}\n`;
    if (event.event !== undefined) text += `event: ${event.event}\n`;
    // JSON.stringify writes no line breaks, so the data is one line.
    if (event.data !== undefined) text += `data: ${JSON.stringify(event.data)}\n`;
    this.write(text + '\n');
  }

  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.onEnd.push(fn);
  }

  private write(text: string): void {
    if (this.ended) return;
    this.raw.write(text);
    // A reader this far behind is cut off rather than buffered for: it resumes from the last event it got.
    if (this.raw.writableLength > this.maxBuffered) this.end(true);
  }

  /** Ends the response; `abort` drops what is still queued (a slow reader) instead of flushing it. */
  end(abort = false): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    if (abort) this.raw.destroy();
    else if (!this.raw.writableEnded) this.raw.end();
    for (const fn of this.onEnd.splice(0)) fn();
  }
}
