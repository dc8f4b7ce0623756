import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { benchCommand } from '../../src/cli/bench.js';
import { main } from '../../src/cli/index.js';
import { WebSocketServer } from '../../src/index.js';

type Sink = NodeJS.WritableStream & { text: string };

/** Captures what the command writes; `tty` makes stdout claim to be a terminal. */
function io(tty = false): { stdout: Sink; stderr: Sink } {
  const mk = (isTTY: boolean): Sink => {
    const o = { text: '', isTTY, write: (s: string) => ((o.text += s), true) };
    return o as unknown as Sink;
  };
  return { stdout: mk(tty), stderr: mk(false) };
}

function listening(server: { once(e: 'listening', f: () => void): unknown; address(): unknown }): Promise<number> {
  return new Promise((resolve) => server.once('listening', () => resolve((server.address() as { port: number }).port)));
}

let sockwirePort = 0;
let wsPort = 0;
let sockwire: WebSocketServer;
let wsServer: WsServer;

beforeAll(async () => {
  sockwire = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  sockwire.on('connection', (socket) => socket.on('message', (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary })));
  wsServer = new WsServer({ port: 0, host: '127.0.0.1' });
  wsServer.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  [sockwirePort, wsPort] = await Promise.all([listening(sockwire), listening(wsServer)]);
});

afterAll(async () => {
  await Promise.all([new Promise((r) => sockwire.close(() => r(null))), new Promise((r) => wsServer.close(() => r(null)))]);
});

