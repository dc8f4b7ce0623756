import { ChunkList } from './chunk-list.js';
import type { ProtocolError } from './errors.js';
import { applyMaskWord, copyMaskedAtWord } from './mask.js';
import { MessageState, type MessageLimits } from './message-state.js';
import { Opcode, isControlOpcode } from './opcodes.js';
import {
  expectedFin,
  expectedMask,
  invalidControlPayloadLength,
  invalidOpcode,
  lengthBeyondSafeInteger,
  lengthTopBitSet,
  unexpectedMask,
  unexpectedRsv1,
  unexpectedRsv23,
} from './violations.js';

export interface DecoderOptions {
  /** 'server' expects masked frames (from a client); 'client' expects unmasked ones (§5.1). */
  role: 'server' | 'client';
  /** Largest message in bytes (sum of its frames); 0 means unlimited. Exceeding it is 1009. */
  maxPayload?: number;
  /** Most frames one message may be split into; guards against floods of tiny fragments. */
  maxFragments?: number;
  /** RSV1 is claimed by a negotiated extension (permessage-deflate); otherwise it is 1002. */
  allowRsv1?: boolean;
  /** Validate uncompressed text as it arrives (1007 at the first bad chunk). Default true. */
  validateUtf8?: boolean;
  /**
   * The three limits above as made once by {@link decoderLimits}, for an owner that makes its
   * decoder later and keeps only this shared object meanwhile; it replaces them when given.
   */
  limits?: MessageLimits;
}

/** Receives decoded frames; payloads are unmasked views that the handler may keep. */
export interface DecoderHandler {
  /**
   * One frame of a data message. `opcode` is the message's opcode (Text or Binary, also for
   * its continuation frames) and `compressed` whether its first frame had RSV1 set.
   */
  onDataFrame(payload: Buffer, fin: boolean, opcode: number, compressed: boolean): void;
  onControlFrame(opcode: number, payload: Buffer): void;
  /** The stream violated the protocol; the decoder has stopped and ignores further input. */
  onDecodeError(error: ProtocolError): void;
}

export const DEFAULT_MAX_FRAGMENTS = 131_072;
/**
 * More received chunks than this waiting for one frame are merged: each Buffer object costs
 * ~100 bytes of overhead, so a peer trickling a large frame 1 byte per packet could
 * otherwise make us hold many times the frame's size.
 */
const MAX_CHUNKS = 256;
/** Frames at least this large are unmasked and gathered as their bytes arrive. */
const EAGER_THRESHOLD = 64 * 1024;
/** Largest frame whose buffer is allocated in full when it starts arriving. */
const PREALLOCATE_MAX = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** The bits of `FrameDecoder.flags`. */
const enum Flag {
  Server = 1,
  AllowRsv1 = 2,
  Paused = 4,
  Running = 8,
  Fin = 16,
  Rsv1 = 32,
  Masked = 64,
  FrameValidating = 128,
  Eager = 256,
}

const enum State {
  Header,
  Length16,
  Length64,
  MaskKey,
  Payload,
  Failed,
}

/**
 * Incremental RFC 6455 frame decoder. Feed it whatever the transport delivers with `push`;
 * it parses across arbitrary chunk boundaries in linear time, unmasks payloads in place and
 * enforces every rule of one frame's format (§5.2, §5.5) with the close code the connection
 * must fail with. The rules that span a message's frames (order, size, fragment count, UTF-8
 * of text as soon as its bytes arrive) are its {@link MessageState}'s.
 */
export class FrameDecoder {
  private readonly handler: DecoderHandler;
  /**
   * The data message's rules, made with the first data frame (see `message`): a connection
   * that has only exchanged control frames (an idle one answering heartbeats) does without.
   */
  private messageState: MessageState | null = null;
  /** The limits `message` is made with: one object shared by decoders configured alike. */
  private readonly limits: MessageLimits;
  /**
   * The decoder's yes/no state (the `Flag` values), read and written through the accessors
   * below: one small integer rather than nine fields, which every connection would carry.
   */
  private flags = 0;

  private readonly chunks = new ChunkList();
  private state = State.Header;

