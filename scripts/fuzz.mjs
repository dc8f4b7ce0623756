#!/usr/bin/env node
// Long fast-check runs over the parts that read attacker-controlled bytes, against dist/
// (npm run build first; `npm run fuzz:property` does):
//
//   npm run fuzz:property -- [--runs 100000] [--seconds N] [--seed S] [--target decoder|protocol|deflate|head|extensions]...
//
// --runs caps the cases per target; --seconds caps the time per target (with --seconds alone
// a target runs until its time is up). Prints the cases run per target and, on failure, the
// counterexample with the seed and path that replay it; exits 1 if any target failed.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';

const { FrameDecoder, ProtocolError } = await import(new URL('../dist/framing/index.js', import.meta.url).href);
const { Protocol } = await import(new URL('../dist/protocol/index.js', import.meta.url).href);
const { HeadParser, HandshakeError, parseExtensions, formatExtensions } = await import(new URL('../dist/handshake/index.js', import.meta.url).href);
const { createDeflateCodec } = await import(new URL('../dist/extensions/index.js', import.meta.url).href);

const FAIL_CODES = new Set([1002, 1007, 1009]);

// ── Input shapes ──────────────────────────────────────────────────────────────

/** Splits `bytes` at the given cut points (any chunking a transport could deliver). */
function chunked(bytes, cuts) {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const out = [];
  let prev = 0;
  for (const p of points) {
    out.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  out.push(Buffer.from(bytes.subarray(prev)));
  return out;
}

/** `usual` most of the time, anything from `any` sometimes: mostly valid frames get past the first check. */
const mostly = (usual, any) => fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: any });

/**
 * One frame for a receiver in `role`: header fields that are usually valid (so that streams
 * reach fragmentation, UTF-8, limits and closing) and sometimes anything, a length that may
 * lie, and a mask that is usually the one the role expects.
 */
const frameArb = (role) => fc
  .record({
    fin: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    rsv: mostly(fc.constant(0), fc.integer({ min: 0, max: 7 })),
    opcode: mostly(fc.constantFrom(0, 1, 2, 8, 9, 10), fc.integer({ min: 0, max: 15 })),
    masked: mostly(fc.constant(role === 'server'), fc.boolean()),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 140 }),
      fc.string({ maxLength: 40 }).map((s) => new Uint8Array(Buffer.from(s))),
      fc.constantFrom(new Uint8Array([0x03, 0xe8]), new Uint8Array([0x03, 0xe8, 0xc3, 0x28]), new Uint8Array([0xed, 0xa0, 0x80])),
    ),
    lengthForm: mostly(fc.constant('min'), fc.constantFrom('16', '64', 'lie')),
    lie: fc.oneof(fc.nat(), fc.constantFrom(2 ** 31, 2 ** 53, 2 ** 62)),
    mask: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  })
  .map((f) => {
    const len = f.lengthForm === 'lie' ? f.lie : f.payload.length;
    let header;
    if (f.lengthForm === 'min' && len < 126) header = Buffer.from([0, len]);
    else if ((f.lengthForm === '16' || f.lengthForm === 'min') && len < 65536) {
      header = Buffer.alloc(4);
      header[1] = 126;
      header.writeUInt16BE(len, 2);
    } else {
      header = Buffer.alloc(10);
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(len) & 0xffffffffffffffffn, 2);
    }
    header[0] = (f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode;
    if (f.masked) header[1] |= 0x80;
    const body = Buffer.from(f.payload);
    if (f.masked) for (let i = 0; i < body.length; i++) body[i] ^= f.mask[i & 3];
    return Buffer.concat(f.masked ? [header, Buffer.from(f.mask), body] : [header, body]);
  });

/** Mostly frame-shaped streams (which reach deep states), sometimes raw noise. */
const streamArb = (role) => fc.oneof(
  { weight: 4, arbitrary: fc.array(frameArb(role), { maxLength: 12 }).map((fs) => Buffer.concat(fs)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)) },
);

