import { connect } from 'node:net';
import { buildFrame, FrameReader } from '../../../src/conformance/frames.js';

/**
 * A sloppy client on raw node:net for client-mode mutation tests: it never checks the
 * handshake answer, and it can skip masking. It echoes data frames until the server closes.
 */
export function sloppyClientRun(url: string, opts: { mask: boolean }): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(u.port), u.hostname);
    const reader = new FrameReader(1 << 24);
    let upgraded = false;
    let buf = Buffer.alloc(0);
    const send = (opcode: number, payload: Buffer): void => {
      sock.write(buildFrame({ opcode, payload, ...(opts.mask ? {} : { mask: false }) }));
    };
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      if (!upgraded) {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true; // Whatever the status and headers say: that is the flaw.
        d = buf.subarray(end + 4);
      }
      for (const f of reader.push(d)) {
        if (f.opcode === 1 || f.opcode === 2) send(f.opcode, f.payload);
        else if (f.opcode === 9) send(10, f.payload);
        else if (f.opcode === 8) {
          send(8, f.payload.subarray(0, 2));
          sock.end();
        }
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve());
  });
}
