// The large-message path in one process, builds side by side: masking primitives (against
// bufferutil) and server-role decoding of 64 KiB / 1 MiB masked frames fed in 64 KiB reads
// (against ws's Receiver). CPU time per operation (process.cpuUsage), builds interleaved
// round by round, the minimum over rounds reported: on a shared machine the minimum is the
// figure least disturbed by other work.
//
// A third part, `send`, is a client core sending large binary messages to a transport that
// completes its writes 16 at a time (as a socket's writev does), against ws's Sender.frame:
// it shows what masking into a fresh buffer per message costs against reused blocks.
//
//   node bench/large-path.mjs [--rounds N] [--only mask|decode|send] DIST[,DIST…]
//   SIZES=1024,4096 (bytes) measures other sizes than 64 KiB and 1 MiB.
//   DIST: a build output (`npx tsc -p tsconfig.build.json --outDir /tmp/x`); labelled by
//   what follows "-dist-" in its path, else by its last path segment.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { buildFrame, makePayload } from './lib/frames.mjs';

const require = createRequire(import.meta.url);
const { values: args, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, only: { type: 'string' } },
  allowPositionals: true,
});
const rounds = Number(args.rounds);
const dists = (positionals[0] ?? `${new URL('../dist', import.meta.url).pathname}`).split(',');
const label = (d) => (d.includes('-dist-') ? d.replace(/.*-dist-/, '') : d.replace(/\/+$/, '').split('/').pop());
const builds = [];
for (const d of dists) {
  builds.push({
    name: label(d),
    mask: await import(`${d}/framing/mask.js`),
    framing: await import(`${d}/framing/index.js`),
    protocol: await import(`${d}/protocol/index.js`),
  });
}
let bufferutil = null;
try {
  bufferutil = require('bufferutil');
} catch {}
const wsLib = require('ws');
const best = new Map();
const note = (k, us) => best.set(k, Math.min(best.get(k) ?? Infinity, us));

function timed(n, fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

const SIZES = process.env.SIZES ? process.env.SIZES.split(',').map(Number) : [64 * 1024, 1024 * 1024];
const kib = (s) => (s >= 1024 ? `${s >> 10} KiB` : `${s} B`);

function maskRound() {
  const key = Buffer.from([1, 2, 3, 4]);
  for (const s of SIZES) {
    const a = Buffer.alloc(s, 7);
    const b = Buffer.alloc(s + 14);
    const n = Math.max(8, (16 << 20) / s);
    if (bufferutil) {
      note(`unmask in place ${kib(s)} | bufferutil`, timed(n, () => bufferutil.unmask(a, key)));
      note(`masked copy (client send) ${kib(s)} | bufferutil`, timed(n, () => bufferutil.mask(a, key, b, 14, s)));
    }
    for (const x of builds) {
      note(`unmask in place ${kib(s)} | ${x.name}`, timed(n, () => x.mask.applyMask(a, key, 0)));
      note(`masked copy (client send) ${kib(s)} | ${x.name}`, timed(n, () => x.mask.copyMasked(a, b, 0, 14)));
    }
  }
}

const CHUNK = 64 * 1024;
const streams = new Map();
function stream(size, text) {
  const k = `${size} ${text}`;
  if (!streams.has(k)) {
    const frame = buildFrame(text ? 1 : 2, makePayload(size, text));
    const n = Math.max(4, Math.ceil((8 << 20) / frame.length));
    streams.set(k, { wire: Buffer.concat(Array(n).fill(frame)), n, work: Buffer.allocUnsafe(frame.length * n) });
  }
  return streams.get(k);
}

function decodeOnce(make, s) {
  s.work.set(s.wire);
  const d = make();
  const t0 = process.cpuUsage();
  for (let o = 0; o < s.work.length; o += CHUNK) d.push(s.work.subarray(o, o + CHUNK));
  const t = process.cpuUsage(t0);
  if (d.count() !== s.n) throw new Error(`decoded ${d.count()} of ${s.n} messages`);
  return (t.user + t.system) / s.n;
}

const wsDecoder = () => {
  let c = 0;
  const r = new wsLib.Receiver({ isServer: true, binaryType: 'nodebuffer', maxPayload: 0 });
  r.on('message', () => c++);
  r.on('error', (e) => {
    throw e;
  });
  return { push: (b) => r.write(b), count: () => c };
};
const swDecoder = (framing) => () => {
  let c = 0;
  const d = new framing.FrameDecoder(
    { onDataFrame: (_p, fin) => fin && c++, onControlFrame() {}, onDecodeError: (e) => { throw e; } },
    { role: 'server', maxPayload: 0 },
  );
  return { push: (b) => d.push(b), count: () => c };
};

function decodeRound() {
  for (const text of [false, true]) {
    for (const size of SIZES) {
      const s = stream(size, text);
      const id = `decode ${text ? 'text' : 'bin'} ${kib(size)}`;
      note(`${id} | ws`, decodeOnce(wsDecoder, s));
      for (const x of builds) note(`${id} | ${x.name}`, decodeOnce(swDecoder(x.framing), s));
    }
  }
}

function sendRound() {
  for (const size of SIZES) {
    const payload = makePayload(size, false);
    const n = Math.max(64, (64 << 20) / size);
    const id = `client send ${kib(size)}`;
    let held = [];
    note(`${id} | ws`, timed(n, () => {
      held.push(wsLib.Sender.frame(payload, { fin: true, opcode: 2, mask: true, readOnly: true, rsv1: false }));
      if (held.length === 16) held = [];
    }));
    for (const x of builds) {
      const pending = [];
      const core = new x.protocol.Protocol({ role: 'client', recycleWrites: true }, { write: (chunk, cb) => void pending.push(chunk, cb) });
      note(`${id} | ${x.name}`, timed(n, () => {
        core.send(payload, true);
        if (pending.length < 32) return;
        for (let i = 1; i < pending.length; i += 2) pending[i]?.(null);
        pending.length = 0;
      }));
    }
  }
}

for (let r = 0; r < rounds; r++) {
  if (!args.only || args.only === 'send') sendRound();
  if (!args.only || args.only === 'mask') maskRound();
  if (!args.only || args.only === 'decode') decodeRound();
}
console.log(`Node ${process.version}; ${rounds} rounds, minimum CPU µs per operation${bufferutil ? '' : ' (bufferutil not installed)'}`);
for (const [k, v] of [...best].sort((a, b) => a[0].localeCompare(b[0]))) console.log(`${k.padEnd(52)} ${v.toFixed(2).padStart(9)} µs`);
