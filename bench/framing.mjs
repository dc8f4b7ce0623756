// Framing micro-benchmark: sockwire's frame codec against ws's own Receiver
// and Sender, in one process, same inputs, interleaved rounds, medians.
//
//   node bench/framing.mjs [--quick] [--rounds N] [--duration ms] [--out FILE.md]
//   SOCKWIRE_DIST=/path/to/dist  use another build output than ./dist
//   WS_NO_BUFFER_UTIL=1          compare against pure-JS ws instead of ws + bufferutil
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { buildFrame, makePayload } from './lib/frames.mjs';
import { median, human, ratioText } from './lib/stats.mjs';
import { renderText, renderMarkdown } from './lib/report.mjs';
import { machineInfo } from './lib/machine.mjs';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    out: { type: 'string' },
  },
});
const rounds = Number(args.rounds ?? (args.quick ? 3 : 5));
const durationMs = Number(args.duration ?? (args.quick ? 150 : 500));
const SIZES = [16, 1024, 64 * 1024, 1024 * 1024];
const CHUNK = 64 * 1024; // what a busy TCP socket typically hands to 'data'
const STREAM_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------- libraries

async function loadSockwire() {
  const dist = process.env.SOCKWIRE_DIST ?? `${root}dist`;
  const entry = `${dist}/framing/index.js`;
  if (!existsSync(entry)) return { reason: `${entry} not found — run \`npm run build\`` };
  const lib = await import(pathToFileURL(entry).href);
  if (typeof lib.encodeFrame !== 'function' || typeof lib.FrameDecoder !== 'function') {
    return { reason: 'framing build lacks encodeFrame/FrameDecoder' };
  }
  return { lib };
}

// ws's package exports do not expose lib/receiver and lib/sender, but the
// main export carries the very same classes.
const wsLib = require('ws');
const ws = {
  Receiver: wsLib.Receiver,
  Sender: wsLib.Sender,
  version: require('ws/package.json').version,
  native: Object.keys(require.cache).some((p) => /bufferutil.*\.node$/.test(p)),
};

// ---------------------------------------------------------------- inputs

/** A stream of masked client frames, ~4 MiB, as the server would receive it. */
function clientStream(size, text) {
  const frame = buildFrame(text ? 1 : 2, makePayload(size, text), { masked: true });
  const count = Math.max(4, Math.floor(STREAM_BYTES / frame.length));
  const stream = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(stream, i * frame.length);
  return { stream, count, bytes: size * count };
}

// ---------------------------------------------------------------- decoders
// Both unmask in place, so every pass gets a fresh copy of the pristine
// stream; only the decoding itself is timed.

function sockwireDecoder(lib) {
  return () => {
    let frames = 0;
    let error;
    const dec = new lib.FrameDecoder(
      {
        onDataFrame: (_p, fin) => {
          if (fin) frames++;
        },
        onControlFrame: () => {},
        onDecodeError: (e) => (error = e),
      },
      { role: 'server', maxPayload: 0 },
    );
    return { push: (c) => dec.push(c), frames: () => frames, error: () => error };
  };
}

function wsDecoder() {
  return () => {
    let frames = 0;
    let error;
    const r = new ws.Receiver({ isServer: true, binaryType: 'nodebuffer', maxPayload: 0 });
    r.on('message', () => frames++);
    r.on('error', (e) => (error = e));
    return { push: (c) => r.write(c), frames: () => frames, error: () => error };
  };
}

function decodeCase(make, input) {
  const work = Buffer.allocUnsafe(input.stream.length);
  return () => {
    let timed = 0;
    let frames = 0;
    let bytes = 0;
    while (timed < durationMs) {
      work.set(input.stream);
      const d = make();
      const t0 = performance.now();
      for (let off = 0; off < work.length; off += CHUNK) d.push(work.subarray(off, off + CHUNK));
      timed += performance.now() - t0;
      if (d.error()) throw new Error(`decoder failed: ${d.error().message}`);
      if (d.frames() !== input.count) throw new Error(`decoded ${d.frames()} of ${input.count} frames`);
      frames += input.count;
      bytes += input.bytes;
    }
    return { framesPerSec: frames / (timed / 1000), mbPerSec: bytes / 1e6 / (timed / 1000) };
  };
}

// ---------------------------------------------------------------- encoders

function encodeCase(encodeOne, payload) {
  return () => {
    let frames = 0;
    let sink = 0;
    const t0 = performance.now();
    let now = t0;
    while (now - t0 < durationMs) {
      for (let i = 0; i < 64; i++) {
        const parts = encodeOne(payload);
        sink += parts.length; // keep the result observable so it is not optimised away
      }
      frames += 64;
      now = performance.now();
    }
    if (sink === 0) throw new Error('encoder produced nothing');
    const s = (now - t0) / 1000;
    return { framesPerSec: frames / s, mbPerSec: (frames * payload.length) / 1e6 / s };
  };
}

const wsEncode = (masked, opcode) => (payload) =>
  // readOnly mirrors ws's send(): a caller's buffer is never masked in place.
  ws.Sender.frame(payload, { fin: true, opcode, mask: masked, readOnly: true, rsv1: false });

