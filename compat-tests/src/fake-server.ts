// A scripted RESP2 server on a loopback port, for the runner's own tests: each command
// goes to a handler that answers raw reply bytes, nothing (to test timeouts), or 'close'.

import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { Resp2Parser } from './resp2-client';

/** What the fake server does with one command: raw reply bytes, no reply, or hang up. */
export type FakeAnswer = string | Buffer | undefined | 'close';

/** A running fake server. */
export interface FakeServer {
  readonly port: number;
  /** Every command received, as text words. */
  readonly received: string[][];
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Starts a fake server on 127.0.0.1 with a handler per command. */
export function startFakeServer(handle: (args: string[]) => FakeAnswer): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const received: string[][] = [];
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const parser = new Resp2Parser();
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      for (let req = parser.next(); req !== undefined; req = parser.next()) {
        const args = (req as string[]).map(String);
        received.push(args);
        const answer = handle(args);
        if (answer === 'close') {
          socket.destroy();
          return;
        }
        if (answer !== undefined) socket.write(answer);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        received,
        get connections() {
          return state.connections;
        },
        set connections(n: number) {
          state.connections = n;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
