// The link between the core process and a network worker: one pipe each, carrying frames for many client
// connections. A frame is [connection id: u32][kind: u8][length: u32][payload]. Frames written in one tick leave
// in one pipe write, so the core makes a few system calls per tick instead of one per client socket.
import type { Socket } from 'node:net';
import type { ChannelBindingType } from '../core/sasl/index.js';

/** Worker → core. */
export const OPENED = 1; // payload: JSON ConnectionInfo
export const RECEIVED = 2; // payload: bytes from the client
export const CLOSED = 3; // the client connection is gone
export const SECURED = 4; // STARTTLS finished; payload: JSON TlsInfo
export const OVERFLOWED = 5; // the client does not read: its unsent replies passed the limit

/** Core → worker. */
export const SEND = 16; // payload: UTF-8 text for the client
export const START_TLS = 17; // upgrade after what was sent so far
export const END = 18; // flush and close

/** The pipe's place among a worker's stdio slots: 0-2 are the usual three, 3 is node's IPC channel. */
export const LINK_FD = 4;

const HEADER = 9;
const BATCH = 64 * 1024;

export interface TlsInfo {
  /** The channel binding data the TLS session has (base64), by type: its keys are the types it supports. */
  bindings: Partial<Record<ChannelBindingType, string>>;
}

export interface ConnectionInfo {
  remoteAddress: string;
  /** Set for direct TLS, where the handshake is done before the connection is announced. */
  tls: TlsInfo | null;
  /** STARTTLS can be offered (plain TCP and a certificate). */
  canStartTls: boolean;
}

/** Collects frames and writes them once per tick. */
export class FrameWriter {
  private chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(BATCH);
  private offset = 0;
  private scheduled = false;

  /**
   * `backedUp` runs when a flush leaves more queued than the pipe's high-water mark: the other side is not keeping
   * up, and the caller stops producing until the pipe's 'drain' (no queue here grows without bound).
   */
  constructor(
    private pipe: Socket,
    private backedUp: () => void,
  ) {}

  push(id: number, kind: number, payload?: string | Buffer): void {
    const size = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (this.offset + HEADER + size > this.buffer.length) this.startBuffer(HEADER + size);
    const buffer = this.buffer;
    buffer.writeUInt32BE(id, this.offset);
    buffer[this.offset + 4] = kind;
    buffer.writeUInt32BE(size, this.offset + 5);
    this.offset += HEADER;
    if (typeof payload === 'string') buffer.write(payload, this.offset);
    else if (payload) payload.copy(buffer, this.offset);
    this.offset += size;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  private startBuffer(atLeast: number): void {
    if (this.offset > 0) this.chunks.push(this.buffer.subarray(0, this.offset));
    this.buffer = Buffer.allocUnsafe(Math.max(BATCH, atLeast));
    this.offset = 0;
  }

  private flush = (): void => {
    this.scheduled = false;
    this.startBuffer(0);
    const chunks = this.chunks;
    this.chunks = [];
    if (this.pipe.destroyed) return;
    for (const chunk of chunks) this.pipe.write(chunk);
    if (this.pipe.writableNeedDrain) this.backedUp();
  };
}

/** Splits a pipe's bytes into frames. Payloads are views into the received chunks (copied only across chunks). */
export class FrameReader {
  private pending: Buffer | null = null;

  constructor(private onFrame: (id: number, kind: number, payload: Buffer) => void) {}

  feed(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at = 0;
    while (data.length - at >= HEADER) {
      const size = data.readUInt32BE(at + 5);
      if (data.length - at < HEADER + size) break;
      this.onFrame(data.readUInt32BE(at), data[at + 4], data.subarray(at + HEADER, at + HEADER + size));
      at += HEADER + size;
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
  }
}
