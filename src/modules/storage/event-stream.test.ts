// An event stream never queues much for a reader that does not read: past max_stream_buffer it is cut off (the
// reader resumes from its last event id), on a real socket whose other end stopped reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { EventStream } from './event-stream.js';

test('a reader that stops reading is cut off once max_stream_buffer bytes wait for it', async () => {
  const maxBuffered = 64 * 1024;
  let stream: EventStream | undefined;
  const opened = new Promise<void>((resolve) => {
    const server = http.createServer((_req, res) => {
      stream = new EventStream(res, maxBuffered);
      stream.open({}, 3000, 60_000);
      resolve();
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      // Reads nothing at all: the kernel's buffers fill, then the response's own.
      socket.pause();
      socket.on('error', () => {});
      after.push(() => {
        socket.destroy();
        server.close();
      });
    });
  });
  const after: (() => void)[] = [];
  try {
    await opened;
    const data = 'x'.repeat(16 * 1024);
    let sent = 0;
    // Far more than any socket buffers: it must end long before.
    while (stream!.isOpen && sent < 100_000) {
      stream!.send({ id: String(sent), event: 'published', data });
      sent++;
    }
    assert.equal(stream!.isOpen, false, `still open after ${sent} events`);
    assert.ok(sent < 100_000);
  } finally {
    for (const fn of after) fn();
  }
});