describe('sockwire bench', () => {
  it('measures a sockwire echo server and writes JSON and HTML reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sw-bench-'));
    const o = io();
    const json = join(dir, 'r.json');
    const html = join(dir, 'r.html');
    const code = await benchCommand([`ws://127.0.0.1:${sockwirePort}/`, '--connections', '2', '--duration', '1', '--warmup', '0.2', '--size', '200', '--window', '4', '--json', json, '--html', html], o);
    expect(o.stderr.text).toBe('');
    expect(code).toBe(0);
    expect(o.stdout.text).toMatch(/latency ms +p50 [\d.]+ +p90 [\d.]+ +p99 [\d.]+ +p99\.9 [\d.]+ +max [\d.]+/);
    expect(o.stdout.text).toMatch(/\n +\d+s +[\d,.]+ msg\/s/); // a plain per-second line (not a TTY)
    const r = JSON.parse(await readFile(json, 'utf8'));
    expect(r).toMatchObject({ schemaVersion: 1, tool: { name: 'sockwire-bench' }, url: `ws://127.0.0.1:${sockwirePort}/` });
    expect(r.options).toMatchObject({ connections: 2, size: 200, window: 4, binary: false, rate: null, durationS: 1, warmupS: 0.2 });
    expect(typeof r.startedAt).toBe('string');
    expect(r.durationS).toBeGreaterThan(0);
    expect(r.totals.messages).toBeGreaterThan(0);
    expect(r.totals.bytes).toBe(r.totals.messages * 200);
    expect(r.totals).toMatchObject({ connectionsOpened: 2, connectionsFailed: 0, connectionsClosedEarly: 0, errors: 0, unexpectedReplies: 0 });
    const l = r.latencyMs;
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    expect(l.p999).toBeLessThanOrEqual(l.max);
    const histTotal = l.histogram.reduce((s: number, [, c]: [number, number]) => s + c, 0);
    expect(histTotal).toBe(l.count);
    expect(l.count).toBe(r.totals.messages);
    expect(r.timeline.length).toBeGreaterThan(0);
    expect(r.timeline.reduce((s: number, p: { msgs: number }) => s + p.msgs, 0)).toBe(r.totals.messages);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<svg id="latency-histogram"');
    expect(page).toContain('<svg id="throughput-chart"');
    expect(page).not.toMatch(/<script|<link|src="http/);
    expect(page).toMatch(/<rect [^>]*class="bar"/);
  });

  it('measures a ws echo server with binary messages and a rate cap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sw-bench-'));
    const json = join(dir, 'r.json');
    const o = io();
    const code = await benchCommand([`ws://127.0.0.1:${wsPort}/`, '-c', '2', '-d', '1', '--warmup', '0', '--binary', '--size', '70000', '--rate', '200', '--json', json], o);
    expect(o.stderr.text).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(await readFile(json, 'utf8'));
    expect(r.totals.messages).toBeGreaterThan(0);
    // The cap bounds the count: 200/s for about a second, plus the 50 ms burst allowance.
    expect(r.totals.messages).toBeLessThanOrEqual(Math.ceil(200 * r.durationS) + 20);
    expect(r.totals.unexpectedReplies).toBe(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.max);
  });

  it('exits 2 on bad arguments, through the main dispatcher too', async () => {
    const bad = [
      [],
      ['http//nope'],
      ['ftp://localhost/'],
      ['ws://localhost/', '--connections', '0'],
      ['ws://localhost/', '--connections', '-3'],
      ['ws://localhost/', '--size', '1.5'],
      ['ws://localhost/', '--duration', '0'],
      ['ws://localhost/', '--window', 'x'],
      ['ws://localhost/', '--rate', '0'],
      ['ws://localhost/', '--warmup', '-1'],
      ['ws://localhost/', '--bogus'],
      ['ws://localhost/', 'extra'],
      ['ws://localhost/', '--json', '/nonexistent-dir/r.json'],
      ['ws://localhost/', '--html', ''],
    ];
    for (const argv of bad) {
      const o = io();
      expect(await main(['bench', ...argv], o), argv.join(' ')).toBe(2);
      expect(o.stderr.text, argv.join(' ')).toMatch(/^sockwire: .+\nRun 'sockwire bench --help'/);
    }
  });

  it('rewrites one progress line in place on a terminal', async () => {
    const o = io(true);
    expect(await benchCommand([`ws://127.0.0.1:${sockwirePort}/`, '-c', '1', '-d', '1.2', '--warmup', '0'], o)).toBe(0);
    expect(o.stdout.text).toMatch(/\r +1s +[\d,.]+ msg\/s .*err 0\x1b\[K/);
    expect(o.stdout.text).not.toMatch(/msg\/s [^\n\r]*\n +\d+s/); // no plain per-second lines
  });

  it('prints help with exit 0', async () => {
    const o = io();
    expect(await benchCommand(['--help'], o)).toBe(0);
    expect(o.stdout.text).toMatch(/Usage: sockwire bench URL/);
    expect(o.stdout.text).toMatch(/--window K/);
  });

  it('exits 1 when nothing listens at the URL', async () => {
    const port = await freePort();
    const o = io();
    expect(await benchCommand([`ws://127.0.0.1:${port}/`, '-c', '2', '-d', '1'], o)).toBe(1);
    expect(o.stderr.text).toMatch(/could not open any connection .*ECONNREFUSED/);
  });

  it('exits 1 when the server refuses the upgrade', async () => {
    const server = createServer((s) => s.on('data', () => s.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const o = io();
      const port = (server.address() as { port: number }).port;
      expect(await benchCommand([`ws://127.0.0.1:${port}/`, '-c', '3', '-d', '1'], o)).toBe(1);
      expect(o.stderr.text).toMatch(/Unexpected server response: 403/);
    } finally {
      server.close();
    }
  });

  it('exits 1 and says so when the server never echoes', async () => {
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const port = await listening(silent);
    try {
      const o = io();
      expect(await benchCommand([`ws://127.0.0.1:${port}/`, '-c', '1', '-d', '0.3', '--warmup', '0'], o)).toBe(1);
      expect(o.stderr.text).toMatch(/no reply came back/);
      expect(o.stdout.text).toMatch(/messages +0 round trips/);
    } finally {
      await new Promise((r) => silent.close(() => r(null)));
    }
  });

  it('stops early on abort and reports what it measured', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const o = io();
    const code = await benchCommand([`ws://127.0.0.1:${sockwirePort}/`, '-c', '1', '-d', '30', '--warmup', '0'], o, controller.signal);
    expect(code).toBe(0);
    expect(o.stdout.text).toMatch(/stopped early/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
