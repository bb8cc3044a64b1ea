/**
 * The API listening on a real port (127.0.0.1:0), in production mode unless told otherwise, for
 * the security tests: every request goes over HTTP with fetch, as an attacker's would. Also: a
 * listener that counts connections (proof that nothing was sent to a refused endpoint), and
 * decompression-bomb servers.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { loadConfig, type Config, type HostResolver } from '@exsync/config';
import { buildApp } from '../../services/api/src/app';
import { isolatedRedisPrefix } from '../support/stack';

export interface SecurityApi {
  app: FastifyInstance;
  baseUrl: string;
  pool: pg.Pool;
  config: Config;
  platformToken: string;
  logLines: string[];
  http(method: string, path: string, token?: string | null, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  createOrg(): Promise<{ id: string; token: string; tokenId: string }>;
  close(): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

/**
 * Production mode (secrets given, http endpoints refused, no operator hosts) plus `env`; its own
 * Redis prefix so rate-limit counters start at zero. `resolveHost` replaces DNS.
 */
export async function startSecurityApi(env: Record<string, string> = {}, resolveHost?: HostResolver): Promise<SecurityApi> {
  const platformToken = `platform-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    EXSYNC_MODE: 'production',
    EXSYNC_REDIS_PREFIX: isolatedRedisPrefix(),
    EXSYNC_ADMIN_TOKEN: platformToken,
    EXSYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    EXSYNC_PUBLIC_URL: 'https://exsync.example.test',
    EXSYNC_ALLOW_INSECURE_AUTHORITY: 'false',
    EXSYNC_ALLOWED_HOSTS: '',
    EXSYNC_RATE_LIMIT_PER_IP: '1000000',
    EXSYNC_RATE_LIMIT_PER_TOKEN: '1000000',
    EXSYNC_RATE_LIMIT_SIGNIN_PER_IP: '1000000',
    LOG_LEVEL: 'info',
    ...env,
  });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await buildApp({ config, pool, logStream, resolveHost, enqueueSync: async () => {} });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const call: SecurityApi['http'] = async (method, path, token, body, headers = {}) => {
    const res = await fetch(baseUrl + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };

  return {
    app,
    baseUrl,
    pool,
    config,
    platformToken,
    logLines,
    http: call,
    async createOrg() {
      const org = await call('POST', '/v1/orgs', platformToken, { name: `sec-${randomBytes(3).toString('hex')}` });
      if (org.status !== 201) throw new Error(`create org: ${org.status} ${org.text}`);
      const id = org.json().id as string;
      const tok = await call('POST', `/v1/orgs/${id}/admin-tokens`, platformToken);
      if (tok.status !== 201) throw new Error(`mint token: ${tok.status} ${tok.text}`);
      return { id, token: tok.json().token as string, tokenId: tok.json().id as string };
    },
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

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