  // The frame being parsed (its fin, rsv1 and mask bits are flags).
  private opcode = 0;
  private payloadLength = 0;
  /**
   * The frame's masking key, its first byte in the low bits: a number in the object, where a
   * 4-byte array cost each connection's decoder ≈ 0.1–0.2 KiB (the array and its buffer) and an
   * allocation every time a decoder is made again (see Protocol's `#rest`).
   */
  private maskKey = 0;
  /** Payload bytes already unmasked and validated in place while the frame was incomplete. */
  private processed = 0;
  /** Growable buffer that collects a frame trickling in as many small chunks. */
  private acc: Buffer | null = null;
  private accLength = 0;

  constructor(handler: DecoderHandler, options: DecoderOptions) {
    this.handler = handler;
    if (options.role === 'server') this.flags |= Flag.Server;
    if (options.allowRsv1 === true) this.flags |= Flag.AllowRsv1;
    this.limits = options.limits ?? decoderLimits(options.maxPayload, options.maxFragments, options.validateUtf8);
  }

  private flag(f: Flag): boolean {
    return (this.flags & f) !== 0;
  }
  private setFlag(f: Flag, on: boolean): void {
    this.flags = on ? this.flags | f : this.flags & ~f;
  }
  /** Server role: frames must be masked (§5.1); a client's must not be. */
  private get server(): boolean {
    return this.flag(Flag.Server);
  }
  /** RSV1 is claimed by a negotiated extension (permessage-deflate). */
  get allowRsv1(): boolean {
    return this.flag(Flag.AllowRsv1);
  }
  private get paused(): boolean {
    return this.flag(Flag.Paused);
  }
  private set paused(on: boolean) {
    this.setFlag(Flag.Paused, on);
  }
  /** Inside `run` (input pushed meanwhile is only queued). */
  private get running(): boolean {
    return this.flag(Flag.Running);
  }
  private set running(on: boolean) {
    this.setFlag(Flag.Running, on);
  }
  private get fin(): boolean {
    return this.flag(Flag.Fin);
  }
  private set fin(on: boolean) {
    this.setFlag(Flag.Fin, on);
  }
  private get rsv1(): boolean {
    return this.flag(Flag.Rsv1);
  }
  private set rsv1(on: boolean) {
    this.setFlag(Flag.Rsv1, on);
  }
  private get masked(): boolean {
    return this.flag(Flag.Masked);
  }
  private set masked(on: boolean) {
    this.setFlag(Flag.Masked, on);
  }
  /** Whether the current frame's payload is text to validate (part of a text message, not control). */
  private get frameValidating(): boolean {
    return this.flag(Flag.FrameValidating);
  }
  private set frameValidating(on: boolean) {
    this.setFlag(Flag.FrameValidating, on);
  }
  /** Whether the current frame's payload is processed piece by piece as it arrives. */
  private get eager(): boolean {
    return this.flag(Flag.Eager);
  }
  private set eager(on: boolean) {
    this.setFlag(Flag.Eager, on);
  }

  /** The data message in progress and its rules; the protocol core feeds it inflated text. */
  get message(): MessageState {
    return (this.messageState ??= new MessageState(this.limits));
  }

