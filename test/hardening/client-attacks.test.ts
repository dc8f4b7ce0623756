import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';
import { deflatedZeros, memory, sleep, switching101, watchUncaught } from './helpers.js';

/*
 * A hostile server against the sockwire client: oversized or endless answers, frames that
 * announce absurd lengths, a decompression bomb, a Close that is never followed by TCP close.
 */

let uncaught: ReturnType<typeof watchUncaught>;
const servers: Server[] = [];
beforeEach(() => {
  uncaught = watchUncaught();
});
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  uncaught.stop();
  expect(uncaught.errors).toEqual([]);
});

async function hostile(onSocket: (socket: Socket, key: string, request: string) => void): Promise<string> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      onSocket(socket, /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '', head);
    };
    socket.on('data', onData);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

/** Runs a client to its end and records everything it reported. */
async function outcome(client: WebSocket): Promise<{ closes: number[]; errors: Error[]; opened: boolean; bytesRead: number }> {
  const errors: Error[] = [];
  const closes: number[] = [];
  let opened = false;
  let bytesRead = 0;
  client.on('open', () => (opened = true));
  client.on('error', (err: Error) => errors.push(err));
  await new Promise<void>((resolve) =>
    client.on('close', (code: number) => {
      closes.push(code);
      bytesRead = (client.socket as Socket | null)?.bytesRead ?? 0;
      resolve();
    }),
  );
  await sleep(30);
  return { closes, errors, opened, bytesRead };
}

describe('a hostile server against the client', () => {
  it('a 1 MiB header line in the answer: error and 1006 after reading far less than 1 MiB', async () => {
    const url = await hostile((socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nX-Long: ');
      const line = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 16; i++) socket.write(line);
    });
    const r = await outcome(new WebSocket(url));
    expect(r.opened).toBe(false);
    expect(r.closes).toEqual([1006]);
    expect(r.errors).toHaveLength(1);
    expect(r.bytesRead).toBeLessThan(512 * 1024);
  });

  it('tens of thousands of header lines in the answer: error and 1006', async () => {
    const url = await hostile((socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\n' + 'X-Flood: 1\r\n'.repeat(30_000) + '\r\n'));
    const r = await outcome(new WebSocket(url));
    expect(r.closes).toEqual([1006]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/header/i);
  });

  it('a server that never answers: handshakeTimeout ends it with one error and 1006', async () => {
    const url = await hostile(() => {});
    const r = await outcome(new WebSocket(url, { handshakeTimeout: 200 }));
    expect(r.closes).toEqual([1006]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/timed out/);
  });

  // The code goes to the server in our Close frame and on the error; locally, as with ws, a
  // connection we failed reads no Close back and reports 1006.
  it('frame lengths: top bit set is 1002, 2^63-1 is 1009, 1 GiB over maxPayload is 1009, before any payload', async () => {
    const cases: Array<[bigint, number]> = [
      [0x8000000000000000n, 1002],
      [0x7fffffffffffffffn, 1009],
      [1n << 30n, 1009],
    ];
    for (const [length, code] of cases) {
      const echoed: number[] = [];
      const url = await hostile((socket, key) => {
        const header = Buffer.alloc(10);
        header[0] = 0x82;
        header[1] = 127;
        header.writeBigUInt64BE(length, 2);
        socket.write(switching101(key));
        socket.write(header);
        socket.on('data', (c: Buffer) => {
          // The client's Close frame: masked, code in the first two payload bytes.
          if ((c[0]! & 0x0f) === 8 && c.length >= 8) echoed.push(((c[6]! ^ c[2]!) << 8) | (c[7]! ^ c[3]!));
        });
      });
      const r = await outcome(new WebSocket(url, { maxPayload: 16 << 20 }));
      expect(r.opened).toBe(true);
      expect(r.closes).toEqual([1006]);
      expect((r.errors[0] as Error & { closeCode?: number }).closeCode).toBe(code);
      expect(echoed).toEqual([code]);
    }
  });

  it('a decompression bomb (64 MiB of zeros in one message) stops at maxPayload with 1009, memory bounded', async () => {
    const bomb = await deflatedZeros(64 << 20);
    const url = await hostile((socket, key, request) => {
      expect(request.toLowerCase()).toContain('permessage-deflate');
      const header = Buffer.from([0xc2, 126, bomb.length >> 8, bomb.length & 0xff]);
      socket.write(switching101(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
      socket.write(Buffer.concat([header, bomb]));
    });
    const base = memory();
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, memory())), 2);
    const client = new WebSocket(url, { maxPayload: 1 << 20 });
    let messages = 0;
    client.on('message', () => messages++);
    const r = await outcome(client);
    clearInterval(sampler);
    expect(r.opened).toBe(true);
    expect(r.closes).toEqual([1006]);
    expect((r.errors[0] as Error & { closeCode?: number }).closeCode).toBe(1009);
    expect(messages).toBe(0);
    expect(peak - base).toBeLessThan(16 << 20);
  });

  it('a server that sends Close but never closes TCP: the client gives up after closeTimeout, close once', async () => {
    const url = await hostile((socket, key) => {
      socket.write(switching101(key));
      socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
      // ...and then never ends the connection.
    });
    const client = new WebSocket(url, { closeTimeout: 200 });
    const r = await outcome(client);
    expect(r.closes).toEqual([1000]);
    expect(r.errors).toEqual([]);
    expect((client.socket as Socket).destroyed).toBe(true);
  });
});