const limitsArb = fc.record({
  role: fc.constantFrom('server', 'client'),
  maxPayload: fc.constantFrom(0, 1, 125, 1000, 16 << 20),
  maxFragments: fc.constantFrom(1, 2, 5, 131_072),
  validateUtf8: fc.boolean(),
});

/** Limits with a stream meant for that role. */
const caseArb = limitsArb.chain((limits) => fc.tuple(fc.constant(limits), streamArb(limits.role)));

// ── Properties ────────────────────────────────────────────────────────────────

/** The frame decoder: never throws, fails at most once with 1002/1007/1009, and is silent afterwards. */
const decoderProperty = fc.property(caseArb, fc.array(fc.nat(), { maxLength: 20 }), fc.boolean(), ([limits, bytes], cuts, rsv1) => {
  let failures = 0;
  let eventsAfterFailure = 0;
  let code = 0;
  const handler = {
    onDataFrame: () => void (failures > 0 && eventsAfterFailure++),
    onControlFrame: () => void (failures > 0 && eventsAfterFailure++),
    onDecodeError: (err) => {
      failures++;
      code = err.closeCode;
      if (!(err instanceof ProtocolError)) throw new Error('decode error is not a ProtocolError');
    },
  };
  const decoder = new FrameDecoder(handler, { ...limits, allowRsv1: rsv1 });
  for (const chunk of chunked(bytes, cuts)) decoder.push(chunk);
  if (failures > 1) throw new Error(`failed ${failures} times`);
  if (eventsAfterFailure > 0) throw new Error('events after the failure');
  if (failures === 1 && !FAIL_CODES.has(code)) throw new Error(`unexpected close code ${code}`);
});

/**
 * The protocol core: never throws; ends OPEN, or CLOSED with 1002/1007/1009 (a failure), the
 * peer's code (a clean close) or 1006 (EOF); onClose exactly once when CLOSED; what it writes
 * decodes cleanly in the peer's role and holds at most one Close frame, last.
 */
const protocolProperty = fc.property(caseArb, fc.array(fc.nat(), { maxLength: 20 }), fc.boolean(), ([limits, bytes], cuts, eof) => {
  const run = startCore(limits, null);
  for (const chunk of chunked(bytes, cuts)) run.core.receive(chunk);
  if (eof) run.core.receiveEof();
  checkCore(run, limits, eof);
});

/** A core with a recording handler. */
function startCore(limits, codec) {
  const written = [];
  const closes = [];
  const core = new Protocol(
    { role: limits.role, maxPayload: limits.maxPayload, maxFragments: limits.maxFragments, validateUtf8: limits.validateUtf8, codec },
    {
      write: (chunk, cb) => {
        written.push(Buffer.from(chunk));
        cb?.();
      },
      onMessage: (data) => {
        if (!Buffer.isBuffer(data)) throw new Error('message is not a Buffer');
        if (limits.maxPayload > 0 && data.length > limits.maxPayload) throw new Error('message beyond maxPayload delivered');
      },
      onClose: (info) => closes.push(info),
    },
  );
  return { core, written, closes };
}

/** The invariants every run of the core must end in, once it is idle. */
function checkCore({ core, written, closes }, limits, eof) {
  const state = core.readyState;
  if (state !== 1 && state !== 3) throw new Error(`ended in readyState ${state}`);
  if (state === 1 && (closes.length !== 0 || eof)) throw new Error('OPEN after EOF or after onClose');
  if (state === 3) {
    if (closes.length !== 1) throw new Error(`onClose called ${closes.length} times`);
    const info = closes[0];
    if (info.error && !FAIL_CODES.has(info.code)) throw new Error(`failed with ${info.code}`);
    if (!info.error && !info.wasClean && info.code !== 1006) throw new Error(`unclean close with ${info.code} and no error`);
  }
  // What the core wrote, read by the peer: valid frames, at most one Close, nothing after it.
  const peerRole = limits.role === 'server' ? 'client' : 'server';
  const out = [];
  let peerError = null;
  const peer = new FrameDecoder(
    { onDataFrame: (_p, _f, op) => out.push(op), onControlFrame: (op) => out.push(op), onDecodeError: (e) => (peerError = e) },
    { role: peerRole },
  );
  for (const w of written) peer.push(w);
  if (peerError) throw new Error(`the core wrote bytes its peer cannot decode: ${peerError.message}`);
  const closeAt = out.indexOf(8);
  if (closeAt !== -1 && closeAt !== out.length - 1) throw new Error('frames written after the Close frame');
  if (out.filter((op) => op === 8).length > 1) throw new Error('more than one Close frame written');
}

