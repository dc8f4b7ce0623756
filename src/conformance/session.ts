import { isUtf8 } from 'node:buffer';
import { MAX_JUDGE_PAYLOAD, RawConn, type WriteOptions } from './conn.js';
import { buildFrame, closePayload, OP, type FrameSpec } from './frames.js';
import { describeFrame, type WireLog } from './wire.js';
import type { DeflateAgreement, Inflater } from './deflate.js';

/** What the peer did next, as the judge sees it: whole messages, control frames, or the end. */
export type Reply =
  | { kind: 'text' | 'binary'; data: Buffer }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number | undefined; reason: Buffer }
  | { kind: 'end'; how: string }
  | { kind: 'violation'; detail: string }
  | { kind: 'timeout' };

export function describeReply(r: Reply): string {
  switch (r.kind) {
    case 'text':
    case 'binary':
    case 'ping':
    case 'pong':
      return `${r.kind} message of ${r.data.length} bytes${r.kind === 'text' && r.data.length <= 40 ? ` ${JSON.stringify(r.data.toString('utf8'))}` : ''}`;
    case 'close':
      return `close frame${r.code === undefined ? ' without status code' : ` with code ${r.code}`}`;
    case 'end':
      return `TCP connection closed (${r.how})`;
    case 'violation':
      return `protocol violation by the peer: ${r.detail}`;
    case 'timeout':
      return 'nothing (timeout)';
  }
}

/** Close codes a peer may legitimately put on the wire (RFC 6455 7.4.1 and 7.4.2, IANA registry). */
export function isSendableCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

export interface SessionOptions {
  /** Frames from the peer must be masked (we are the server) or unmasked (we are the client). */
  expectMasked: boolean;
  /** Side we play, used to pick default masking for frames we send. */
  role: 'client' | 'server';
  /** Set when permessage-deflate was negotiated: RSV1 then marks compressed messages. */
  deflate?: { agreement: DeflateAgreement; inflater: Inflater };
}

/**
 * Message-level view of a connection. Reassembles fragments and checks everything the peer
 * sends, so a peer that echoes correctly but speaks broken WebSocket is still caught.
 */
export class Session {
  private fragments: Buffer[] = [];
  private fragType: 'text' | 'binary' | null = null;
  private fragCompressed = false;
  private fragBytes = 0;
  private closeSeen = false;
  private violation: string | null = null;

  constructor(
    readonly conn: RawConn,
    readonly log: WireLog,
    private readonly opts: SessionOptions,
  ) {}

  get role(): 'client' | 'server' {
    return this.opts.role;
  }

  /** The permessage-deflate agreement, or null when no extension is in use. */
  get deflate(): DeflateAgreement | null {
    return this.opts.deflate?.agreement ?? null;
  }

  /** Frames we build are masked when we play the client, unless the spec says otherwise. */
  frame(spec: FrameSpec): Buffer {
    const mask = spec.mask ?? (this.opts.role === 'client' ? undefined : false);
    return buildFrame(mask === undefined ? spec : { ...spec, mask });
  }

  async send(spec: FrameSpec, opts: WriteOptions = {}): Promise<void> {
    const bytes = this.frame(spec);
    const masked = bytes.length > 1 && (bytes[1]! & 0x80) !== 0;
    this.log.add(
      'send',
      'frame',
      describeFrame({ fin: spec.fin ?? true, rsv: spec.rsv ?? 0, opcode: spec.opcode, masked, payload: typeof spec.payload === 'string' ? Buffer.from(spec.payload) : spec.payload ?? Buffer.alloc(0) }),
      bytes.subarray(0, 64),
      bytes.length,
    );
    await this.conn.write(bytes, { ...opts, quiet: true });
    if (opts.chop && opts.chop < bytes.length) this.log.note(`… sent in ${Math.ceil(bytes.length / opts.chop)} writes of ≤${opts.chop} bytes`);
  }

  /** Several frames as one TCP write (or chopped across frame boundaries as a single stream). */
  async sendMany(specs: FrameSpec[], opts: WriteOptions = {}): Promise<void> {
    const parts = specs.map((s) => this.frame(s));
    specs.forEach((s, i) => {
      const b = parts[i]!;
      this.log.add('send', 'frame', describeFrame({ fin: s.fin ?? true, rsv: s.rsv ?? 0, opcode: s.opcode, masked: (b[1]! & 0x80) !== 0, payload: typeof s.payload === 'string' ? Buffer.from(s.payload) : s.payload ?? Buffer.alloc(0) }), b.subarray(0, 64), b.length);
    });
    const all = Buffer.concat(parts);
    this.log.note(opts.chop ? `… all ${specs.length} frames sent as one stream in writes of ≤${opts.chop} bytes` : `… all ${specs.length} frames sent in one write`);
    await this.conn.write(all, { ...opts, quiet: true });
  }

