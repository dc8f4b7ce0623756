import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '../../src/conformance/frames.js';
import { runServerSuite } from '../../src/conformance/runner.js';

/** A TCP server whose behaviour after reading the request head is entirely up to `onRequest`. */
async function hostile(onRequest: (sock: Socket, key: string) => void): Promise<{ url: string; close(): void }> {
  const socks = new Set<Socket>();
  const srv = createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      sock.on('data', () => undefined);
      onRequest(sock, /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '');
    };
    sock.on('data', onData);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(srv.address() as AddressInfo).port}/`,
    close: () => {
      for (const s of socks) s.destroy();
      srv.close();
    },
  };
}

const upgrade = (key: string): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')}\r\n\r\n`;

describe('the judge survives hostile servers with bounded memory and time', () => {
  it('a server that never answers costs one case timeout, then FAILED', async () => {
    const h = await hostile(() => undefined);
    try {
      const started = performance.now();
      const r = await runServerSuite({ url: h.url, cases: ['1.1.1', '2.1'], timeoutMs: 300 });
      expect(r.cases.map((c) => c.verdict)).toEqual(['FAILED', 'FAILED']);
      expect(r.cases[0]!.reason).toMatch(/no answer to the opening handshake/);
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      h.close();
    }
  });

  it('garbage instead of an HTTP answer is FAILED with the reason', async () => {
    const h = await hostile((s) => s.write(Buffer.from('\x00\x01\x02\x03 definitely not HTTP\r\n\r\n', 'latin1')));
    try {
      const r = await runServerSuite({ url: h.url, cases: ['1.1.1'], timeoutMs: 1000 });
      expect(r.cases[0]!.verdict).toBe('FAILED');
      expect(r.cases[0]!.reason).toMatch(/unparseable handshake answer/);
    } finally {
      h.close();
    }
  });

  it('an endless fragmented message is cut off at the judge limit', async () => {
    const chunk = buildFrame({ opcode: 0, fin: false, payload: Buffer.alloc(1 << 20), mask: false });
    const h = await hostile((s, key) => {
      s.write(upgrade(key));
      s.write(buildFrame({ opcode: 2, fin: false, payload: Buffer.alloc(10), mask: false }));
      const pump = (): void => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    try {
      const r = await runServerSuite({ url: h.url, cases: ['1.1.1'], timeoutMs: 15_000 });
      expect(r.cases[0]!.verdict).toBe('FAILED');
      expect(r.cases[0]!.reason).toMatch(/larger than the judge's|more than \d+ bytes/);
    } finally {
      h.close();
    }
  });

  it('a masked frame from the server is FAILED even when the echo is right', async () => {
    const h = await hostile((s, key) => {
      s.write(upgrade(key));
      s.on('data', () => s.write(buildFrame({ opcode: 1, payload: '' })));
    });
    try {
      const r = await runServerSuite({ url: h.url, cases: ['1.1.1'], timeoutMs: 1000 });
      expect(r.cases[0]!.verdict).toBe('FAILED');
      expect(r.cases[0]!.reason).toMatch(/masked frame/);
    } finally {
      h.close();
    }
  });
});