const AGREED = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** A compressed data frame (RSV1) for a receiver in `role`: real DEFLATE output, sometimes corrupted or cut. */
const compressedFrameArb = (role) =>
  fc
    .record({
      opcode: fc.constantFrom(1, 2),
      fin: mostly(fc.constant(true), fc.boolean()),
      data: fc.oneof(
        fc.string({ maxLength: 200 }).map((t) => Buffer.from(t)),
        fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
        fc.constantFrom(Buffer.alloc(5000), Buffer.from([0xc3, 0x28]), Buffer.from('€'.repeat(400))),
      ),
      corrupt: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { freq: 4 }),
      cut: fc.option(fc.nat(), { freq: 6 }),
      mask: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    })
    .map((f) => {
      let body = deflateRawSync(f.data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      body = Buffer.from(body.subarray(0, body.length - 4));
      if (f.corrupt && body.length > 0) body[f.corrupt[0] % body.length] ^= f.corrupt[1];
      if (f.cut !== null) body = body.subarray(0, f.cut % (body.length + 1));
      const masked = role === 'server';
      const len = body.length;
      const header = len < 126 ? Buffer.from([0, len]) : Buffer.from([0, 126, len >> 8, len & 0xff]);
      header[0] = (f.fin ? 0x80 : 0) | 0x40 | f.opcode;
      if (masked) {
        header[1] |= 0x80;
        for (let i = 0; i < body.length; i++) body[i] ^= f.mask[i & 3];
      }
      return Buffer.concat(masked ? [header, Buffer.from(f.mask), body] : [header, body]);
    });

const deflateCaseArb = limitsArb.chain((limits) =>
  fc.tuple(
    fc.constant(limits),
    fc.array(fc.oneof(compressedFrameArb(limits.role), frameArb(limits.role)), { maxLength: 8 }).map((fs) => Buffer.concat(fs)),
  ),
);

/**
 * The core with permessage-deflate (real zlib, asynchronous): the same invariants once it is
 * idle, and it must become idle; after EOF it must end CLOSED even with inflations in flight.
 */
const deflateProperty = fc.asyncProperty(deflateCaseArb, fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), fc.boolean(), async ([limits, bytes], cuts, eof, yieldBetween) => {
  const codec = createDeflateCodec(limits.role, AGREED, {});
  const run = startCore(limits, codec);
  for (const chunk of chunked(bytes, cuts)) {
    run.core.receive(chunk);
    if (yieldBetween) await new Promise((r) => setImmediate(r));
  }
  if (eof) run.core.receiveEof();
  for (let i = 0; i < 5000 && run.core.receivePaused; i++) await new Promise((r) => setTimeout(r, 1));
  if (run.core.receivePaused) throw new Error('still inflating after 5 s');
  checkCore(run, limits, eof);
  codec.close();
});