const swEncode = (lib, masked, opcode) => (payload) => lib.encodeFrame(opcode, payload, { fin: true, mask: masked });

const wsEncodeString = (masked) => (text) => ws.Sender.frame(text, { fin: true, opcode: 1, mask: masked, readOnly: false, rsv1: false });

const swEncodeString = (lib, masked) =>
  typeof lib.encodeTextFrame === 'function'
    ? (text) => [lib.encodeTextFrame(text, { fin: true, mask: masked })]
    : (text) => lib.encodeFrame(1, Buffer.from(text), { fin: true, mask: masked });

// ---------------------------------------------------------------- cases

const label = (n) => (n >= 1 << 20 ? `${n >> 20}MiB` : n >= 1024 ? `${n >> 10}KiB` : `${n}B`);

function buildCases(sw) {
  const cases = [];
  for (const text of [false, true]) {
    for (const size of SIZES) {
      const input = clientStream(size, text);
      cases.push({
        id: `decode ${text ? 'text' : 'bin'} ${label(size)}`,
        ws: decodeCase(wsDecoder(), input),
        sockwire: sw && decodeCase(sockwireDecoder(sw), input),
      });
    }
  }
  for (const masked of [false, true]) {
    for (const size of SIZES) {
      const payload = makePayload(size, false);
      cases.push({
        id: `encode bin ${label(size)} ${masked ? 'masked (client)' : 'unmasked (server)'}`,
        ws: encodeCase(wsEncode(masked, 2), payload),
        sockwire: sw && encodeCase(swEncode(sw, masked, 2), payload),
      });
    }
  }
  for (const size of SIZES) {
    const text = makePayload(size, true).toString('utf8');
    // encodeCase reports payload.length; for ASCII text that is the byte length.
    cases.push({
      id: `encode string ${label(size)} unmasked`,
      ws: encodeCase(wsEncodeString(false), text),
      sockwire: sw && encodeCase(swEncodeString(sw, false), text),
    });
  }
  return cases;
}

// ---------------------------------------------------------------- run

const { lib: sw, reason } = await loadSockwire();
console.log(`framing micro-benchmark — ws ${ws.version} (${ws.native ? 'with bufferutil' : 'pure JS masking'}), Node ${process.version}`);
if (!sw) console.log(`sockwire: SKIPPED — ${reason}`);
console.log(`${rounds} rounds × ${durationMs} ms per case, decode input chunked at ${CHUNK / 1024} KiB\n`);

const cases = buildCases(sw);
const impls = sw ? ['ws', 'sockwire'] : ['ws'];
const results = new Map(cases.map((c) => [c.id, { ws: [], sockwire: [] }]));
// Round 0 is an unrecorded warm-up so every case runs JIT-compiled code.
for (let r = -1; r < rounds; r++) {
  for (const c of cases) {
    for (const impl of impls) {
      let sample;
      try {
        sample = c[impl]();
      } catch (err) {
        sample = { error: err.message };
      }
      if (r >= 0) results.get(c.id)[impl].push(sample);
    }
  }
  process.stdout.write(r < 0 ? 'warm-up done\n' : `round ${r + 1}/${rounds} done\n`);
}

const rows = [];
for (const c of cases) {
  const cell = (impl, key) => median(results.get(c.id)[impl].map((x) => x[key]));
  const err = (impl) => results.get(c.id)[impl].find((x) => x.error)?.error;
  const row = [c.id, human(cell('ws', 'framesPerSec')), human(cell('ws', 'mbPerSec'))];
  if (sw) {
    row.push(human(cell('sockwire', 'framesPerSec')), human(cell('sockwire', 'mbPerSec')));
    const a = cell('sockwire', 'framesPerSec');
    const b = cell('ws', 'framesPerSec');
    row.push(a !== undefined && b ? ratioText(a / b) : (err('sockwire') ?? err('ws') ?? '–'));
  } else if (err('ws')) row.push(err('ws'));
  rows.push(row);
}
const head = ['case', 'ws frames/s', 'ws MB/s', ...(sw ? ['sockwire frames/s', 'sockwire MB/s', 'sockwire ÷ ws'] : [])];
const table = { title: 'Medians (higher is better)', head, labels: 1, rows };
console.log(`\n${renderText(table)}`);

if (args.out) {
  const info = machineInfo();
  const md = [
    '# Framing micro-benchmark',
    '',
    `> \`node bench/framing.mjs${args.quick ? ' --quick' : ''}\` — ${rounds} rounds × ${durationMs} ms per case; see [README.md](README.md).`,
    '',
    `- Date: ${info.date}`,
    `- CPU: ${info.cpu}, ${info.cores} cores; load average at start ${info.loadavg.join(', ')}`,
    `- Node ${info.node}; ${Object.entries(info.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- ws masking: ${ws.native ? 'bufferutil (native)' : 'pure JS'}${sw ? '' : `; sockwire skipped: ${reason}`}`,
    '',
    renderMarkdown(table),
    '',
  ].join('\n');
  writeFileSync(args.out, md);
  console.log(`wrote ${args.out}`);
}
