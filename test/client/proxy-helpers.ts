/**
 * Proxies for the client proxy tests: Debian's `tinyproxy` started on a free port with a
 * generated configuration, and a scripted CONNECT proxy (plain or TLS) whose every step can be
 * made to fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { expect } from 'vitest';
import type { UpgradeRequest, WebSocket } from '../../src/index.js';
import { startServer, waitFor, type Started } from '../server/helpers.js';

/** Whether the `tinyproxy` binary can be run here. */
export const HAVE_TINYPROXY = spawnSync('tinyproxy', ['-v'], { stdio: 'ignore' }).status === 0;

export interface Tinyproxy {
  /** `http://127.0.0.1:port` (no credentials). */
  url: string;
  port: number;
  /** Targets of the CONNECT requests tinyproxy logged so far (`host:port`). */
  connects(): string[];
  /**
   * Resolves once tinyproxy has logged at least `count` CONNECT requests. Its log reaches us
   * through a pipe, which can be read after the proxy's answer on the socket: a test that
   * counts what went through waits for the log instead of reading it early.
   */
  logged(count: number, timeoutMs?: number): Promise<string[]>;
  /** Stops the process and waits for it to exit. */
  close(): Promise<void>;
}

export interface TinyproxyConfig {
  /** `BasicAuth user password`: CONNECT needs these credentials. */
  basicAuth?: readonly [user: string, password: string];
  /** `ConnectPort` lines: CONNECT to other ports is refused (403). None: every port is allowed. */
  connectPorts?: readonly number[];
}

/** A free TCP port on 127.0.0.1 (tinyproxy has no "port 0 and tell me"). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts tinyproxy in the foreground (`-d`) with a configuration written for this run; resolves
 * once it logs that it accepts connections. A port taken between the probe and the start makes
 * it exit: then another port is tried.
 */
export async function startTinyproxy(config: TinyproxyConfig = {}, attempts = 3): Promise<Tinyproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-tinyproxy-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const lines = [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 30',
        'MaxClients 64',
        'Allow 127.0.0.1',
        // Info logs each request line (how the tests see what went through) and the
        // "Accepting connections" line the start waits for.
        'LogLevel Info',
        'DisableViaHeader Yes',
      ];
      if (config.basicAuth) lines.push(`BasicAuth ${config.basicAuth[0]} ${config.basicAuth[1]}`);
      for (const p of config.connectPorts ?? []) lines.push(`ConnectPort ${p}`);
      const file = join(dir, `tinyproxy-${port}.conf`);
      writeFileSync(file, lines.join('\n') + '\n');
      const child = spawn('tinyproxy', ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      const ready = await new Promise<boolean>((resolve) => {
        const deadline = setTimeout(() => (child.kill('SIGKILL'), resolve(false)), 10_000);
        child.once('exit', () => clearTimeout(deadline));
        const onData = (chunk: Buffer): void => {
          log += chunk.toString();
          if (log.includes('Accepting connections')) {
            clearTimeout(deadline);
            resolve(true);
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', () => resolve(false));
        child.once('error', () => resolve(false));
      });
      if (!ready) {
        if (attempt >= attempts) throw new Error(`tinyproxy did not start:\n${log}`);
        continue;
      }
      const connects = (): string[] => [...log.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!);
      const logged = (count: number, timeoutMs = 5000): Promise<string[]> =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            const seen = connects();
            if (seen.length < count) return;
            clearTimeout(timer);
            child.stdout!.off('data', check);
            child.stderr!.off('data', check);
            resolve(seen);
          };
          const timer = setTimeout(() => {
            child.stdout!.off('data', check);
            child.stderr!.off('data', check);
            reject(new Error(`tinyproxy logged ${connects().length} CONNECT requests, not ${count}:\n${log}`));
          }, timeoutMs);
          // Registered after the collecting listener, so `log` already holds the chunk.
          child.stdout!.on('data', check);
          child.stderr!.on('data', check);
          check();
        });
      return { url: `http://127.0.0.1:${port}`, port, connects, logged, close: () => stop(child) };
    }
  } finally {
    // The configuration is read at start-up; the directory is not needed afterwards.
    rmSync(dir, { recursive: true, force: true });
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** One CONNECT request as the scripted proxy received it. */
export interface ProxyRequest {
  /** The request line's target (`host:port`). */
  target: string;
  /** The whole request head (request line and header lines). */
  head: string;
  /** The header value, if sent (names compared case-insensitively). */
  header(name: string): string | undefined;
  /** The client connection, to answer on or drop. */
  client: Socket;
}

/** What the scripted proxy does with one CONNECT: answer, relay, hang up or stay silent. */
export type ProxyScript = (req: ProxyRequest, tools: { relay(opts?: RelayOptions): void }) => void;

export interface RelayOptions {
  /** Drop both connections once the origin was sent this many bytes (mid-handshake failure). */
  dropAfterUpstreamBytes?: number;
  /** The 2xx answer head to send (default `HTTP/1.1 200 Connection Established` and no headers). */
  answer?: string;
  /** Send the answer one byte per event-loop turn (a slow proxy; the reader must reassemble it). */
  trickle?: boolean;
}

export interface ScriptedProxy {
  url: string;
  port: number;
  requests: ProxyRequest[];
  /** Client connections currently open. */
  open: Set<Socket>;
  close(): Promise<void>;
}

/**
 * A CONNECT proxy driven by `script` for each request. `relay()` answers 200 and relays bytes
 * to the target; a script may instead write any answer, destroy the client, or do nothing.
 * With `tls`, clients speak TLS to the proxy (an `https:` proxy).
 */
export async function scriptedProxy(script: ProxyScript, tls?: { cert: Buffer; key: Buffer }): Promise<ScriptedProxy> {
  const requests: ProxyRequest[] = [];
  const open = new Set<Socket>();
  const onClient = (client: Socket): void => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      client.off('data', onData);
      // Held until the script decides: bytes behind the head must not be lost meanwhile.
      client.pause();
      const head = buffered.subarray(0, end).toString('latin1');
      const rest = buffered.subarray(end + 4);
      const target = head.split('\r\n')[0]!.split(' ')[1] ?? '';
      const req: ProxyRequest = {
        target,
        head,
        client,
        header: (name) => new RegExp(`\\r\\n${name}: *([^\\r]*)`, 'i').exec(head)?.[1],
      };
      requests.push(req);
      script(req, { relay: (opts) => relay(client, target, rest, opts ?? {}) });
    };
    client.on('data', onData);
  };
  const server: Server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, onClient) : createServer(onClient);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers 200 and relays `client` ⇄ `target` (`host:port`, IPv6 in brackets). */
