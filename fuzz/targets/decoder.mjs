// Fuzz target: the frame decoder with its message rules (src/framing/decoder.ts,
// message-state.ts), on any byte stream, in any configuration, cut anywhere.
//
// Input: [options] [cut seed] stream…  (see decodeOptions)
// Invariants: it never throws; it fails at most once, with a ProtocolError carrying 1002, 1007
// or 1009 and a WS_ERR_* code, and is silent afterwards; the stream cut into chunks decodes to
// exactly what it decodes to whole; every delivered message keeps its rules (opcode, order,
// size within maxPayload, fragments within maxFragments, complete text is UTF-8, control
// payloads at most 125 bytes).
import { isUtf8 } from 'node:buffer';
import { Input, broken, cuts, load, split } from './lib.mjs';

const { FrameDecoder, ProtocolError } = await load('framing/index.js');

const FAIL_CODES = new Set([1002, 1007, 1009]);
const MAX_PAYLOADS = [0, 125, 1000, 1 << 20];
const MAX_FRAGMENTS = [131_072, 1, 3, 16];

/** Options from one byte: role, RSV1 allowed, UTF-8 checked, maxPayload, maxFragments. */
export function decodeOptions(b) {
  return {
    role: b & 1 ? 'client' : 'server',
    allowRsv1: (b & 2) !== 0,
    validateUtf8: (b & 4) === 0,
    maxPayload: MAX_PAYLOADS[(b >> 3) & 3],
    maxFragments: MAX_FRAGMENTS[(b >> 5) & 3],
  };
}

/** Decodes `chunks` and returns the log of what came out, checking each event's rules. */
function decode(options, chunks) {
  const log = [];
  let failed = null;
  let message = null; // { opcode, compressed, parts: Buffer[], length, fragments }
  const handler = {
    onDataFrame(payload, fin, opcode, compressed) {
      if (failed) broken('a data frame after the failure');
      if (opcode !== 1 && opcode !== 2) broken(`data frame reported with opcode ${opcode}`);
      if (compressed && !options.allowRsv1) broken('a compressed frame without RSV1 allowed');
      if (message === null) message = { opcode, compressed, parts: [], length: 0, fragments: 0 };
      else if (message.opcode !== opcode || message.compressed !== compressed) broken('a message changed opcode or compression');
      message.parts.push(Buffer.from(payload));
      message.length += payload.length;
      message.fragments++;
      if (message.fragments > options.maxFragments) broken('more fragments than maxFragments');
      if (!compressed && options.maxPayload > 0 && message.length > options.maxPayload) broken('a message larger than maxPayload');
      log.push(`D${opcode}${fin ? 'F' : ''}${compressed ? 'C' : ''}:${payload.toString('latin1')}`);
      if (fin) {
        const whole = Buffer.concat(message.parts);
        if (opcode === 1 && !compressed && options.validateUtf8 && !isUtf8(whole)) broken('a text message that is not UTF-8 was delivered');
        message = null;
      }
    },
    onControlFrame(opcode, payload) {
      if (failed) broken('a control frame after the failure');
      if (opcode < 8 || opcode > 10) broken(`control frame with opcode ${opcode}`);
      if (payload.length > 125) broken('a control payload over 125 bytes');
      log.push(`C${opcode}:${payload.toString('latin1')}`);
    },
    onDecodeError(err) {
      if (failed) broken('failed twice');
      failed = err;
      if (!(err instanceof ProtocolError)) broken('decode error is not a ProtocolError');
      if (!FAIL_CODES.has(err.closeCode)) broken(`unexpected close code ${err.closeCode}`);
      if (!/^WS_ERR_[A-Z0-9_]+$/.test(err.code)) broken(`unexpected error code ${err.code}`);
      log.push(`E${err.closeCode}:${err.code}:${err.message}`);
    },
  };
  const decoder = new FrameDecoder(handler, options);
  for (const chunk of chunks) decoder.push(chunk);
  if (failed && !decoder.failed) broken('decoder not failed after its error');
  return log.join('\n');
}

export function fuzz(data) {
  const input = new Input(data);
  const options = decodeOptions(input.byte());
  const seed = input.byte();
  const stream = input.rest();
  const whole = decode(options, [Buffer.from(stream)]);
  const chunked = decode(options, split(stream, cuts(stream.length, seed)));
  if (whole !== chunked) broken('the stream decodes differently when cut into chunks');
}
