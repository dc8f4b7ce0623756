import { Protocol, type CloseInfo, type ProtocolOptions } from '../../src/protocol/index.js';

export interface Side {
  protocol: Protocol;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  pings: Buffer[];
  pongs: Buffer[];
  closes: CloseInfo[];
  out: Buffer[];
  ended: number;
  /** Settles with the first CloseInfo reported (for cores whose codec works asynchronously). */
  closed: Promise<CloseInfo>;
}

/** A core whose events are recorded and whose output bytes are collected in `out`. */
export function recordingProtocol(options: ProtocolOptions): Side {
  let reportClosed: (info: CloseInfo) => void = () => {};
  const closed = new Promise<CloseInfo>((resolve) => (reportClosed = resolve));
  const side: Side = { protocol: null as unknown as Protocol, messages: [], pings: [], pongs: [], closes: [], out: [], ended: 0, closed };
  side.protocol = new Protocol(options, {
    write: (chunk) => side.out.push(Buffer.from(chunk)),
    onMessage: (data, isBinary) => side.messages.push({ data: Buffer.from(data), isBinary }),
    onPing: (p) => side.pings.push(Buffer.from(p)),
    onPong: (p) => side.pongs.push(Buffer.from(p)),
    onClose: (info) => {
      side.closes.push(info);
      reportClosed(info);
    },
    endTransport: () => side.ended++,
  });
  return side;
}

/** Moves everything `from` wrote into `to`, returning how many bytes moved. */
export function pump(from: Side, to: Side): number {
  const bytes = Buffer.concat(from.out.splice(0));
  if (bytes.length > 0) to.protocol.receive(bytes);
  return bytes.length;
}

export function pumpAll(a: Side, b: Side): void {
  for (let i = 0; i < 100; i++) if (pump(a, b) + pump(b, a) === 0) return;
  throw new Error('pump did not settle');
}