function relay(client: Socket, target: string, rest: Buffer, opts: RelayOptions): void {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const upstream = connect(Number(target.slice(colon + 1)), host);
  const drop = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', () => {
    if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    upstream.destroy();
  });
  upstream.on('connect', () => {
    const answer = Buffer.from(opts.answer ?? 'HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');
    if (!opts.trickle) {
      client.write(answer);
      start();
      return;
    }
    let i = 0;
    const next = (): void => {
      if (client.destroyed) return;
      if (i === answer.length) return start();
      client.write(answer.subarray(i, ++i), () => setImmediate(next));
    };
    next();
  });
  // Relaying starts once the answer is out: the client sends nothing through before it anyway.
  const start = (): void => {
    let sent = 0;
    const toUpstream = (chunk: Buffer): void => {
      sent += chunk.length;
      upstream.write(chunk);
      if (opts.dropAfterUpstreamBytes !== undefined && sent >= opts.dropAfterUpstreamBytes) drop();
    };
    if (rest.length > 0) toUpstream(rest);
    client.on('data', toUpstream);
    client.resume();
    upstream.pipe(client);
    client.on('close', drop);
    upstream.on('close', drop);
  };
}

/** An echo server that keeps each upgrade request (to check what reached the origin). */
export async function echoServer(tls?: { cert: Buffer; key: Buffer }): Promise<Started & { requests: UpgradeRequest[] }> {
  const s = await startServer({ heartbeat: 0, ...(tls ? { tls } : {}) });
  const requests: UpgradeRequest[] = [];
  s.wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
    requests.push(req);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return Object.assign(s, { requests });
}

/** Opens, sends `text`, awaits the echo and closes 1000; returns what came back. */
export async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  await waitFor(ws, 'open');
  ws.send(text);
  const [data] = await waitFor<[Buffer]>(ws, 'message');
  const closed = waitFor<[number]>(ws, 'close');
  ws.close(1000);
  expect((await closed)[0]).toBe(1000);
  return data.toString();
}
