// A TCP relay that plays the network between Quire and a database: close() cuts every connection and
// refuses new ones (the database "goes away"); reopen() listens on the same port again.
import net from 'node:net';

export interface TcpRelay {
  port: number;
  close(): Promise<void>;
  reopen(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => { sockets.delete(socket); client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(port, '127.0.0.1', () => { relay.off('error', reject); resolve(); });
  });
  await listen(0);
  const port = (relay.address() as net.AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      if (!relay.listening) { resolve(); return; }
      relay.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
    reopen: () => listen(port),
  };
}
