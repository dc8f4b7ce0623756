// Fuzz target: the inflate path — frames with RSV1 through the protocol core with a real
// permessage-deflate codec (src/protocol/protocol.ts #inflate, src/extensions/permessage-deflate.ts
// decompress, and the message rules' check of inflated text), to the end of the stream.
//
// Input: [agreement and limits] [cut seed] frames…
// Invariants: nothing throws; the connection reports CLOSED exactly once, after the stream's end
// at the latest (never hangs: Jazzer's timeout catches that); a failure carries 1002, 1007 or
// 1009; every delivered text message is UTF-8 and no message exceeds maxPayload; the stream
// cut into chunks gives the same messages and the same ending as whole.
import { isUtf8 } from 'node:buffer';
import { Input, broken, cuts, load, split } from './lib.mjs';

const { Protocol } = await load('protocol/index.js');
const { createDeflateCodec } = await load('extensions/index.js');

const MAX_PAYLOADS = [0, 1000, 1 << 16, 16 << 20];
const FAIL_CODES = new Set([1002, 1007, 1009]);

function agreementFrom(b) {
  return {
    serverNoContextTakeover: (b & 1) !== 0,
    clientNoContextTakeover: (b & 2) !== 0,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: (b & 4) !== 0 ? 8 + ((b >> 5) & 7) : 15,
  };
}

/** Runs the stream through a server-side core; resolves with the log of messages and the ending. */
function run(options, agreed, chunks) {
  return new Promise((resolve, reject) => {
    const log = [];
    let closes = 0;
    const handler = {
      write() {},
      onMessage(data, isBinary) {
        if (closes > 0) return reject(new Error('invariant broken: a message after CLOSED'));
        if (!isBinary && options.validateUtf8 && !isUtf8(data)) return reject(new Error('invariant broken: a text message that is not UTF-8'));
        if (options.maxPayload > 0 && data.length > options.maxPayload) return reject(new Error('invariant broken: a message larger than maxPayload'));
        log.push(`${isBinary ? 'B' : 'T'}:${data.toString('latin1')}`);
      },
      onClose(info) {
        closes++;
        if (closes > 1) return reject(new Error('invariant broken: CLOSED reported twice'));
        if (info.error && !FAIL_CODES.has(info.error.closeCode)) return reject(new Error(`invariant broken: failed with ${info.error.closeCode} (${info.error.message})`));
        log.push(`closed ${info.code} ${info.error ? info.error.code : ''}`);
        // Let anything misbehaving after CLOSED show up before the run is judged.
        setImmediate(() => resolve(log.join('\n')));
      },
    };
    const codec = createDeflateCodec('server', agreed, {});
    const core = new Protocol({ role: 'server', codec, ...options }, handler);
    for (const chunk of chunks) core.receive(chunk);
    core.receiveEof();
  });
}

export async function fuzz(data) {
  const input = new Input(data);
  const b = input.byte();
  const agreed = agreementFrom(b);
  const options = { maxPayload: MAX_PAYLOADS[(b >> 3) & 3], validateUtf8: (input.byte() & 1) === 0 };
  const seed = input.byte();
  const stream = input.rest();
  const whole = await run(options, agreed, [Buffer.from(stream)]);
  const chunked = await run(options, agreed, split(stream, cuts(stream.length, seed)));
  if (whole !== chunked) broken('the stream gives other messages or another ending when cut into chunks');
}