const HTTPISH = ['GET', ' ', '/', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', '\r\n', '\n', '\r', ':', 'Host', 'Upgrade', 'websocket', 'Connection', 'Sec-WebSocket-Key', ': ', '\t', 'a', 'é', '\u0000', '\u007f', '101', ' 101 ', 'Switching', ',', '"', '\r\n\r\n'];
const httpishArb = fc.array(fc.constantFrom(...HTTPISH), { maxLength: 12 }).map((parts) => parts.join(''));
const NAMES = ['Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'X-a', 'set-cookie'];
const headerLineArb = fc
  .tuple(mostly(fc.constantFrom(...NAMES), httpishArb), mostly(fc.constantFrom(': ', ':', ':\t'), fc.constantFrom(' : ', ' ', '')), mostly(fc.constantFrom('websocket', 'Upgrade', '13', 'a, b', ''), httpishArb))
  .map(([n, sep, v]) => n + sep + v);
/** A start line and header lines that are usually well formed, so that limits, values and `rest` are reached. */
const structuredHeadArb = fc
  .tuple(
    mostly(fc.constantFrom('GET / HTTP/1.1', 'GET /chat?x=1 HTTP/1.1', 'HTTP/1.1 101 Switching Protocols', 'HTTP/1.0 403 Forbidden', 'HTTP/1.1 101'), httpishArb),
    fc.array(headerLineArb, { maxLength: 8 }),
    mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', '\r\r\n')),
    fc.boolean(),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([start, lines, eol, end, rest]) => Buffer.concat([Buffer.from([start, ...lines].join(eol) + eol + (end ? eol : ''), 'latin1'), rest]));
const headBytesArb = fc.oneof(
  { weight: 3, arbitrary: structuredHeadArb },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...HTTPISH), { maxLength: 60 }).map((parts) => Buffer.from(parts.join(''), 'latin1')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)) },
);

/** The head parser: only HandshakeError (with a sane status), the same result for any chunking. */
const headProperty = fc.property(
  headBytesArb,
  fc.array(fc.nat(), { maxLength: 10 }),
  fc.constantFrom('request', 'response'),
  fc.record({ maxHeaderBytes: fc.constantFrom(16, 64, 200, 16384), maxHeaders: fc.constantFrom(0, 1, 3, 100) }),
  (bytes, cuts, kind, limits) => {
    const run = (chunks) => {
      const parser = new HeadParser(kind, limits);
      try {
        for (const c of chunks) {
          const head = parser.push(c);
          if (head !== null) return { head: { ...head, rest: Buffer.concat([head.rest, ...chunks.slice(chunks.indexOf(c) + 1)]).toString('latin1') } };
        }
        return { incomplete: true };
      } catch (err) {
        if (!(err instanceof HandshakeError)) throw new Error(`threw ${err?.name}: ${err?.message}`);
        const okStatus = kind === 'response' ? err.status === 0 : [400, 431, 505].includes(err.status);
        if (!okStatus) throw new Error(`status ${err.status} for a ${kind}`);
        // A failed parser keeps failing with the same error.
        try {
          parser.push(Buffer.from('x'));
        } catch (again) {
          if (again !== err) throw new Error('a second push threw a different error');
          return { status: err.status };
        }
        throw new Error('a failed parser accepted more input');
      }
    };
    const whole = run([bytes]);
    const pieces = run(chunked(bytes, cuts));
    // The outcome (the head, or the refusal's status) must not depend on how the bytes were split.
    if (!isDeepStrictEqual(whole, pieces)) throw new Error(`chunking changed the result: ${JSON.stringify(whole)} vs ${JSON.stringify(pieces)}`);
  },
);

const EXT_CHARS = ['a', 'b', 'x', '-', '_', '1', '9', ' ', '\t', ';', ',', '=', '"', '\\', 'permessage-deflate', 'client_max_window_bits', '\u0000', '\u00ff', '(', '/'];
const tokenArb = fc.string({ unit: fc.constantFrom(...'abcxyz019-_.!#$%&\'*+^`|~'), minLength: 1, maxLength: 12 });
const offersArb = fc.array(
  fc.record({ name: tokenArb, params: fc.array(fc.tuple(tokenArb, fc.oneof(fc.constant(true), tokenArb)), { maxLength: 4 }) }),
  { maxLength: 4 },
);

