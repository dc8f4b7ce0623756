/** Frame opcodes of RFC 6455 §5.2. Values 3–7 and 11–15 are reserved and rejected by the decoder. */
export const Opcode = {
  /** 0x0: a further fragment of the current message. */
  Continuation: 0x0,
  /** 0x1: the first frame of a UTF-8 text message. */
  Text: 0x1,
  /** 0x2: the first frame of a binary message. */
  Binary: 0x2,
  /** 0x8: starts or answers the closing handshake. */
  Close: 0x8,
  /** 0x9: a keep-alive or liveness probe; answered with a Pong. */
  Ping: 0x9,
  /** 0xA: the answer to a Ping, or an unsolicited heartbeat. */
  Pong: 0xa,
} as const;

export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];
export type DataOpcode = typeof Opcode.Text | typeof Opcode.Binary;
export type ControlOpcode = typeof Opcode.Close | typeof Opcode.Ping | typeof Opcode.Pong;

/** Control frames are those whose opcode has the high bit set (§5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

export function isKnownOpcode(opcode: number): opcode is OpcodeValue {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}
