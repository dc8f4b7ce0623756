// Server instructions per echoed message, counted by callgrind: deterministic where wall time and
// CPU time are not (a busy shared machine). The server runs under `valgrind --tool=callgrind`;
// one raw client sends M1 and then, in a second run, M2 masked messages (window 8) and closes;
// (Ir(M2) − Ir(M1)) / (M2 − M1) is the server's user-space instructions per message (start-up
// cancels out; page faults and the kernel's socket copies are not counted).
//
//   node bench/echo-instructions.mjs [--size BYTES] [--text] [--m1 100] [--m2 500] sockwire:DIST ws …
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildFrame, makePayload, FrameCounter } from './lib/frames.mjs';
import { openRaw, upgradeRequest } from './lib/handshake.mjs';

const self = new URL(import.meta.url).pathname;

if (process.argv[2] === '--serve') {
  const [, , , impl, dist] = process.argv;
  const lib = impl === 'ws' ? await import('ws') : await import(`${dist}/index.js`);
  const WSS = lib.WebSocketServer ?? lib.default.WebSocketServer;
  const wss = new WSS({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 64 << 20 });
  wss.on('listening', () => process.send({ port: wss.address().port }));
  wss.on('connection', (ws) => {
    ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
    ws.on('close', () => process.exit(0));
  });
} else {
  const { values: o, positionals } = parseArgs({
    options: { size: { type: 'string', default: '65536' }, text: { type: 'boolean', default: false }, m1: { type: 'string', default: '100' }, m2: { type: 'string', default: '500' } },
    allowPositionals: true,
  });
  const size = Number(o.size);
  const dir = mkdtempSync(join(tmpdir(), 'echo-ir-'));
  const run = async (impl, dist, m) => {
    const out = join(dir, `${impl}-${m}.out`);
    const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--smc-check=all-non-file', process.execPath, self, '--serve', impl, dist ?? ''], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const { port } = await new Promise((r) => child.once('message', r));
    const { socket, leftover } = await openRaw({ port, request: upgradeRequest({ port, deflate: false }) });
    const frame = buildFrame(o.text ? 1 : 2, makePayload(size, o.text));
    const counter = new FrameCounter();
    let sent = 0;
    let got = leftover.length ? counter.push(leftover) : 0;
    await new Promise((resolve) => {
      const pump = () => {
        while (sent < m && sent - got < 8) {
          socket.write(frame);
          sent++;
        }
      };
      socket.on('data', (c) => {
        got += counter.push(c);
        if (got >= m) resolve();
        else pump();
      });
      pump();
    });
    socket.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])); // Close 1000, masked with a zero key
    await new Promise((r) => child.once('exit', r));
    return Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'))[1]);
  };
  const m1 = Number(o.m1);
  const m2 = Number(o.m2);
  console.log(`Node ${process.version}; ${size} B ${o.text ? 'text' : 'binary'} echo; server Ir per message = (Ir(${m2}) − Ir(${m1})) / ${m2 - m1}`);
  for (const spec of positionals) {
    const [impl, dist] = spec.split(/:(.*)/s);
    const a = await run(impl, dist, m1);
    const b = await run(impl, dist, m2);
    console.log(`${spec.padEnd(40)} ${Math.round((b - a) / (m2 - m1)).toLocaleString('en')} Ir/msg`);
  }
}