  /** Bytes received and not yet turned into frames. */
  get bufferedAmount(): number {
    return this.chunks.length + this.accLength;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  /**
   * Between frames, nothing buffered, no data message open and not paused or running: a new
   * decoder with the same options would go on exactly as this one (see Protocol's `#rest`).
   */
  get atRest(): boolean {
    return (
      this.state === State.Header &&
      this.chunks.length === 0 &&
      this.acc === null &&
      (this.flags & (Flag.Paused | Flag.Running)) === 0 &&
      !(this.messageState?.open ?? false)
    );
  }

  push(chunk: Buffer): void {
    if (this.state === State.Failed || chunk.length === 0) return;
    if (this.state === State.Payload && !this.paused && !this.running) {
      if (!this.pushPayload(chunk)) return;
    } else {
      this.chunks.push(chunk);
      if (this.chunks.count > MAX_CHUNKS) this.coalesce();
    }
    if (!this.paused && !this.running) this.run();
  }

  /** Stops emitting frames (e.g. while a message is being inflated); input is buffered. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.running && this.state !== State.Failed) this.run();
  }

  /** Stops for good and drops buffered input (after the connection failed or closed). */
  stop(): void {
    this.state = State.Failed;
    // A decoder that never saw a data frame has no message to reset (and needs none made now).
    this.messageState?.reset();
    this.chunks.clear();
    this.acc = null;
    this.accLength = 0;
  }

  private run(): void {
    this.running = true;
    try {
      while (!this.paused) {
        if (this.state === State.Header) {
          if (this.chunks.length < 2) break;
          if (!this.readHeader()) break;
        } else if (this.state === State.Length16) {
          if (this.chunks.length < 2) break;
          this.payloadLength = (this.chunks.readByte() << 8) | this.chunks.readByte();
          if (!this.afterLength()) break;
        } else if (this.state === State.Length64) {
          if (this.chunks.length < 8) break;
          if (!this.readLength64()) break;
        } else if (this.state === State.MaskKey) {
          if (this.chunks.length < 4) break;
          const c = this.chunks;
          this.maskKey = c.readByte() | (c.readByte() << 8) | (c.readByte() << 16) | (c.readByte() << 24);
          this.enterPayload();
        } else if (this.state === State.Payload) {
          if (this.acc !== null) {
            // Input that arrived while we were busy goes the way of pushPayload.
            if (this.chunks.length === 0) break;
            this.pushPayload(this.chunks.read(Math.min(this.chunks.length, this.payloadLength - this.accLength)));
            continue;
          }
          if (this.chunks.length < this.payloadLength) {
            this.startPartialPayload();
            break;
          }
          this.finishFrame(this.payloadLength === 0 ? EMPTY : this.chunks.read(this.payloadLength));
        } else {
          break;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private readHeader(): boolean {
    const b0 = this.chunks.readByte();
    const b1 = this.chunks.readByte();
    this.fin = (b0 & 0x80) !== 0;
    this.rsv1 = (b0 & 0x40) !== 0;
    this.opcode = b0 & 0x0f;
    this.masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;

    // Checked in ws's order, so a frame breaking several rules is reported with ws's code (and
    // ws's wording: code in the wild matches on the messages).
    if ((b0 & 0x30) !== 0) return this.failWith(unexpectedRsv23());
    if (this.rsv1 && !this.allowRsv1) return this.failWith(unexpectedRsv1());
    if (this.opcode <= Opcode.Binary) {
      const disorder = this.message.checkOrder(this.opcode, this.rsv1);
      if (disorder !== null) return this.failWith(disorder);
    } else if (this.opcode >= Opcode.Close && this.opcode <= Opcode.Pong) {
      if (!this.fin) return this.failWith(expectedFin());
      if (this.rsv1) return this.failWith(unexpectedRsv1());
      if (len7 > 125) return this.failWith(invalidControlPayloadLength(len7));
    } else {
      return this.failWith(invalidOpcode(this.opcode));
    }
    if (this.masked !== this.server) return this.failWith(this.server ? expectedMask() : unexpectedMask());
    if (len7 === 126) {
      this.state = State.Length16;
      return true;
    }
    if (len7 === 127) {
      this.state = State.Length64;
      return true;
    }
    this.payloadLength = len7;
    return this.afterLength();
  }

  private readLength64(): boolean {
    const high = this.chunks.readByte() * 0x1000000 + ((this.chunks.readByte() << 16) | (this.chunks.readByte() << 8) | this.chunks.readByte());
    const low = (this.chunks.readByte() * 0x1000000) + ((this.chunks.readByte() << 16) | (this.chunks.readByte() << 8) | this.chunks.readByte());
    // §5.2 reserves the top bit.
    if (high >= 0x80000000) return this.failWith(lengthTopBitSet());
    // Beyond 2^53 a double cannot hold the length exactly; no such message fits in memory.
    if (high >= 0x200000) return this.failWith(lengthBeyondSafeInteger());
    this.payloadLength = high * 0x100000000 + low;
    return this.afterLength();
  }

  /** Message-level checks that need the frame length, done before any payload is buffered. */
  private afterLength(): boolean {
    if (!isControlOpcode(this.opcode)) {
      const overLimit = this.message.addFrame(this.opcode, this.rsv1, this.payloadLength);
      if (overLimit !== null) return this.failWith(overLimit);
    }
    if (this.masked) {
      this.state = State.MaskKey;
    } else {
      this.enterPayload();
    }
    return true;
  }

  private enterPayload(): void {
    this.state = State.Payload;
    this.processed = 0;
    // Control frames may sit between the fragments of a text message; they are not text.
    this.frameValidating = !isControlOpcode(this.opcode) && this.message.validatingWire;
    // Large frames are unmasked (and gathered) while the rest is still in flight, so the work
    // overlaps the network instead of adding to the round trip once the last byte is in.
    this.eager = this.frameValidating || this.payloadLength >= EAGER_THRESHOLD;
  }

  /**
   * The frame's payload has not fully arrived. Unmask and validate what is here now, so
   * invalid text fails before the rest arrives, and bound the chunks held for it.
   */
  private startPartialPayload(): void {
    if (this.payloadLength >= EAGER_THRESHOLD) {
      if (this.acc === null) {
        this.startAccumulator();
        if (this.state === State.Failed) return;
      }
      this.processPiece(this.acc!.subarray(this.processed, this.accLength));
      return;
    }
    if (this.frameValidating) {
      this.chunks.forEachView(this.processed, this.chunks.length, (view) => this.processPiece(view));
      if (this.state === State.Failed) return;
    }
    if (this.chunks.count > MAX_CHUNKS) this.startAccumulator();
  }

  /** Handles a chunk arriving while a frame's payload is incomplete; false when it failed. */
  private pushPayload(chunk: Buffer): boolean {
    const missing = this.payloadLength - this.processedTotal();
    const take = Math.min(missing, chunk.length);
    const part = take === chunk.length ? chunk : chunk.subarray(0, take);
    if (this.acc !== null && this.eager) {
      this.appendEager(part);
      if (this.state === State.Failed) return false;
    } else {
      if (this.acc !== null) {
        this.appendToAccumulator(part);
      } else {
        this.chunks.push(part);
        if (take < missing && this.chunks.count > MAX_CHUNKS) this.startAccumulator();
      }
      // Starting the accumulator may have unmasked and checked `part` already.
      if (this.eager && take < missing && this.processed < this.processedTotal()) {
        const view = this.acc !== null ? this.acc.subarray(this.processed, this.accLength) : part;
        this.processPiece(view);
        if (this.state === State.Failed) return false;
      }
    }
    if (take < chunk.length) this.chunks.push(chunk.subarray(take));
    if (this.acc !== null && this.accLength === this.payloadLength) {
      const payload = this.acc.subarray(0, this.accLength);
      this.acc = null;
      this.accLength = 0;
      this.finishFrame(payload);
    }
    return this.state !== State.Failed;
  }

  /** Payload bytes of the current frame received so far. */
  private processedTotal(): number {
    return this.acc !== null ? this.accLength : this.chunks.length;
  }

  private startAccumulator(): void {
    const have = this.chunks.length;
    // Up to 1 MiB the whole frame is allocated at once (no regrowth copies); beyond, the
    // buffer doubles as bytes arrive, so a peer announcing a huge frame costs only what it sends.
    const capacity = this.payloadLength <= PREALLOCATE_MAX ? this.payloadLength : Math.min(this.payloadLength, Math.max(16384, have * 2));
    const acc = Buffer.allocUnsafe(capacity);
    this.acc = acc;
    this.accLength = have;
    if (this.eager && this.masked && this.processed < have) this.gatherUnmasking(acc, have);
    else this.chunks.copyOut(acc, 0, have);
  }

  /**
   * Moves the `have` buffered bytes of an eagerly processed masked frame into `acc`, unmasking
   * what is still masked on the way (one pass per byte through the SIMD module rather than a
   * copy and then an unmasking pass over the copy), and validates them when they are text.
   */
  private gatherUnmasking(acc: Buffer, have: number): void {
    const from = this.processed;
    let at = 0;
    this.chunks.forEachView(0, have, (view) => {
      // Bytes before `from` were unmasked in place already (while they sat in the list).
      const plain = Math.min(view.length, Math.max(0, from - at));
      if (plain > 0) acc.set(plain === view.length ? view : view.subarray(0, plain), at);
      if (plain < view.length) copyMaskedAtWord(plain === 0 ? view : view.subarray(plain), acc, at + plain, this.maskKey, at + plain);
      at += view.length;
    });
    this.chunks.discard(have);
    this.processed = have;
    if (this.frameValidating) this.checkText(acc.subarray(from, have));
  }

  private appendToAccumulator(part: Buffer): void {
    this.reserve(part.length).set(part, this.accLength);
    this.accLength += part.length;
  }

  /**
   * Appends the next piece of an eagerly processed frame, unmasking it while it is copied,
   * and validates it when it is text. Everything in the accumulator is then processed.
   */
  private appendEager(part: Buffer): void {
    const acc = this.reserve(part.length);
    const at = this.accLength;
    if (this.masked) copyMaskedAtWord(part, acc, at, this.maskKey, this.processed);
    else acc.set(part, at);
    this.accLength += part.length;
    this.processed += part.length;
    if (this.frameValidating) this.checkText(acc.subarray(at, this.accLength));
  }

  /** The accumulator, grown (by doubling, so copying stays linear) to take `more` bytes. */
  private reserve(more: number): Buffer {
    const acc = this.acc!;
    if (this.accLength + more <= acc.length) return acc;
    const grown = Buffer.allocUnsafe(Math.min(this.payloadLength, Math.max(acc.length * 2, this.accLength + more)));
    grown.set(acc.subarray(0, this.accLength), 0);
    this.acc = grown;
    return grown;
  }

  /** Unmasks and validates the next contiguous piece of the current payload, in place. */
  private processPiece(view: Buffer): void {
    if (view.length === 0 || this.state === State.Failed) return;
    if (this.masked) applyMaskWord(view, this.maskKey, this.processed);
    this.processed += view.length;
    if (this.frameValidating) this.checkText(view);
  }

  /** Checks the next bytes of uncompressed text; fails at the first piece that is not UTF-8. */
  private checkText(bytes: Buffer): boolean {
    const bad = this.message.text(bytes);
    return bad === null || this.failWith(bad);
  }

  private finishFrame(payload: Buffer): void {
    if (this.processed < payload.length) {
      const rest = this.processed === 0 ? payload : payload.subarray(this.processed);
      if (this.masked) applyMaskWord(rest, this.maskKey, this.processed);
      if (this.frameValidating && !this.checkText(rest)) return;
    }
    this.state = State.Header;
    const opcode = this.opcode;
    if (isControlOpcode(opcode)) {
      this.handler.onControlFrame(opcode, payload);
      return;
    }
    const message = this.message;
    const messageOpcode = message.opcode;
    const compressed = message.compressed;
    if (this.fin) {
      const unfinished = message.end();
      if (unfinished !== null) {
        this.failWith(unfinished);
        return;
      }
    }
    this.handler.onDataFrame(payload, this.fin, messageOpcode, compressed);
  }

  private coalesce(): void {
    const all = this.chunks.read(this.chunks.length);
    this.chunks.clear();
    this.chunks.push(all);
  }

  private failWith(error: ProtocolError): false {
    this.stop();
    this.handler.onDecodeError(error);
    return false;
  }
}

/**
 * The limits of the last decoder made, reused while the next one has the same: every
 * connection of a server shares one object instead of holding its own copy. One entry, so
 * a process that makes decoders with ever different limits keeps no table of them.
 */
let lastLimits: MessageLimits | null = null;

/** The message limits a decoder made with these options enforces (see DecoderOptions), shared with decoders configured alike. */
export function decoderLimits(maxPayloadOption: number | undefined, maxFragmentsOption: number | undefined, validateUtf8Option: boolean | undefined): MessageLimits {
  const maxPayload = maxPayloadOption ?? 0;
  const maxFragments = maxFragmentsOption ?? DEFAULT_MAX_FRAGMENTS;
  const validateUtf8 = validateUtf8Option ?? true;
  const last = lastLimits;
  if (last !== null && last.maxPayload === maxPayload && last.maxFragments === maxFragments && last.validateUtf8 === validateUtf8) return last;
  return (lastLimits = Object.freeze({ maxPayload, maxFragments, validateUtf8 }));
}
