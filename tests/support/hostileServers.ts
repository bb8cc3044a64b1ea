/**
 * Servers that misbehave on purpose, for the security tests: a listener that only counts who
 * connects (proof that nothing was sent to a refused endpoint) and decompression-bomb servers.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

/** A TCP listener that only counts who connects: it must see nothing from a refused endpoint. */
export interface ConnectionCounter {
  port: number;
  connections: number;
  close(): Promise<void>;
}

export async function startConnectionCounter(): Promise<ConnectionCounter> {
  const counter = { port: 0, connections: 0, close: async () => {} };
  const server = net.createServer((socket) => {
    counter.connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  counter.port = (server.address() as AddressInfo).port;
  counter.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return counter;
}

export type BombEncoding = 'gzip' | 'deflate' | 'br';

/** `decodedBytes` of zeros compressed with `encoding` (a few KB on the wire). */
export function makeBomb(encoding: BombEncoding, decodedBytes: number): Buffer {
  const zeros = Buffer.alloc(decodedBytes);
  if (encoding === 'gzip') return zlib.gzipSync(zeros, { level: 9 });
  if (encoding === 'deflate') return zlib.deflateSync(zeros, { level: 9 });
  return zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } });
}

export interface BombServer {
  url: string;
  requests: number;
  encoding: BombEncoding;
  close(): Promise<void>;
}

/** Answers every request with a bomb in `encoding` (status 200, content type as the leg expects). */
export async function startBombServer(encoding: BombEncoding, decodedBytes: number, contentType: string): Promise<BombServer> {
  const bomb = makeBomb(encoding, decodedBytes);
  const state = { url: '', requests: 0, encoding, close: async () => {} };
  const server = http.createServer((req, res) => {
    state.requests++;
    req.resume();
    res.writeHead(200, { 'content-type': contentType, 'content-encoding': encoding, 'content-length': String(bomb.length) });
    res.end(bomb);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