/** The extension parser: only HandshakeError 400; anything it accepts formats and parses back to itself. */
const extensionsProperty = fc.property(
  fc.oneof(fc.array(fc.constantFrom(...EXT_CHARS), { maxLength: 40 }).map((p) => p.join('')), offersArb.map((o) => formatExtensions(o))),
  offersArb,
  (text, offers) => {
    let parsed;
    try {
      parsed = parseExtensions(text);
    } catch (err) {
      if (!(err instanceof HandshakeError) || err.status !== 400) throw new Error(`threw ${err?.name} ${err?.status}: ${err?.message}`);
      parsed = null;
    }
    if (parsed !== null) {
      const again = parseExtensions(formatExtensions(parsed));
      if (!isDeepStrictEqual(again, parsed)) throw new Error(`round trip changed ${JSON.stringify(parsed)} into ${JSON.stringify(again)}`);
    }
    const back = parseExtensions(formatExtensions(offers));
    if (!isDeepStrictEqual(back, offers.map((o) => ({ name: o.name, params: o.params })))) throw new Error(`format/parse of ${JSON.stringify(offers)} gave ${JSON.stringify(back)}`);
  },
);

const TARGETS = { decoder: decoderProperty, protocol: protocolProperty, deflate: deflateProperty, head: headProperty, extensions: extensionsProperty };

// ── Runner ────────────────────────────────────────────────────────────────────

function parseArgs(argv) {
  const o = { runs: undefined, seconds: undefined, seed: undefined, targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) fail(`${a} needs a non-negative number`);
      return v;
    };
    if (a === '--runs') o.runs = num();
    else if (a === '--seconds') o.seconds = num();
    else if (a === '--seed') o.seed = num() | 0;
    else if (a === '--target') {
      const t = argv[++i];
      if (!(t in TARGETS)) fail(`unknown target ${t} (one of ${Object.keys(TARGETS).join(', ')})`);
      o.targets.push(t);
    } else if (a === '--help' || a === '-h') {
      console.log('usage: npm run fuzz:property -- [--runs N] [--seconds S] [--seed S] [--target decoder|protocol|deflate|head|extensions]...');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  if (o.runs === undefined && o.seconds === undefined) o.runs = 10_000;
  if (o.targets.length === 0) o.targets = Object.keys(TARGETS);
  return o;
}

function fail(msg) {
  console.error(`fuzz: ${msg}`);
  process.exit(2);
}

const o = parseArgs(process.argv.slice(2));
let failed = false;
let total = 0;
for (const name of o.targets) {
  const seed = o.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const started = Date.now();
  const details = await fc.check(TARGETS[name], {
    seed,
    numRuns: o.runs ?? 2 ** 31 - 1,
    ...(o.seconds !== undefined ? { interruptAfterTimeLimit: o.seconds * 1000, markInterruptAsFailure: false } : {}),
  });
  const secs = (Date.now() - started) / 1000;
  total += details.numRuns;
  const rate = Math.round(details.numRuns / Math.max(secs, 0.001));
  if (details.failed) {
    failed = true;
    console.log(`${name.padEnd(11)} FAILED after ${details.numRuns} cases (${secs.toFixed(1)}s), seed ${details.seed}, path "${details.counterexamplePath}"`);
    console.log(`  counterexample: ${fc.stringify(details.counterexample)}`);
    console.log(`  error: ${details.errorInstance?.message ?? details.error}`);
    console.log(`  replay: npm run fuzz:property -- --target ${name} --seed ${details.seed} --runs ${details.numRuns}`);
  } else {
    console.log(`${name.padEnd(11)} ok: ${details.numRuns} cases in ${secs.toFixed(1)}s (${rate}/s), seed ${details.seed}${details.interrupted ? ', stopped by --seconds' : ''}`);
  }
}
console.log(`fuzz: ${total} cases in total, ${failed ? 'FAILED' : 'no counterexample'}`);
process.exit(failed ? 1 : 0);
