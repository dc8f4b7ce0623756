import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';
import { connectCommand, exitCodeFor } from '../../src/cli/connect.js';
import { serveCommand } from '../../src/cli/serve.js';
import { WebSocketServer } from '../../src/index.js';

function captureIo(): { io: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { io: { stdout, stderr }, out: () => o, err: () => e };
}

describe('the sockwire command', () => {
  it('prints help with status 0 and rejects unknown commands and options with status 2', async () => {
    const help = captureIo();
    expect(await main(['--help'], help.io)).toBe(0);
    expect(help.out()).toMatch(/serve.*\n.*echo.*\n.*connect/s);
    for (const argv of [['frobnicate'], ['serve', '--bogus'], ['serve', '--port', 'abc'], ['serve', '--mode', 'karaoke'], ['serve', '--tls-cert', 'x'], ['connect'], ['connect', 'ftp://x'], ['connect', 'ws://x', '--header', 'nocolon']]) {
      const c = captureIo();
      expect(await main(argv, c.io)).toBe(2);
      expect(c.err()).toMatch(/^sockwire: /);
    }
    for (const cmd of ['serve', 'echo', 'connect', 'conformance', 'bench']) {
      const c = captureIo();
      expect(await main([cmd, '--help'], c.io)).toBe(0);
      expect(c.out()).toMatch(/Usage/);
    }
  });

  it('maps close codes to exit statuses', () => {
    expect([1000, 1005, 1006, 1001, 1002, 1011, 3000, 4999].map(exitCodeFor)).toEqual([0, 0, 1, 11, 12, 21, 3, 3]);
  });

  it('serve --mode echo answers connect --execute, which exits 0 after a normal close', async () => {
    const s = captureIo();
    const { server } = await serveCommand(['--port', '0', '--host', '127.0.0.1'], s.io);
    try {
      const port = (server!.address() as { port: number }).port;
      const c = captureIo();
      const code = await connectCommand([`ws://127.0.0.1:${port}/`, '--execute', 'héllo', '--execute', 'again', '--wait', '200'], c.io, new PassThrough());
      expect(code).toBe(0);
      expect(c.out()).toContain('< héllo');
      expect(c.out()).toContain('< again');
      expect(c.out()).toMatch(/closed 1000/);
      expect(s.out()).toMatch(/#1 open/);
    } finally {
      await new Promise((r) => server!.close(() => r(undefined)));
    }
  });

  it('connect reads lines from a non-terminal stdin, handles /close, and exits with the mapped status', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.on('message', (d: Buffer) => ws.send(`echo:${d.toString()}`)));
    try {
      const port = (wss.address() as { port: number }).port;
      const stdin = new PassThrough();
      const c = captureIo();
      const done = connectCommand([`ws://127.0.0.1:${port}/`], c.io, stdin);
      await new Promise((r) => setTimeout(r, 200));
      stdin.write('line one\n');
      await new Promise((r) => setTimeout(r, 100));
      stdin.write('/close 4001 bye\n');
      expect(await done).toBe(3);
      expect(c.out()).toContain('< echo:line one');
      expect(c.out()).toMatch(/closed 4001/);
    } finally {
      await new Promise((r) => wss.close(() => r(undefined)));
    }
  });

  it('connect to a port nobody listens on exits 1 with an error', async () => {
    const c = captureIo();
    expect(await connectCommand(['ws://127.0.0.1:1/'], c.io, new PassThrough())).toBe(1);
    expect(c.err()).toMatch(/error: /);
  });
});
