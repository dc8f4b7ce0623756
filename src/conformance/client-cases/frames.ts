import { crypto } from '../../builtins.js';
import type { ClientCase } from '../client-context.js';
import { OP, closePayload, type FrameSpec } from '../frames.js';
import { binary, pong, text } from '../judge.js';
import { asciiPayload, binaryPayload, fragment } from '../cases/common.js';
import { clientEcho, clientFail } from './common.js';

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

const lengths: ClientCase[] = (['text', 'binary'] as const).flatMap((kind, k) =>
  LENGTHS.map((n, i) => {
    const data = kind === 'text' ? asciiPayload(n) : binaryPayload(n);
    return clientEcho(`1.${k + 1}.${i + 1}`, '1 Framing', `The server sends a ${n}-byte ${kind} message.`, [{ opcode: kind === 'text' ? OP.TEXT : OP.BINARY, payload: data }], [kind === 'text' ? text(data) : binary(data)]);
  }),
);

const masked: ClientCase[] = [
  { name: 'text message', op: OP.TEXT, payload: 'masked by the server' },
  { name: 'binary message', op: OP.BINARY, payload: 'masked binary' },
  { name: 'ping', op: OP.PING, payload: 'masked ping' },
  { name: 'close frame', op: OP.CLOSE, payload: closePayload(1000) },
].map((m, i) =>
  clientFail(`1.3.${i + 1}`, '1 Framing', `The server sends a masked ${m.name}; servers must never mask (RFC 6455 5.1).`, [{ opcode: m.op, payload: m.payload, mask: crypto.randomBytes(4) }], [1002], 'a masked server frame'),
);

const pings: ClientCase[] = [
  clientEcho('2.1', '2 Pings and pongs', 'The server sends a ping without payload.', [{ opcode: OP.PING }], [pong()], 'A pong without payload.'),
  clientEcho('2.2', '2 Pings and pongs', 'The server sends a ping with a short payload.', [{ opcode: OP.PING, payload: 'are you there' }], [pong('are you there')], 'A pong with the same payload.'),
  clientEcho('2.3', '2 Pings and pongs', 'The server sends a ping with a 125-byte binary payload.', [{ opcode: OP.PING, payload: binaryPayload(125) }], [pong(binaryPayload(125))], 'A pong with the same payload.'),
  clientFail('2.4', '2 Pings and pongs', 'The server sends a ping with a 126-byte payload (too long for a control frame).', [{ opcode: OP.PING, payload: binaryPayload(126) }], [1002], 'an oversized ping'),
  clientEcho('2.5', '2 Pings and pongs', 'The server sends an unsolicited pong, then a text message.', [{ opcode: OP.PONG, payload: 'unsolicited' }, { opcode: OP.TEXT, payload: 'still here' }], [text('still here')], 'The pong is ignored; the message is echoed.'),
];

const rsv: ClientCase[] = [
  { name: 'text frame', op: OP.TEXT, rsv: 4, payload: 'x' },
  { name: 'binary frame', op: OP.BINARY, rsv: 2, payload: 'x' },
  { name: 'ping', op: OP.PING, rsv: 1, payload: 'x' },
  { name: 'close frame', op: OP.CLOSE, rsv: 7, payload: closePayload(1000) },
].map((r, i) => clientFail(`3.${i + 1}`, '3 Reserved bits', `After a valid message, the server sends a ${r.name} with reserved bits ${r.rsv} set.`, [{ opcode: OP.TEXT, payload: 'valid first' }, { opcode: r.op, rsv: r.rsv, payload: r.payload }], [1002], 'reserved bits', [text('valid first')]));

const opcodes: ClientCase[] = [3, 7, 11, 15].map((op, i) =>
  clientFail(`4.${i + 1}`, '4 Opcodes', `After a valid message, the server sends a frame with reserved opcode ${op}.`, [{ opcode: OP.TEXT, payload: 'valid first' }, { opcode: op, payload: 'reserved' }], [1002], `reserved opcode ${op}`, [text('valid first')]),
);

const frag = (parts: FrameSpec[]): FrameSpec[] => parts;
const fragmentation: ClientCase[] = [
  clientEcho('5.1', '5 Fragmentation', 'The server sends a text message in two fragments.', frag([{ opcode: OP.TEXT, payload: 'fragment1', fin: false }, { opcode: OP.CONT, payload: 'fragment2' }]), [text('fragment1fragment2')]),
  clientEcho('5.2', '5 Fragmentation', 'The server sends a text message in two fragments with a ping between them.', frag([{ opcode: OP.TEXT, payload: 'fragment1', fin: false }, { opcode: OP.PING, payload: 'mid' }, { opcode: OP.CONT, payload: 'fragment2' }]), [pong('mid'), text('fragment1fragment2')]),
  clientEcho('5.3', '5 Fragmentation', 'The server sends a 64 KiB binary message in 1000-byte fragments.', fragment(OP.BINARY, binaryPayload(65536), 1000), [binary(binaryPayload(65536))]),
  clientFail('5.4', '5 Fragmentation', 'The server sends a continuation frame with no message to continue.', [{ opcode: OP.CONT, payload: 'orphan' }], [1002], 'an orphan continuation'),
  clientFail('5.5', '5 Fragmentation', 'The server sends a ping split into two fragments.', [{ opcode: OP.PING, payload: 'frag', fin: false }, { opcode: OP.CONT, payload: 'ment' }], [1002], 'a fragmented ping'),
  clientFail('5.6', '5 Fragmentation', 'The server starts a text message, then starts another instead of continuing.', [{ opcode: OP.TEXT, payload: 'one', fin: false }, { opcode: OP.TEXT, payload: 'two' }], [1002], 'a new message inside a fragmented one'),
];

const limits: ClientCase[] = [64 * 1024, 1024 * 1024].flatMap((n, i) => [
  clientEcho(`9.1.${i + 1}`, '9 Limits and performance', `The server sends a ${n >> 10} KiB text message.`, [{ opcode: OP.TEXT, payload: asciiPayload(n) }], [text(asciiPayload(n))]),
  clientEcho(`9.2.${i + 1}`, '9 Limits and performance', `The server sends a ${n >> 10} KiB binary message.`, [{ opcode: OP.BINARY, payload: binaryPayload(n) }], [binary(binaryPayload(n))]),
]);

export const clientFrameCases: ClientCase[] = [...lengths, ...masked, ...pings, ...rsv, ...opcodes, ...fragmentation, ...limits];