  async sendClose(code?: number, reason: Buffer | string = '', extra: Partial<FrameSpec> = {}): Promise<void> {
    await this.send({ opcode: OP.CLOSE, payload: closePayload(code, reason), ...extra });
  }

  /** Next thing the peer did; pings from the peer are answered and skipped. */
  async next(timeoutMs: number): Promise<Reply> {
    if (this.violation) return { kind: 'violation', detail: this.violation };
    const until = performance.now() + timeoutMs;
    for (;;) {
      const ev = await this.conn.next(until - performance.now());
      if (ev.kind === 'timeout') return ev;
      if (ev.kind === 'end') return ev;
      if (ev.kind === 'garbage') return this.flag(ev.detail);
      const f = ev.frame;
      if (this.closeSeen) return this.flag(`sent a ${f.opcode} frame after its close frame`);
      if (f.masked !== this.opts.expectMasked) return this.flag(f.masked ? 'sent a masked frame (servers must not mask)' : 'sent an unmasked frame (clients must mask)');
      const compressedStart = this.opts.deflate !== undefined && f.rsv === 4 && (f.opcode === OP.TEXT || f.opcode === OP.BINARY);
      if (f.rsv !== 0 && !compressedStart) {
        return this.flag(this.opts.deflate ? `set RSV=${f.rsv} on a ${f.opcode === OP.CONT ? 'continuation' : 'control or reserved'} frame (permessage-deflate only allows RSV1 on a message's first frame)` : `set reserved bits (RSV=${f.rsv}) without a negotiated extension`);
      }
      if (f.opcode >= 8) {
        if (f.opcode > 10) return this.flag(`used reserved control opcode ${f.opcode}`);
        if (!f.fin) return this.flag('fragmented a control frame');
        if (f.payload.length > 125) return this.flag(`sent a control frame with ${f.payload.length} bytes (> 125)`);
        if (f.opcode === OP.PING) {
          await this.send({ opcode: OP.PONG, payload: f.payload });
          continue;
        }
        if (f.opcode === OP.PONG) return { kind: 'pong', data: f.payload };
        return this.onClose(f.payload);
      }
      if (f.opcode > 2) return this.flag(`used reserved data opcode ${f.opcode}`);
      if (f.opcode === OP.CONT) {
        if (!this.fragType) return this.flag('sent a continuation frame with no message in progress');
      } else {
        if (this.fragType) return this.flag('started a new message before finishing the previous fragmented one');
        this.fragType = f.opcode === OP.TEXT ? 'text' : 'binary';
        this.fragCompressed = compressedStart;
      }
      this.fragments.push(f.payload);
      this.fragBytes += f.payload.length;
      // Fragments are unbounded on the wire; the judge's memory is not.
      if (this.fragBytes > MAX_JUDGE_PAYLOAD) return this.flag(`sent a message larger than the judge's ${MAX_JUDGE_PAYLOAD}-byte limit`);
      if (!f.fin) continue;
      this.fragBytes = 0;
      let data = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
      const kind = this.fragType;
      this.fragments = [];
      this.fragType = null;
      if (this.fragCompressed && this.opts.deflate) {
        try {
          data = await this.opts.deflate.inflater.inflate(data);
        } catch (e) {
          return this.flag(`sent a compressed message that does not inflate: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.log.note(`inflated the ${kind} message to ${data.length} bytes`);
      }
      if (kind === 'text' && !isUtf8(data)) return this.flag('sent a text message that is not valid UTF-8');
      return { kind, data };
    }
  }

  private onClose(p: Buffer): Reply {
    this.closeSeen = true;
    if (p.length === 1) return this.flag('sent a close frame with a 1-byte body');
    if (p.length === 0) return { kind: 'close', code: undefined, reason: p };
    const code = p.readUInt16BE(0);
    if (!isSendableCloseCode(code)) return this.flag(`sent close code ${code}, which may not be sent on the wire`);
    const reason = p.subarray(2);
    if (!isUtf8(reason)) return this.flag('sent a close reason that is not valid UTF-8');
    return { kind: 'close', code, reason };
  }

  private flag(detail: string): Reply {
    this.violation = detail;
    this.log.note(`peer violation: ${detail}`);
    return { kind: 'violation', detail };
  }

  destroy(): void {
    this.conn.destroy();
    this.opts.deflate?.inflater.close();
  }
}
